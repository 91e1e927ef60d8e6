//! Property tests (proptest): whatever set-up a page's controls or link can produce, the engine
//! builds it or refuses it with a reason, and what it builds trains a step and draws without a
//! panic. Each property runs on a few hundred generated cases; a failure prints the smallest
//! case proptest finds.

use neural_playground::engine::{
    EngineError, LayerConfig, Loss, OptimizerConfig, OptimizerKind, Regularization,
    SequentialConfig, Tensor, TrainConfig, Trainer,
};
use neural_playground::playground::url_state::rejected_fields_message;
use neural_playground::playground::{Session, from_hash, to_hash};
use proptest::prelude::*;
use proptest::sample::select;

/// One layer's token as the Images and Sequences links write it, valid or not: kinds and
/// sizes from a range wider than the controls allow, so that some are refused.
fn layer_token() -> impl Strategy<Value = String> {
    let activation = select(vec!["", "-relu", "-tanh", "-sigmoid", "-gelu", "-bad"]);
    prop_oneof![
        (
            0usize..12,
            0usize..9,
            0usize..4,
            0usize..4,
            activation.clone()
        )
            .prop_map(|(channels, kernel, stride, padding, activation)| {
                format!("conv{channels}k{kernel}s{stride}p{padding}{activation}")
            }),
        (select(vec!["max", "avg"]), 0usize..5, 0usize..4)
            .prop_map(|(kind, size, stride)| format!("{kind}{size}s{stride}")),
        (0u32..12).prop_map(|tenths| format!("drop{}", tenths as f32 / 10.0)),
        Just("bn".to_string()),
        Just("flat".to_string()),
        (0usize..40, activation).prop_map(|(outputs, a)| format!("dense{outputs}{a}")),
        (
            select(vec!["rnn", "lstm", "gru"]),
            0usize..12,
            any::<bool>()
        )
            .prop_map(|(cell, hidden, every)| format!(
                "{cell}{hidden}{}",
                if every { "seq" } else { "" }
            )),
    ]
}

/// An input shape: features, a sequence `[time, features]`, or an image `[c, h, w]`.
fn input_shape() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        (1usize..10).prop_map(|features| vec![features]),
        (1usize..7, 1usize..5).prop_map(|(time, features)| vec![time, features]),
        (1usize..4, 1usize..13, 1usize..13).prop_map(|(c, h, w)| vec![c, h, w]),
    ]
}

fn refused_with_a_reason(error: &EngineError) -> Result<(), TestCaseError> {
    prop_assert!(!error.to_string().trim().is_empty(), "{error:?}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// A stack of layers on an input is built or refused with a reason; one that is built
    /// gives the output shape it declares and trains a step on data of its shapes.
    #[test]
    fn any_layer_stack_is_built_and_trains_or_is_refused(
        input in input_shape(),
        tokens in prop::collection::vec(layer_token(), 1..6),
        batch in 1usize..5,
        seed in any::<u64>(),
    ) {
        let layers: Vec<LayerConfig> =
            tokens.iter().filter_map(|token| LayerConfig::from_token(token)).collect();
        prop_assume!(!layers.is_empty());
        let mut config = SequentialConfig::new(&input, layers);
        config.seed = seed;
        let model = match config.init() {
            Ok(model) => model,
            Err(error) => return refused_with_a_reason(&error),
        };
        let output = model.output_shape().to_vec();
        prop_assert!(output.iter().product::<usize>() > 0, "{tokens:?} on {input:?}: no outputs");
        let batch_of = |shape: &[usize]| {
            let shape: Vec<usize> = [batch].iter().chain(shape).copied().collect();
            let count = shape.iter().product::<usize>();
            let values = (0..count).map(|i| ((i * 37 % 11) as f32 - 5.0) / 5.0).collect();
            Tensor::from_vec(&shape, values).expect("a batch")
        };
        let (inputs, targets) = (batch_of(&input), batch_of(&output));
        let train = TrainConfig {
            loss: Loss::MeanSquaredError,
            optimizer: OptimizerConfig::new(OptimizerKind::Adam, 0.01),
            batch_size: batch,
            regularization: Regularization::None,
            regularization_rate: 0.0,
            seed,
            clip_norm: None,
            truncation: None,
        };
        let mut trainer = Trainer::new(model, train).expect("a built model trains under MSE");
        let loss = trainer.train_step(&inputs, &targets);
        prop_assert!(
            matches!(loss, Ok(loss) if loss.is_finite()),
            "{tokens:?} on {input:?}: {loss:?}"
        );
    }

    /// Any link to the playground (known fields with values in range or not, unknown fields)
    /// opens a session that trains an epoch, draws and steps through backprop; the link it
    /// writes back opens a set-up that writes that same link; the banner about refused fields
    /// stays short.
    #[test]
    fn any_playground_link_opens_trains_and_round_trips(fields in prop::collection::vec(link_field(), 0..12)) {
        let hash = format!("#{}", fields.join("&"));
        let (config, rejected) = from_hash(&hash);
        if let Some(message) = rejected_fields_message(&rejected) {
            prop_assert!(message.chars().count() <= 400);
        }
        let mut session = match Session::new(config.clone()) {
            Ok(session) => session,
            Err(error) => return refused_with_a_reason(&error),
        };
        if let Err(error) = session.train_epoch() {
            refused_with_a_reason(&error)?;
        }
        prop_assert!(session.snapshot().is_ok(), "{hash}");
        prop_assert!(session.backprop_trace(0).is_ok(), "{hash}");
        let written = to_hash(&config);
        let (again, rejected_again) = from_hash(&written);
        prop_assert!(rejected_again.is_empty(), "{hash}: {rejected_again:?}");
        prop_assert_eq!(to_hash(&again), written, "{}", hash);
    }
}

/// One `key=value` field of a playground link.
fn link_field() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        (-3i32..3000).prop_map(|n| n.to_string()),
        (-1.0e3f32..1.0e3).prop_map(|x| x.to_string()),
        select(vec!["NaN", "inf", "-0", "1e40", "", "x"]).prop_map(str::to_string),
    ];
    let list = prop::collection::vec(0usize..20, 0..10).prop_map(|sizes| {
        sizes
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",")
    });
    prop_oneof![
        select(vec![
            "circle",
            "xor",
            "gauss",
            "spiral",
            "plane",
            "gaussRegression",
            "moons"
        ])
        .prop_map(|v| format!("dataset={v}")),
        (
            select(vec![
                "points",
                "noise",
                "trainFraction",
                "batchSize",
                "learningRate",
                "regularizationRate",
                "seed",
                "dataSeed",
                "exampleLabel"
            ]),
            number.clone()
        )
            .prop_map(|(key, value)| format!("{key}={value}")),
        list.clone().prop_map(|value| format!("layers={value}")),
        prop::collection::vec(
            select(vec![
                "x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY", "z"
            ]),
            0..8,
        )
        .prop_map(|features| format!("features={}", features.join(","))),
        prop::collection::vec(
            select(vec!["tanh", "relu", "sigmoid", "linear", "gelu", "no"]),
            0..9
        )
        .prop_map(|activations| format!("activations={}", activations.join(","))),
        select(vec!["mse", "bce", "cross_entropy", "huber", "hinge"])
            .prop_map(|v| format!("loss={v}")),
        select(vec![
            "sgd", "momentum", "adagrad", "rmsprop", "adam", "lion"
        ])
        .prop_map(|v| format!("optimizer={v}")),
        select(vec!["none", "l1", "l2"]).prop_map(|v| format!("regularization={v}")),
        prop::collection::vec(number, 0..8)
            .prop_map(|values| format!("example={}", values.join(","))),
        select(vec!["playground", "backprop", "lessons", "nowhere"])
            .prop_map(|v| format!("page={v}")),
        "[a-zA-Z]{1,12}=[a-z0-9,.]{0,12}",
    ]
}

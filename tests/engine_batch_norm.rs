//! Batch normalisation: finite-difference gradient checks (vectors and feature maps, batch and
//! running statistics, and through a whole network), normalised outputs, the running
//! statistics' update by the `Trainer`, evaluation with them, and PyTorch's numbers.

use neural_playground::engine::Dropout;
use neural_playground::engine::{
    Activation, LayerConfig, Loss, Mode, NodeId, OptimizerConfig, OptimizerKind, OutputTransform,
    ParamId, ParamRole, Params, Regularization, SeededRng, SequentialConfig, Tape, Tensor,
    TrainConfig, Trainable, Trainer,
};

mod common;

use common::check;

fn random_tensor(shape: &[usize], low: f32, high: f32, rng: &mut SeededRng) -> Tensor {
    let mut t = Tensor::zeros(shape);
    t.data_mut()
        .iter_mut()
        .for_each(|v| *v = rng.uniform_range(low, high));
    t
}

fn tensor(shape: &[usize], values: &[f32]) -> Tensor {
    Tensor::from_vec(shape, values.to_vec()).unwrap()
}

fn parameter(tape: &mut Tape, params: &mut Params, value: Tensor, role: ParamRole) -> NodeId {
    let id = params.add(value, role);
    tape.parameter(params, id).unwrap()
}

/// `sum(x * r)` with a fixed `r`, so backward gets a non-uniform upstream gradient (the gradient
/// of a plain sum through a batch normalisation is zero).
fn weighted_sum(tape: &mut Tape, x: NodeId, weights: &Tensor) -> NodeId {
    let r = tape.input(weights.shape());
    tape.set_input(r, weights).unwrap();
    let product = tape.mul(x, r).unwrap();
    tape.sum(product).unwrap()
}

/// A tape normalising the parameter `x` of `shape` with batch statistics, or with running
/// statistics when `running` is given as (mean, variance); its loss is a weighted sum.
fn batch_norm_tape(
    shape: &[usize],
    running: Option<(Tensor, Tensor)>,
    rng: &mut SeededRng,
) -> (Tape, Params, NodeId) {
    let features = shape[1];
    let (mut tape, mut params) = (Tape::new(), Params::new());
    let x = random_tensor(shape, -2.0, 2.0, rng);
    let x = parameter(&mut tape, &mut params, x, ParamRole::Other);
    let gamma = random_tensor(&[features], 0.5, 2.0, rng);
    let gamma = parameter(&mut tape, &mut params, gamma, ParamRole::Other);
    let beta = random_tensor(&[features], -1.0, 1.0, rng);
    let beta = parameter(&mut tape, &mut params, beta, ParamRole::Bias);
    let y = match running {
        None => tape.batch_norm(x, gamma, beta).unwrap(),
        Some((mean, variance)) => {
            let statistic = ParamRole::RunningStatistic;
            let mean = parameter(&mut tape, &mut params, mean, statistic);
            let variance = parameter(&mut tape, &mut params, variance, statistic);
            tape.batch_norm_with_running_statistics(x, gamma, beta, mean, variance)
                .unwrap()
        }
    };
    let loss = weighted_sum(&mut tape, y, &random_tensor(shape, -1.0, 1.0, rng));
    (tape, params, loss)
}

#[test]
fn gradients_with_respect_to_input_gamma_and_beta_match_finite_differences() {
    let mut rng = SeededRng::new(21);
    for shape in [vec![5, 3], vec![3, 2, 3, 4]] {
        let (mut tape, mut params, loss) = batch_norm_tape(&shape, None, &mut rng);
        check(
            &format!("batch statistics {shape:?}"),
            &mut tape,
            &mut params,
            loss,
        );

        let features = shape[1];
        let mean = random_tensor(&[features], -1.0, 1.0, &mut rng);
        let variance = random_tensor(&[features], 0.5, 2.0, &mut rng);
        let running = Some((mean, variance));
        let (mut tape, mut params, loss) = batch_norm_tape(&shape, running, &mut rng);
        check(
            &format!("running statistics {shape:?}"),
            &mut tape,
            &mut params,
            loss,
        );
        for id in [ParamId(3), ParamId(4)] {
            assert_eq!(params.role(id), ParamRole::RunningStatistic);
            assert!(
                params.grad(id).data().iter().all(|&g| g == 0.0),
                "no gradient flows into a running statistic"
            );
        }
    }
}

/// Per feature of `values` laid out as `[batch, features, spread]`: (mean, biased variance,
/// unbiased variance), in f64.
fn feature_statistics(values: &[f32], features: usize, spread: usize) -> Vec<(f64, f64, f64)> {
    (0..features)
        .map(|feature| {
            let of_feature: Vec<f64> = values
                .chunks_exact(spread)
                .enumerate()
                .filter(|(run, _)| run % features == feature)
                .flat_map(|(_, run)| run.iter().map(|&v| f64::from(v)))
                .collect();
            let m = of_feature.len() as f64;
            let mean = of_feature.iter().sum::<f64>() / m;
            let squares = of_feature.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
            (mean, squares / m, squares / (m - 1.0))
        })
        .collect()
}

#[test]
fn training_output_has_mean_0_and_variance_1_per_feature_before_gamma_and_beta() {
    let mut rng = SeededRng::new(4);
    for shape in [vec![16, 3], vec![8, 3, 4, 4]] {
        let features = shape[1];
        let spread: usize = shape[2..].iter().product();
        // Features far from normalised: offsets 0, 3, 6 and scales 1, 2, 3.
        let mut x = random_tensor(&shape, -1.0, 1.0, &mut rng);
        for (run, values) in x.data_mut().chunks_exact_mut(spread).enumerate() {
            let feature = (run % features) as f32;
            values
                .iter_mut()
                .for_each(|v| *v = 3.0 * feature + (feature + 1.0) * *v);
        }
        let gamma = tensor(&[3], &[2.0, -0.5, 1.5]);
        let beta = tensor(&[3], &[0.3, -1.0, 4.0]);
        let (mut tape, mut params) = (Tape::new(), Params::new());
        let input = tape.input(&shape);
        tape.set_input(input, &x).unwrap();
        let g = parameter(&mut tape, &mut params, gamma.clone(), ParamRole::Other);
        let b = parameter(&mut tape, &mut params, beta.clone(), ParamRole::Bias);
        let y = tape.batch_norm(input, g, b).unwrap();
        tape.forward(&params).unwrap();

        let mut normalized = tape.value(y).clone();
        for (run, values) in normalized.data_mut().chunks_exact_mut(spread).enumerate() {
            let feature = run % features;
            let (scale, shift) = (gamma.data()[feature], beta.data()[feature]);
            values.iter_mut().for_each(|v| *v = (*v - shift) / scale);
        }
        for (feature, (mean, variance, _)) in
            feature_statistics(normalized.data(), features, spread)
                .into_iter()
                .enumerate()
        {
            assert!(
                mean.abs() < 1e-5,
                "{shape:?} feature {feature}: mean {mean}"
            );
            assert!(
                (variance - 1.0).abs() < 1e-3,
                "{shape:?} feature {feature}: variance {variance}"
            );
        }
    }
}

fn train_config(kind: OptimizerKind, batch_size: usize) -> TrainConfig {
    TrainConfig {
        loss: Loss::SoftmaxCrossEntropy,
        optimizer: OptimizerConfig::new(kind, 0.01),
        batch_size,
        regularization: Regularization::L2,
        regularization_rate: 0.1,
        seed: 3,
        clip_norm: None,
        truncation: None,
    }
}

/// Batch normalisation straight on 3-channel 3x3 images, so the test knows its batch statistics.
fn normalised_images() -> SequentialConfig {
    SequentialConfig {
        input: vec![3, 3, 3],
        layers: vec![
            LayerConfig::BATCH_NORM,
            LayerConfig::FLATTEN,
            LayerConfig::dense(2, Activation::Linear),
        ],
        seed: 5,
        initializer: None,
        padded: false,
    }
}

fn one_hot_targets(rows: usize) -> Tensor {
    let mut targets = Tensor::zeros(&[rows, 2]);
    (0..rows).for_each(|row| targets.set(row, row % 2, 1.0));
    targets
}

#[test]
fn each_training_step_moves_the_running_statistics_a_tenth_of_the_way_to_the_batch() {
    let mut rng = SeededRng::new(8);
    let mut trainer = Trainer::new(
        normalised_images().init().unwrap(),
        train_config(OptimizerKind::Adam, 6),
    )
    .unwrap();
    let (mut expected_mean, mut expected_variance) = (vec![0.0f64; 3], vec![1.0f64; 3]);
    for step in 0..3 {
        let offset = step as f32;
        let images = random_tensor(&[6, 3, 3, 3], offset - 1.0, 2.0 * offset + 1.0, &mut rng);
        trainer.train_step(&images, &one_hot_targets(6)).unwrap();
        let statistics = feature_statistics(images.data(), 3, 9);
        for (feature, &(mean, _, unbiased)) in statistics.iter().enumerate() {
            expected_mean[feature] = 0.9 * expected_mean[feature] + 0.1 * mean;
            expected_variance[feature] = 0.9 * expected_variance[feature] + 0.1 * unbiased;
        }
        let nodes = *trainer
            .training_tape()
            .unwrap()
            .batch_norms()
            .next()
            .unwrap();
        let params = trainer.model().params();
        for (id, expected) in [
            (nodes.running_mean, &expected_mean),
            (nodes.running_variance, &expected_variance),
        ] {
            for (&found, &expected) in params.value(id).data().iter().zip(expected) {
                assert!(
                    (f64::from(found) - expected).abs() < 1e-5 * expected.abs().max(1.0),
                    "step {}: running statistic {found}, expected {expected}",
                    step + 1
                );
            }
        }
    }
}

#[test]
fn every_optimizer_trains_gamma_and_beta_and_none_regularises_them() {
    let mut rng = SeededRng::new(9);
    let images = random_tensor(&[6, 3, 3, 3], -1.0, 1.0, &mut rng);
    for kind in OptimizerKind::ALL {
        let model = normalised_images().init().unwrap();
        let (gamma, beta) = (ParamId(0), ParamId(1));
        let config = train_config(kind, 6);
        // L2 on the dense weights only: γ = 1 and β = 0 add nothing even if they were counted,
        // so shift them first.
        let mut shifted = model.clone();
        shifted.params_mut().value_mut(gamma).fill(3.0);
        shifted.params_mut().value_mut(beta).fill(2.0);
        let dense_weights = ParamId(4);
        let squares: f32 = model
            .params()
            .value(dense_weights)
            .data()
            .iter()
            .map(|w| w * w)
            .sum();
        let penalty = config
            .regularization
            .penalty(shifted.params(), config.regularization_rate);
        assert!(
            (penalty - 0.5 * 0.1 * squares).abs() < 1e-4,
            "the penalty {penalty} counts only the dense weights"
        );

        let mut trainer = Trainer::new(model, config).unwrap();
        trainer.train_step(&images, &one_hot_targets(6)).unwrap();
        let params = trainer.model().params();
        assert!(
            params.value(gamma).data().iter().all(|&g| g != 1.0),
            "{kind:?} updates gamma: {:?}",
            params.value(gamma).data()
        );
        assert!(
            params.value(beta).data().iter().all(|&b| b != 0.0),
            "{kind:?} updates beta: {:?}",
            params.value(beta).data()
        );
    }
}

#[test]
fn evaluation_normalises_with_the_running_statistics() {
    let mut model = normalised_images().init().unwrap();
    let mut recorded = model
        .record_for(Mode::Evaluation, 2, OutputTransform::None, None)
        .unwrap();
    let nodes = *recorded.batch_norms().next().unwrap();
    let (mean, variance) = ([0.5, -1.0, 2.0], [4.0, 0.25, 1.0]);
    let params = model.params_mut();
    params
        .value_mut(nodes.running_mean)
        .data_mut()
        .copy_from_slice(&mean);
    params
        .value_mut(nodes.running_variance)
        .data_mut()
        .copy_from_slice(&variance);
    let mut rng = SeededRng::new(2);
    let images = random_tensor(&[2, 3, 3, 3], -3.0, 3.0, &mut rng);
    recorded.tape.set_input(recorded.input, &images).unwrap();
    recorded.tape.forward(model.params()).unwrap();
    let output = recorded.tape.value(nodes.output);
    for (index, (&y, &x)) in output.data().iter().zip(images.data()).enumerate() {
        let feature = (index / 9) % 3;
        // γ = 1 and β = 0 as initialised.
        let expected = (x - mean[feature]) / (variance[feature] + 1e-5).sqrt();
        assert!(
            (y - expected).abs() < 1e-5,
            "value {index}: {y} vs {expected}"
        );
    }
    // An evaluation forward pass leaves the running statistics as they were.
    recorded.update_running_statistics(model.params_mut());
    let running_mean = model.params().value(nodes.running_mean).data();
    assert_eq!(running_mean, &mean);
    // The training tape normalises with the batch instead.
    let mut training = model
        .record_training_tape(2, Loss::SoftmaxCrossEntropy)
        .unwrap();
    training.tape.set_input(training.input, &images).unwrap();
    training
        .tape
        .set_input(training.target.unwrap(), &one_hot_targets(2))
        .unwrap();
    training.tape.forward(model.params()).unwrap();
    let batch_normalised = training
        .tape
        .value(training.batch_norms().next().unwrap().output);
    assert!(
        batch_normalised
            .data()
            .iter()
            .zip(output.data())
            .any(|(a, b)| (a - b).abs() > 0.1)
    );
}

#[test]
fn gradients_through_a_network_with_batch_norm_match_finite_differences() {
    let config = SequentialConfig {
        input: vec![2, 4, 4],
        layers: vec![
            LayerConfig::conv(3, 3, Activation::Tanh),
            LayerConfig::BATCH_NORM,
            LayerConfig::FLATTEN,
            LayerConfig::dense(4, Activation::Tanh),
            LayerConfig::BATCH_NORM,
            LayerConfig::Dropout(Dropout { rate: 0.3 }),
            LayerConfig::dense(2, Activation::Linear),
        ],
        seed: 6,
        initializer: None,
        padded: false,
    };
    let model = config.init().unwrap();
    let mut rng = SeededRng::new(12);
    let mut recorded = model
        .record_training_tape(5, Loss::SoftmaxCrossEntropy)
        .unwrap();
    let images = random_tensor(&[5, 2, 4, 4], -1.0, 1.0, &mut rng);
    recorded.tape.set_input(recorded.input, &images).unwrap();
    recorded
        .tape
        .set_input(recorded.target.unwrap(), &one_hot_targets(5))
        .unwrap();
    // The mask drawn here stays for every forward pass of the check.
    recorded.draw_dropout_masks(&mut rng).unwrap();
    let mut params = model.params().clone();
    let loss = recorded.loss.unwrap();
    check(
        "conv-bn-dense-bn-dropout",
        &mut recorded.tape,
        &mut params,
        loss,
    );
}

/// PyTorch 2.15's `torch.nn.BatchNorm2d(2)` and `BatchNorm1d(3)` in float64, in training mode
/// (one forward pass, so running mean = 0.1 · batch mean and running variance = 0.9 + 0.1 ·
/// unbiased batch variance), then `bn.eval()` for `y_eval`. The loss is `(y * r).sum()`. Inputs:
/// `x2[i] = (7i mod 11)/4 - 1 + 0.1i` and `r2[i] = (5i mod 7)/3 - 1` for i < 24, shaped
/// [2, 2, 2, 3], γ = [1.5, -0.5], β = [0.2, 0.3]; `x1[i] = (3i mod 5)/2 - 0.5 + 0.05i²` and
/// `r1[i] = (4i mod 9)/4 - 1` for i < 12, shaped [4, 3], γ = [0.8, 1.2, -2], β = [0, -0.1, 0.5].
struct TorchReference {
    shape: &'static [usize],
    gamma: &'static [f32],
    beta: &'static [f32],
    y: &'static [f32],
    dx: &'static [f32],
    dgamma: &'static [f32],
    dbeta: &'static [f32],
    running_mean: &'static [f32],
    running_variance: &'static [f32],
    y_eval: &'static [f32],
}

const TORCH_2D: TorchReference = TorchReference {
    shape: &[2, 2, 2, 3],
    gamma: &[1.5, -0.5],
    beta: &[0.2, 0.3],
    y: &[
        -2.699549, -0.265901, -1.449838, 0.98381, -0.200127, -1.384064, 0.130019, 0.613123,
        1.096227, 0.10318, 0.586284, 1.069388, 1.181133, -0.002804, 2.430844, 1.246907, 0.06297,
        2.496618, 0.022663, 0.505766, -0.48728, -0.004177, 0.478927, -0.514119,
    ],
    dx: &[
        -1.4587, 0.915318, -0.04999, -0.745438, 1.35872, 0.393412, 0.153386, 0.626209, -0.15346,
        -0.031928, 0.440895, -0.338774, 0.584767, -0.380541, -1.075989, 1.028169, 0.062861,
        -0.632588, -0.587872, -0.115049, 0.006482, 0.479305, -0.300363, -0.178832,
    ],
    dgamma: &[-1.020719, -2.660053],
    dbeta: &[-0.666667, 0.333333],
    running_mean: &[0.120417, 0.153333],
    running_variance: &[1.041839, 0.994652],
    y_eval: &[
        -1.446525, 1.27217, -0.050438, 2.668257, 1.345649, 0.02304, -0.550607, -0.099401, 0.351805,
        -0.575674, -0.124468, 0.326738, 2.888692, 1.566083, 4.284779, 2.96217, 1.639562, 4.358257,
        -0.650875, -0.199669, -1.127148, -0.675942, -0.224736, -1.152215,
    ],
};

const TORCH_1D: TorchReference = TorchReference {
    shape: &[4, 3],
    gamma: &[0.8, 1.2, -2.0],
    beta: &[0.0, -0.1, 0.5],
    y: &[
        -1.187466, -1.223169, 2.601262, -0.109951, -1.00294, 2.212794, 0.263881, 0.010115,
        -0.577118, 1.033535, 1.815994, -2.236938,
    ],
    dx: &[
        -0.183462, -0.130512, -0.560678, 0.088382, 0.555766, 0.528987, 0.398109, -0.647892,
        0.216182, -0.303028, 0.222639, -0.184491,
    ],
    dgamma: &[0.391699, -0.633159, 0.880676],
    dbeta: &[-1.75, 0.0, 1.75],
    running_mean: &[0.22, 0.2325, 0.3175],
    running_variance: &[1.341167, 1.147417, 1.969083],
    y_eval: &[
        -0.49737, 0.815812, 0.667469, 1.195069, 1.095877, -0.116429, 1.782242, 2.384176, -5.746241,
        2.991127, 4.680709, -9.095624,
    ],
};

fn assert_close(what: &str, found: &[f32], expected: &[f32]) {
    assert_eq!(found.len(), expected.len(), "{what}: length");
    for (index, (&f, &e)) in found.iter().zip(expected).enumerate() {
        assert!(
            (f - e).abs() <= 2e-5 + 1e-5 * e.abs(),
            "{what}[{index}]: {f}, PyTorch {e}"
        );
    }
}

#[test]
fn batch_norm_matches_pytorch() {
    let inputs: [(&TorchReference, Vec<f32>, Vec<f32>); 2] = [
        (
            &TORCH_2D,
            (0..24)
                .map(|i| ((7 * i) % 11) as f32 / 4.0 - 1.0 + 0.1 * i as f32)
                .collect(),
            (0..24).map(|i| ((5 * i) % 7) as f32 / 3.0 - 1.0).collect(),
        ),
        (
            &TORCH_1D,
            (0..12)
                .map(|i| ((3 * i) % 5) as f32 / 2.0 - 0.5 + 0.05 * (i * i) as f32)
                .collect(),
            (0..12).map(|i| ((4 * i) % 9) as f32 / 4.0 - 1.0).collect(),
        ),
    ];
    for (reference, x, r) in inputs {
        let name = format!("BatchNorm on {:?}", reference.shape);
        let features = reference.gamma.len();
        let (mut tape, mut params) = (Tape::new(), Params::new());
        let x_node = parameter(
            &mut tape,
            &mut params,
            tensor(reference.shape, &x),
            ParamRole::Other,
        );
        let gamma = parameter(
            &mut tape,
            &mut params,
            tensor(&[features], reference.gamma),
            ParamRole::Other,
        );
        let beta = parameter(
            &mut tape,
            &mut params,
            tensor(&[features], reference.beta),
            ParamRole::Bias,
        );
        let y = tape.batch_norm(x_node, gamma, beta).unwrap();
        let loss = weighted_sum(&mut tape, y, &tensor(reference.shape, &r));
        tape.forward(&params).unwrap();
        tape.backward(loss, &mut params).unwrap();
        assert_close(&format!("{name}: y"), tape.value(y).data(), reference.y);
        assert_close(
            &format!("{name}: dx"),
            params.grad(ParamId(0)).data(),
            reference.dx,
        );
        assert_close(
            &format!("{name}: dgamma"),
            params.grad(ParamId(1)).data(),
            reference.dgamma,
        );
        assert_close(
            &format!("{name}: dbeta"),
            params.grad(ParamId(2)).data(),
            reference.dbeta,
        );

        // The running statistics after that one step, then evaluation with them.
        let statistic = ParamRole::RunningStatistic;
        let mean = params.add(Tensor::zeros(&[features]), statistic);
        let variance = params.add(Tensor::full(&[features], 1.0), statistic);
        let nodes = neural_playground::engine::BatchNormNodes {
            output: y,
            running_mean: mean,
            running_variance: variance,
        };
        nodes.update_running_statistics(&tape, &mut params);
        assert_close(
            &format!("{name}: running mean"),
            params.value(mean).data(),
            reference.running_mean,
        );
        assert_close(
            &format!("{name}: running variance"),
            params.value(variance).data(),
            reference.running_variance,
        );
        let mut evaluation = Tape::new();
        let x_node = evaluation.parameter(&params, ParamId(0)).unwrap();
        let [gamma, beta, mean, variance] = [1, 2, mean.0, variance.0]
            .map(|id| evaluation.parameter(&params, ParamId(id)).unwrap());
        let y = evaluation
            .batch_norm_with_running_statistics(x_node, gamma, beta, mean, variance)
            .unwrap();
        evaluation.forward(&params).unwrap();
        assert_close(
            &format!("{name}: y_eval"),
            evaluation.value(y).data(),
            reference.y_eval,
        );
    }
}

#[test]
fn batch_norm_refuses_other_shapes_with_the_reason() {
    let (mut tape, mut params) = (Tape::new(), Params::new());
    let x = tape.input(&[2, 3, 4]);
    let gamma = parameter(
        &mut tape,
        &mut params,
        Tensor::full(&[3], 1.0),
        ParamRole::Other,
    );
    let beta = parameter(&mut tape, &mut params, Tensor::zeros(&[3]), ParamRole::Bias);
    let message = tape.batch_norm(x, gamma, beta).unwrap_err().to_string();
    assert!(message.contains("[batch, features]"), "{message}");

    let x = tape.input(&[2, 4]);
    let message = tape.batch_norm(x, gamma, beta).unwrap_err().to_string();
    assert!(message.contains("a gamma of shape [4]"), "{message}");
}

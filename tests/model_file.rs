//! Model files (`engine::model_file`): every layer kind's weights go to a `.safetensors` file
//! under PyTorch's names and come back bit for bit; a file PyTorch wrote
//! (`tests/data/model_file_reference.py`, with torch.nn's own modules) opens and computes what
//! PyTorch computed; and broken files are refused with the reason.

use neural_playground::engine::{
    Activation, Attention, Cell, Conv2d, Dropout, Gru, LayerConfig, Lstm, MaxPool2d, Rnn,
    SeededRng, Seq2Seq, Sequential, SequentialConfig, Setting, SettingValue, read_model,
    write_model,
};

fn every_step(cell: LayerConfig) -> LayerConfig {
    cell.with_setting(Setting {
        key: "every_step",
        value: SettingValue::Switch(true),
    })
    .unwrap()
}

/// An image network with every kind that is not recurrent, and a sequence network with every
/// recurrent kind (padded, so that the flag feature is there too).
fn networks() -> Vec<SequentialConfig> {
    let image = SequentialConfig::new(
        &[2, 8, 8],
        vec![
            LayerConfig::Conv2d(Conv2d {
                out_channels: 3,
                kernel: 3,
                stride: 1,
                padding: 1,
                activation: Activation::Relu,
            }),
            LayerConfig::BATCH_NORM,
            LayerConfig::MaxPool2d(MaxPool2d { size: 2, stride: 2 }),
            LayerConfig::pool(neural_playground::engine::Pooling::Average, 2),
            LayerConfig::FLATTEN,
            LayerConfig::Dropout(Dropout { rate: 0.25 }),
            LayerConfig::dense(5, Activation::Tanh),
            LayerConfig::BATCH_NORM,
            LayerConfig::dense(3, Activation::Linear),
        ],
    );
    let sequences = SequentialConfig {
        padded: true,
        ..SequentialConfig::new(
            &[6, 3],
            vec![
                every_step(LayerConfig::Rnn(Rnn::new(4))),
                every_step(LayerConfig::Lstm(Lstm {
                    hidden: 3,
                    every_step: false,
                })),
                LayerConfig::Gru(Gru {
                    hidden: 5,
                    every_step: false,
                }),
                LayerConfig::dense(2, Activation::Linear),
            ],
        )
    };
    // Encoder-decoders, with each attention's weights.
    let seq2seq = |cell, attention| {
        let layer = Seq2Seq {
            cell,
            hidden: 3,
            embedding: 2,
            source_tokens: 5,
            target_tokens: 4,
            output_steps: 3,
            attention,
            teacher_forcing: false,
        };
        SequentialConfig {
            padded: true,
            ..SequentialConfig::new(&[7, 2], vec![LayerConfig::Seq2Seq(layer)])
        }
    };
    vec![
        image,
        sequences,
        seq2seq(Cell::Lstm, Attention::Additive),
        seq2seq(Cell::Gru, Attention::Dot),
    ]
}

/// Every parameter moved to a random value (a few to -0.0, which must stay -0.0).
fn randomised(config: &SequentialConfig, seed: u64) -> Sequential {
    let mut network = config.init().unwrap();
    let mut rng = SeededRng::new(seed);
    for id in network.params().ids().collect::<Vec<_>>() {
        for value in network.params_mut().value_mut(id).data_mut() {
            *value = match rng.below(10) {
                0 => -0.0,
                _ => rng.uniform_range(-2.0, 2.0),
            };
        }
    }
    network
}

fn bits(network: &Sequential) -> Vec<Vec<u32>> {
    network
        .params()
        .ids()
        .map(|id| {
            let values = network.params().value(id).data();
            values.iter().map(|v| v.to_bits()).collect()
        })
        .collect()
}

#[test]
fn every_layer_kind_goes_to_a_file_and_back_bit_for_bit() {
    for (index, config) in networks().iter().enumerate() {
        let network = randomised(config, 3 + index as u64);
        let settings = r#"{"epochs":3}"#;
        let file = write_model(&network, Some(settings)).unwrap();
        let opened = read_model(&file).unwrap();
        assert_eq!(opened.network.config(), network.config());
        assert_eq!(bits(&opened.network), bits(&network), "network {index}");
        assert_eq!(opened.settings.as_deref(), Some(settings));
        // And again, from what was read.
        let again = read_model(&write_model(&opened.network, None).unwrap()).unwrap();
        assert_eq!(bits(&again.network), bits(&network));
        assert_eq!(again.settings, None);
    }
}

#[test]
fn tensors_have_pytorchs_names_and_layouts() {
    let config = SequentialConfig::new(
        &[4, 2],
        vec![
            LayerConfig::Lstm(Lstm {
                hidden: 3,
                every_step: false,
            }),
            LayerConfig::dense(2, Activation::Linear),
        ],
    );
    let network = randomised(&config, 1);
    let file = write_model(&network, None).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&file).unwrap();
    let mut names: Vec<(String, Vec<usize>)> = tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.shape().to_vec()))
        .collect();
    names.sort();
    let expected: Vec<(String, Vec<usize>)> = [
        ("0.bias_hh_l0", vec![12]),
        ("0.bias_ih_l0", vec![12]),
        ("0.weight_hh_l0", vec![12, 3]),
        ("0.weight_ih_l0", vec![12, 2]),
        ("1.bias", vec![2]),
        ("1.weight", vec![2, 3]),
    ]
    .into_iter()
    .map(|(name, shape)| (name.to_string(), shape))
    .collect();
    assert_eq!(names, expected);
    // An encoder-decoder with additive attention (LSTM cells of 3, embeddings of 2, 5 input
    // tokens, 4 output tokens).
    let network = randomised(&networks()[2], 1);
    let file = write_model(&network, None).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&file).unwrap();
    let mut names: Vec<(String, Vec<usize>)> = tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.shape().to_vec()))
        .collect();
    names.sort();
    let expected: Vec<(String, Vec<usize>)> = [
        ("0.attention.key.weight", vec![3, 3]),
        ("0.attention.query.weight", vec![3, 3]),
        ("0.attention.score.weight", vec![1, 3]),
        ("0.decoder.bias_hh_l0", vec![12]),
        ("0.decoder.bias_ih_l0", vec![12]),
        ("0.decoder.weight_hh_l0", vec![12, 3]),
        ("0.decoder.weight_ih_l0", vec![12, 5]),
        ("0.encoder.bias_hh_l0", vec![12]),
        ("0.encoder.bias_ih_l0", vec![12]),
        ("0.encoder.weight_hh_l0", vec![12, 3]),
        ("0.encoder.weight_ih_l0", vec![12, 2]),
        ("0.output.bias", vec![4]),
        ("0.output.weight", vec![4, 6]),
        ("0.source_embedding.weight", vec![5, 2]),
        ("0.target_embedding.weight", vec![4, 2]),
    ]
    .into_iter()
    .map(|(name, shape)| (name.to_string(), shape))
    .collect();
    assert_eq!(names, expected);
}

/// `file`'s tensors (less `drop`, plus `extra`) under new metadata.
fn rewritten(
    file: &[u8],
    metadata: &[(&str, String)],
    drop: &str,
    extra: Option<(&str, Vec<f32>)>,
) -> Vec<u8> {
    use safetensors::tensor::{Dtype, TensorView};
    let tensors = safetensors::SafeTensors::deserialize(file).unwrap();
    let extra_bytes: Vec<u8> = extra
        .as_ref()
        .map(|(_, values)| values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .unwrap_or_default();
    let mut views: Vec<(String, TensorView<'_>)> = tensors
        .tensors()
        .into_iter()
        .filter(|(name, _)| name != drop)
        .collect();
    if let Some((name, values)) = &extra {
        let view = TensorView::new(Dtype::F32, vec![values.len()], &extra_bytes).unwrap();
        views.push((name.to_string(), view));
    }
    let metadata = metadata
        .iter()
        .map(|(key, value)| (key.to_string(), value.clone()))
        .collect();
    safetensors::tensor::serialize(views, Some(metadata)).unwrap()
}

#[test]
fn broken_files_are_refused_with_the_reason() {
    let config = SequentialConfig::new(
        &[3],
        vec![
            LayerConfig::dense(4, Activation::Tanh),
            LayerConfig::dense(2, Activation::Linear),
        ],
    );
    let network = randomised(&config, 7);
    let file = write_model(&network, None).unwrap();
    let described = serde_json::to_string(&config).unwrap();
    let ours = |network: String| {
        vec![
            ("format", "neural-playground".to_string()),
            ("version", "1".to_string()),
            ("network", network),
        ]
    };
    let refused = |bytes: &[u8]| read_model(bytes).unwrap_err();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not safetensors",
            b"hello, model".to_vec(),
            "not a complete model file",
        ),
        ("empty", Vec::new(), "not a complete model file"),
        ("truncated", file[..file.len() - 9].to_vec(), "cut short"),
        (
            "no description",
            rewritten(&file, &[], "", None),
            "does not describe its network",
        ),
        (
            "a future version",
            rewritten(
                &file,
                &[
                    ("format", "neural-playground".to_string()),
                    ("version", "9".to_string()),
                    ("network", described.clone()),
                ],
                "",
                None,
            ),
            "version 9",
        ),
        (
            "an unknown layer",
            rewritten(
                &file,
                &ours(described.replace("Dense", "Transformer")),
                "",
                None,
            ),
            "network cannot be read",
        ),
        (
            "other shapes",
            rewritten(
                &file,
                &ours(described.replace("\"outputs\":4", "\"outputs\":3")),
                "",
                None,
            ),
            "`0.weight` is shaped [4, 3]; the file's network needs [3, 3]",
        ),
        (
            "a tensor missing",
            rewritten(&file, &ours(described.clone()), "1.bias", None),
            "no tensor `1.bias`",
        ),
        (
            "a tensor too many",
            rewritten(
                &file,
                &ours(described.clone()),
                "",
                Some(("5.weight", vec![1.0])),
            ),
            "`5.weight` belongs to no layer",
        ),
        (
            "a network larger than the file",
            rewritten(
                &file,
                &ours(described.replace("\"outputs\":4", "\"outputs\":40000")),
                "",
                None,
            ),
            "not this network's file",
        ),
    ];
    for (what, bytes, reason) in cases {
        let error = refused(&bytes);
        assert!(error.contains(reason), "{what}: {error}");
    }
    let mut poisoned = randomised(&config, 8);
    let id = poisoned.params().ids().next().unwrap();
    poisoned.params_mut().value_mut(id).data_mut()[0] = f32::NAN;
    let error = refused(&write_model(&poisoned, None).unwrap());
    assert!(error.contains("NaN"), "{error}");
}

/// Files PyTorch wrote from torch.nn's own modules (`tests/data/model_file_reference.py`): a
/// dense network, an RNN feeding an LSTM, and a convolution with batch normalisation (its
/// running statistics) open, and compute PyTorch's outputs for the same inputs.
#[test]
fn files_pytorch_wrote_open_and_compute_what_pytorch_computed() {
    use neural_playground::engine::{OutputTransform, Tensor};
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("data/model_file_reference.json")).unwrap();
    let files: [(&str, &[u8]); 3] = [
        ("dense", include_bytes!("data/model_file_dense.safetensors")),
        (
            "recurrent",
            include_bytes!("data/model_file_recurrent.safetensors"),
        ),
        (
            "convolution",
            include_bytes!("data/model_file_convolution.safetensors"),
        ),
    ];
    let numbers = |value: &serde_json::Value| -> Vec<f32> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect()
    };
    for (name, bytes) in files {
        let network = read_model(bytes).unwrap().network;
        let case = &reference[name];
        let shape: Vec<usize> = case["input_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let input = Tensor::from_vec(&shape, numbers(&case["input"])).unwrap();
        let mut recorded = network
            .record(shape[0], OutputTransform::None, None)
            .unwrap();
        recorded.tape.set_input(recorded.input, &input).unwrap();
        recorded.tape.forward(network.params()).unwrap();
        let output = recorded.tape.value(recorded.prediction).data();
        let expected = numbers(&case["output"]);
        assert_eq!(output.len(), expected.len(), "{name}");
        for (found, wanted) in output.iter().zip(&expected) {
            assert!(
                (found - wanted).abs() <= 1e-5,
                "{name}: {found} against PyTorch's {wanted}"
            );
        }
        // Written again by the engine and read back, the same numbers.
        let again = read_model(&write_model(&network, None).unwrap())
            .unwrap()
            .network;
        assert_eq!(bits(&again), bits(&network), "{name}");
    }
}

/// Thousands of damaged copies of real files (bytes changed, cut short, grown): every one is
/// read or refused, none panics. (A fuzz target is issue 27's; this keeps the reader honest
/// meanwhile.)
#[test]
fn damaged_files_never_panic_the_reader() {
    let mut files: Vec<Vec<u8>> = networks()
        .iter()
        .map(|config| write_model(&randomised(config, 11), Some("{}")).unwrap())
        .collect();
    files.push(include_bytes!("data/model_file_recurrent.safetensors").to_vec());
    let mut rng = SeededRng::new(99);
    let mut refused = 0;
    for round in 0..3000 {
        let mut bytes = files[round % files.len()].clone();
        match rng.below(4) {
            0 => bytes.truncate(rng.below(bytes.len() + 1)),
            1 => bytes.extend((0..rng.below(64)).map(|_| rng.below(256) as u8)),
            _ => {
                // A few bytes changed, most of them in the header where the structure is.
                let header = (8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize)
                    .min(bytes.len());
                for _ in 0..1 + rng.below(4) {
                    let at = match rng.below(4) {
                        0 => rng.below(bytes.len()),
                        _ => rng.below(header),
                    };
                    bytes[at] = rng.below(256) as u8;
                }
            }
        }
        refused += usize::from(read_model(&bytes).is_err());
    }
    assert!(
        refused > 1000,
        "only {refused} of 3000 damaged files were refused"
    );
    // Networks whose sizes overflow or exhaust memory are refused before anything is built.
    for input in ["[4294967296,4294967296,4294967296]", "[100000,100000,3]"] {
        let config = format!(
            r#"{{"input":{input},"layers":[{{"Flatten":null}},{{"Dense":{{"outputs":10,"activation":"linear"}}}}],"seed":1,"initializer":null,"padded":false}}"#
        );
        let file = rewritten(
            &files[0],
            &[
                ("format", "neural-playground".to_string()),
                ("version", "1".to_string()),
                ("network", config),
            ],
            "",
            None,
        );
        let error = read_model(&file).unwrap_err();
        assert!(!error.is_empty(), "{input}");
    }
}

//! Checkpoints: a run as it stands (the network and its weights, the trainer's optimizer state,
//! generator and example order, and whatever the page keeps beside them) as one `.safetensors`
//! file, so that a page saved and opened again trains on with the very steps it would have taken.
//!
//! The weights travel as a model file ([`write_model`]) inside it, as the `U8` tensor `model`, and
//! are read back with every check a model file gets. Beside it:
//! - `first.{k}` and `second.{k}`: parameter `k`'s optimizer moments, row-major in our layout;
//! - `order`: the last epoch's example order, `U32`;
//! - metadata: `format`, `version`, `trainer` (JSON: epochs, steps, the optimizer's steps, the
//!   generator's state) and `page` (the page's own JSON, which this module does not read).
//!
//! Whatever is wrong with a file is said in words, and nothing is built from it until all of it
//! has been read.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};

use super::model_file::{Named, read_model, serialize, write_model};
use super::optimizer::{Moments, OptimizerState};
use super::rng::SeededRng;
use super::sequential::Sequential;
use super::trainer::TrainerState;

/// The `format` of a checkpoint's metadata.
pub const FORMAT: &str = "neural-playground-checkpoint";
/// The version this module writes; it reads this one and those before it.
pub const VERSION: u32 = 1;

/// A checkpoint as read: the network with its weights, the trainer's state (none for a network
/// that was never trained), and the page's JSON.
#[derive(Debug)]
pub struct Checkpoint {
    pub network: Sequential,
    pub trainer: Option<TrainerState>,
    pub page: String,
}

/// The trainer's scalars, as the metadata keeps them.
#[derive(Serialize, Deserialize)]
struct TrainerCounts {
    epoch: usize,
    steps: u64,
    optimizer_steps: u64,
    /// How many parameters have optimizer moments (`first.{k}`, `second.{k}` for `k` below it).
    moments: usize,
    rng: SeededRng,
}

/// `network` with its weights, `trainer`'s state and the page's JSON as one file.
pub fn write_checkpoint(
    network: &Sequential,
    trainer: Option<&TrainerState>,
    page: &str,
) -> Result<Vec<u8>, String> {
    let model = write_model(network, None)?;
    let mut tensors = vec![Named {
        name: "model".to_string(),
        dtype: Dtype::U8,
        shape: vec![model.len()],
        bytes: model,
    }];
    let mut metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("version".to_string(), VERSION.to_string()),
        ("page".to_string(), page.to_string()),
    ]);
    if let Some(trainer) = trainer {
        let order: Vec<u32> = trainer
            .order
            .iter()
            .map(|&index| u32::try_from(index))
            .collect::<Result<_, _>>()
            .map_err(|_| "the example order is too long to be saved".to_string())?;
        tensors.push(Named {
            name: "order".to_string(),
            dtype: Dtype::U32,
            shape: vec![order.len()],
            bytes: order.iter().flat_map(|v| v.to_le_bytes()).collect(),
        });
        for (k, moments) in trainer.optimizer.moments.iter().enumerate() {
            tensors.push(float_tensor(format!("first.{k}"), &moments.first));
            tensors.push(float_tensor(format!("second.{k}"), &moments.second));
        }
        let counts = TrainerCounts {
            epoch: trainer.epoch,
            steps: trainer.steps,
            optimizer_steps: trainer.optimizer.steps,
            moments: trainer.optimizer.moments.len(),
            rng: trainer.rng.clone(),
        };
        let counts = serde_json::to_string(&counts)
            .map_err(|error| format!("the trainer's state cannot be written: {error}"))?;
        metadata.insert("trainer".to_string(), counts);
    }
    serialize(&tensors, metadata)
}

/// A 1-D float32 tensor.
fn float_tensor(name: String, values: &[f32]) -> Named {
    Named::floats(name, vec![values.len()], values)
}

/// Reads what [`write_checkpoint`] wrote, or says why the bytes are not such a file.
pub fn read_checkpoint(bytes: &[u8]) -> Result<Checkpoint, String> {
    let file = SafeTensors::deserialize(bytes).map_err(|error| {
        format!("this is not a complete checkpoint, or it was cut short (safetensors: {error})")
    })?;
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|error| format!("the checkpoint's header cannot be read: {error}"))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    if metadata.get("format").map(String::as_str) != Some(FORMAT) {
        return Err(format!(
            "this file is not a checkpoint of the page (no `format: {FORMAT}`)"
        ));
    }
    let version: u32 = metadata
        .get("version")
        .and_then(|version| version.parse().ok())
        .ok_or("the checkpoint does not say which version of the format it is")?;
    if version > VERSION {
        return Err(format!(
            "the checkpoint is of version {version} of the format; this page reads up to \
             {VERSION}: reload the page for its latest version"
        ));
    }
    let page = metadata
        .get("page")
        .ok_or("the checkpoint has no `page`")?
        .clone();
    let model = file
        .tensor("model")
        .map_err(|_| "the checkpoint holds no model".to_string())?;
    if model.dtype() != Dtype::U8 {
        return Err("the checkpoint's model is not stored as bytes".to_string());
    }
    let network = read_model(model.data())
        .map_err(|error| format!("the checkpoint's model: {error}"))?
        .network;
    let mut expected = vec!["model".to_string()];
    let trainer = match metadata.get("trainer") {
        None => None,
        Some(counts) => {
            let counts: TrainerCounts = serde_json::from_str(counts)
                .map_err(|error| format!("the checkpoint's trainer cannot be read: {error}"))?;
            let params = network.params();
            if counts.moments > params.len() {
                return Err(format!(
                    "the checkpoint keeps optimizer moments of {} parameters; its network has {}",
                    counts.moments,
                    params.len()
                ));
            }
            let mut moments = Vec::with_capacity(counts.moments);
            for k in 0..counts.moments {
                let first = floats(&file, &format!("first.{k}"))?;
                let second = floats(&file, &format!("second.{k}"))?;
                expected.extend([format!("first.{k}"), format!("second.{k}")]);
                moments.push(Moments { first, second });
            }
            expected.push("order".to_string());
            let order = file
                .tensor("order")
                .map_err(|_| "the checkpoint's trainer has no example order".to_string())?;
            if order.dtype() != Dtype::U32 || order.shape().len() != 1 {
                return Err("the checkpoint's example order is not a list of u32".to_string());
            }
            let order = order
                .data()
                .chunks_exact(4)
                .map(|bytes| u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
                .collect();
            Some(TrainerState {
                epoch: counts.epoch,
                steps: counts.steps,
                rng: counts.rng,
                order,
                optimizer: OptimizerState {
                    steps: counts.optimizer_steps,
                    moments,
                },
            })
        }
    };
    let mut names = file.names();
    names.sort();
    if let Some(extra) = names
        .iter()
        .find(|name| !expected.iter().any(|e| e == **name))
    {
        return Err(format!("the checkpoint holds an unknown tensor `{extra}`"));
    }
    Ok(Checkpoint {
        network,
        trainer,
        page,
    })
}

/// The float32 values of the 1-D tensor `name` (their count is checked against the parameter
/// when the trainer takes them up).
fn floats(file: &SafeTensors<'_>, name: &str) -> Result<Vec<f32>, String> {
    let tensor = file
        .tensor(name)
        .map_err(|_| format!("the checkpoint has no tensor `{name}`"))?;
    if tensor.dtype() != Dtype::F32 || tensor.shape().len() != 1 {
        return Err(format!(
            "the checkpoint's `{name}` is not a list of float32"
        ));
    }
    Ok(tensor
        .data()
        .chunks_exact(4)
        .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Activation;
    use crate::engine::layers::{Dropout, LayerConfig, Lstm};
    use crate::engine::loss::Loss;
    use crate::engine::optimizer::{OptimizerConfig, OptimizerKind};
    use crate::engine::rng::SeededRng;
    use crate::engine::sequential::SequentialConfig;
    use crate::engine::tensor::Tensor;
    use crate::engine::trainer::{TrainConfig, Trainer};

    /// An LSTM with dropout and a dense layer, on random bit sequences: every kind of state a
    /// trainer keeps (Adam's two moments, the generator that shuffles and drops, the order).
    fn recurrent_run() -> (Trainer<Sequential>, Tensor, Tensor) {
        let config = SequentialConfig::new(
            &[6, 1],
            vec![
                LayerConfig::Lstm(Lstm {
                    hidden: 5,
                    every_step: false,
                }),
                LayerConfig::Dropout(Dropout { rate: 0.2 }),
                LayerConfig::dense(3, Activation::Linear),
            ],
        );
        let train = TrainConfig {
            loss: Loss::SoftmaxCrossEntropy,
            optimizer: OptimizerConfig::new(OptimizerKind::Adam, 0.01),
            batch_size: 4,
            seed: 7,
            ..TrainConfig::default()
        };
        let trainer = Trainer::new(config.init().expect("builds"), train).expect("trains");
        let mut rng = SeededRng::new(3);
        let mut inputs = Tensor::zeros(&[10, 6, 1]);
        inputs
            .data_mut()
            .iter_mut()
            .for_each(|v| *v = (rng.uniform() < 0.5) as u8 as f32);
        let mut targets = Tensor::zeros(&[10, 3]);
        for row in 0..10 {
            targets.data_mut()[row * 3 + row % 3] = 1.0;
        }
        (trainer, inputs, targets)
    }

    fn bits(trainer: &Trainer<Sequential>) -> Vec<u32> {
        let params = trainer.model().params();
        params
            .ids()
            .flat_map(|id| params.value(id).data().iter().map(|v| v.to_bits()))
            .collect()
    }

    /// Two epochs, saved, opened into a fresh trainer: both go on with the same three epochs,
    /// bit for bit, as the run that was never saved.
    #[test]
    fn a_saved_run_goes_on_exactly() {
        let (mut run, inputs, targets) = recurrent_run();
        for _ in 0..2 {
            run.train_epoch(&inputs, &targets).expect("trains");
        }
        let bytes =
            write_checkpoint(run.model(), Some(&run.state()), "{\"page\":1}").expect("writes");
        let opened = read_checkpoint(&bytes).expect("reads");
        assert_eq!(opened.page, "{\"page\":1}");
        let (mut resumed, _, _) = recurrent_run();
        *resumed.model_mut().params_mut() = opened.network.params().clone();
        resumed
            .resume(opened.trainer.expect("a trainer was saved"))
            .expect("resumes");
        assert_eq!(resumed.epoch(), 2);
        assert_eq!(bits(&resumed), bits(&run));
        for _ in 0..3 {
            let expected = run.train_epoch(&inputs, &targets).expect("trains");
            let got = resumed.train_epoch(&inputs, &targets).expect("trains");
            assert_eq!(got.to_bits(), expected.to_bits());
        }
        assert_eq!(bits(&resumed), bits(&run));
        assert_eq!(resumed.state(), run.state());

        // Without the optimizer's state the run would differ: the test can fail.
        let (mut forgetful, _, _) = recurrent_run();
        let opened = read_checkpoint(&bytes).expect("reads");
        *forgetful.model_mut().params_mut() = opened.network.params().clone();
        let mut state = opened.trainer.expect("saved");
        state.optimizer = OptimizerState::default();
        forgetful.resume(state).expect("resumes");
        forgetful.train_epoch(&inputs, &targets).expect("trains");
        let (mut reference, _, _) = recurrent_run();
        for _ in 0..3 {
            reference.train_epoch(&inputs, &targets).expect("trains");
        }
        assert_ne!(bits(&forgetful), bits(&reference));
    }

    #[test]
    fn an_untrained_network_has_no_trainer() {
        let (run, _, _) = recurrent_run();
        let bytes = write_checkpoint(run.model(), None, "{}").expect("writes");
        let opened = read_checkpoint(&bytes).expect("reads");
        assert!(opened.trainer.is_none());
        assert_eq!(opened.network.params(), run.model().params());
    }

    #[test]
    fn refuses_damaged_checkpoints_with_the_reason() {
        let (mut run, inputs, targets) = recurrent_run();
        run.train_epoch(&inputs, &targets).expect("trains");
        let bytes = write_checkpoint(run.model(), Some(&run.state()), "{}").expect("writes");
        let error = read_checkpoint(&bytes[..bytes.len() / 2]).unwrap_err();
        assert!(error.contains("cut short"), "{error}");
        let error = read_checkpoint(b"hello").unwrap_err();
        assert!(error.contains("not a complete checkpoint"), "{error}");
        let model = write_model(run.model(), None).expect("writes");
        let error = read_checkpoint(&model).unwrap_err();
        assert!(error.contains("not a checkpoint"), "{error}");

        // A state whose order is not a permutation, or whose moments do not fit, is refused by
        // the trainer, which keeps its own.
        let opened = read_checkpoint(&bytes).expect("reads");
        let mut state = opened.trainer.expect("saved");
        let before = run.state();
        state.order[0] = state.order[1];
        let error = run.resume(state.clone()).unwrap_err().to_string();
        assert!(error.contains("order"), "{error}");
        state.order = before.order.clone();
        state.optimizer.moments[0].first.pop();
        let error = run.resume(state).unwrap_err().to_string();
        assert!(error.contains("first moment of parameter 0"), "{error}");
        assert_eq!(run.state(), before);

        // Every damaged copy is refused or read, never a panic.
        let mut rng = SeededRng::new(5);
        for _ in 0..2000 {
            let mut damaged = bytes.clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(damaged.len());
                damaged[at] = rng.next_u64() as u8;
            }
            let cut = damaged.len() - rng.below(damaged.len() / 8 + 1);
            if let Ok(opened) = read_checkpoint(&damaged[..cut])
                && let Some(state) = opened.trainer
            {
                let (mut fresh, _, _) = recurrent_run();
                let _ = fresh.resume(state);
            }
        }
    }
}

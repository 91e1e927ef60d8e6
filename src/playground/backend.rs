//! Which engine trains the playground: the GPU, once it has been found and has passed a self-test
//! against the CPU engine, or the CPU. No web dependency: the app awaits these futures in the
//! browser; natively they can be blocked on.

use std::rc::Rc;

use crate::engine::{
    Activation, LayerSpec, Loss, Model, ModelConfig, OptimizerConfig, OptimizerKind,
    Regularization, Tensor, TrainConfig, Trainer,
};
use crate::gpu::{GpuContext, GpuEpochTrainer, GpuError, KernelFamilies};

/// Largest relative difference of a self-test epoch loss between the GPU and the CPU.
const SELF_TEST_TOLERANCE: f32 = 1e-3;

/// The engine the user picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Backend {
    /// The CPU engine: the default, as fast as the GPU for the playground's small networks.
    #[default]
    Cpu,
    Gpu,
}

impl Backend {
    pub fn key(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
        }
    }

    pub fn from_key(key: &str) -> Option<Backend> {
        [Backend::Cpu, Backend::Gpu]
            .into_iter()
            .find(|backend| backend.key() == key)
    }
}

/// A GPU that passed the self-test: its device, its compiled kernels and its name for the user.
#[derive(Clone, Debug)]
pub struct GpuDevice {
    pub context: Rc<GpuContext>,
    pub kernels: Rc<KernelFamilies>,
    /// E.g. "WebGPU (…)" or "Vulkan (llvmpipe …)".
    pub description: String,
}

impl GpuDevice {
    /// A note to add to the description when the adapter is a software one.
    pub fn software_note(&self) -> &'static str {
        if self.context.adapter_info().device_type == wgpu::DeviceType::Cpu {
            " (a software adapter: correct, not fast)"
        } else {
            ""
        }
    }
}

/// Opens the default GPU and checks it against the CPU engine; the error says, in words, why
/// the CPU has to do the work.
pub async fn find_gpu() -> Result<GpuDevice, String> {
    let context = match GpuContext::new().await {
        Ok(context) => Rc::new(context),
        Err(GpuError::NoAdapter(reason)) => return Err(format!("no WebGPU adapter ({reason})")),
        Err(error) => return Err(error.to_string()),
    };
    let kernels = KernelFamilies::new(&context)
        .await
        .map_err(|error| format!("the GPU could not build its kernels: {error}"))?;
    let device = GpuDevice {
        description: context.description(),
        context,
        kernels: Rc::new(kernels),
    };
    self_test(&device).await?;
    Ok(device)
}

/// Trains a 2-4-1 tanh network on 8 points for 2 epochs on the GPU and on the CPU from the same
/// weights and seed; their epoch losses must agree.
pub async fn self_test(device: &GpuDevice) -> Result<(), String> {
    let failed = |error: &dyn std::fmt::Display| format!("the GPU self-test failed: {error}");
    let model = Model::new(&ModelConfig {
        inputs: 2,
        layers: vec![
            LayerSpec::new(4, Activation::Tanh),
            LayerSpec::new(1, Activation::Sigmoid),
        ],
        ..ModelConfig::default()
    })
    .map_err(|error| failed(&error))?;
    let config = TrainConfig {
        loss: Loss::BinaryCrossEntropy,
        optimizer: OptimizerConfig::new(OptimizerKind::Sgd, 0.3),
        batch_size: 3,
        regularization: Regularization::None,
        regularization_rate: 0.0,
        seed: 7,
        clip_norm: None,
        truncation: None,
    };
    let points = [
        (-0.9, -0.7),
        (0.8, 0.6),
        (-0.5, 0.9),
        (0.7, -0.8),
        (-0.2, -0.4),
        (0.3, 0.1),
        (-0.6, 0.3),
        (0.4, -0.2),
    ];
    let coordinates = points.iter().flat_map(|&(x, y)| [x, y]).collect();
    let labels = points
        .iter()
        .map(|&(x, y): &(f32, f32)| if x * y > 0.0 { 1.0 } else { 0.0 })
        .collect();
    let inputs = Tensor::from_vec(&[points.len(), 2], coordinates).map_err(|e| failed(&e))?;
    let targets = Tensor::from_vec(&[points.len(), 1], labels).map_err(|e| failed(&e))?;

    let mut cpu = Trainer::new(model.clone(), config).map_err(|e| failed(&e))?;
    let cpu_losses = (0..2)
        .map(|_| cpu.train_epoch(&inputs, &targets))
        .collect::<Result<Vec<f32>, _>>()
        .map_err(|e| failed(&e))?;

    let context = Rc::clone(&device.context);
    let kernels = Rc::clone(&device.kernels);
    let mut gpu = GpuEpochTrainer::new(context, kernels, &model, config).map_err(|e| failed(&e))?;
    gpu.set_data(&inputs, &targets).map_err(|e| failed(&e))?;
    gpu.train_epochs(2).map_err(|e| failed(&e))?;
    let gpu_losses = gpu.read_losses().await.map_err(|e| failed(&e))?;

    let agree = gpu_losses.len() == cpu_losses.len()
        && gpu_losses
            .iter()
            .zip(&cpu_losses)
            .all(|(gpu, cpu)| (gpu - cpu).abs() <= SELF_TEST_TOLERANCE * cpu.abs().max(1e-6));
    if agree {
        Ok(())
    } else {
        Err(format!(
            "the GPU self-test disagreed with the CPU: epoch losses {gpu_losses:?} on the GPU, \
             {cpu_losses:?} on the CPU"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_keys_round_trip() {
        for backend in [Backend::Cpu, Backend::Gpu] {
            assert_eq!(Backend::from_key(backend.key()), Some(backend));
        }
        assert_eq!(Backend::from_key("tpu"), None);
        assert_eq!(Backend::default(), Backend::Cpu);
    }

    /// Needs an adapter, as the GPU suites do: `cargo xtask test` gives it lavapipe.
    #[test]
    fn a_working_gpu_passes_the_self_test() {
        let device = pollster::block_on(find_gpu())
            .unwrap_or_else(|reason| panic!("{reason} (install mesa-vulkan-drivers)"));
        assert!(!device.description.is_empty());
    }
}

//! The GPU backend: WGSL compute kernels (`shaders/*.wgsl`) launched through wgpu, on WebGPU in
//! the browser and on Vulkan, Metal, DX12 or GL natively.
//!
//! Every kernel computes exactly what its CPU twin in [`crate::engine`] computes (the parity
//! suites, `tests/gpu_parity.rs`, `tests/gpu_conv_parity.rs` and `tests/gpu_norm_parity.rs`, check
//! each one against the engine). The pieces: [`GpuContext`] is the device and queue, [`GpuTensor`]
//! a tensor living in a GPU buffer (upload, readback), [`Kernels`] the compiled pipelines with one
//! function per kernel that records a dispatch (and likewise [`ConvKernels`] for convolution and
//! pooling, [`NormKernels`] for batch normalisation and dropout), and [`GpuOptimizer`] the
//! optimiser state kept on the GPU. [`GpuTrainer`] trains the playground's
//! dense model with them, step for step like the CPU trainer ([`GpuDenseModel`] is the model's
//! forward and backward pass, [`TrainingKernels`] the training loop's own kernels:
//! `shaders/training.wgsl`); `tests/gpu_training.rs` compares whole loss curves. Nothing here
//! blocks in the browser: readback is `async`; natively `*_blocking` variants wait with
//! `pollster`.
//!
//! The app finds, self-tests and switches to it in `playground::backend` and `ui::gpu_link`.

mod buffer;
mod context;
mod conv_kernels;
mod dense_model;
mod dispatch;
mod error;
mod kernels;
mod norm_kernels;
mod optimizer;
mod trainer;
mod training_kernels;

pub use buffer::GpuTensor;
pub use context::GpuContext;
pub use conv_kernels::{ConvCommands, ConvKernels};
pub use dense_model::GpuDenseModel;
pub use error::GpuError;
pub use kernels::{Commands, Kernels, MatmulOperand};
pub use norm_kernels::{GpuNormStatistics, NormCommands, NormKernels};
pub use optimizer::{GpuOptimizer, GpuParam};
pub use trainer::{GpuTrainer, GpuTrainingError};
pub use training_kernels::{GpuIndices, TrainingCommands, TrainingKernels};

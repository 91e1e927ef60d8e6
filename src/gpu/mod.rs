//! The GPU backend: WGSL compute kernels (`shaders/*.wgsl`) launched through wgpu, on WebGPU in
//! the browser and on Vulkan, Metal, DX12 or GL natively.
//!
//! Every kernel computes exactly what its CPU twin in [`crate::engine`] computes (the parity
//! suites, `tests/gpu_parity.rs`, `tests/gpu_conv_parity.rs` and `tests/gpu_norm_parity.rs`, check
//! each one against the engine). The pieces: [`GpuContext`] is the device and queue, [`GpuTensor`]
//! a tensor living in a GPU buffer (upload, readback), and one kernel family per shader group,
//! each with a function per kernel that records a dispatch: [`Kernels`] (matmul, bias,
//! activations, losses, optimiser; sums, products, slices and concatenations of tensors in
//! `tensor_kernels.rs`), [`ConvKernels`] (convolution, pooling), [`NormKernels`]
//! (batch normalisation, dropout) and [`TrainingKernels`] (the training loop's own kernels:
//! `shaders/training.wgsl`). [`GpuOptimizer`] is the optimiser state kept on the GPU.
//!
//! Two trainers use them, step for step like the CPU trainer: [`GpuTrainer`] trains the
//! playground's dense model ([`GpuDenseModel`] is its forward and backward pass;
//! `tests/gpu_training.rs` compares whole loss curves), and [`GpuSequentialTrainer`] trains an
//! image network a batch at a time ([`GpuSequential`] replays the CPU's own recorded tape node by
//! node, one command encoder passed between the families so that a step is one submission;
//! `tests/gpu_sequential_training.rs` compares steps, weights and predictions). Both are
//! [`crate::engine::TrainingEngine`]s, the interface a run drives on either device (the Images
//! page's does). A recording keeps consecutive dispatches in one compute pass
//! ([`PassEncoder`]). Nothing here blocks in the browser: readback is `async`; natively `*_blocking`
//! variants wait with `pollster`.
//!
//! The app finds, self-tests and switches to it in `playground::backend` and `ui::gpu_link`.

mod bind_groups;
mod buffer;
mod context;
mod conv_kernels;
mod dense_model;
mod dispatch;
mod error;
mod kernels;
mod matmul;
mod matmul_split;
mod norm_kernels;
mod optimizer;
mod pass_encoder;
mod recording;
mod sequential_model;
mod sequential_pass;
mod sequential_trainer;
mod step_losses;
mod tensor_kernels;
mod trainer;
mod training_kernels;

pub use buffer::GpuTensor;
pub use context::GpuContext;
pub use conv_kernels::{ConvCommands, ConvKernels};
pub use dense_model::GpuDenseModel;
pub use error::GpuError;
pub use kernels::{Commands, Kernels};
pub use matmul::{MatmulOperand, MatmulTile};
pub use norm_kernels::{GpuNormStatistics, NormCommands, NormKernels};
pub use optimizer::{GpuOptimizer, GpuParam};
pub use pass_encoder::PassEncoder;
pub use sequential_model::GpuSequential;
pub use sequential_trainer::GpuSequentialTrainer;
pub use trainer::{GpuTrainer, GpuTrainingError};
pub use training_kernels::{GpuIndices, TrainingCommands, TrainingKernels};

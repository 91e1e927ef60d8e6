//! The GPU backend: WGSL compute kernels (`shaders/*.wgsl`) launched through wgpu, on WebGPU in
//! the browser and on Vulkan, Metal, DX12 or GL natively.
//!
//! Every kernel computes exactly what its CPU twin in [`crate::engine`] computes (the parity
//! suites, `tests/gpu_parity.rs`, `tests/gpu_conv_parity.rs` and `tests/gpu_norm_parity.rs`, check
//! each one against the engine). The pieces: [`GpuContext`] is the device and queue, [`GpuTensor`]
//! a tensor living in a GPU buffer (upload, readback), and one kernel family per shader group,
//! each with a function per kernel that records a dispatch: [`Kernels`] (matmul, bias,
//! activations, losses, optimiser; sums, products, slices and concatenations of tensors in
//! `tensor_kernels.rs`, an LSTM step in `lstm_kernels.rs`, embedding lookups and argmax in
//! `token_kernels.rs`, attention's scores and mixes in `attention_kernels.rs`), [`ConvKernels`]
//! (convolution, pooling), [`NormKernels`] (batch normalisation, dropout) and
//! [`TrainingKernels`] (the training loop's own kernels: `shaders/training.wgsl`). [`GpuOptimizer`] is the optimiser state kept on the GPU.
//!
//! One trainer uses them for every network, step for step like the CPU trainer: [`GpuTrainer`]
//! trains any [`Trainable`](crate::engine::Trainable) (the playground's dense model, an image
//! network) a batch at a time; [`GpuNetwork`] keeps its parameters on the GPU and replays the
//! CPU's own recorded tape node by node ([`pass`]), one command encoder passed between the
//! families so that a step is one submission (`tests/gpu_sequential_training.rs` compares steps,
//! weights and predictions). It is a [`crate::engine::TrainingEngine`], the interface a run
//! drives on either device (the Images page's does). The playground's whole-epoch loop,
//! [`GpuEpochTrainer`], drives it with the training set kept on the GPU
//! (`tests/gpu_training.rs` compares whole loss curves). A recording keeps consecutive
//! dispatches in one compute pass ([`PassEncoder`]); [`KernelFamilies`] is every family compiled
//! once per device. Nothing here blocks in the browser: readback is `async`; natively
//! `*_blocking` variants wait with `pollster`.
//!
//! The app finds, self-tests and switches to it in `playground::backend` and `ui::gpu_link`.

mod attention_kernels;
mod bind_groups;
mod buffer;
mod context;
mod conv_kernels;
mod dispatch;
mod epoch_trainer;
mod error;
mod kernels;
mod lstm_kernels;
mod matmul;
mod matmul_split;
mod network;
mod norm_kernels;
mod optimizer;
mod pass;
mod pass_encoder;
mod recording;
mod step_losses;
mod tensor_kernels;
mod token_kernels;
mod trainer;
mod training_kernels;

pub use buffer::GpuTensor;
pub use context::GpuContext;
pub use conv_kernels::{ConvCommands, ConvKernels};
pub use epoch_trainer::GpuEpochTrainer;
pub use error::GpuError;
pub use kernels::{Commands, Kernels};
pub use matmul::{MatmulOperand, MatmulTile};
pub use network::GpuNetwork;
pub use norm_kernels::{GpuNormStatistics, NormCommands, NormKernels};
pub use optimizer::{GpuOptimizer, GpuParam};
pub use pass_encoder::PassEncoder;
pub use recording::KernelFamilies;
pub use trainer::{GpuTrainer, GpuTrainingError};
pub use training_kernels::{GpuIndices, TrainingCommands, TrainingKernels};

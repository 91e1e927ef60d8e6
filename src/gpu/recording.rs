//! `Recording`: one command encoder handed from kernel family to kernel family, so that a whole
//! training step of an image network (convolutions, pooling, dense layers, normalisation, loss,
//! optimiser, bookkeeping) reaches the GPU as one command buffer in one submission.
//!
//! [`KernelFamilies`] is every family's compiled pipelines, built once per device and shared by
//! every trainer on it.

use std::rc::Rc;

use super::context::GpuContext;
use super::conv_kernels::{ConvCommands, ConvKernels};
use super::error::GpuError;
use super::kernels::{Commands, Kernels};
use super::norm_kernels::{NormCommands, NormKernels};
use super::pass_encoder::PassEncoder;
use super::training_kernels::{TrainingCommands, TrainingKernels};

/// The compiled pipelines of every kernel family.
#[derive(Debug)]
pub struct KernelFamilies {
    pub(super) dense: Rc<Kernels>,
    pub(super) conv: ConvKernels,
    pub(super) norm: NormKernels,
    pub(super) training: TrainingKernels,
}

impl KernelFamilies {
    /// Compiles every family for `context`'s device.
    pub async fn new(context: &GpuContext) -> Result<KernelFamilies, GpuError> {
        let dense = Rc::new(Kernels::new(context).await?);
        KernelFamilies::with_dense(context, dense).await
    }

    /// Compiles the other families beside dense kernels already compiled for this device.
    pub async fn with_dense(
        context: &GpuContext,
        dense: Rc<Kernels>,
    ) -> Result<KernelFamilies, GpuError> {
        Ok(KernelFamilies {
            dense,
            conv: ConvKernels::new(context).await?,
            norm: NormKernels::new(context).await?,
            training: TrainingKernels::new(context).await?,
        })
    }

    /// [`KernelFamilies::new`], waiting for the shaders to compile (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking(context: &GpuContext) -> Result<KernelFamilies, GpuError> {
        pollster::block_on(KernelFamilies::new(context))
    }

    /// The dense family: matmul, bias, activations, losses, optimiser.
    pub fn dense(&self) -> &Rc<Kernels> {
        &self.dense
    }
}

/// The family currently recording into the encoder.
enum Open<'a> {
    Dense(Commands<'a>),
    Conv(ConvCommands<'a>),
    Norm(NormCommands<'a>),
    Training(TrainingCommands<'a>),
}

/// Dispatches of any family being recorded, in order, into one encoder.
pub(super) struct Recording<'a> {
    context: &'a GpuContext,
    kernels: &'a KernelFamilies,
    /// Always `Some` between calls; taken only while the encoder changes hands.
    open: Option<Open<'a>>,
}

impl<'a> Recording<'a> {
    pub(super) fn new(context: &'a GpuContext, kernels: &'a KernelFamilies) -> Recording<'a> {
        Recording {
            context,
            kernels,
            open: Some(Open::Training(kernels.training.begin(context))),
        }
    }

    /// Matmul, bias, activations, loss and optimiser ([`Commands`]).
    pub(super) fn dense(&mut self) -> &mut Commands<'a> {
        if !matches!(self.open, Some(Open::Dense(_))) {
            let encoder = self.take_encoder();
            let commands = self.kernels.dense.resume(self.context, encoder);
            self.open = Some(Open::Dense(commands));
        }
        match &mut self.open {
            Some(Open::Dense(commands)) => commands,
            _ => unreachable!("opened above"),
        }
    }

    /// Convolutions and pooling ([`ConvCommands`]).
    pub(super) fn conv(&mut self) -> &mut ConvCommands<'a> {
        if !matches!(self.open, Some(Open::Conv(_))) {
            let encoder = self.take_encoder();
            let commands = self.kernels.conv.resume(self.context, encoder);
            self.open = Some(Open::Conv(commands));
        }
        match &mut self.open {
            Some(Open::Conv(commands)) => commands,
            _ => unreachable!("opened above"),
        }
    }

    /// Batch normalisation and dropout ([`NormCommands`]).
    pub(super) fn norm(&mut self) -> &mut NormCommands<'a> {
        if !matches!(self.open, Some(Open::Norm(_))) {
            let encoder = self.take_encoder();
            let commands = self.kernels.norm.resume(self.context, encoder);
            self.open = Some(Open::Norm(commands));
        }
        match &mut self.open {
            Some(Open::Norm(commands)) => commands,
            _ => unreachable!("opened above"),
        }
    }

    /// Clears, copies, softmax and loss bookkeeping ([`TrainingCommands`]).
    pub(super) fn training(&mut self) -> &mut TrainingCommands<'a> {
        if !matches!(self.open, Some(Open::Training(_))) {
            let encoder = self.take_encoder();
            let commands = self.kernels.training.resume(self.context, encoder);
            self.open = Some(Open::Training(commands));
        }
        match &mut self.open {
            Some(Open::Training(commands)) => commands,
            _ => unreachable!("opened above"),
        }
    }

    /// Sends everything recorded to the GPU in one submission. Nothing waits.
    pub(super) fn submit(mut self) {
        let encoder = self.take_encoder();
        self.context.queue.submit([encoder.finish()]);
    }

    fn take_encoder(&mut self) -> PassEncoder {
        match self
            .open
            .take()
            .expect("a recording always holds its encoder")
        {
            Open::Dense(commands) => commands.into_encoder(),
            Open::Conv(commands) => commands.into_encoder(),
            Open::Norm(commands) => commands.into_encoder(),
            Open::Training(commands) => commands.into_encoder(),
        }
    }
}

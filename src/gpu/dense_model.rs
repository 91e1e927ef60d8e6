//! `GpuDenseModel`: the playground's dense [`Model`] with its weights on the GPU, and its
//! forward and backward passes recorded as kernel dispatches, node for node as the CPU
//! [`ModelTape`](crate::engine::ModelTape) computes them.
//!
//! Per layer `l`: `product = A_{l-1} · W`, `pre_activation = product + b`,
//! `output = f(pre_activation)`. Under a cross-entropy loss the last layer stops at its logits
//! (`pre_activation`), which go to the fused loss; the shown prediction is then their sigmoid or
//! softmax. Backward: `dW = A_{l-1}ᵀ · dZ`, `db = column sums of dZ`,
//! `dA_{l-1} = dZ · Wᵀ`, `dZ_{l-1} += dA_{l-1} * f'(Z_{l-1})`.

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::error::GpuError;
use super::kernels::Commands;
use super::matmul::MatmulOperand;
use super::optimizer::GpuParam;
use super::training_kernels::TrainingCommands;
use crate::engine::{Activation, Dense, Loss, Model, OutputTransform, ParamRole};

/// How many differently sized sets of activation buffers are kept (a training batch, the last,
/// smaller batch of an epoch, the decision-boundary grid, ...); the least recently used goes.
const KEPT_WORKSPACES: usize = 4;

/// A dense model on the GPU: one value and one gradient tensor per parameter, in the order of the
/// CPU model's [`Params`](crate::engine::Params), and activation buffers per batch size.
#[derive(Debug)]
pub struct GpuDenseModel {
    /// The CPU model this one was made from: its layers and parameter layout. Its parameter
    /// values are stale; [`GpuDenseModel::to_model`] fills them in from the GPU.
    template: Model,
    layers: Vec<Dense>,
    values: Vec<GpuTensor>,
    grads: Vec<GpuTensor>,
    roles: Vec<ParamRole>,
    transform: OutputTransform,
    workspaces: Vec<Workspace>,
}

/// The buffers of a forward and backward pass over `rows` examples.
#[derive(Debug)]
pub(super) struct Workspace {
    rows: usize,
    pub(super) input: GpuTensor,
    pub(super) target: GpuTensor,
    layers: Vec<LayerBuffers>,
    /// The sigmoid or softmax of the logits, when the output transform asks for one.
    transformed: Option<GpuTensor>,
}

#[derive(Debug)]
struct LayerBuffers {
    product: GpuTensor,
    pre_activation: GpuTensor,
    /// `f(pre_activation)`; `None` for a last layer that stops at its logits.
    activated: Option<GpuTensor>,
    grad_output: GpuTensor,
    grad_pre_activation: GpuTensor,
}

impl LayerBuffers {
    fn output(&self) -> &GpuTensor {
        self.activated.as_ref().unwrap_or(&self.pre_activation)
    }
}

impl Workspace {
    fn layer_input(&self, layer: usize) -> &GpuTensor {
        match layer {
            0 => &self.input,
            _ => self.layers[layer - 1].output(),
        }
    }

    /// What the loss is computed on: the last layer's output (its logits under a cross-entropy).
    pub(super) fn loss_input(&self) -> &GpuTensor {
        self.layers.last().expect("a model has layers").output()
    }

    /// Every layer's output as the CPU model's `layer_output` gives it: the activations of
    /// the hidden layers, then the prediction.
    pub(super) fn layer_outputs(&self) -> impl Iterator<Item = &GpuTensor> {
        let hidden = self.layers.len().saturating_sub(1);
        self.layers[..hidden]
            .iter()
            .map(LayerBuffers::output)
            .chain(std::iter::once(self.prediction()))
    }

    /// What the user sees for the output layer.
    pub(super) fn prediction(&self) -> &GpuTensor {
        self.transformed
            .as_ref()
            .unwrap_or_else(|| self.loss_input())
    }
}

impl GpuDenseModel {
    /// Uploads `model`'s weights. `transform` is how the shown prediction comes from the last
    /// layer (the loss's [`Loss::output_activation`] when training).
    pub fn upload(context: &GpuContext, model: &Model, transform: OutputTransform) -> Self {
        let params = model.params();
        let values = params
            .ids()
            .map(|id| GpuTensor::upload(context, params.value(id)))
            .collect();
        let grads = params
            .ids()
            .map(|id| GpuTensor::zeros(context, params.value(id).shape()))
            .collect();
        GpuDenseModel {
            template: model.clone(),
            layers: model.layers().to_vec(),
            values,
            grads,
            roles: params.ids().map(|id| params.role(id)).collect(),
            transform,
            workspaces: Vec::new(),
        }
    }

    /// The CPU model this one was made from (its layers; its parameter values are stale).
    pub fn template(&self) -> &Model {
        &self.template
    }

    pub fn input_count(&self) -> usize {
        self.template.input_count()
    }

    pub fn output_count(&self) -> usize {
        self.template.output_count()
    }

    pub fn output_transform(&self) -> OutputTransform {
        self.transform
    }

    pub fn set_output_transform(&mut self, transform: OutputTransform) {
        if transform != self.transform {
            self.transform = transform;
            self.workspaces.clear();
        }
    }

    /// Overwrites the weights with `model`'s, which must have the same layers.
    pub fn write(&self, context: &GpuContext, model: &Model) -> Result<(), GpuError> {
        let (mine, theirs) = (self.template.config(), model.config());
        if mine.inputs != theirs.inputs || mine.layers != theirs.layers {
            return Err(GpuError::Shape(format!(
                "a model with layers {:?} cannot load the weights of one with layers {:?}",
                self.template.layer_sizes(),
                model.layer_sizes()
            )));
        }
        let params = model.params();
        for (id, value) in params.ids().zip(&self.values) {
            value.write(context, params.value(id))?;
        }
        Ok(())
    }

    /// A copy of the CPU model with the GPU's weights, read back in one transfer.
    pub async fn to_model(
        &self,
        context: &GpuContext,
        training: &super::TrainingKernels,
    ) -> Result<Model, GpuError> {
        let mut model = self.template.clone();
        let packed = GpuTensor::zeros(context, &[model.parameter_count()]);
        let mut commands = training.begin(context);
        let mut offset = 0;
        for value in &self.values {
            commands.copy(value, &packed, offset)?;
            offset += value.len();
        }
        commands.submit();
        let flat = packed.read(context).await?;
        model
            .params_mut()
            .load_flat(flat.data())
            .map_err(|error| GpuError::Readback(error.to_string()))?;
        model.set_output_transform(self.transform);
        Ok(model)
    }

    /// Every parameter with its gradient and role, in the CPU model's order, for the optimiser.
    pub fn params(&self) -> Vec<GpuParam<'_>> {
        self.values
            .iter()
            .zip(&self.grads)
            .zip(&self.roles)
            .map(|((value, grad), &role)| GpuParam { value, grad, role })
            .collect()
    }

    /// The weight matrices (the tensors a penalty applies to).
    pub fn weights(&self) -> impl Iterator<Item = &GpuTensor> {
        self.values
            .iter()
            .zip(&self.roles)
            .filter(|(_, role)| **role == ParamRole::Weight)
            .map(|(value, _)| value)
    }

    /// The index of the buffers for batches of `rows`, made on first use.
    pub(super) fn workspace_index(&mut self, context: &GpuContext, rows: usize) -> usize {
        if let Some(index) = self.workspaces.iter().position(|w| w.rows == rows) {
            let workspace = self.workspaces.remove(index);
            self.workspaces.push(workspace);
        } else {
            if self.workspaces.len() >= KEPT_WORKSPACES {
                self.workspaces.remove(0);
            }
            let workspace = self.new_workspace(context, rows);
            self.workspaces.push(workspace);
        }
        self.workspaces.len() - 1
    }

    pub(super) fn workspace(&self, index: usize) -> &Workspace {
        &self.workspaces[index]
    }

    fn new_workspace(&self, context: &GpuContext, rows: usize) -> Workspace {
        let last = self.layers.len() - 1;
        let layers = self
            .layers
            .iter()
            .enumerate()
            .map(|(index, layer)| {
                let shape = [rows, layer.outputs()];
                let zeros = || GpuTensor::zeros(context, &shape);
                let logits_only = index == last && self.transform != OutputTransform::None;
                LayerBuffers {
                    product: zeros(),
                    pre_activation: zeros(),
                    activated: (!logits_only).then(zeros),
                    grad_output: zeros(),
                    grad_pre_activation: zeros(),
                }
            })
            .collect();
        let outputs = self.output_count();
        Workspace {
            rows,
            input: GpuTensor::zeros(context, &[rows, self.input_count()]),
            target: GpuTensor::zeros(context, &[rows, outputs]),
            layers,
            transformed: (self.transform != OutputTransform::None)
                .then(|| GpuTensor::zeros(context, &[rows, outputs])),
        }
    }

    /// Records the forward pass of the layers over `workspace.input`, stopping at the logits of
    /// the last layer when the output transform is not `None` (see [`Self::transform_output`]).
    pub(super) fn forward(
        &self,
        commands: &mut Commands<'_>,
        workspace: &Workspace,
    ) -> Result<(), GpuError> {
        for (index, (layer, buffers)) in self.layers.iter().zip(&workspace.layers).enumerate() {
            let weights = &self.values[layer.weights().0];
            let bias = &self.values[layer.bias().0];
            let input = MatmulOperand::plain(workspace.layer_input(index));
            commands.matmul(
                input,
                MatmulOperand::plain(weights),
                &buffers.product,
                false,
            )?;
            commands.add_bias(&buffers.product, bias, &buffers.pre_activation)?;
            if let Some(activated) = &buffers.activated {
                commands.activation_forward(
                    layer.activation(),
                    &buffers.pre_activation,
                    activated,
                )?;
            }
        }
        Ok(())
    }

    /// Records the sigmoid of the logits (the softmax needs [`Self::transform_softmax`]).
    pub(super) fn transform_sigmoid(
        &self,
        commands: &mut Commands<'_>,
        workspace: &Workspace,
    ) -> Result<(), GpuError> {
        if let (OutputTransform::Sigmoid, Some(transformed)) =
            (self.transform, &workspace.transformed)
        {
            commands.activation_forward(
                Activation::Sigmoid,
                workspace.loss_input(),
                transformed,
            )?;
        }
        Ok(())
    }

    /// Records the softmax of the logits, when that is the output transform.
    pub(super) fn transform_softmax(
        &self,
        commands: &mut TrainingCommands<'_>,
        workspace: &Workspace,
    ) -> Result<(), GpuError> {
        if let (OutputTransform::Softmax, Some(transformed)) =
            (self.transform, &workspace.transformed)
        {
            commands.softmax_rows(workspace.loss_input(), transformed)?;
        }
        Ok(())
    }

    /// Zeroes the buffers that the backward pass accumulates into (the bias gradients, the
    /// gradients at the pre-activations, the loss's gradient at the output).
    pub(super) fn clear_gradients(
        &self,
        commands: &mut TrainingCommands<'_>,
        workspace: &Workspace,
    ) {
        for layer in &self.layers {
            commands.clear(&self.grads[layer.bias().0]);
        }
        for buffers in &workspace.layers {
            commands.clear(&buffers.grad_pre_activation);
        }
        if let Some(last) = workspace.layers.last() {
            commands.clear(&last.grad_output);
        }
    }

    /// Records the gradient of the mean `loss` of the last forward pass into every parameter's
    /// gradient. The accumulating buffers must have been cleared (see [`Self::clear_gradients`]).
    pub(super) fn backward(
        &self,
        commands: &mut Commands<'_>,
        workspace: &Workspace,
        loss: Loss,
    ) -> Result<(), GpuError> {
        let last = self.layers.len() - 1;
        let top = &workspace.layers[last];
        if top.activated.is_none() {
            commands.loss_gradient(
                loss,
                &top.pre_activation,
                &workspace.target,
                1.0,
                &top.grad_pre_activation,
            )?;
        } else {
            commands.loss_gradient(loss, top.output(), &workspace.target, 1.0, &top.grad_output)?;
            self.activation_backward(commands, workspace, last)?;
        }
        for index in (0..self.layers.len()).rev() {
            let layer = &self.layers[index];
            let buffers = &workspace.layers[index];
            let input = workspace.layer_input(index);
            let grad_pre_activation = MatmulOperand::plain(&buffers.grad_pre_activation);
            let weights_grad = &self.grads[layer.weights().0];
            commands.matmul(
                MatmulOperand::transposed(input),
                grad_pre_activation,
                weights_grad,
                false,
            )?;
            commands.column_sums(&buffers.grad_pre_activation, &self.grads[layer.bias().0])?;
            if index > 0 {
                let weights = MatmulOperand::transposed(&self.values[layer.weights().0]);
                let below = &workspace.layers[index - 1].grad_output;
                commands.matmul(grad_pre_activation, weights, below, false)?;
                self.activation_backward(commands, workspace, index - 1)?;
            }
        }
        Ok(())
    }

    fn activation_backward(
        &self,
        commands: &mut Commands<'_>,
        workspace: &Workspace,
        index: usize,
    ) -> Result<(), GpuError> {
        let buffers = &workspace.layers[index];
        commands.activation_backward(
            self.layers[index].activation(),
            &buffers.pre_activation,
            buffers.output(),
            &buffers.grad_output,
            &buffers.grad_pre_activation,
        )
    }
}

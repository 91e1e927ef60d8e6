//! `GpuPass`: one recorded pass of a network (the CPU's own [`ModelTape`] from
//! `Sequential::record_for`, for one [`Mode`] and batch size) with a GPU buffer per node, replayed
//! on the GPU node by node: forward, running statistics, backward. Replaying the CPU's recording
//! rather than rebuilding the network keeps one definition of what each layer computes.
//!
//! Flatten moves nothing: its output is a view of its input's buffer, and so is its gradient. A
//! bias add passes its gradient through unchanged to the matmul before it, so the two share one
//! gradient buffer. (Where the input feeds other nodes too, a view or bias add keeps a gradient
//! of its own and adds it into the input's.) A dense op (`X · W + b`) runs as a matmul into a buffer of its own, then a
//! bias add. Backward adds into the gradients, as the engine does: clear them first.

use super::buffer::GpuTensor;
use super::context::GpuContext;
use super::error::GpuError;
use super::matmul::MatmulOperand;
use super::norm_kernels::GpuNormStatistics;
use super::recording::Recording;
use super::trainer::GpuTrainingError;
use super::training_kernels::TrainingCommands;
use crate::engine::ops::{concat_copy, slice_copy};
use crate::engine::{ModelTape, NodeId, NormStatistics, Op, ParamRole, SeededRng, Tensor};

/// A model's parameters on the GPU, in the order of the CPU model's `Params`, with one gradient
/// tensor each.
#[derive(Debug)]
pub(super) struct GpuParams {
    pub(super) values: Vec<GpuTensor>,
    pub(super) grads: Vec<GpuTensor>,
    pub(super) roles: Vec<ParamRole>,
}

#[derive(Debug, Default)]
struct NodeBuffers {
    /// `None` for a parameter node, whose value lives in [`GpuParams`].
    value: Option<GpuTensor>,
    grad: Option<GpuTensor>,
    /// False when `grad` is a view of an input's gradient buffer (cleared through the input).
    owns_grad: bool,
    /// Batch normalisation: what its forward pass keeps for the running statistics and backward.
    statistics: Option<GpuNormStatistics>,
    /// Dense: `X · W`, which the bias is then added to (two kernels, where the CPU fuses them).
    product: Option<GpuTensor>,
}

/// The buffers and recording of one pass.
#[derive(Debug)]
pub(super) struct GpuPass {
    recorded: ModelTape,
    nodes: Vec<NodeBuffers>,
}

impl GpuPass {
    /// Buffers for every node of `recorded`; gradient buffers only when it ends in a loss (a
    /// pass that can go backward).
    pub(super) fn new(context: &GpuContext, recorded: ModelTape) -> Result<GpuPass, GpuError> {
        let tape = &recorded.tape;
        let mut consumers = vec![0usize; tape.len()];
        for input in tape.nodes().iter().flat_map(|node| node.inputs()) {
            consumers[input.0] += 1;
        }
        let mut nodes = Vec::with_capacity(tape.len());
        for _ in 0..tape.len() {
            let buffers = node_buffers(context, &recorded, &nodes, &consumers)?;
            nodes.push(buffers);
        }
        Ok(GpuPass { recorded, nodes })
    }

    /// Examples per batch.
    pub(super) fn rows(&self) -> usize {
        self.recorded.tape.recorded_shape(self.recorded.input)[0]
    }

    /// Where the forward pass leaves the loss (one value), in a pass with a loss.
    pub(super) fn loss_value(&self) -> Option<&GpuTensor> {
        self.recorded
            .loss
            .and_then(|id| self.nodes[id.0].value.as_ref())
    }

    /// What the user is shown for the last layer (probabilities under a cross-entropy).
    pub(super) fn prediction(&self) -> &GpuTensor {
        self.owned_value(self.recorded.prediction)
    }

    /// Where the batch's examples go: gather or write them here before the pass runs.
    pub(super) fn input(&self) -> &GpuTensor {
        self.owned_value(self.recorded.input)
    }

    /// Where the batch's targets go, in a pass with a loss.
    pub(super) fn target(&self) -> Option<&GpuTensor> {
        self.recorded.target.map(|node| self.owned_value(node))
    }

    /// Every layer's output as `Model::layer_output` gives it after a forward pass: each layer's
    /// output, the last one's being the shown prediction.
    pub(super) fn layer_outputs(&self) -> impl Iterator<Item = &GpuTensor> {
        let layers = &self.recorded.layers;
        let hidden = layers.len().saturating_sub(1);
        layers[..hidden]
            .iter()
            .map(|nodes| self.owned_value(nodes.output()))
            .chain(std::iter::once(self.prediction()))
    }

    /// Uploads a batch (and its targets, in a pass with a loss) through the queue.
    pub(super) fn write_batch(
        &self,
        context: &GpuContext,
        inputs: &Tensor,
        targets: Option<&Tensor>,
    ) -> Result<(), GpuError> {
        self.owned_value(self.recorded.input)
            .write(context, inputs)?;
        if let (Some(targets), Some(node)) = (targets, self.recorded.target) {
            self.owned_value(node).write(context, targets)?;
        }
        Ok(())
    }

    /// Draws every dropout layer's mask on the CPU exactly as the CPU trainer does (same RNG
    /// calls, same order) and uploads them.
    pub(super) fn draw_dropout_masks(
        &mut self,
        context: &GpuContext,
        rng: &mut SeededRng,
    ) -> Result<(), GpuTrainingError> {
        self.recorded.draw_dropout_masks(rng)?;
        for dropout in self.recorded.dropouts() {
            let mask = self.recorded.tape.value(dropout.mask);
            self.owned_value(dropout.mask).write(context, mask)?;
        }
        Ok(())
    }

    /// Zeroes every gradient that backward adds into: the parameters' and the nodes'.
    pub(super) fn clear_gradients(&self, commands: &mut TrainingCommands<'_>, params: &GpuParams) {
        for grad in &params.grads {
            commands.clear(grad);
        }
        for buffers in self.nodes.iter().filter(|buffers| buffers.owns_grad) {
            if let Some(grad) = &buffers.grad {
                commands.clear(grad);
            }
        }
    }

    /// Records the forward pass up to the loss (the whole pass when there is none).
    pub(super) fn forward(
        &self,
        recording: &mut Recording<'_>,
        params: &GpuParams,
    ) -> Result<(), GpuError> {
        let last = self
            .recorded
            .loss
            .map_or(self.nodes.len(), |loss| loss.0 + 1);
        (0..last).try_for_each(|index| self.forward_node(recording, params, NodeId(index)))
    }

    /// Records the running statistics' update from the batch each training batch normalisation
    /// just normalised (`ModelTape::update_running_statistics`).
    pub(super) fn update_running_statistics(
        &self,
        recording: &mut Recording<'_>,
        params: &GpuParams,
    ) -> Result<(), GpuError> {
        for batch_norm in self.recorded.batch_norms() {
            let node = self.recorded.tape.node(batch_norm.output);
            if node.op() == Op::BatchNorm(NormStatistics::Batch) {
                recording.norm().batch_norm_update_running(
                    self.value(params, node.inputs()[0]),
                    self.statistics(batch_norm.output),
                    &params.values[batch_norm.running_mean.0],
                    &params.values[batch_norm.running_variance.0],
                )?;
            }
        }
        Ok(())
    }

    /// Records the gradient of the loss into every parameter's gradient, node by node from the
    /// loss down, as `Tape::backward` does. The gradients must have been cleared.
    pub(super) fn backward(
        &self,
        recording: &mut Recording<'_>,
        params: &GpuParams,
    ) -> Result<(), GpuError> {
        let loss = self
            .recorded
            .loss
            .ok_or_else(|| unsupported("backward through a pass without a loss"))?;
        for index in (0..=loss.0).rev() {
            let node = self.recorded.tape.node(NodeId(index));
            if node.requires_grad() && !matches!(node.op(), Op::Input | Op::Parameter(_)) {
                self.backward_node(recording, params, NodeId(index))?;
            }
        }
        Ok(())
    }

    fn forward_node(
        &self,
        recording: &mut Recording<'_>,
        params: &GpuParams,
        id: NodeId,
    ) -> Result<(), GpuError> {
        let node = self.recorded.tape.node(id);
        let input = |slot: usize| self.value(params, node.inputs()[slot]);
        let out = || self.owned_value(id);
        match node.op() {
            Op::Input
            | Op::Parameter(_)
            | Op::Flatten
            | Op::Unflatten { .. }
            | Op::StepsAsRows
            | Op::RowsAsSteps { .. }
            | Op::Detach => Ok(()),
            Op::MatMul {
                transpose_a,
                transpose_b,
            } => recording.dense().matmul(
                operand(input(0), transpose_a),
                operand(input(1), transpose_b),
                out(),
                false,
            ),
            Op::AddBias => recording.dense().add_bias(input(0), input(1), out()),
            Op::Dense => {
                let product = self.product(id);
                let dense = recording.dense();
                dense.matmul(
                    operand(input(0), false),
                    operand(input(1), false),
                    product,
                    false,
                )?;
                dense.add_bias(product, input(2), out())
            }
            Op::Activation(f) => recording.dense().activation_forward(f, input(0), out()),
            Op::Softmax => recording.training().softmax_rows(input(0), out()),
            Op::Loss(loss) => recording
                .dense()
                .loss_value(loss, input(0), input(1), out()),
            Op::Conv2d { stride, padding } => recording.conv().conv2d_forward(
                input(0),
                input(1),
                input(2),
                stride,
                padding,
                out(),
            ),
            Op::MaxPool2d { size, stride } => {
                recording
                    .conv()
                    .max_pool2d_forward(size, stride, input(0), out())
            }
            Op::AvgPool2d { size, stride } => {
                recording
                    .conv()
                    .average_pool2d_forward(size, stride, input(0), out())
            }
            Op::BatchNorm(NormStatistics::Batch) => recording.norm().batch_norm_training_forward(
                input(0),
                input(1),
                input(2),
                self.statistics(id),
                out(),
            ),
            Op::BatchNorm(NormStatistics::Running) => {
                recording.norm().batch_norm_evaluation_forward(
                    input(0),
                    input(1),
                    input(2),
                    input(3),
                    input(4),
                    self.statistics(id),
                    out(),
                )
            }
            Op::Dropout => recording.norm().dropout_forward(input(0), input(1), out()),
            Op::Add => recording.dense().add(input(0), input(1), out()),
            Op::Mul => recording.dense().multiply(input(0), input(1), out()),
            Op::Slice { axis, start, len } => {
                let copy = slice_copy(axis, start, len, input(0).shape());
                recording
                    .dense()
                    .copy_along_axis(copy, input(0), out(), false)
            }
            Op::Concat { axis } => {
                let (a, b) = (input(0), input(1));
                let dense = recording.dense();
                for (slot, part) in [a, b].into_iter().enumerate() {
                    let copy = concat_copy(axis, slot, a.shape(), b.shape());
                    dense.copy_along_axis(copy, part, out(), false)?;
                }
                Ok(())
            }
            Op::Scale(factor) => recording.dense().scale(factor, input(0), out()),
            Op::AddScalar(factor) => recording.dense().shift(factor, input(0), out()),
            Op::Carry => recording.dense().carry(input(0), input(1), input(2), out()),
            Op::LstmGates => recording.dense().lstm_gates(input(0), out()),
            Op::LstmCell { first } => {
                let previous = (!first).then(|| input(1));
                recording.dense().lstm_cell(input(0), previous, out())
            }
            Op::LstmState => recording.dense().lstm_state(input(0), input(1), out()),
            Op::Embedding => recording.dense().embedding(input(0), input(1), out()),
            Op::ArgMax => recording.dense().argmax(input(0), out()),
            Op::StepScores => recording.dense().step_scores(input(0), input(1), out()),
            Op::StepMix => recording.dense().step_mix(input(0), input(1), out()),
            Op::AddToSteps => recording.dense().add_to_steps(input(0), input(1), out()),
            Op::Square | Op::Sum | Op::Mean => {
                Err(unsupported(&format!("the {} op", node.op().name())))
            }
        }
    }

    /// Adds this node's contribution to the gradient of each input the engine sends one to.
    fn backward_node(
        &self,
        recording: &mut Recording<'_>,
        params: &GpuParams,
        id: NodeId,
    ) -> Result<(), GpuError> {
        let tape = &self.recorded.tape;
        let node = tape.node(id);
        let (op, inputs) = (node.op(), node.inputs());
        let input = |slot: usize| self.value(params, inputs[slot]);
        let into = |slot: usize| {
            let flows = op.passes_gradient_to(slot) && tape.node(inputs[slot]).requires_grad();
            if flows {
                self.grad(params, inputs[slot])
            } else {
                None
            }
        };
        let upstream = self.nodes[id.0]
            .grad
            .as_ref()
            .ok_or_else(|| unsupported("backward through a pass without gradients"))?;
        let owns_grad = self.nodes[id.0].owns_grad;
        let d_output = |transposed| MatmulOperand {
            tensor: upstream,
            transposed,
        };
        match op {
            Op::MatMul {
                transpose_a,
                transpose_b,
            } => {
                // The engine's rules (`ops::matmul::backward`): dA = dC · op(B)ᵀ (or its
                // transpose), dB = op(A)ᵀ · dC (or its transpose).
                let (a, b) = (input(0), input(1));
                let dense = recording.dense();
                if let Some(grad) = into(0) {
                    match transpose_a {
                        false => {
                            dense.matmul(d_output(false), operand(b, !transpose_b), grad, true)
                        }
                        true => dense.matmul(operand(b, transpose_b), d_output(true), grad, true),
                    }?;
                }
                if let Some(grad) = into(1) {
                    match transpose_b {
                        false => {
                            dense.matmul(operand(a, !transpose_a), d_output(false), grad, true)
                        }
                        true => dense.matmul(d_output(true), operand(a, transpose_a), grad, true),
                    }?;
                }
            }
            // `ops::dense::backward`: dX = dY · Wᵀ, dW = Xᵀ · dY, db = column sums of dY.
            Op::Dense => {
                let (x, weights) = (input(0), input(1));
                let dense = recording.dense();
                if let Some(grad) = into(0) {
                    dense.matmul(d_output(false), operand(weights, true), grad, true)?;
                }
                if let Some(grad) = into(1) {
                    dense.matmul(operand(x, true), d_output(false), grad, true)?;
                }
                if let Some(grad) = into(2) {
                    dense.column_sums(upstream, grad)?;
                }
            }
            // The input's gradient is this node's gradient buffer itself, unless it has one of
            // its own.
            Op::AddBias => {
                if let Some(grad) = into(0).filter(|_| owns_grad) {
                    recording.dense().accumulate(upstream, grad)?;
                }
                if let Some(grad) = into(1) {
                    recording.dense().column_sums(upstream, grad)?;
                }
            }
            Op::Activation(f) => {
                if let Some(grad) = into(0) {
                    let output = self.owned_value(id);
                    recording
                        .dense()
                        .activation_backward(f, input(0), output, upstream, grad)?;
                }
            }
            // The root: dLoss/dloss = 1.
            Op::Loss(loss) => {
                if let Some(grad) = into(0) {
                    recording
                        .dense()
                        .loss_gradient(loss, input(0), input(1), 1.0, grad)?;
                }
            }
            Op::Conv2d { stride, padding } => {
                let conv = recording.conv();
                if let Some(grad) = into(0) {
                    conv.conv2d_input_grad(input(1), upstream, stride, padding, grad)?;
                }
                if let Some(grad) = into(1) {
                    conv.conv2d_weight_grad(input(0), upstream, stride, padding, grad)?;
                }
                if let Some(grad) = into(2) {
                    conv.conv2d_bias_grad(upstream, grad)?;
                }
            }
            Op::MaxPool2d { size, stride } => {
                if let Some(grad) = into(0) {
                    recording
                        .conv()
                        .max_pool2d_backward(size, stride, input(0), upstream, grad)?;
                }
            }
            Op::AvgPool2d { size, stride } => {
                if let Some(grad) = into(0) {
                    recording
                        .conv()
                        .average_pool2d_backward(size, stride, upstream, grad)?;
                }
            }
            // Share their input's gradient buffer, or add theirs into it; nothing flows back
            // through a cut.
            Op::Flatten | Op::Unflatten { .. } | Op::StepsAsRows | Op::RowsAsSteps { .. } => {
                if let Some(grad) = into(0).filter(|_| owns_grad) {
                    recording.dense().accumulate(upstream, grad)?;
                }
            }
            Op::Detach => {}
            Op::BatchNorm(statistics) => {
                let (Some(grad_gamma), Some(grad_beta)) = (into(1), into(2)) else {
                    return Err(unsupported("a batch normalisation with a frozen γ or β"));
                };
                recording.norm().batch_norm_backward(
                    statistics,
                    input(0),
                    upstream,
                    self.statistics(id),
                    into(0),
                    grad_gamma,
                    grad_beta,
                )?;
            }
            Op::Dropout => {
                if let Some(grad) = into(0) {
                    recording
                        .norm()
                        .dropout_backward(input(1), upstream, grad)?;
                }
            }
            Op::Add => {
                for slot in 0..2 {
                    if let Some(grad) = into(slot) {
                        recording.dense().accumulate(upstream, grad)?;
                    }
                }
            }
            Op::Carry => {
                for slot in 1..3 {
                    if let Some(grad) = into(slot) {
                        recording.dense().accumulate_carried(
                            input(0),
                            upstream,
                            grad,
                            slot == 1,
                        )?;
                    }
                }
            }
            Op::Mul => {
                for slot in 0..2 {
                    if let Some(grad) = into(slot) {
                        let other = input(1 - slot);
                        recording
                            .dense()
                            .accumulate_product(upstream, other, grad)?;
                    }
                }
            }
            Op::Slice { axis, start, len } => {
                if let Some(grad) = into(0) {
                    let copy = slice_copy(axis, start, len, input(0).shape()).reversed();
                    recording
                        .dense()
                        .copy_along_axis(copy, upstream, grad, true)?;
                }
            }
            Op::Concat { axis } => {
                let (a, b) = (input(0), input(1));
                for slot in 0..2 {
                    if let Some(grad) = into(slot) {
                        let copy = concat_copy(axis, slot, a.shape(), b.shape()).reversed();
                        recording
                            .dense()
                            .copy_along_axis(copy, upstream, grad, true)?;
                    }
                }
            }
            Op::Scale(factor) => {
                if let Some(grad) = into(0) {
                    recording
                        .dense()
                        .accumulate_scaled(factor, upstream, grad)?;
                }
            }
            Op::AddScalar(_) => {
                if let Some(grad) = into(0) {
                    recording.dense().accumulate(upstream, grad)?;
                }
            }
            Op::LstmGates => {
                if let Some(grad) = into(0) {
                    let gates = self.owned_value(id);
                    recording
                        .dense()
                        .lstm_gates_backward(gates, upstream, grad)?;
                }
            }
            Op::LstmCell { first } => {
                let (gates, previous) = (input(0), (!first).then(|| input(1)));
                if let Some(grad) = into(0) {
                    recording
                        .dense()
                        .lstm_cell_backward_gates(gates, previous, upstream, grad)?;
                }
                if let Some(grad) = (!first).then(|| into(1)).flatten() {
                    recording
                        .dense()
                        .lstm_cell_backward_previous(gates, upstream, grad)?;
                }
            }
            Op::LstmState => {
                let (gates, cell) = (input(0), input(1));
                if let Some(grad) = into(0) {
                    recording
                        .dense()
                        .lstm_state_backward_gates(cell, upstream, grad)?;
                }
                if let Some(grad) = into(1) {
                    recording
                        .dense()
                        .lstm_state_backward_cell(gates, cell, upstream, grad)?;
                }
            }
            Op::Softmax => {
                if let Some(grad) = into(0) {
                    let output = self.owned_value(id);
                    recording
                        .training()
                        .softmax_rows_backward(output, upstream, grad)?;
                }
            }
            // The ids are data: only the table takes a gradient.
            Op::Embedding => {
                if let Some(grad) = into(0) {
                    recording
                        .dense()
                        .embedding_backward(input(1), upstream, grad)?;
                }
            }
            Op::StepScores => {
                let (keys, query) = (input(0), input(1));
                if let Some(grad) = into(0) {
                    recording
                        .dense()
                        .step_scores_backward_keys(query, upstream, grad)?;
                }
                if let Some(grad) = into(1) {
                    recording
                        .dense()
                        .step_scores_backward_query(keys, upstream, grad)?;
                }
            }
            Op::StepMix => {
                let (weights, values) = (input(0), input(1));
                if let Some(grad) = into(0) {
                    recording
                        .dense()
                        .step_mix_backward_weights(values, upstream, grad)?;
                }
                if let Some(grad) = into(1) {
                    recording
                        .dense()
                        .step_mix_backward_values(weights, upstream, grad)?;
                }
            }
            Op::AddToSteps => {
                if let Some(grad) = into(0) {
                    recording.dense().accumulate(upstream, grad)?;
                }
                if let Some(grad) = into(1) {
                    recording
                        .dense()
                        .add_to_steps_backward_vector(upstream, grad)?;
                }
            }
            // Leaves: `backward` never asks for them; nothing flows back through a choice.
            Op::Input | Op::Parameter(_) | Op::ArgMax => {}
            Op::Square | Op::Sum | Op::Mean => {
                return Err(unsupported(&format!(
                    "the gradient of the {} op",
                    op.name()
                )));
            }
        }
        Ok(())
    }

    /// The value of node `id`: its buffer, or the parameter's.
    fn value<'a>(&'a self, params: &'a GpuParams, id: NodeId) -> &'a GpuTensor {
        match self.recorded.tape.node(id).op().parameter() {
            Some(param) => &params.values[param.0],
            None => self.owned_value(id),
        }
    }

    /// The gradient buffer of node `id`, when it has one.
    fn grad<'a>(&'a self, params: &'a GpuParams, id: NodeId) -> Option<&'a GpuTensor> {
        match self.recorded.tape.node(id).op().parameter() {
            Some(param) => Some(&params.grads[param.0]),
            None => self.nodes[id.0].grad.as_ref(),
        }
    }

    fn owned_value(&self, id: NodeId) -> &GpuTensor {
        self.nodes[id.0]
            .value
            .as_ref()
            .expect("every node but a parameter has a value buffer")
    }

    fn product(&self, id: NodeId) -> &GpuTensor {
        self.nodes[id.0]
            .product
            .as_ref()
            .expect("every dense node has its product buffer")
    }

    fn statistics(&self, id: NodeId) -> &GpuNormStatistics {
        self.nodes[id.0]
            .statistics
            .as_ref()
            .expect("every batch normalisation has its statistics buffer")
    }
}

/// The buffers of the next node of `recorded` after `before`.
fn node_buffers(
    context: &GpuContext,
    recorded: &ModelTape,
    before: &[NodeBuffers],
    consumers: &[usize],
) -> Result<NodeBuffers, GpuError> {
    let tape = &recorded.tape;
    let id = NodeId(before.len());
    let (node, shape) = (tape.node(id), tape.recorded_shape(id));
    let zeros = || Some(GpuTensor::zeros(context, shape));
    let mut buffers = NodeBuffers::default();
    match node.op() {
        Op::Parameter(_) => return Ok(buffers),
        // Views of their input's values (a cut is the same values without the gradient).
        Op::Flatten
        | Op::Unflatten { .. }
        | Op::StepsAsRows
        | Op::RowsAsSteps { .. }
        | Op::Detach => {
            let input = &before[node.inputs()[0].0];
            let value = input
                .value
                .as_ref()
                .ok_or_else(|| unsupported("a flattened parameter"))?;
            buffers.value = Some(value.view(shape)?);
        }
        Op::Input
        | Op::MatMul { .. }
        | Op::AddBias
        | Op::Dense
        | Op::Activation(_)
        | Op::Softmax
        | Op::Loss(_)
        | Op::Conv2d { .. }
        | Op::MaxPool2d { .. }
        | Op::AvgPool2d { .. }
        | Op::BatchNorm(_)
        | Op::Dropout
        | Op::Add
        | Op::Mul
        | Op::Slice { .. }
        | Op::Concat { .. }
        | Op::Scale(_)
        | Op::AddScalar(_)
        | Op::Carry
        | Op::LstmGates
        | Op::LstmCell { .. }
        | Op::LstmState
        | Op::Embedding
        | Op::ArgMax
        | Op::StepScores
        | Op::StepMix
        | Op::AddToSteps => buffers.value = zeros(),
        Op::Square | Op::Sum | Op::Mean => {
            return Err(unsupported(&format!("the {} op", node.op().name())));
        }
    }
    if recorded.loss.is_some() && node.requires_grad() {
        let input = node.inputs().first().copied();
        let passes_through = matches!(
            node.op(),
            Op::Flatten
                | Op::Unflatten { .. }
                | Op::StepsAsRows
                | Op::RowsAsSteps { .. }
                | Op::AddBias
        ) && input.is_some_and(|input| tape.node(input).requires_grad());
        // The gradient reaches the input unchanged: share its buffer, which is only right when
        // nothing else adds into it (an encoder's states feed both the attention's keys and
        // its mix: there the node keeps its own and adds it into the input's).
        let shared = input
            .filter(|input| passes_through && consumers[input.0] == 1)
            .and_then(|input| before[input.0].grad.as_ref());
        (buffers.grad, buffers.owns_grad) = match shared {
            Some(shared) => (Some(shared.view(shape)?), false),
            None => (zeros(), true),
        };
    }
    if let Op::BatchNorm(_) = node.op() {
        buffers.statistics = Some(GpuNormStatistics::new(context, shape[1]));
    }
    if node.op() == Op::Dense {
        buffers.product = zeros();
    }
    Ok(buffers)
}

fn operand(tensor: &GpuTensor, transposed: bool) -> MatmulOperand<'_> {
    MatmulOperand { tensor, transposed }
}

fn unsupported(what: &str) -> GpuError {
    GpuError::Unsupported(what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Loss, OutputTransform, Params, Tape};
    use crate::gpu::recording::KernelFamilies;

    fn counting(shape: &[usize], scale: f32) -> Tensor {
        let len = shape.iter().product::<usize>();
        let values = (0..len).map(|i| ((i * 7 % 11) as f32 - 5.0) * scale);
        Tensor::from_vec(shape, values.collect()).unwrap()
    }

    /// The ops a recurrent cell is made of, replayed by the GPU pass: `[x, h]` joined, a slice
    /// across the seam split in two, their product plus a parameter, under a loss. The loss and
    /// both parameters' gradients must be the CPU tape's (needs a GPU adapter: lavapipe in
    /// `cargo xtask test`).
    #[test]
    fn a_pass_of_sums_products_slices_and_concatenations_matches_the_tape() {
        let mut params = Params::new();
        let hidden = params.add(counting(&[4, 5], 0.1), ParamRole::Weight);
        let offset = params.add(counting(&[4, 2], -0.3), ParamRole::Bias);
        let mut tape = Tape::new();
        let x = tape.input(&[4, 3]);
        let h = tape.parameter(&params, hidden).unwrap();
        let b = tape.parameter(&params, offset).unwrap();
        let joined = tape.concat(x, h, 1).unwrap();
        let gates = tape.slice(joined, 1, 2, 4).unwrap();
        let first = tape.slice(gates, 1, 0, 2).unwrap();
        let second = tape.slice(gates, 1, 2, 2).unwrap();
        let product = tape.mul(first, second).unwrap();
        let out = tape.add(product, b).unwrap();
        let mut recorded = ModelTape::finish(
            tape,
            x,
            Vec::new(),
            out,
            OutputTransform::None,
            Some(Loss::MeanSquaredError),
        )
        .unwrap();
        let (inputs, targets) = (counting(&[4, 3], 0.2), counting(&[4, 2], 0.05));
        let target = recorded.target.unwrap();
        let loss = recorded.loss.unwrap();
        let mut cpu = recorded.tape.clone();
        cpu.set_input(x, &inputs).unwrap();
        cpu.set_input(target, &targets).unwrap();
        cpu.forward(&params).unwrap();
        cpu.backward(loss, &mut params).unwrap();
        recorded.tape.set_input(x, &inputs).unwrap();

        let context = GpuContext::new_blocking().expect("a GPU adapter (lavapipe in CI)");
        let kernels = pollster::block_on(KernelFamilies::new(&context)).unwrap();
        let gpu_params = GpuParams {
            values: params
                .ids()
                .map(|id| GpuTensor::upload(&context, params.value(id)))
                .collect(),
            grads: params
                .ids()
                .map(|id| GpuTensor::upload(&context, &Tensor::full(params.value(id).shape(), 9.0)))
                .collect(),
            roles: params.ids().map(|id| params.role(id)).collect(),
        };
        let pass = GpuPass::new(&context, recorded).unwrap();
        pass.write_batch(&context, &inputs, Some(&targets)).unwrap();
        let mut recording = Recording::new(&context, &kernels);
        pass.clear_gradients(recording.training(), &gpu_params);
        pass.forward(&mut recording, &gpu_params).unwrap();
        pass.backward(&mut recording, &gpu_params).unwrap();
        recording.submit();

        let gpu_loss = pass.loss_value().unwrap().read_blocking(&context).unwrap();
        let cpu_loss = cpu.value(loss).data()[0];
        assert!((gpu_loss.data()[0] - cpu_loss).abs() <= 1e-6 * cpu_loss.abs().max(1.0));
        for (id, grad) in params.ids().zip(&gpu_params.grads) {
            let (gpu_grad, cpu_grad) = (grad.read_blocking(&context).unwrap(), params.grad(id));
            assert!(cpu_grad.data().iter().any(|&g| g != 0.0));
            for (g, c) in gpu_grad.data().iter().zip(cpu_grad.data()) {
                assert!(
                    (g - c).abs() <= 1e-5,
                    "{id:?}: {gpu_grad:?} against {cpu_grad:?}"
                );
            }
        }
    }
}

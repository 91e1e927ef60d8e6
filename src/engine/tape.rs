//! The autograd `Tape`: a list of nodes recorded once and replayed every step.
//!
//! `forward` walks the nodes in order, re-inferring every shape from the inputs (so the same tape
//! serves any number of rows) and resizing buffers only when they must grow. `backward` walks them
//! in reverse, each node adding `upstream · local derivative` into its inputs' gradients. Every
//! node keeps its inputs, output and gradient, so a stepper can replay the chain rule factor by
//! factor with the engine's own numbers. Parameters live in [`Params`], outside the tape.

mod fused;

use fused::packed_weights;

use super::activation::Activation;
use super::error::EngineError;
use super::fused_update::FusedUpdate;
use super::loss::Loss;
use super::ops::{NormStatistics, Op, Scratch, dense_forward_packed, dense_input_gradient_packed};
use super::packed_weights::PackedWeights;
use super::params::{ParamId, Params};
use super::tensor::Tensor;

/// Index of a node in its tape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

/// One recorded operation with its output and the gradient of the loss with respect to it.
///
/// Parameter nodes hold no copy of their value or gradient: read them from [`Params`] (or with
/// [`Tape::value_of`] / [`Tape::grad_of`]).
#[derive(Clone, Debug)]
pub struct Node {
    op: Op,
    inputs: Vec<NodeId>,
    value: Tensor,
    grad: Tensor,
    requires_grad: bool,
    /// Buffers the op keeps from forward to backward (im2col columns, max-pool positions).
    scratch: Scratch,
}

impl Node {
    pub fn op(&self) -> Op {
        self.op
    }

    pub fn inputs(&self) -> &[NodeId] {
        &self.inputs
    }

    /// The output of the last forward pass.
    pub fn value(&self) -> &Tensor {
        &self.value
    }

    /// dLoss/d(this node's output) from the last backward pass (empty if no gradient flows here).
    pub fn grad(&self) -> &Tensor {
        &self.grad
    }

    /// True when a parameter is upstream of this node, so backward computes its gradient.
    pub fn requires_grad(&self) -> bool {
        self.requires_grad
    }

    /// What the op kept from the last forward pass (e.g. the statistics a batch normalisation
    /// normalised with).
    pub fn scratch(&self) -> &Scratch {
        &self.scratch
    }
}

/// The most inputs an op takes (batch normalisation with running statistics).
const MAX_INPUTS: usize = 5;

/// Placeholder for unused input slots.
static NO_INPUT: Tensor = Tensor::empty();

/// A recorded computation.
#[derive(Clone, Debug, Default)]
pub struct Tape {
    nodes: Vec<Node>,
    /// Shapes known when each node was recorded, used to validate the graph while building it.
    recorded_shapes: Vec<Vec<usize>>,
    forward_done: bool,
    /// During [`Tape::backward`]: which nodes' and which parameters' gradients hold a
    /// contribution yet (kept between passes so that a step allocates nothing).
    node_grad_written: Vec<bool>,
    param_grad_written: Vec<bool>,
    /// During [`Tape::backward_fused`]: how many gradient contributions each parameter gets.
    param_uses: Vec<u32>,
}

impl Tape {
    pub fn new() -> Tape {
        Tape::default()
    }

    /// A node fed with [`Tape::set_input`]. The first dimension (rows) may change later; the
    /// others are fixed by `shape`.
    pub fn input(&mut self, shape: &[usize]) -> NodeId {
        self.recorded_shapes.push(shape.to_vec());
        self.nodes.push(Node {
            op: Op::Input,
            inputs: Vec::new(),
            value: Tensor::zeros(shape),
            grad: Tensor::empty(),
            requires_grad: false,
            scratch: Scratch::default(),
        });
        NodeId(self.nodes.len() - 1)
    }

    /// A node reading the parameter `id` of `params`. Gradients flow into it unless it is a
    /// running statistic.
    pub fn parameter(&mut self, params: &Params, id: ParamId) -> Result<NodeId, EngineError> {
        let value = params.get(id).ok_or_else(|| missing_parameter(id))?;
        self.recorded_shapes.push(value.shape().to_vec());
        self.nodes.push(Node {
            op: Op::Parameter(id),
            inputs: Vec::new(),
            value: Tensor::empty(),
            grad: Tensor::empty(),
            requires_grad: params.role(id).is_trainable(),
            scratch: Scratch::default(),
        });
        Ok(NodeId(self.nodes.len() - 1))
    }

    /// Records `op` applied to `inputs` after checking that the shapes fit.
    pub fn record(&mut self, op: Op, inputs: &[NodeId]) -> Result<NodeId, EngineError> {
        if matches!(op, Op::Input | Op::Parameter(_)) {
            return Err(EngineError::InvalidState(
                "use Tape::input or Tape::parameter to create leaf nodes".to_string(),
            ));
        }
        if inputs.len() != op.arity() {
            return Err(EngineError::InvalidState(format!(
                "{} takes {} inputs, {} given",
                op.name(),
                op.arity(),
                inputs.len()
            )));
        }
        for id in inputs {
            if id.0 >= self.nodes.len() {
                return Err(EngineError::OutOfRange(format!(
                    "node {} does not exist in this tape",
                    id.0
                )));
            }
        }
        let shapes: Vec<&[usize]> = inputs
            .iter()
            .map(|id| self.recorded_shapes[id.0].as_slice())
            .collect();
        let shape = op
            .output_shape(&shapes)?
            .resolve(&shapes, &mut [0; 8])
            .to_vec();
        let requires_grad = inputs
            .iter()
            .enumerate()
            .any(|(slot, id)| op.passes_gradient_to(slot) && self.nodes[id.0].requires_grad);
        self.nodes.push(Node {
            op,
            inputs: inputs.to_vec(),
            value: Tensor::zeros(&shape),
            grad: Tensor::empty(),
            requires_grad,
            scratch: Scratch::default(),
        });
        self.recorded_shapes.push(shape);
        Ok(NodeId(self.nodes.len() - 1))
    }

    pub fn matmul(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, EngineError> {
        self.matmul_transposed(a, false, b, false)
    }

    /// `op(a) · op(b)`, where `op` transposes when the flag is set (no copy is made).
    pub fn matmul_transposed(
        &mut self,
        a: NodeId,
        transpose_a: bool,
        b: NodeId,
        transpose_b: bool,
    ) -> Result<NodeId, EngineError> {
        self.record(
            Op::MatMul {
                transpose_a,
                transpose_b,
            },
            &[a, b],
        )
    }

    pub fn add_bias(&mut self, x: NodeId, bias: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::AddBias, &[x, bias])
    }

    /// `x · weights + bias` in one op: the same values as `matmul` then `add_bias`, in one pass.
    pub fn dense(
        &mut self,
        x: NodeId,
        weights: NodeId,
        bias: NodeId,
    ) -> Result<NodeId, EngineError> {
        self.record(Op::Dense, &[x, weights, bias])
    }

    pub fn activation(&mut self, x: NodeId, activation: Activation) -> Result<NodeId, EngineError> {
        self.record(Op::Activation(activation), &[x])
    }

    pub fn softmax(&mut self, x: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::Softmax, &[x])
    }

    pub fn add(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::Add, &[a, b])
    }

    pub fn mul(&mut self, a: NodeId, b: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::Mul, &[a, b])
    }

    /// Entries `start..start + len` of `axis` of `x`.
    pub fn slice(
        &mut self,
        x: NodeId,
        axis: usize,
        start: usize,
        len: usize,
    ) -> Result<NodeId, EngineError> {
        self.record(Op::Slice { axis, start, len }, &[x])
    }

    /// `a` then `b` along `axis`.
    pub fn concat(&mut self, a: NodeId, b: NodeId, axis: usize) -> Result<NodeId, EngineError> {
        self.record(Op::Concat { axis }, &[a, b])
    }

    pub fn square(&mut self, x: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::Square, &[x])
    }

    pub fn add_scalar(&mut self, x: NodeId, c: f32) -> Result<NodeId, EngineError> {
        self.record(Op::AddScalar(c), &[x])
    }

    pub fn scale(&mut self, x: NodeId, c: f32) -> Result<NodeId, EngineError> {
        self.record(Op::Scale(c), &[x])
    }

    pub fn sum(&mut self, x: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::Sum, &[x])
    }

    pub fn mean(&mut self, x: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::Mean, &[x])
    }

    /// A 2-D convolution of `x` (`[n, c_in, h, w]`) with `weights` (`[c_out, c_in, k, k]`) plus
    /// one `bias` per output channel (`[c_out]`).
    pub fn conv2d(
        &mut self,
        x: NodeId,
        weights: NodeId,
        bias: NodeId,
        stride: usize,
        padding: usize,
    ) -> Result<NodeId, EngineError> {
        self.record(Op::Conv2d { stride, padding }, &[x, weights, bias])
    }

    /// Max pooling over `size`x`size` windows moved by `stride`, per channel.
    pub fn max_pool2d(
        &mut self,
        x: NodeId,
        size: usize,
        stride: usize,
    ) -> Result<NodeId, EngineError> {
        self.record(Op::MaxPool2d { size, stride }, &[x])
    }

    /// Average pooling over `size`x`size` windows moved by `stride`, per channel.
    pub fn avg_pool2d(
        &mut self,
        x: NodeId,
        size: usize,
        stride: usize,
    ) -> Result<NodeId, EngineError> {
        self.record(Op::AvgPool2d { size, stride }, &[x])
    }

    /// `[n, c, h, w]` to `[n, c·h·w]`.
    pub fn flatten(&mut self, x: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::Flatten, &[x])
    }

    /// `[n, len·k]` as `[n, len, k]` (a sequence of `len` steps).
    pub fn unflatten(&mut self, x: NodeId, len: usize) -> Result<NodeId, EngineError> {
        self.record(Op::Unflatten { len }, &[x])
    }

    /// `[n, steps, k]` as `[n·steps, k]`.
    pub fn steps_as_rows(&mut self, x: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::StepsAsRows, &[x])
    }

    /// `[n·steps, k]` as `[n, steps, k]`.
    pub fn rows_as_steps(&mut self, x: NodeId, steps: usize) -> Result<NodeId, EngineError> {
        self.record(Op::RowsAsSteps { steps }, &[x])
    }

    /// Row by row, `new` where `present` (`[rows, 1]`) is not 0 and `previous` where it is: a
    /// recurrent state carried over the padding after a sequence's end.
    pub fn carry(
        &mut self,
        present: NodeId,
        new: NodeId,
        previous: NodeId,
    ) -> Result<NodeId, EngineError> {
        self.record(Op::Carry, &[present, new, previous])
    }

    /// An LSTM's gates `[f, i, o, C~]` from their weighted sums `[rows, 4·hidden]`.
    pub fn lstm_gates(&mut self, sums: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::LstmGates, &[sums])
    }

    /// An LSTM's cell state `C_t = f·C_{t-1} + i·C~` from its `gates`, or `i·C~` at the first
    /// step (no `previous` cell state).
    pub fn lstm_cell(
        &mut self,
        gates: NodeId,
        previous: Option<NodeId>,
    ) -> Result<NodeId, EngineError> {
        match previous {
            Some(previous) => self.record(Op::LstmCell { first: false }, &[gates, previous]),
            None => self.record(Op::LstmCell { first: true }, &[gates]),
        }
    }

    /// An LSTM's state `h_t = o·tanh(C_t)` from its `gates` and its `cell` state.
    pub fn lstm_state(&mut self, gates: NodeId, cell: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::LstmState, &[gates, cell])
    }

    /// Each token of `ids` (`[rows, 1]`) looked up in `table` (`[tokens, size]`): `[rows, size]`.
    pub fn embedding(&mut self, table: NodeId, ids: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::Embedding, &[table, ids])
    }

    /// The index of each row's largest score, `[rows, 1]` (no gradient flows through it).
    pub fn argmax(&mut self, scores: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::ArgMax, &[scores])
    }

    /// Each step of `keys` (`[n, steps, k]`) dotted with its sequence's `query` (`[n, k]`).
    pub fn step_scores(&mut self, keys: NodeId, query: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::StepScores, &[keys, query])
    }

    /// Each sequence of `values` (`[n, steps, k]`) summed over its steps with `weights`
    /// (`[n, steps]`).
    pub fn step_mix(&mut self, weights: NodeId, values: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::StepMix, &[weights, values])
    }

    /// `x` (`[n, k]`) added to every step of its sequence in `steps` (`[n, steps, k]`).
    pub fn add_to_steps(&mut self, steps: NodeId, x: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::AddToSteps, &[steps, x])
    }

    /// `x`'s values with no gradient flowing back into it.
    pub fn detach(&mut self, x: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::Detach, &[x])
    }

    /// Batch normalisation of `x` (`[n, features]` or `[n, c, h, w]`) with the batch's own mean
    /// and variance per feature, then `gamma` and `beta` (`[features]`).
    pub fn batch_norm(
        &mut self,
        x: NodeId,
        gamma: NodeId,
        beta: NodeId,
    ) -> Result<NodeId, EngineError> {
        self.record(Op::BatchNorm(NormStatistics::Batch), &[x, gamma, beta])
    }

    /// Batch normalisation of `x` with a given mean and variance per feature (running
    /// statistics kept from training), then `gamma` and `beta`.
    pub fn batch_norm_with_running_statistics(
        &mut self,
        x: NodeId,
        gamma: NodeId,
        beta: NodeId,
        running_mean: NodeId,
        running_variance: NodeId,
    ) -> Result<NodeId, EngineError> {
        self.record(
            Op::BatchNorm(NormStatistics::Running),
            &[x, gamma, beta, running_mean, running_variance],
        )
    }

    /// `x · mask` element by element, `mask` (an input node shaped like `x`) holding 0 for a
    /// dropped value and `1 / (1 - rate)` for a kept one.
    pub fn dropout(&mut self, x: NodeId, mask: NodeId) -> Result<NodeId, EngineError> {
        self.record(Op::Dropout, &[x, mask])
    }

    /// The loss of `prediction` against `target` (an input node). For the cross-entropies,
    /// `prediction` must be logits (see [`Loss`]).
    pub fn loss(
        &mut self,
        prediction: NodeId,
        target: NodeId,
        loss: Loss,
    ) -> Result<NodeId, EngineError> {
        self.record(Op::Loss(loss), &[prediction, target])
    }

    /// Copies `value` into the input node `node`. Any number of rows is accepted; the other
    /// dimensions must match the recorded shape. Reuses the node's buffer.
    pub fn set_input(&mut self, node: NodeId, value: &Tensor) -> Result<(), EngineError> {
        let recorded = self.recorded_shapes.get(node.0).ok_or_else(|| {
            EngineError::OutOfRange(format!("node {} does not exist in this tape", node.0))
        })?;
        if self.nodes[node.0].op != Op::Input {
            return Err(EngineError::InvalidState(format!(
                "node {} is a {} node, not an input",
                node.0,
                self.nodes[node.0].op.name()
            )));
        }
        let shape = value.shape();
        if shape.len() != recorded.len() || shape.get(1..) != recorded.get(1..) {
            let mut expected = format!("{recorded:?}");
            if !recorded.is_empty() {
                expected = format!("a tensor shaped like {expected} (any number of rows)");
            }
            return Err(EngineError::shape("input", expected, format!("{shape:?}")));
        }
        self.nodes[node.0].value.copy_from(value);
        self.forward_done = false;
        Ok(())
    }

    /// Computes every node's value from the inputs and `params`.
    pub fn forward(&mut self, params: &Params) -> Result<(), EngineError> {
        self.forward_with(params, None)
    }

    /// [`Tape::forward`], reading the weights kept in `packed` from there instead of `params`
    /// (whose values of them may be behind).
    pub fn forward_packed(
        &mut self,
        params: &Params,
        packed: &PackedWeights,
    ) -> Result<(), EngineError> {
        self.forward_with(params, Some(packed))
    }

    fn forward_with(
        &mut self,
        params: &Params,
        packed: Option<&PackedWeights>,
    ) -> Result<(), EngineError> {
        self.forward_done = false;
        for index in 0..self.nodes.len() {
            let (before, rest) = self.nodes.split_at_mut(index);
            let node = &mut rest[0];
            if let Op::Parameter(id) = node.op {
                params.get(id).ok_or_else(|| missing_parameter(id))?;
                continue;
            }
            if node.op == Op::Input {
                continue;
            }
            let arity = node.inputs.len();
            let mut values = [&NO_INPUT; MAX_INPUTS];
            let mut shapes: [&[usize]; MAX_INPUTS] = [&[]; MAX_INPUTS];
            for (slot, &id) in node.inputs.iter().enumerate() {
                values[slot] = resolve(before, params, id)?;
                shapes[slot] = values[slot].shape();
            }
            let mut dims = [0; 8];
            let output_shape = node.op.output_shape(&shapes[..arity])?;
            node.value
                .resize(output_shape.resolve(&shapes[..arity], &mut dims));
            match packed_weights(node.op, &node.inputs, before, packed) {
                Some((layout, weights)) => {
                    dense_forward_packed(values[0], weights, layout, values[2], &mut node.value)
                }
                None => node
                    .op
                    .forward(&values[..arity], &mut node.value, &mut node.scratch),
            }
        }
        self.forward_done = true;
        Ok(())
    }

    /// Computes the gradient of the scalar node `loss` with respect to every node that depends on
    /// a parameter, and with respect to the parameters (into `params`' gradients, which are
    /// replaced). dLoss/dloss = 1.
    ///
    /// A gradient is not zeroed before the pass: its first contribution overwrites it where the
    /// op can (the products of dense and matmul nodes, the bulk of a network's gradients, so
    /// they are written once instead of zeroed, then read and written again), and is added to
    /// zeros otherwise; a node nothing reached passes nothing on, and every gradient nothing
    /// reached ends as zeros.
    pub fn backward(&mut self, loss: NodeId, params: &mut Params) -> Result<(), EngineError> {
        self.backward_with(loss, params, None, None)
    }

    /// [`Tape::backward`], handing the weight gradients of dense nodes to `updates` a band of
    /// rows at a time instead of storing them, for the parameters it takes (see
    /// [`FusedUpdate`]): a weight that this tape uses once, as a dense node's weights. Such a
    /// weight is updated once the node's input gradient (which reads the old weights) is
    /// computed; its gradient in `params` is left as it was.
    pub fn backward_fused(
        &mut self,
        loss: NodeId,
        params: &mut Params,
        updates: &mut dyn FusedUpdate,
    ) -> Result<(), EngineError> {
        self.backward_with(loss, params, None, Some(updates))
    }

    /// [`Tape::backward_fused`] where the weights kept in `packed` are read and updated there
    /// (each must be one the pass updates: see [`Tape::fusable_dense_weights`]).
    pub fn backward_fused_packed(
        &mut self,
        loss: NodeId,
        params: &mut Params,
        packed: &mut PackedWeights,
        updates: &mut dyn FusedUpdate,
    ) -> Result<(), EngineError> {
        self.backward_with(loss, params, Some(packed), Some(updates))
    }

    fn backward_with(
        &mut self,
        loss: NodeId,
        params: &mut Params,
        packed: Option<&mut PackedWeights>,
        updates: Option<&mut dyn FusedUpdate>,
    ) -> Result<(), EngineError> {
        if !self.forward_done {
            return Err(EngineError::InvalidState(
                "backward needs a forward pass first (inputs changed since the last one)"
                    .to_string(),
            ));
        }
        let loss_node = self.nodes.get(loss.0).ok_or_else(|| {
            EngineError::OutOfRange(format!("node {} does not exist in this tape", loss.0))
        })?;
        if loss_node.value.len() != 1 {
            return Err(EngineError::shape(
                "backward",
                "a scalar loss (one value)",
                format!("node {} of shape {:?}", loss.0, loss_node.value.shape()),
            ));
        }
        self.node_grad_written.clear();
        self.node_grad_written.resize(self.nodes.len(), false);
        self.param_grad_written.clear();
        self.param_grad_written.resize(params.len(), false);
        for node in &mut self.nodes {
            if let Op::Parameter(id) = node.op {
                params.shape_grad(id);
            } else if node.requires_grad {
                node.grad.resize(node.value.shape());
            }
        }
        if self.nodes[loss.0].requires_grad {
            self.nodes[loss.0].grad.fill(1.0);
            self.node_grad_written[loss.0] = true;
            if updates.is_some() {
                self.count_parameter_uses(params.len());
            }
            self.propagate(loss, params, packed, updates)?;
        }
        // What nothing reached has a zero gradient.
        for (node, written) in self.nodes.iter_mut().zip(&self.node_grad_written) {
            if let Op::Parameter(id) = node.op {
                if !self.param_grad_written[id.0] {
                    params.zero_grad(id);
                    self.param_grad_written[id.0] = true;
                }
            } else if node.requires_grad && !written {
                node.grad.fill(0.0);
            }
        }
        Ok(())
    }

    /// The backward loop of [`Tape::backward`], from `loss` down, once the gradients are shaped.
    fn propagate(
        &mut self,
        loss: NodeId,
        params: &mut Params,
        mut packed: Option<&mut PackedWeights>,
        mut updates: Option<&mut dyn FusedUpdate>,
    ) -> Result<(), EngineError> {
        for index in (0..=loss.0).rev() {
            let node = &self.nodes[index];
            if !node.requires_grad
                || matches!(node.op, Op::Input | Op::Parameter(_))
                || !self.node_grad_written[index]
            {
                continue;
            }
            let op = node.op;
            let arity = node.inputs.len();
            let upstream = std::mem::take(&mut self.nodes[index].grad);
            let mut scratch = std::mem::take(&mut self.nodes[index].scratch);
            for slot in 0..arity {
                let input = self.nodes[index].inputs[slot];
                if !op.passes_gradient_to(slot) || !self.nodes[input.0].requires_grad {
                    continue;
                }
                if let (Op::Dense, 1, Some(updates)) = (op, slot, updates.as_deref_mut())
                    && self.fused_weight_update(
                        index,
                        &upstream,
                        params,
                        packed.as_deref_mut(),
                        updates,
                    )
                {
                    continue;
                }
                let inputs = &self.nodes[index].inputs;
                if slot == 1 && packed_weights(op, inputs, &self.nodes, packed.as_deref()).is_some()
                {
                    return Err(EngineError::InvalidState(
                        "a dense layer's packed weights are trained only during the pass that \
                         computes their gradient"
                            .to_string(),
                    ));
                }
                // The gradient being written is moved out so the values can be read meanwhile
                // (an input may appear twice, as in mul(x, x)); moving a Vec does not allocate.
                let parameter = self.nodes[input.0].op.parameter();
                let (mut grad, written) = match parameter {
                    Some(id) => (params.take_grad(id), &mut self.param_grad_written[id.0]),
                    None => (
                        std::mem::take(&mut self.nodes[input.0].grad),
                        &mut self.node_grad_written[input.0],
                    ),
                };
                let overwrite = !*written && op.can_overwrite_gradient(slot);
                if !*written && !overwrite {
                    grad.fill(0.0);
                }
                *written = true;
                let node = &self.nodes[index];
                let mut values = [&NO_INPUT; MAX_INPUTS];
                for (slot, &id) in node.inputs.iter().enumerate() {
                    values[slot] = resolve(&self.nodes, params, id)?;
                }
                match packed_weights(op, &node.inputs, &self.nodes, packed.as_deref()) {
                    Some((layout, weights)) if slot == 0 => dense_input_gradient_packed(
                        &upstream, weights, layout, &mut grad, !overwrite,
                    ),
                    _ => op.backward(
                        slot,
                        &values[..arity],
                        &node.value,
                        &upstream,
                        &mut grad,
                        overwrite,
                        &mut scratch,
                    ),
                }
                match parameter {
                    Some(id) => params.restore_grad(id, grad),
                    None => self.nodes[input.0].grad = grad,
                }
            }
            self.nodes[index].grad = upstream;
            self.nodes[index].scratch = scratch;
        }
        Ok(())
    }

    /// The shape node `id` was recorded with (its first dimension is the recorded batch size).
    pub fn recorded_shape(&self, id: NodeId) -> &[usize] {
        &self.recorded_shapes[id.0]
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The node `id`. Panics on an id from another tape, like slice indexing.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0]
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The output of node `id` (empty for parameter nodes: use [`Tape::value_of`]).
    pub fn value(&self, id: NodeId) -> &Tensor {
        &self.nodes[id.0].value
    }

    /// The gradient at node `id` (empty for parameter nodes: use [`Tape::grad_of`]).
    pub fn grad(&self, id: NodeId) -> &Tensor {
        &self.nodes[id.0].grad
    }

    /// The output of node `id`, reading parameter nodes from `params`.
    pub fn value_of<'a>(&'a self, id: NodeId, params: &'a Params) -> &'a Tensor {
        match self.nodes[id.0].op.parameter() {
            Some(p) => params.value(p),
            None => &self.nodes[id.0].value,
        }
    }

    /// The gradient at node `id`, reading parameter nodes' gradients from `params`.
    pub fn grad_of<'a>(&'a self, id: NodeId, params: &'a Params) -> &'a Tensor {
        match self.nodes[id.0].op.parameter() {
            Some(p) => params.grad(p),
            None => &self.nodes[id.0].grad,
        }
    }
}

fn missing_parameter(id: ParamId) -> EngineError {
    EngineError::OutOfRange(format!(
        "parameter {} does not exist in this parameter store",
        id.0
    ))
}

/// The value an input node id stands for: its output, or the parameter's value.
fn resolve<'a>(
    nodes: &'a [Node],
    params: &'a Params,
    id: NodeId,
) -> Result<&'a Tensor, EngineError> {
    match nodes[id.0].op.parameter() {
        Some(p) => params.get(p).ok_or_else(|| missing_parameter(p)),
        None => Ok(&nodes[id.0].value),
    }
}

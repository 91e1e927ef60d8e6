//! The operations a [`Tape`](super::tape::Tape) records. Each op family has its own file with
//! the shape rule, the forward pass and the backward pass (the local chain-rule step) together.

mod attention;
mod axis;
mod batch_norm;
mod carry;
mod conv;
mod dense;
mod dropout;
mod elementwise;
mod loss;
pub(crate) mod lstm;
mod matmul;
mod pool;
mod reduce;
mod short_rows;
mod tokens;

pub use axis::{AxisCopy, MAX_RANK as AXIS_OPS_MAX_RANK, concat_copy, slice_copy};
pub use batch_norm::{BatchNormScratch, EPSILON as BATCH_NORM_EPSILON, NormStatistics};
pub use conv::output_side;
pub(crate) use dense::weight_gradient_in_bands as dense_weight_gradient_in_bands;
pub(crate) use dense::{
    forward_packed as dense_forward_packed, input_gradient_packed as dense_input_gradient_packed,
    weight_gradient_in_panel_bands as dense_weight_gradient_in_panel_bands,
};

use super::activation::Activation;
use super::description::Described;
use super::error::EngineError;
use super::loss::Loss;
use super::params::ParamId;
use super::tensor::Tensor;

/// One recorded operation. Inputs are the node's `inputs`, in the order listed here.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    /// Data fed with `Tape::set_input` (no gradient flows into it).
    Input,
    /// A learnable tensor living in `Params`.
    Parameter(ParamId),
    /// `op(a) · op(b)` where `op` optionally transposes; inputs `[a, b]`.
    MatMul {
        transpose_a: bool,
        transpose_b: bool,
    },
    /// `x + b` with the bias vector `b` added to every row; inputs `[x, b]`.
    AddBias,
    /// `x · W + b`, a dense layer's weighted sums, with the bias vector `b` added to every row as
    /// the product is computed; inputs `[x [rows, inputs], W [inputs, outputs], b [outputs]]`.
    Dense,
    /// `f(x)` element by element; inputs `[x]`.
    Activation(Activation),
    /// Row-wise softmax over the last dimension; inputs `[x]`.
    Softmax,
    /// `a + b`, same shapes; inputs `[a, b]`.
    Add,
    /// `a * b` element by element, same shapes; inputs `[a, b]`.
    Mul,
    /// `x^2` element by element; inputs `[x]`.
    Square,
    /// `x + c`; inputs `[x]`.
    AddScalar(f32),
    /// `c * x`; inputs `[x]`.
    Scale(f32),
    /// Sum of all elements, a scalar; inputs `[x]`.
    Sum,
    /// Mean of all elements, a scalar; inputs `[x]`.
    Mean,
    /// A loss of a prediction (or logits) against a target, a scalar; inputs `[prediction, target]`.
    /// The target is data: no gradient flows into it.
    Loss(Loss),
    /// 2-D convolution of NCHW feature maps; inputs `[x [n, c_in, h, w], weights [c_out, c_in, k,
    /// k], bias [c_out]]` (one bias per output channel), output `[n, c_out, h_out, w_out]` with
    /// `n_out = (n_in + 2·padding - k)/stride + 1`.
    Conv2d { stride: usize, padding: usize },
    /// The largest value of each `size`x`size` window, per channel; inputs `[x [n, c, h, w]]`.
    MaxPool2d { size: usize, stride: usize },
    /// The mean of each `size`x`size` window, per channel; inputs `[x [n, c, h, w]]`.
    AvgPool2d { size: usize, stride: usize },
    /// `[n, c, h, w]` to `[n, c·h·w]`, the values in the same order; inputs `[x]`.
    Flatten,
    /// `[n, len·k]` to `[n, len, k]`, the values in the same order (a recurrent layer's states,
    /// one after the other, as a sequence for the next); inputs `[x]`.
    Unflatten { len: usize },
    /// `[n, steps, k]` read as `[n·steps, k]`: every time step of every sequence a row (a dense
    /// layer applied at each step); inputs `[x]`.
    StepsAsRows,
    /// `[n·steps, k]` read as `[n, steps, k]`, undoing [`Op::StepsAsRows`]; inputs `[x]`.
    RowsAsSteps { steps: usize },
    /// The same values, cut from the graph: no gradient flows back through it (where truncated
    /// backpropagation through time stops); inputs `[x]`.
    Detach,
    /// `γ (x - μ) / sqrt(σ² + ε) + β` per feature of `[n, features]` or per channel of
    /// `[n, c, h, w]`, with the batch's statistics or running ones (see [`NormStatistics`] for
    /// the inputs). No gradient flows into the running statistics.
    BatchNorm(NormStatistics),
    /// `x · mask`, where the mask holds 0 (dropped) or `1 / (1 - rate)` (kept); inputs
    /// `[x, mask]`. The mask is data: no gradient flows into it.
    Dropout,
    /// Entries `start..start + len` of `axis`, all of every other axis; inputs `[x]`.
    Slice {
        axis: usize,
        start: usize,
        len: usize,
    },
    /// `a` then `b` along `axis` (all other axes equal); inputs `[a, b]`.
    Concat { axis: usize },
    /// Row by row, `present ? new : previous`: a recurrent state carried over the padding after
    /// a sequence's end; inputs `[present [rows, 1], new [rows, k], previous [rows, k]]`. The
    /// mask `present` is data: no gradient flows into it.
    Carry,
    /// An LSTM's gates `[f, i, o, C~]` from their weighted sums `[rows, 4·hidden]`: the
    /// logistic sigmoid on f, i and o, tanh on the candidate C~; inputs `[sums]`.
    LstmGates,
    /// An LSTM's new cell state `C_t = f·C_{t-1} + i·C~`, `[rows, hidden]`; inputs
    /// `[gates, C_{t-1}]`, or `[gates]` alone at the `first` step (`C_0 = 0`).
    LstmCell { first: bool },
    /// An LSTM's new state `h_t = o·tanh(C_t)`, `[rows, hidden]`; inputs `[gates, C_t]`.
    LstmState,
    /// Each row of `ids` (`[rows, 1]`, token numbers) looked up in `table` (`[tokens, size]`);
    /// inputs `[table, ids]`. The ids are data: no gradient flows into them.
    Embedding,
    /// The index of each row's largest value, `[rows, 1]`; inputs `[scores [rows, k]]`. A
    /// choice: no gradient flows through it.
    ArgMax,
    /// Each step's key dotted with its sequence's query, `[n, steps]`; inputs
    /// `[keys [n, steps, k], query [n, k]]`.
    StepScores,
    /// Each sequence's steps summed with its weights, `[n, k]`; inputs
    /// `[weights [n, steps], values [n, steps, k]]`.
    StepMix,
    /// `x` added to every step of its sequence, `[n, steps, k]`; inputs
    /// `[steps [n, steps, k], x [n, k]]`.
    AddToSteps,
}

/// Buffers an op keeps from its forward pass to its backward pass, reused every step (a node
/// owns one; most ops leave it empty).
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    /// Conv2d: the im2col matrix of every image of the batch (forward fills, backward reads).
    pub columns: Vec<f32>,
    /// Conv2d: the gradient of one image's im2col matrix, or the transposed kernel gradient
    /// (backward only).
    pub column_grad: Vec<f32>,
    /// MaxPool2d: for every output element, the index in the input of the value it kept.
    pub argmax: Vec<usize>,
    /// BatchNorm: the mean and variance each feature was normalised with.
    pub batch_norm: BatchNormScratch,
    /// LstmState: `tanh(C_t)`.
    pub squashed: Vec<f32>,
}

/// The shape of an op's output, derived from its inputs' shapes without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputShape {
    /// The same shape as the input in this slot.
    SameAs(usize),
    Scalar,
    Matrix(usize, usize),
    /// A batch of feature maps `[batch, channels, height, width]`.
    FeatureMaps([usize; 4]),
    /// A batch of sequences `[batch, steps, features]`.
    Sequences([usize; 3]),
    /// The shape of the input in slot `like` with `axis` resized to `size`.
    Resized {
        like: usize,
        axis: usize,
        size: usize,
    },
}

impl OutputShape {
    /// The shape itself, given the inputs' shapes, written into `dims` (no allocation); its
    /// length is the rank.
    pub fn resolve<'a>(&self, inputs: &[&[usize]], dims: &'a mut [usize; 8]) -> &'a [usize] {
        let rank = match *self {
            OutputShape::SameAs(slot) => {
                dims[..inputs[slot].len()].copy_from_slice(inputs[slot]);
                inputs[slot].len()
            }
            OutputShape::Scalar => 0,
            OutputShape::Matrix(m, n) => {
                dims[..2].copy_from_slice(&[m, n]);
                2
            }
            OutputShape::FeatureMaps(shape) => {
                dims[..4].copy_from_slice(&shape);
                4
            }
            OutputShape::Sequences(shape) => {
                dims[..3].copy_from_slice(&shape);
                3
            }
            OutputShape::Resized { like, axis, size } => {
                dims[..inputs[like].len()].copy_from_slice(inputs[like]);
                dims[axis] = size;
                inputs[like].len()
            }
        };
        &dims[..rank]
    }
}

impl Op {
    /// The parameter a parameter node stands for (`None` for every computed node and input).
    pub fn parameter(self) -> Option<ParamId> {
        if let Op::Parameter(id) = self {
            Some(id)
        } else {
            None
        }
    }

    /// Name used in messages and in the backprop stepper.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Input => "input",
            Op::Parameter(_) => "parameter",
            Op::MatMul { .. } => "matmul",
            Op::AddBias => "add_bias",
            Op::Dense => "dense",
            Op::Activation(a) => a.key(),
            Op::Softmax => "softmax",
            Op::Add => "add",
            Op::Mul => "mul",
            Op::Square => "square",
            Op::AddScalar(_) => "add_scalar",
            Op::Scale(_) => "scale",
            Op::Sum => "sum",
            Op::Mean => "mean",
            Op::Loss(_) => "loss",
            Op::Conv2d { .. } => "conv2d",
            Op::MaxPool2d { .. } => "max_pool2d",
            Op::AvgPool2d { .. } => "avg_pool2d",
            Op::Flatten => "flatten",
            Op::Unflatten { .. } => "unflatten",
            Op::Detach => "detach",
            Op::StepsAsRows => "steps_as_rows",
            Op::RowsAsSteps { .. } => "rows_as_steps",
            Op::BatchNorm(_) => "batch_norm",
            Op::Dropout => "dropout",
            Op::Slice { .. } => "slice",
            Op::Concat { .. } => "concat",
            Op::Carry => "carry",
            Op::LstmGates => "lstm_gates",
            Op::LstmCell { .. } => "lstm_cell",
            Op::LstmState => "lstm_state",
            Op::Embedding => "embedding",
            Op::ArgMax => "argmax",
            Op::StepScores => "step_scores",
            Op::StepMix => "step_mix",
            Op::AddToSteps => "add_to_steps",
        }
    }

    /// Number of inputs the op takes.
    pub fn arity(&self) -> usize {
        match self {
            Op::Input | Op::Parameter(_) => 0,
            Op::BatchNorm(statistics) => statistics.arity(),
            Op::Conv2d { .. } | Op::Dense | Op::Carry => 3,
            Op::LstmCell { first } => {
                if *first {
                    1
                } else {
                    2
                }
            }
            Op::MatMul { .. }
            | Op::LstmState
            | Op::AddBias
            | Op::Add
            | Op::Mul
            | Op::Loss(_)
            | Op::Dropout
            | Op::Concat { .. }
            | Op::Embedding
            | Op::StepScores
            | Op::StepMix
            | Op::AddToSteps => 2,
            Op::Activation(_)
            | Op::Softmax
            | Op::Square
            | Op::AddScalar(_)
            | Op::Scale(_)
            | Op::Sum
            | Op::Mean
            | Op::MaxPool2d { .. }
            | Op::AvgPool2d { .. }
            | Op::Flatten
            | Op::Unflatten { .. }
            | Op::Detach
            | Op::StepsAsRows
            | Op::RowsAsSteps { .. }
            | Op::Slice { .. }
            | Op::LstmGates
            | Op::ArgMax => 1,
        }
    }

    /// Whether backward propagates a gradient into the input in `slot`.
    pub fn passes_gradient_to(&self, slot: usize) -> bool {
        match self {
            Op::Loss(_) | Op::Dropout | Op::Embedding => slot == 0,
            Op::Carry => slot > 0,
            Op::Detach | Op::ArgMax => false,
            Op::BatchNorm(_) => slot < 3,
            Op::Input
            | Op::Parameter(_)
            | Op::MatMul { .. }
            | Op::AddBias
            | Op::Dense
            | Op::Activation(_)
            | Op::Softmax
            | Op::Add
            | Op::Mul
            | Op::Square
            | Op::AddScalar(_)
            | Op::Scale(_)
            | Op::Sum
            | Op::Mean
            | Op::Conv2d { .. }
            | Op::MaxPool2d { .. }
            | Op::AvgPool2d { .. }
            | Op::Flatten
            | Op::Unflatten { .. }
            | Op::StepsAsRows
            | Op::RowsAsSteps { .. }
            | Op::Slice { .. }
            | Op::Concat { .. }
            | Op::LstmGates
            | Op::LstmCell { .. }
            | Op::LstmState
            | Op::StepScores
            | Op::StepMix
            | Op::AddToSteps => true,
        }
    }

    /// Checks the inputs' shapes and says what the output's shape is.
    pub fn output_shape(&self, inputs: &[&[usize]]) -> Result<OutputShape, EngineError> {
        match *self {
            Op::Input | Op::Parameter(_) => Err(EngineError::InvalidState(format!(
                "{} nodes have no inputs to infer a shape from",
                self.name()
            ))),
            Op::MatMul {
                transpose_a,
                transpose_b,
            } => matmul::output_shape(self.name(), inputs[0], transpose_a, inputs[1], transpose_b),
            Op::AddBias => elementwise::add_bias_shape(self.name(), inputs[0], inputs[1]),
            Op::Dense => dense::output_shape(inputs[0], inputs[1], inputs[2]),
            Op::Add | Op::Mul => elementwise::same_shapes(self.name(), inputs[0], inputs[1]),
            Op::Softmax => elementwise::softmax_shape(inputs[0]),
            Op::Activation(_) | Op::Square | Op::AddScalar(_) | Op::Scale(_) | Op::Detach => {
                Ok(OutputShape::SameAs(0))
            }
            Op::Sum | Op::Mean => Ok(OutputShape::Scalar),
            Op::Loss(kind) => loss::output_shape(kind, inputs[0], inputs[1]),
            Op::Conv2d { stride, padding } => {
                conv::output_shape(stride, padding, inputs[0], inputs[1], inputs[2])
            }
            Op::MaxPool2d { size, stride } | Op::AvgPool2d { size, stride } => {
                pool::output_shape(self.name(), size, stride, inputs[0])
            }
            Op::Flatten => pool::flatten_shape(inputs[0]),
            Op::Unflatten { len } => axis::unflatten_shape(len, inputs[0]),
            Op::StepsAsRows => axis::steps_as_rows_shape(inputs[0]),
            Op::RowsAsSteps { steps } => axis::rows_as_steps_shape(steps, inputs[0]),
            Op::BatchNorm(_) => batch_norm::output_shape(inputs),
            Op::Dropout => dropout::output_shape(inputs[0], inputs[1]),
            Op::Slice { axis, start, len } => axis::slice_shape(axis, start, len, inputs[0]),
            Op::Concat { axis } => axis::concat_shape(axis, inputs[0], inputs[1]),
            Op::Carry => carry::output_shape(inputs[0], inputs[1], inputs[2]),
            Op::LstmGates => lstm::gates_shape(inputs[0]),
            Op::LstmCell { .. } => lstm::step_shape(self.name(), inputs[0], inputs.get(1).copied()),
            Op::LstmState => lstm::step_shape(self.name(), inputs[0], Some(inputs[1])),
            Op::Embedding => tokens::embedding_shape(inputs[0], inputs[1]),
            Op::ArgMax => tokens::argmax_shape(inputs[0]),
            Op::StepScores => attention::step_scores_shape(inputs[0], inputs[1]),
            Op::StepMix => attention::step_mix_shape(inputs[0], inputs[1]),
            Op::AddToSteps => attention::add_to_steps_shape(inputs[0], inputs[1]),
        }
    }

    /// Computes the output from the inputs. `out` already has the shape from `output_shape`;
    /// `scratch` is this node's, kept for its backward pass.
    pub fn forward(&self, inputs: &[&Tensor], out: &mut Tensor, scratch: &mut Scratch) {
        match *self {
            Op::Input | Op::Parameter(_) => {}
            Op::MatMul {
                transpose_a,
                transpose_b,
            } => matmul::forward(inputs[0], transpose_a, inputs[1], transpose_b, out),
            Op::AddBias => elementwise::add_bias_forward(inputs[0], inputs[1], out),
            Op::Dense => dense::forward(inputs[0], inputs[1], inputs[2], out),
            Op::Activation(activation) => activation.apply_slice(inputs[0].data(), out.data_mut()),
            Op::Softmax => elementwise::softmax_forward(inputs[0], out),
            Op::Add => elementwise::add_forward(inputs[0], inputs[1], out),
            Op::Mul => elementwise::mul_forward(inputs[0], inputs[1], out),
            Op::Square => elementwise::square_forward(inputs[0], out),
            Op::AddScalar(c) => elementwise::add_scalar_forward(inputs[0], c, out),
            Op::Scale(c) => elementwise::scale_forward(inputs[0], c, out),
            Op::Sum => reduce::sum_forward(inputs[0], out),
            Op::Mean => reduce::mean_forward(inputs[0], out),
            Op::Loss(kind) => loss::forward(kind, inputs[0], inputs[1], out),
            Op::Conv2d { stride, padding } => conv::forward(inputs, stride, padding, out, scratch),
            Op::MaxPool2d { size, stride } => {
                pool::max_forward(size, stride, inputs[0], out, scratch)
            }
            Op::AvgPool2d { size, stride } => pool::average_forward(size, stride, inputs[0], out),
            Op::Flatten
            | Op::Unflatten { .. }
            | Op::StepsAsRows
            | Op::RowsAsSteps { .. }
            | Op::Detach => pool::flatten_forward(inputs[0], out),
            Op::BatchNorm(statistics) => {
                batch_norm::forward(statistics, inputs, out, &mut scratch.batch_norm)
            }
            Op::Dropout => dropout::forward(inputs[0], inputs[1], out),
            Op::Slice { axis, start, len } => axis::slice_forward(axis, start, len, inputs[0], out),
            Op::Concat { axis } => axis::concat_forward(axis, inputs[0], inputs[1], out),
            Op::Carry => carry::forward(inputs[0], inputs[1], inputs[2], out),
            Op::LstmGates => lstm::gates_forward(inputs[0], out),
            Op::LstmCell { .. } => lstm::cell_forward(inputs[0], inputs.get(1).copied(), out),
            Op::LstmState => lstm::state_forward(inputs[0], inputs[1], out, &mut scratch.squashed),
            Op::Embedding => tokens::embedding_forward(inputs[0], inputs[1], out),
            Op::ArgMax => tokens::argmax_forward(inputs[0], out),
            Op::StepScores => attention::step_scores_forward(inputs[0], inputs[1], out),
            Op::StepMix => attention::step_mix_forward(inputs[0], inputs[1], out),
            Op::AddToSteps => attention::add_to_steps_forward(inputs[0], inputs[1], out),
        }
    }

    /// Whether [`Op::backward`] can write the gradient of the input in `slot` without reading
    /// it (`overwrite`), so that the tape neither zeroes it first nor reads it back: the matrix
    /// products (whose GEMM then skips reading the output), and the ops whose gradient covers
    /// the whole input element by element (activations, sums, products, views, a
    /// concatenation's parts, a carry's rows).
    pub fn can_overwrite_gradient(&self, slot: usize) -> bool {
        match self {
            Op::MatMul { .. }
            | Op::Activation(_)
            | Op::Add
            | Op::Mul
            | Op::AddScalar(_)
            | Op::Scale(_)
            | Op::Flatten
            | Op::Unflatten { .. }
            | Op::StepsAsRows
            | Op::RowsAsSteps { .. }
            | Op::Concat { .. }
            | Op::LstmGates
            | Op::LstmCell { .. }
            | Op::LstmState => true,
            Op::Dense => slot < 2,
            Op::Carry => slot > 0,
            Op::Input
            | Op::Parameter(_)
            | Op::AddBias
            | Op::Softmax
            | Op::Square
            | Op::Sum
            | Op::Mean
            | Op::Loss(_)
            | Op::Conv2d { .. }
            | Op::MaxPool2d { .. }
            | Op::AvgPool2d { .. }
            | Op::Detach
            | Op::BatchNorm(_)
            | Op::Dropout
            | Op::Slice { .. }
            | Op::Embedding
            | Op::ArgMax
            | Op::StepScores
            | Op::StepMix
            | Op::AddToSteps => false,
        }
    }

    /// Adds this op's contribution to the gradient of the input in `slot`:
    /// `grad += upstream · d(output)/d(input[slot])`, or with `overwrite` (only where
    /// [`Op::can_overwrite_gradient`]) `grad = ...`, whatever `grad` held. `scratch` is what
    /// this node's forward pass left.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        slot: usize,
        inputs: &[&Tensor],
        output: &Tensor,
        upstream: &Tensor,
        grad: &mut Tensor,
        overwrite: bool,
        scratch: &mut Scratch,
    ) {
        debug_assert!(!overwrite || self.can_overwrite_gradient(slot));
        match *self {
            Op::Input | Op::Parameter(_) => {}
            Op::MatMul {
                transpose_a,
                transpose_b,
            } => matmul::backward(
                slot,
                inputs[0],
                transpose_a,
                inputs[1],
                transpose_b,
                upstream,
                grad,
                !overwrite,
            ),
            Op::AddBias => elementwise::add_bias_backward(slot, upstream, grad),
            Op::Dense => dense::backward(slot, inputs[0], inputs[1], upstream, grad, !overwrite),
            Op::Activation(activation) => activation.backward_slice(
                inputs[0].data(),
                output.data(),
                upstream.data(),
                grad.data_mut(),
                overwrite,
            ),
            Op::Softmax => elementwise::softmax_backward(output, upstream, grad),
            Op::Add | Op::AddScalar(_) => {
                elementwise::pass_on(upstream.data(), 1.0, grad.data_mut(), overwrite)
            }
            Op::Scale(c) => elementwise::pass_on(upstream.data(), c, grad.data_mut(), overwrite),
            Op::Mul => {
                elementwise::mul_backward(slot, (inputs[0], inputs[1]), upstream, grad, overwrite)
            }
            Op::Square => elementwise::square_backward(inputs[0], upstream, grad),
            Op::Sum => reduce::sum_backward(upstream, 1.0, grad),
            Op::Mean => reduce::sum_backward(upstream, 1.0 / inputs[0].len().max(1) as f32, grad),
            Op::Loss(kind) => {
                if slot == 0 {
                    loss::backward(kind, inputs[0], inputs[1], upstream, grad)
                }
            }
            Op::Conv2d { stride, padding } => {
                conv::backward(slot, inputs, stride, padding, upstream, grad, scratch)
            }
            Op::MaxPool2d { .. } => pool::max_backward(scratch, upstream, grad),
            Op::AvgPool2d { size, stride } => {
                pool::average_backward(size, stride, inputs[0], upstream, grad)
            }
            Op::Flatten | Op::Unflatten { .. } | Op::StepsAsRows | Op::RowsAsSteps { .. } => {
                elementwise::pass_on(upstream.data(), 1.0, grad.data_mut(), overwrite)
            }
            Op::BatchNorm(statistics) => batch_norm::backward(
                slot,
                statistics,
                inputs,
                upstream,
                grad,
                &mut scratch.batch_norm,
            ),
            Op::Dropout => {
                if slot == 0 {
                    dropout::backward(inputs[1], upstream, grad)
                }
            }
            // Nothing flows back through a cut.
            Op::Detach => {}
            Op::Slice { axis, start, len } => {
                axis::slice_backward(axis, start, len, inputs[0], upstream, grad)
            }
            Op::Concat { axis } => {
                axis::concat_backward(axis, slot, inputs[0], inputs[1], upstream, grad, overwrite)
            }
            Op::Carry => {
                if slot > 0 {
                    carry::backward(slot, inputs[0], upstream, grad, overwrite)
                }
            }
            Op::LstmGates => lstm::gates_backward(inputs[0], output, upstream, grad, overwrite),
            Op::LstmCell { .. } => {
                let previous = inputs.get(1).copied();
                lstm::cell_backward(slot, inputs[0], previous, upstream, grad, overwrite)
            }
            Op::LstmState => {
                let squashed = &scratch.squashed;
                lstm::state_backward(slot, inputs[0], squashed, upstream, grad, overwrite)
            }
            Op::Embedding => {
                if slot == 0 {
                    tokens::embedding_backward(inputs[1], upstream, grad)
                }
            }
            // A choice: nothing flows back.
            Op::ArgMax => {}
            Op::StepScores => {
                attention::step_scores_backward(slot, inputs[0], inputs[1], upstream, grad)
            }
            Op::StepMix => attention::step_mix_backward(slot, inputs[0], inputs[1], upstream, grad),
            Op::AddToSteps => attention::add_to_steps_backward(slot, upstream, grad),
        }
    }
}

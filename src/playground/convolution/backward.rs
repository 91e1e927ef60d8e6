//! The backward pass of the convolution page: the engine's tape differentiates
//! `L = Σ dL/dout ⊙ out` (so the upstream gradient of each output cell is the number given), and
//! the page writes out how those totals build up as the window slides — `dL/dK += dL/dout(cell) ×
//! window`, `dL/db += dL/dout(cell)`, and for pooling the upstream gradient routed to the max or
//! split evenly over the window. The totals shown at the end are the engine's.

use super::{ConvCell, ConvProblem, PoolCell, PoolKind, PoolProblem, parameter, tensor};
use crate::engine::{NodeId, Params, Tape};

/// The engine's gradients of a convolution for a given upstream gradient.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvGradients {
    /// `[out_channels, in_channels, kernel, kernel]`, like [`ConvProblem::kernels`].
    pub kernels: Vec<f32>,
    /// One per output channel.
    pub bias: Vec<f32>,
}

/// The running totals after some steps of the backward animation.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvAccumulated {
    pub kernels: Vec<f32>,
    pub bias: Vec<f32>,
}

impl ConvProblem {
    /// dL/dK and dL/db from the engine's tape backward, with `upstream` (one value per output
    /// cell, in the order of [`super::ConvResult::cells`]) as dL/dout.
    pub fn gradients(&self, upstream: &[f32]) -> Result<ConvGradients, String> {
        let (c_in, n, c_out, k) = (self.in_channels, self.size, self.out_channels, self.kernel);
        let mut tape = Tape::new();
        let mut params = Params::new();
        let x = tape.input(&[1, c_in, n, n]);
        let weights = parameter(&mut tape, &mut params, &[c_out, c_in, k, k], &self.kernels)?;
        let bias = parameter(&mut tape, &mut params, &[c_out], &self.bias)?;
        let out = tape
            .conv2d(x, weights, bias, self.stride, self.padding)
            .map_err(|e| e.to_string())?;
        let loss = weighted_sum(&mut tape, out, upstream)?;
        tape.set_input(x, &tensor(&[1, c_in, n, n], &self.input)?)
            .map_err(|e| e.to_string())?;
        backward(&mut tape, &mut params, loss)?;
        Ok(ConvGradients {
            kernels: tape.grad_of(weights, &params).data().to_vec(),
            bias: tape.grad_of(bias, &params).data().to_vec(),
        })
    }
}

/// `dL/dout(cell) × input` for each tap of `cell`: what the step adds to the kernel's gradient,
/// in the order of the taps (channel, row, column).
pub fn kernel_increments(cell: &ConvCell, upstream: f32) -> Vec<f32> {
    cell.taps.iter().map(|tap| upstream * tap.input).collect()
}

/// dL/dK and dL/db summed over the first `steps` cells.
pub fn accumulate_conv(
    problem: &ConvProblem,
    cells: &[ConvCell],
    upstream: &[f32],
    steps: usize,
) -> ConvAccumulated {
    let per_kernel = problem.in_channels * problem.kernel * problem.kernel;
    let mut kernels = vec![0.0; problem.out_channels * per_kernel];
    let mut bias = vec![0.0; problem.out_channels];
    for (cell, &g) in cells.iter().zip(upstream).take(steps) {
        let base = cell.out_channel * per_kernel;
        for (i, step) in kernel_increments(cell, g).into_iter().enumerate() {
            kernels[base + i] += step;
        }
        bias[cell.out_channel] += g;
    }
    ConvAccumulated { kernels, bias }
}

impl PoolProblem {
    /// dL/dInput from the engine's tape backward, with `upstream` (one per output cell) as dL/dout.
    pub fn input_gradient(&self, upstream: &[f32]) -> Result<Vec<f32>, String> {
        let n = self.side;
        let mut tape = Tape::new();
        let mut params = Params::new();
        // The input is a parameter here so that the tape computes its gradient.
        let x = parameter(&mut tape, &mut params, &[1, 1, n, n], &self.input)?;
        let out = match self.kind {
            PoolKind::Max => tape.max_pool2d(x, self.size, self.stride),
            PoolKind::Average => tape.avg_pool2d(x, self.size, self.stride),
        }
        .map_err(|e| e.to_string())?;
        let loss = weighted_sum(&mut tape, out, upstream)?;
        backward(&mut tape, &mut params, loss)?;
        Ok(tape.grad_of(x, &params).data().to_vec())
    }
}

/// Where one pooled cell sends its upstream gradient: the max cell gets all of it, or each cell of
/// the window gets `g / size²`.
pub fn routed(kind: PoolKind, cell: &PoolCell, upstream: f32) -> Vec<(usize, usize, f32)> {
    match (kind, cell.max_at) {
        (PoolKind::Max, Some((r, c))) => vec![(r, c, upstream)],
        _ => {
            let share = upstream / cell.window.len() as f32;
            cell.window.iter().map(|&(r, c, _)| (r, c, share)).collect()
        }
    }
}

/// dL/dInput summed over the first `steps` pooled cells.
pub fn accumulate_pool(
    problem: &PoolProblem,
    cells: &[PoolCell],
    upstream: &[f32],
    steps: usize,
) -> Vec<f32> {
    let n = problem.side;
    let mut grad = vec![0.0; n * n];
    for (cell, &g) in cells.iter().zip(upstream).take(steps) {
        for (r, c, share) in routed(problem.kind, cell, g) {
            grad[r * n + c] += share;
        }
    }
    grad
}

/// `L = Σ g ⊙ out` with `g` an input node fed with `upstream`: dL/dout = g.
fn weighted_sum(tape: &mut Tape, out: NodeId, upstream: &[f32]) -> Result<NodeId, String> {
    let shape = tape.recorded_shape(out).to_vec();
    let g = tape.input(&shape);
    let product = tape.mul(out, g).map_err(|e| e.to_string())?;
    let loss = tape.sum(product).map_err(|e| e.to_string())?;
    tape.set_input(g, &tensor(&shape, upstream)?)
        .map_err(|e| e.to_string())?;
    Ok(loss)
}

/// The engine's forward pass, then its backward pass from `loss`.
fn backward(tape: &mut Tape, params: &mut Params, loss: NodeId) -> Result<(), String> {
    tape.forward(params).map_err(|e| e.to_string())?;
    tape.backward(loss, params).map_err(|e| e.to_string())
}

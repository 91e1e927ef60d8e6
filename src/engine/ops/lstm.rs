//! `lstm`: an LSTM cell's step in three ops, each one pass over its rows instead of the dozen
//! slices, activations, sums and products the same equations take from the general ops (the
//! numbers are the same: each value is computed by the same operations in the same order).
//!
//! - `gates` (`Op::LstmGates`): `[f, i, o, C~]` from their weighted sums `[rows, 4·hidden]`, the
//!   logistic sigmoid on the first three quarters of each row and tanh on the last;
//! - `cell` (`Op::LstmCell`): `C_t = f·C_{t-1} + i·C~`, `[rows, hidden]` (at the first step
//!   `C_0 = 0`, so `C_1 = i·C~` and the op reads the gates alone);
//! - `state` (`Op::LstmState`): `h_t = o·tanh(C_t)`, keeping `tanh(C_t)` for its backward pass.
//!
//! The cell and the state each send a gradient to some of the gates' columns only (the cell to
//! f, i and C~, the state to o); when they overwrite the gates' gradient they write zeros in the
//! others, and when they add they leave them alone.
//!
//! GPU twin: `shaders/lstm.wgsl` (launchers `gpu::Commands::lstm_*` in
//! `src/gpu/lstm_kernels.rs`); parity case `Case::Lstm` in `tests/gpu_common/kernel_cases.rs`.

use super::OutputShape;
use crate::engine::activation::Activation;
use crate::engine::error::EngineError;
use crate::engine::tensor::Tensor;

/// The gates' order in a row of the gates (and in the columns of the LSTM layer's `W`):
/// forget, input, output, then the candidate.
pub(crate) const FORGET: usize = 0;
pub(crate) const INPUT: usize = 1;
pub(crate) const OUTPUT: usize = 2;
pub(crate) const CANDIDATE: usize = 3;

/// `sums` is `[rows, 4·hidden]`.
pub fn gates_shape(sums: &[usize]) -> Result<OutputShape, EngineError> {
    match *sums {
        [_, width] if width > 0 && width.is_multiple_of(4) => Ok(OutputShape::SameAs(0)),
        _ => Err(EngineError::shape(
            "lstm_gates",
            "the weighted sums of four gates, [rows, 4·hidden]",
            format!("{sums:?}"),
        )),
    }
}

/// `gates` is `[rows, 4·hidden]` and `other` (the previous cell state for the cell, the new one
/// for the state), if any, `[rows, hidden]`; the output is `[rows, hidden]`.
pub fn step_shape(
    op: &'static str,
    gates: &[usize],
    other: Option<&[usize]>,
) -> Result<OutputShape, EngineError> {
    let [rows, width] = *gates else {
        return Err(EngineError::shape(
            op,
            "an LSTM's gates, [rows, 4·hidden]",
            format!("{gates:?}"),
        ));
    };
    if width == 0 || !width.is_multiple_of(4) {
        return Err(EngineError::shape(
            op,
            "an LSTM's gates, [rows, 4·hidden]",
            format!("{gates:?}"),
        ));
    }
    let hidden = width / 4;
    match other {
        Some(other) if other != [rows, hidden] => Err(EngineError::shape(
            op,
            format!("a cell state of [{rows}, {hidden}]"),
            format!("{other:?}"),
        )),
        _ => Ok(OutputShape::Matrix(rows, hidden)),
    }
}

/// Gate `gate`'s `hidden` columns of one row of the gates.
fn gate(row: &[f32], gate: usize) -> &[f32] {
    let hidden = row.len() / 4;
    &row[gate * hidden..(gate + 1) * hidden]
}

fn gate_mut(row: &mut [f32], gate: usize) -> &mut [f32] {
    let hidden = row.len() / 4;
    &mut row[gate * hidden..(gate + 1) * hidden]
}

/// σ on f, i and o, tanh on C~, row by row.
pub fn gates_forward(sums: &Tensor, gates: &mut Tensor) {
    let width = sums.cols();
    let split = width / 4 * CANDIDATE;
    let rows = gates.data_mut().chunks_exact_mut(width);
    for (out, sums) in rows.zip(sums.data().chunks_exact(width)) {
        let (squashed, proposed) = out.split_at_mut(split);
        Activation::Sigmoid.apply_slice(&sums[..split], squashed);
        Activation::Tanh.apply_slice(&sums[split..], proposed);
    }
}

/// The chain rule through σ and tanh into the sums' gradient.
pub fn gates_backward(
    sums: &Tensor,
    gates: &Tensor,
    upstream: &Tensor,
    grad: &mut Tensor,
    overwrite: bool,
) {
    let width = sums.cols();
    let split = width / 4 * CANDIDATE;
    let rows = grad.data_mut().chunks_exact_mut(width);
    let inputs = sums.data().chunks_exact(width);
    let outputs = gates.data().chunks_exact(width);
    let upstream = upstream.data().chunks_exact(width);
    for (((grad, x), y), g) in rows.zip(inputs).zip(outputs).zip(upstream) {
        let (grad_gates, grad_candidate) = grad.split_at_mut(split);
        Activation::Sigmoid.backward_slice(
            &x[..split],
            &y[..split],
            &g[..split],
            grad_gates,
            overwrite,
        );
        Activation::Tanh.backward_slice(
            &x[split..],
            &y[split..],
            &g[split..],
            grad_candidate,
            overwrite,
        );
    }
}

/// `C_t = f·C_{t-1} + i·C~`, or `i·C~` without a previous cell state.
pub fn cell_forward(gates: &Tensor, previous: Option<&Tensor>, cell: &mut Tensor) {
    let width = gates.cols();
    let hidden = width / 4;
    let rows = cell.data_mut().chunks_exact_mut(hidden);
    for (row, (out, gates)) in rows.zip(gates.data().chunks_exact(width)).enumerate() {
        let (input, candidate) = (gate(gates, INPUT), gate(gates, CANDIDATE));
        let written = out.iter_mut().zip(input.iter().zip(candidate));
        written.for_each(|(c, (i, g))| *c = i * g);
        if let Some(previous) = previous {
            let previous = &previous.data()[row * hidden..(row + 1) * hidden];
            let forget = gate(gates, FORGET);
            let kept = out.iter_mut().zip(forget.iter().zip(previous));
            kept.for_each(|(c, (f, p))| *c += f * p);
        }
    }
}

/// `v = u · w` element by element, written or added.
#[inline(always)]
fn chain(grad: &mut [f32], upstream: &[f32], other: &[f32], overwrite: bool) {
    let each = grad.iter_mut().zip(upstream.iter().zip(other));
    match overwrite {
        true => each.for_each(|(g, (u, w))| *g = u * w),
        false => each.for_each(|(g, (u, w))| *g += u * w),
    }
}

/// The cell's gradients: into the gates (slot 0: `dC·C_{t-1}` for f, `dC·C~` for i, `dC·i`
/// for C~, none for o) or into the previous cell state (slot 1: `dC·f`).
pub fn cell_backward(
    slot: usize,
    gates: &Tensor,
    previous: Option<&Tensor>,
    upstream: &Tensor,
    grad: &mut Tensor,
    overwrite: bool,
) {
    let width = gates.cols();
    let hidden = width / 4;
    let upstream = upstream.data().chunks_exact(hidden);
    let gate_rows = gates.data().chunks_exact(width);
    if slot == 1 {
        let rows = grad.data_mut().chunks_exact_mut(hidden);
        for ((grad, upstream), gates) in rows.zip(upstream).zip(gate_rows) {
            chain(grad, upstream, gate(gates, FORGET), overwrite);
        }
        return;
    }
    let rows = grad.data_mut().chunks_exact_mut(width);
    for (row, ((grad, upstream), gates)) in rows.zip(upstream).zip(gate_rows).enumerate() {
        match previous {
            Some(previous) => {
                let previous = &previous.data()[row * hidden..(row + 1) * hidden];
                chain(gate_mut(grad, FORGET), upstream, previous, overwrite);
            }
            None if overwrite => gate_mut(grad, FORGET).fill(0.0),
            None => {}
        }
        chain(
            gate_mut(grad, INPUT),
            upstream,
            gate(gates, CANDIDATE),
            overwrite,
        );
        chain(
            gate_mut(grad, CANDIDATE),
            upstream,
            gate(gates, INPUT),
            overwrite,
        );
        if overwrite {
            gate_mut(grad, OUTPUT).fill(0.0);
        }
    }
}

/// `h_t = o·tanh(C_t)`; `squashed` keeps `tanh(C_t)` for the backward pass.
pub fn state_forward(gates: &Tensor, cell: &Tensor, state: &mut Tensor, squashed: &mut Vec<f32>) {
    squashed.resize(cell.len(), 0.0);
    Activation::Tanh.apply_slice(cell.data(), squashed);
    let width = gates.cols();
    let hidden = width / 4;
    let rows = state.data_mut().chunks_exact_mut(hidden);
    let inputs = squashed
        .chunks_exact(hidden)
        .zip(gates.data().chunks_exact(width));
    for (out, (squashed, gates)) in rows.zip(inputs) {
        let each = out.iter_mut().zip(gate(gates, OUTPUT).iter().zip(squashed));
        each.for_each(|(h, (o, t))| *h = o * t);
    }
}

/// The state's gradients: into the gates (slot 0: `dh·tanh(C_t)` for o, none for the others)
/// or into the cell state (slot 1: `dh·o·(1 - tanh²(C_t))`), from what the forward pass kept.
pub fn state_backward(
    slot: usize,
    gates: &Tensor,
    squashed: &[f32],
    upstream: &Tensor,
    grad: &mut Tensor,
    overwrite: bool,
) {
    let width = gates.cols();
    let hidden = width / 4;
    let upstream = upstream.data().chunks_exact(hidden);
    let squashed = squashed.chunks_exact(hidden);
    let gate_rows = gates.data().chunks_exact(width);
    if slot == 1 {
        let rows = grad.data_mut().chunks_exact_mut(hidden);
        for ((grad, (upstream, squashed)), gates) in rows.zip(upstream.zip(squashed)).zip(gate_rows)
        {
            let local = upstream.iter().zip(gate(gates, OUTPUT)).zip(squashed);
            let each = grad.iter_mut().zip(local);
            match overwrite {
                true => each.for_each(|(g, ((u, o), t))| *g = u * o * (1.0 - t * t)),
                false => each.for_each(|(g, ((u, o), t))| *g += u * o * (1.0 - t * t)),
            }
        }
        return;
    }
    let rows = grad.data_mut().chunks_exact_mut(width);
    for (grad, (upstream, squashed)) in rows.zip(upstream.zip(squashed)) {
        chain(gate_mut(grad, OUTPUT), upstream, squashed, overwrite);
        if overwrite {
            for others in [FORGET, INPUT, CANDIDATE] {
                gate_mut(grad, others).fill(0.0);
            }
        }
    }
}

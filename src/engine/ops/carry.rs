//! `carry`: where a sequence has ended, its recurrent state carries over unchanged. Row by row,
//! `present ? new : previous`, with `present` one value per row (1 for a real time step, 0 for
//! padding after the sequence's end); the gradient goes to whichever of the two was chosen, and
//! none into `present`, which is data.
//!
//! GPU twin: `shaders/elementwise.wgsl`'s `carry` and `accumulate_carried` (launchers
//! `gpu::Commands::carry`, `accumulate_carried`); parity case `Case::Carry` in
//! `tests/gpu_common/kernel_cases.rs`.

use super::OutputShape;
use crate::engine::error::EngineError;
use crate::engine::tensor::Tensor;

/// `present` is `[rows, 1]`; `new` and `previous` are both `[rows, k]`.
pub fn output_shape(
    present: &[usize],
    new: &[usize],
    previous: &[usize],
) -> Result<OutputShape, EngineError> {
    if new != previous || new.len() != 2 {
        return Err(EngineError::shape(
            "carry",
            format!("a new and a previous state of the same shape [rows, k], the new is {new:?}"),
            format!("{previous:?}"),
        ));
    }
    if present != [new[0], 1] {
        return Err(EngineError::shape(
            "carry",
            format!("one present-or-padding value per row: [{}, 1]", new[0]),
            format!("{present:?}"),
        ));
    }
    Ok(OutputShape::SameAs(1))
}

/// Rows of `new` where `present` is not 0, rows of `previous` elsewhere.
pub fn forward(present: &Tensor, new: &Tensor, previous: &Tensor, out: &mut Tensor) {
    let width = new.cols();
    let rows = out.data_mut().chunks_exact_mut(width);
    let sources = new
        .data()
        .chunks_exact(width)
        .zip(previous.data().chunks_exact(width));
    for ((row, (new, previous)), &present) in rows.zip(sources).zip(present.data()) {
        row.copy_from_slice(if present != 0.0 { new } else { previous });
    }
}

/// Adds `upstream`'s rows to the gradient of `new` (slot 1) where the row was present, to that
/// of `previous` (slot 2) where it was not; with `overwrite`, writes them there and zeros in
/// the other rows.
pub fn backward(
    slot: usize,
    present: &Tensor,
    upstream: &Tensor,
    grad: &mut Tensor,
    overwrite: bool,
) {
    let width = upstream.cols();
    let wanted = slot == 1;
    let rows = grad.data_mut().chunks_exact_mut(width);
    let upstream = upstream.data().chunks_exact(width);
    for ((row, upstream), &present) in rows.zip(upstream).zip(present.data()) {
        match ((present != 0.0) == wanted, overwrite) {
            (true, true) => row.copy_from_slice(upstream),
            (true, false) => row.iter_mut().zip(upstream).for_each(|(g, u)| *g += u),
            (false, true) => row.fill(0.0),
            (false, false) => {}
        }
    }
}

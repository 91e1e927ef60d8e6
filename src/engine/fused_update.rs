//! Updates applied during the backward pass: `Tape::backward_fused` hands an optimizer each
//! dense layer's weight gradient a band at a time (rows, or whole panels of weights kept in
//! panel order), as soon as the band is computed, and the optimizer updates those weights at
//! once, while the band is still in L1. The
//! gradient is never stored whole, and the weights and the optimizer's state are read in order
//! in the same pass. The MLP benchmark's two large weight gradients with their momentum updates
//! measured 1.70-1.86 ms stored then updated, 1.46-1.59 ms fused (medians of three runs).
//!
//! Only a weight that the tape uses once (no shared weights) and that the pass reaches after
//! every use of its old values is updated this way; the gradient it would have had is not kept.

use super::gemm::Runs;
use super::params::{ParamId, ParamRole};

/// What [`super::Tape::backward_fused`] hands the weight gradients it computes to.
pub trait FusedUpdate {
    /// Whether parameter `id` is to be updated during the pass (asked before its gradient is
    /// computed; where not, the gradient is stored as [`super::Tape::backward`] stores it).
    fn takes(&self, id: ParamId, role: ParamRole) -> bool;

    /// The state that [`FusedUpdate::update`] reads for parameter `id`, element for element
    /// with it (a velocity, Adam's two moments; empty where there is none), so that the pass
    /// can prefetch each band's rows of it while computing the band's gradient.
    fn state(&self, id: ParamId) -> [&[f32]; 2] {
        let _ = id;
        [&[], &[]]
    }

    /// Updates parameter `id` (all its `values`, row-major or kept in panels as the pass
    /// computes them) where `runs` say, from their gradient `grads` (the runs' values one after
    /// the other), which it may change (adding a penalty's gradient, say). Its state is laid out
    /// as its values.
    fn update(
        &mut self,
        id: ParamId,
        role: ParamRole,
        runs: Runs,
        values: &mut [f32],
        grads: &mut [f32],
    );
}

//! The pieces of [`Tape::backward_fused`] that hand weight gradients to the optimizer as they
//! are computed: which weights qualify, and the banded product for one of them, row-major or
//! kept in panels (`PackedWeights`).

use super::{Node, NodeId, Tape};
use crate::engine::fused_update::FusedUpdate;
use crate::engine::gemm::{PanelLayout, ReadAhead, Runs};
use crate::engine::ops::{
    Op, dense_weight_gradient_in_bands, dense_weight_gradient_in_panel_bands,
};
use crate::engine::packed_weights::PackedWeights;
use crate::engine::params::{ParamId, Params};
use crate::engine::tensor::Tensor;

impl Tape {
    /// The weights that [`Tape::backward_fused`] updates during the pass: those of dense nodes
    /// that the tape uses nowhere else, whose input is no parameter, and that are trained.
    pub fn fusable_dense_weights(&mut self, params: &Params) -> Vec<ParamId> {
        self.count_parameter_uses(params.len());
        let mut weights = Vec::new();
        for node in &self.nodes {
            if node.op != Op::Dense {
                continue;
            }
            let (x, w) = (&self.nodes[node.inputs[0].0], &self.nodes[node.inputs[1].0]);
            if let Op::Parameter(id) = w.op
                && !matches!(x.op, Op::Parameter(_))
                && self.param_uses.get(id.0) == Some(&1)
                && params.get(id).is_some()
                && params.role(id).is_trainable()
            {
                weights.push(id);
            }
        }
        weights
    }

    /// Counts into `param_uses` the gradient contributions each parameter gets in a pass.
    pub(super) fn count_parameter_uses(&mut self, params: usize) {
        self.param_uses.clear();
        self.param_uses.resize(params, 0);
        for node in &self.nodes {
            for (slot, input) in node.inputs.iter().enumerate() {
                if let Op::Parameter(id) = self.nodes[input.0].op
                    && node.op.passes_gradient_to(slot)
                    && id.0 < params
                {
                    self.param_uses[id.0] += 1;
                }
            }
        }
    }

    /// The weight gradient of dense node `index`, handed to `updates` band by band, if the
    /// weights are a parameter it takes, used only there, not yet given a gradient, and the
    /// node's input is not a parameter. Returns whether it was.
    pub(super) fn fused_weight_update(
        &mut self,
        index: usize,
        upstream: &Tensor,
        params: &mut Params,
        packed: Option<&mut PackedWeights>,
        updates: &mut dyn FusedUpdate,
    ) -> bool {
        let node = &self.nodes[index];
        let (x_node, w_node) = (&self.nodes[node.inputs[0].0], &self.nodes[node.inputs[1].0]);
        let Op::Parameter(id) = w_node.op else {
            return false;
        };
        let role = params.role(id);
        if matches!(x_node.op, Op::Parameter(_))
            || self.param_grad_written[id.0]
            || self.param_uses.get(id.0) != Some(&1)
            || !updates.takes(id, role)
        {
            return false;
        }
        self.param_grad_written[id.0] = true;
        let mut scratch = params.take_grad(id);
        let x = &x_node.value;
        let [first, second] = updates.state(id);
        let [first, second] = [first, second].map(ReadAhead::of);
        match packed.and_then(|packed| packed.get_mut(id)) {
            Some((&layout, weights)) => {
                let ahead = [first, second, ReadAhead::of(weights)];
                dense_weight_gradient_in_panel_bands(
                    x,
                    upstream,
                    &layout,
                    &mut scratch,
                    &ahead,
                    |runs, band| updates.update(id, role, runs, weights, band),
                );
            }
            None => {
                let weights = params.value_mut(id).data_mut();
                let ahead = [first, second, ReadAhead::of(weights)];
                let outputs = upstream.shape()[1];
                dense_weight_gradient_in_bands(x, upstream, &mut scratch, &ahead, |row, band| {
                    let runs = Runs::contiguous(row * outputs, band.len());
                    updates.update(id, role, runs, weights, band);
                });
            }
        }
        params.restore_grad(id, scratch);
        true
    }
}

/// The packed weights of a dense node (`op` with `inputs`, among `nodes`), if `packed` keeps
/// them.
pub(super) fn packed_weights<'a>(
    op: Op,
    inputs: &[NodeId],
    nodes: &[Node],
    packed: Option<&'a PackedWeights>,
) -> Option<(&'a PanelLayout, &'a [f32])> {
    match (op, packed) {
        (Op::Dense, Some(packed)) => match nodes[inputs[1].0].op {
            Op::Parameter(id) => packed.get(id),
            _ => None,
        },
        _ => None,
    }
}

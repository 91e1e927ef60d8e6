// Slicing and concatenation along one axis: `copy_along_axis` copies `len` entries of an axis
// between two tensors seen as [outer, axis, inner] (the dimensions before the axis, the axis,
// those after it), replacing or adding. A slice's forward pass is one copy, its backward one
// added copy back; a concatenation's are one of each per input.
//
// CPU twin: `engine::ops::axis::AxisCopy::run`, which the slice and concat ops' forward and
// backward call with the same runs (`engine::ops::axis::{slice_copy, concat_copy}`).

struct AxisCopyParams {
    outer: u32,
    inner: u32,
    len: u32,
    source_axis: u32,
    source_start: u32,
    target_axis: u32,
    target_start: u32,
    // 1: add into the target (a gradient), 0: overwrite it.
    accumulate: u32,
}

const WORKGROUP: u32 = 256u;

@group(0) @binding(0) var<uniform> params: AxisCopyParams;
@group(0) @binding(1) var<storage, read> source_values: array<f32>;
@group(0) @binding(2) var<storage, read_write> target_values: array<f32>;

// One invocation per copied value; dispatches wider than 65535 workgroups spill into y.
@compute @workgroup_size(256, 1, 1)
fn copy_along_axis(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = id.x + id.y * groups.x * WORKGROUP;
    let run = params.len * params.inner;
    if i >= params.outer * run {
        return;
    }
    let outer = i / run;
    let within = i % run;
    let source_index = (outer * params.source_axis + params.source_start) * params.inner + within;
    let target_index = (outer * params.target_axis + params.target_start) * params.inner + within;
    if params.accumulate == 1u {
        target_values[target_index] = target_values[target_index] + source_values[source_index];
    } else {
        target_values[target_index] = source_values[source_index];
    }
}

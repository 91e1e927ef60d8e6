// Dropout as `x · mask`, forward and backward, one invocation per element. The mask (0 for a
// dropped value, 1 / (1 - rate) for a kept one) is drawn on the CPU with the trainer's seeded RNG,
// exactly as the CPU trainer draws it, and uploaded before the step.
//
// CPU twin: `engine::ops::dropout` (`forward`, `backward`).

struct DropoutParams {
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

const WORKGROUP: u32 = 256u;

@group(0) @binding(0) var<uniform> params: DropoutParams;
// x (forward) or the output gradient (backward).
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn element_index(id: vec3<u32>, groups: vec3<u32>) -> u32 {
    return id.x + id.y * groups.x * WORKGROUP;
}

// out = x · mask.
@compute @workgroup_size(256, 1, 1)
fn dropout_forward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = values[i] * mask[i];
    }
}

// out (the input gradient) += dy · mask.
@compute @workgroup_size(256, 1, 1)
fn dropout_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = out[i] + values[i] * mask[i];
    }
}

// What attention is made of, forward and backward (CPU twin: `engine::ops::attention`, the same
// operations in the same order), for `n` sequences of `steps` steps of `k` values
// ([n, steps, k]) and one vector [n, k] per sequence:
// - step_scores: out[b, s] = keys[b, s] · query[b] (a: keys, b: query);
// - step_mix: out[b, j] = Σ_s weights[b, s] · values[b, s, j] (a: weights, b: values);
// - add_to_steps: out[b, s, j] = steps[b, s, j] + x[b, j] (a: steps, b: x).
//
// Every backward kernel adds to `out` (c: the upstream gradient). Each invocation writes one
// value of `out` and sums over the steps itself, in order: no two invocations race.

struct AttentionParams {
    sequences: u32,
    steps: u32,
    width: u32,
    _pad: u32,
}

const WORKGROUP: u32 = 256u;

@group(0) @binding(0) var<uniform> params: AttentionParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// Dispatches wider than 65535 workgroups spill into the y dimension.
fn element_index(id: vec3<u32>, groups: vec3<u32>) -> u32 {
    return id.x + id.y * groups.x * WORKGROUP;
}

// One invocation per score [b, s].
@compute @workgroup_size(256, 1, 1)
fn step_scores(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.sequences * params.steps {
        let sequence = i / params.steps;
        let key = i * params.width;
        let query = sequence * params.width;
        var sum = 0.0;
        for (var j = 0u; j < params.width; j++) {
            sum = sum + a[key + j] * b[query + j];
        }
        out[i] = sum;
    }
}

// The keys' gradient: out[b, s, j] += c[b, s] · query[b, j]. One invocation per key value.
@compute @workgroup_size(256, 1, 1)
fn step_scores_backward_keys(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.sequences * params.steps * params.width {
        let score = i / params.width;
        let sequence = score / params.steps;
        out[i] = out[i] + c[score] * b[sequence * params.width + i % params.width];
    }
}

// The query's gradient: out[b, j] += Σ_s c[b, s] · keys[b, s, j]. One invocation per query value.
@compute @workgroup_size(256, 1, 1)
fn step_scores_backward_query(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.sequences * params.width {
        let sequence = i / params.width;
        let j = i % params.width;
        var sum = out[i];
        for (var s = 0u; s < params.steps; s++) {
            let score = sequence * params.steps + s;
            sum = sum + c[score] * a[score * params.width + j];
        }
        out[i] = sum;
    }
}

// One invocation per mixed value [b, j].
@compute @workgroup_size(256, 1, 1)
fn step_mix(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.sequences * params.width {
        let sequence = i / params.width;
        let j = i % params.width;
        var sum = 0.0;
        for (var s = 0u; s < params.steps; s++) {
            let weight = sequence * params.steps + s;
            sum = sum + a[weight] * b[weight * params.width + j];
        }
        out[i] = sum;
    }
}

// The weights' gradient: out[b, s] += c[b] · values[b, s]. One invocation per weight.
@compute @workgroup_size(256, 1, 1)
fn step_mix_backward_weights(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.sequences * params.steps {
        let sequence = i / params.steps;
        let value = i * params.width;
        let upstream = sequence * params.width;
        var sum = 0.0;
        for (var j = 0u; j < params.width; j++) {
            sum = sum + c[upstream + j] * b[value + j];
        }
        out[i] = out[i] + sum;
    }
}

// The values' gradient: out[b, s, j] += weights[b, s] · c[b, j]. One invocation per value.
@compute @workgroup_size(256, 1, 1)
fn step_mix_backward_values(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.sequences * params.steps * params.width {
        let weight = i / params.width;
        let sequence = weight / params.steps;
        out[i] = out[i] + a[weight] * c[sequence * params.width + i % params.width];
    }
}

// One invocation per value [b, s, j].
@compute @workgroup_size(256, 1, 1)
fn add_to_steps(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.sequences * params.steps * params.width {
        let sequence = i / (params.steps * params.width);
        out[i] = a[i] + b[sequence * params.width + i % params.width];
    }
}

// x's gradient: out[b, j] += Σ_s c[b, s, j]. (The steps' gradient is the upstream itself, which
// the elementwise `accumulate` adds.) One invocation per value of x.
@compute @workgroup_size(256, 1, 1)
fn add_to_steps_backward_vector(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.sequences * params.width {
        let sequence = i / params.width;
        let j = i % params.width;
        var sum = out[i];
        for (var s = 0u; s < params.steps; s++) {
            sum = sum + c[(sequence * params.steps + s) * params.width + j];
        }
        out[i] = sum;
    }
}

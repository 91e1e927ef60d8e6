// Batch normalisation of vectors [n, features] (BatchNorm1d) and of feature maps [n, c, h, w]
// (BatchNorm2d, one feature per channel): statistics, forward, running statistics, backward.
//
// CPU twins: `engine::ops::batch_norm` (`forward`, `backward`) and
// `engine::batch_norm::BatchNormNodes::update_running_statistics`, same formulas in the same
// order. A feature's `count` values lie in runs of `spread` contiguous values (1 for vectors, h·w
// for maps), run r belonging to feature r % features.
//
// Per feature, one buffer `saved` holds 7 rows of `features` values:
//   0 mean, 1 variance (the biased one for the batch's), 2 1/sqrt(variance + ε),
//   3 γ and 4 β (copied in by the encoder, so that no kernel binds more than 4 storage buffers),
//   5 Σ dy and 6 Σ dy·x̂ (backward).
// The reductions run one workgroup per feature: each invocation sums a strided share of the
// feature's values, then a tree in workgroup memory adds the shares. They add in f32 where the
// engine adds in f64; the difference stays around 1e-7 relative.

struct NormParams {
    features: u32,
    spread: u32,
    // Values per feature: batch·spread.
    count: u32,
    // Invocations that do work: elements of x, or features.
    len: u32,
    epsilon: f32,
    momentum: f32,
    // 1 - momentum, rounded on the CPU as the engine rounds it.
    keep: f32,
    // count / (count - 1) for the unbiased running variance; 0 when count < 2 (a batch with one
    // value per feature says nothing about the variance, which then stays).
    bessel: f32,
    // Backward: 1 when the forward used the batch's statistics (μ and σ² then depend on x).
    batch_statistics: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

const WORKGROUP: u32 = 256u;
const MEAN: u32 = 0u;
const VARIANCE: u32 = 1u;
const INVERSE_STD: u32 = 2u;
const GAMMA: u32 = 3u;
const SUM_UPSTREAM: u32 = 5u;
const SUM_WEIGHTED: u32 = 6u;

@group(0) @binding(0) var<uniform> params: NormParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> upstream: array<f32>;
@group(0) @binding(3) var<storage, read_write> saved: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> second_out: array<f32>;

var<workgroup> partial: array<f32, 256>;

fn element_index(id: vec3<u32>, groups: vec3<u32>) -> u32 {
    return id.x + id.y * groups.x * WORKGROUP;
}

fn at(row: u32, feature: u32) -> u32 {
    return row * params.features + feature;
}

// The index in x of value `j` (of `count`) of feature `feature`.
fn value_index(feature: u32, j: u32) -> u32 {
    let run = j / params.spread;
    return (run * params.features + feature) * params.spread + (j - run * params.spread);
}

fn feature_of(i: u32) -> u32 {
    return (i / params.spread) % params.features;
}

// The sum of every invocation's `value`, returned to all of them. Call in uniform control flow.
fn workgroup_sum(local: u32, value: f32) -> f32 {
    partial[local] = value;
    workgroupBarrier();
    for (var width = WORKGROUP / 2u; width > 0u; width /= 2u) {
        if local < width {
            partial[local] += partial[local + width];
        }
        workgroupBarrier();
    }
    let total = partial[0];
    // Everyone has read the total before a next call overwrites it.
    workgroupBarrier();
    return total;
}

// saved[mean], saved[variance] of the batch: the mean first, then Σ (x - μ)² / m (two passes, as
// the engine does, so the squares stay small). One workgroup per feature.
@compute @workgroup_size(256, 1, 1)
fn batch_statistics(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local: u32) {
    let feature = group.x;
    let count = f32(max(params.count, 1u));
    var sum = 0.0;
    for (var j = local; j < params.count; j += WORKGROUP) {
        sum += x[value_index(feature, j)];
    }
    let mean = workgroup_sum(local, sum) / count;
    var squares = 0.0;
    for (var j = local; j < params.count; j += WORKGROUP) {
        let d = x[value_index(feature, j)] - mean;
        squares += d * d;
    }
    let variance = workgroup_sum(local, squares) / count;
    if local == 0u {
        saved[at(MEAN, feature)] = mean;
        saved[at(VARIANCE, feature)] = variance;
    }
}

// saved[inverse_std] = 1 / sqrt(variance + ε), per feature.
@compute @workgroup_size(256, 1, 1)
fn inverse_std(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let feature = element_index(id, groups);
    if feature < params.features {
        saved[at(INVERSE_STD, feature)] = 1.0 / sqrt(saved[at(VARIANCE, feature)] + params.epsilon);
    }
}

// out = γ (x - μ) / sqrt(σ² + ε) + β, per element.
@compute @workgroup_size(256, 1, 1)
fn normalize(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i >= params.len {
        return;
    }
    let f = feature_of(i);
    let scale = saved[at(GAMMA, f)];
    let shift = saved[at(GAMMA + 1u, f)];
    out[i] = scale * (x[i] - saved[at(MEAN, f)]) * saved[at(INVERSE_STD, f)] + shift;
}

// running mean (out) and running variance (second_out) move towards the batch's, per feature.
@compute @workgroup_size(256, 1, 1)
fn update_running(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let f = element_index(id, groups);
    if f >= params.features {
        return;
    }
    out[f] = params.keep * out[f] + params.momentum * saved[at(MEAN, f)];
    if params.bessel > 0.0 {
        second_out[f] = params.keep * second_out[f] + params.momentum * saved[at(VARIANCE, f)] * params.bessel;
    }
}

// saved[Σ dy] and saved[Σ dy·x̂] per feature, one workgroup per feature.
@compute @workgroup_size(256, 1, 1)
fn upstream_sums(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) local: u32) {
    let feature = group.x;
    let mean = saved[at(MEAN, feature)];
    let inverse = saved[at(INVERSE_STD, feature)];
    var sum = 0.0;
    var weighted = 0.0;
    for (var j = local; j < params.count; j += WORKGROUP) {
        let index = value_index(feature, j);
        let dy = upstream[index];
        sum += dy;
        weighted += dy * ((x[index] - mean) * inverse);
    }
    let total = workgroup_sum(local, sum);
    let total_weighted = workgroup_sum(local, weighted);
    if local == 0u {
        saved[at(SUM_UPSTREAM, feature)] = total;
        saved[at(SUM_WEIGHTED, feature)] = total_weighted;
    }
}

// dγ (out) += Σ dy·x̂ and dβ (second_out) += Σ dy, per feature.
@compute @workgroup_size(256, 1, 1)
fn parameter_grads(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let f = element_index(id, groups);
    if f < params.features {
        out[f] = out[f] + saved[at(SUM_WEIGHTED, f)];
        second_out[f] = second_out[f] + saved[at(SUM_UPSTREAM, f)];
    }
}

// dx (out) += γ / sqrt(σ² + ε) · (dy - mean(dy) - x̂ · mean(dy·x̂)), the two means only when the
// batch's own statistics were used.
@compute @workgroup_size(256, 1, 1)
fn input_grad(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i >= params.len {
        return;
    }
    let f = feature_of(i);
    let inverse = saved[at(INVERSE_STD, f)];
    var mean_upstream = 0.0;
    var mean_weighted = 0.0;
    if params.batch_statistics == 1u {
        let count = f32(max(params.count, 1u));
        mean_upstream = saved[at(SUM_UPSTREAM, f)] / count;
        mean_weighted = saved[at(SUM_WEIGHTED, f)] / count;
    }
    let scale = saved[at(GAMMA, f)] * inverse;
    let normalized = (x[i] - saved[at(MEAN, f)]) * inverse;
    out[i] = out[i] + scale * (upstream[i] - mean_upstream - normalized * mean_weighted);
}

// Optimiser updates in place, one invocation per parameter element, with the weight penalty's
// gradient added first; and clipping by global norm before it (`square_sum` per parameter, then
// `clip` per parameter).
//
// CPU twins: `engine::optimizer::Optimizer::step` after `engine::regularization::Regularization::
// add_gradient`, and `engine::trainer::clip_gradients`. Kinds follow `OptimizerKind::ALL`: 0 SGD, 1 momentum, 2 AdaGrad, 3 RMSprop,
// 4 Adam. Adam's bias corrections are computed on the CPU in f64 exactly as the engine does and
// arrive as `step_size` and `inverse_sqrt_correction2` in the schedule, which changes every
// step; `params` does not (so the dispatch's bind group is reused from step to step).

struct OptimParams {
    len: u32,
    kind: u32,
    // 0 none, 1 L1 (rate * sign(w), sign(0) = 0), 2 L2 (rate * w). Zero for biases.
    regularization: u32,
    // Clipping by global norm: the number of parameters whose squared gradient norms are in
    // `norms` (0: no clipping).
    clipped: u32,
    momentum: f32,
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    rho: f32,
    regularization_rate: f32,
    clip_norm: f32,
    // This parameter's entry in `norms`.
    slot: u32,
}

struct StepSchedule {
    learning_rate: f32,
    step_size: f32,
    inverse_sqrt_correction2: f32,
    _pad: f32,
}

const WORKGROUP: u32 = 256u;

@group(0) @binding(0) var<uniform> params: OptimParams;
@group(0) @binding(1) var<storage, read_write> value: array<f32>;
// Read by `step`; scaled in place by `clip`.
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;
// Velocity (momentum), sum of squares (AdaGrad), mean square (RMSprop), first moment (Adam).
@group(0) @binding(3) var<storage, read_write> first: array<f32>;
// Second moment (Adam).
@group(0) @binding(4) var<storage, read_write> second: array<f32>;
@group(0) @binding(5) var<uniform> schedule: StepSchedule;
// Per parameter, the sum of its gradient's squares (zero for those not trained).
@group(0) @binding(6) var<storage, read_write> norms: array<f32>;

var<workgroup> partial: array<f32, 256>;

// norms[slot] = sum of grad[i]^2, by one workgroup.
@compute @workgroup_size(256, 1, 1)
fn square_sum(@builtin(local_invocation_index) lane: u32) {
    var total = 0.0;
    for (var i = lane; i < params.len; i += WORKGROUP) {
        let g = grad[i];
        total += g * g;
    }
    partial[lane] = total;
    workgroupBarrier();
    for (var width = WORKGROUP / 2u; width > 0u; width /= 2u) {
        if lane < width {
            partial[lane] += partial[lane + width];
        }
        workgroupBarrier();
    }
    if lane == 0u {
        norms[params.slot] = partial[0];
    }
}

// grad[i] *= min(1, clip / (norm + 1e-6)), the norm that of every parameter's gradient together,
// as PyTorch's clip_grad_norm_ scales them.
@compute @workgroup_size(256, 1, 1)
fn clip(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = id.x + id.y * groups.x * WORKGROUP;
    if i >= params.len {
        return;
    }
    var total = 0.0;
    for (var k = 0u; k < params.clipped; k++) {
        total += norms[k];
    }
    let factor = params.clip_norm / (sqrt(total) + 1e-6);
    if factor < 1.0 {
        grad[i] *= factor;
    }
}

// What a switch gives for an index none of its cases knows: NaN, which every parity case
// notices (an engine enum value added on the CPU without its case here cannot pass unseen).
fn unknown_case(index: u32) -> f32 {
    return bitcast<f32>(0x7fc00000u + index * 0u);
}

@compute @workgroup_size(256, 1, 1)
fn step(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = id.x + id.y * groups.x * WORKGROUP;
    if i >= params.len {
        return;
    }
    let lr = schedule.learning_rate;
    var p = value[i];
    var g = grad[i];
    if params.regularization == 1u && p != 0.0 {
        g += params.regularization_rate * sign(p);
    } else if params.regularization == 2u {
        g += params.regularization_rate * p;
    }
    switch params.kind {
        case 1u: {
            let v = params.momentum * first[i] + g;
            first[i] = v;
            p -= lr * v;
        }
        case 2u: {
            let s = first[i] + g * g;
            first[i] = s;
            p -= lr * g / (sqrt(s) + params.epsilon);
        }
        case 3u: {
            let s = params.rho * first[i] + (1.0 - params.rho) * g * g;
            first[i] = s;
            p -= lr * g / (sqrt(s) + params.epsilon);
        }
        case 4u: {
            let m = params.beta1 * first[i] + (1.0 - params.beta1) * g;
            let v = params.beta2 * second[i] + (1.0 - params.beta2) * g * g;
            first[i] = m;
            second[i] = v;
            p -= schedule.step_size * m / (sqrt(v) * schedule.inverse_sqrt_correction2 + params.epsilon);
        }
        case 0u: {
            p -= lr * g;
        }
        default: {
            p = unknown_case(params.kind);
        }
    }
    value[i] = p;
}

// Reductions: column sums (bias gradients), loss values and loss gradients.
//
// CPU twins: `engine::ops::elementwise::add_bias_backward` (column sums) and `engine::loss::Loss`
// (`value`, `gradient`). Loss kinds follow `Loss::ALL`: 0 MSE, 1 half squared error, 2 MAE,
// 3 binary cross-entropy on logits, 4 softmax cross-entropy on logits (one row per sample, fused
// and stable: the row maximum is subtracted before `exp`). A loss value is two dispatches:
// `loss_terms` (one term per element, or per row for softmax cross-entropy) then
// `sum_to_scalar`, so only one float ever needs reading back.

struct ReduceParams {
    // Elements of `a` (for `sum_to_scalar`: terms to add).
    len: u32,
    cols: u32,
    rows: u32,
    loss: u32,
    // `sum_to_scalar`: factor on the total (1 / count). `loss_gradient`: the engine's `scale`
    // (upstream / count, or upstream / rows for softmax cross-entropy).
    scale: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

const WORKGROUP: u32 = 256u;

@group(0) @binding(0) var<uniform> params: ReduceParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

fn element_index(id: vec3<u32>, groups: vec3<u32>) -> u32 {
    return id.x + id.y * groups.x * WORKGROUP;
}

fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}

fn sign_or_zero(x: f32) -> f32 {
    if x > 0.0 {
        return 1.0;
    }
    if x < 0.0 {
        return -1.0;
    }
    return 0.0;
}

fn row_max(start: u32, cols: u32) -> f32 {
    var biggest = a[start];
    for (var j = 1u; j < cols; j++) {
        biggest = max(biggest, a[start + j]);
    }
    return biggest;
}

// out[j] += sum over rows of a[row, j]: the bias gradient from the upstream gradient.
// What a switch gives for an index none of its cases knows: NaN, which every parity case
// notices (an engine enum value added on the CPU without its case here cannot pass unseen).
fn unknown_case(index: u32) -> f32 {
    return bitcast<f32>(0x7fc00000u + index * 0u);
}

@compute @workgroup_size(256, 1, 1)
fn column_sums(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let j = element_index(id, groups);
    if j < params.cols {
        var total = 0.0;
        for (var r = 0u; r < params.rows; r++) {
            total += a[r * params.cols + j];
        }
        out[j] = out[j] + total;
    }
}

// One loss term per element of (a = prediction or logits, b = target); per row for softmax
// cross-entropy: -sum_j y_j (z_j - log_sum_exp(z)).
@compute @workgroup_size(256, 1, 1)
fn loss_terms(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if params.loss == 4u {
        if i < params.rows {
            let start = i * params.cols;
            let biggest = row_max(start, params.cols);
            var total = 0.0;
            for (var j = 0u; j < params.cols; j++) {
                total += exp(a[start + j] - biggest);
            }
            let log_normaliser = biggest + log(total);
            var term = 0.0;
            for (var j = 0u; j < params.cols; j++) {
                let y = b[start + j];
                if y != 0.0 {
                    term -= y * (a[start + j] - log_normaliser);
                }
            }
            out[i] = term;
        }
        return;
    }
    if i < params.len {
        let p = a[i];
        let y = b[i];
        var term: f32;
        switch params.loss {
            case 0u: { term = (p - y) * (p - y); }
            case 1u: { term = 0.5 * (p - y) * (p - y); }
            case 2u: { term = abs(p - y); }
            // max(z, 0) - z y + ln(1 + e^-|z|): never the log of 0.
            case 3u: { term = max(p, 0.0) - p * y + log(1.0 + exp(-abs(p))); }
            default: { term = unknown_case(params.loss); }
        }
        out[i] = term;
    }
}

// out[0] = scale * sum(a[0 .. len]), in one workgroup (a tree in workgroup memory).
@compute @workgroup_size(256, 1, 1)
fn sum_to_scalar(@builtin(local_invocation_index) local: u32) {
    var total = 0.0;
    for (var i = local; i < params.len; i += WORKGROUP) {
        total += a[i];
    }
    partial[local] = total;
    workgroupBarrier();
    for (var width = WORKGROUP / 2u; width > 0u; width /= 2u) {
        if local < width {
            partial[local] += partial[local + width];
        }
        workgroupBarrier();
    }
    if local == 0u {
        out[0] = partial[0] * params.scale;
    }
}

// out += scale * dLoss/dprediction (for the cross-entropies: with respect to the logits).
@compute @workgroup_size(256, 1, 1)
fn loss_gradient(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    let scale = params.scale;
    if params.loss == 4u {
        if i < params.rows {
            let start = i * params.cols;
            let biggest = row_max(start, params.cols);
            var total = 0.0;
            var target_total = 0.0;
            for (var j = 0u; j < params.cols; j++) {
                total += exp(a[start + j] - biggest);
                target_total += b[start + j];
            }
            // softmax(z) - y for targets that sum to 1; the sum keeps soft targets exact.
            for (var j = 0u; j < params.cols; j++) {
                let probability = exp(a[start + j] - biggest) / total;
                out[start + j] = out[start + j] + scale * (probability * target_total - b[start + j]);
            }
        }
        return;
    }
    if i < params.len {
        let p = a[i];
        let y = b[i];
        var g: f32;
        switch params.loss {
            case 0u: { g = 2.0 * scale * (p - y); }
            case 1u: { g = scale * (p - y); }
            // The derivative of |p - y| at p = y is taken as 0.
            case 2u: { g = scale * sign_or_zero(p - y); }
            case 3u: { g = scale * (sigmoid(p) - y); }
            default: { g = unknown_case(params.loss); }
        }
        out[i] = out[i] + g;
    }
}

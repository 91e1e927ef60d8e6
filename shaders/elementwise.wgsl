// Element-by-element kernels: bias add, sums and products of two tensors with their gradients,
// a tensor times or plus a number, and every activation's forward and backward.
//
// CPU twins: `engine::ops::elementwise` (`add_bias_forward`, `add_forward`, `mul_forward`,
// `accumulate`, `mul_backward`, and `Op::Scale` / `Op::AddScalar`'s arms in `engine::ops`) and `engine::activation` (`Activation::apply_slice`,
// `Activation::backward_slice`). The formulas are ported one for one,
// including the engine's own rational tanh and its Numerical Recipes erfc, so both backends agree
// to rounding.

struct ElementwiseParams {
    len: u32,
    // Columns of a row (bias add).
    cols: u32,
    // 0 linear, 1 sigmoid, 2 tanh, 3 relu, 4 leaky_relu, 5 gelu (`Activation`'s order).
    activation: u32,
    // The number of `scale`, `shift` and `accumulate_scaled`.
    factor: f32,
}

const LEAKY_RELU_SLOPE: f32 = 0.01;
const INV_SQRT_2PI: f32 = 0.3989422804014327;
const FRAC_1_SQRT_2: f32 = 0.7071067811865476;
const WORKGROUP: u32 = 256u;

@group(0) @binding(0) var<uniform> params: ElementwiseParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// Dispatches wider than 65535 workgroups spill into the y dimension.
fn element_index(id: vec3<u32>, groups: vec3<u32>) -> u32 {
    return id.x + id.y * groups.x * WORKGROUP;
}

// What a switch gives for an index none of its cases knows: NaN, which every parity case
// notices (an engine enum value added on the CPU without its case here cannot pass unseen).
fn unknown_case(index: u32) -> f32 {
    return bitcast<f32>(0x7fc00000u + index * 0u);
}

fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}

// `engine::activation::tanh`: Eigen's minimax rational function, |error| < 1e-6.
fn rational_tanh(x_in: f32) -> f32 {
    let x = clamp(x_in, -7.905311, 7.905311);
    let x2 = x * x;
    let numerator = x * (4.8935246e-3 + x2 * (6.3726193e-4 + x2 * (1.4857224e-5
        + x2 * (5.122297e-8 + x2 * (-8.604672e-11 + x2 * (2.000188e-13 + x2 * -2.7607685e-16))))));
    let denominator = 4.893525e-3 + x2 * (2.2684346e-3 + x2 * (1.1853471e-4 + x2 * 1.1982584e-6));
    return numerator / denominator;
}

// `engine::activation::erfc` (Numerical Recipes `erfcc`), in f32: WGSL has no f64.
fn erfc(x: f32) -> f32 {
    let z = abs(x);
    let t = 1.0 / (1.0 + 0.5 * z);
    let polynomial = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277))))))));
    let value = t * exp(polynomial);
    if x >= 0.0 {
        return value;
    }
    return 2.0 - value;
}

fn normal_cdf(x: f32) -> f32 {
    return 0.5 * erfc(-x * FRAC_1_SQRT_2);
}

fn normal_pdf(x: f32) -> f32 {
    return INV_SQRT_2PI * exp(-0.5 * x * x);
}

fn activate(kind: u32, x: f32) -> f32 {
    switch kind {
        case 1u: { return sigmoid(x); }
        case 2u: { return rational_tanh(x); }
        case 3u: { return max(x, 0.0); }
        case 4u: { return select(LEAKY_RELU_SLOPE * x, x, x > 0.0); }
        case 5u: { return x * normal_cdf(x); }
        case 0u: { return x; }
        default: { return unknown_case(kind); }
    }
}

// `f'(x)` from the input `x` and the output `y` (sigmoid and tanh use y, as the engine does).
fn derivative(kind: u32, x: f32, y: f32) -> f32 {
    switch kind {
        case 1u: { return y * (1.0 - y); }
        case 2u: { return 1.0 - y * y; }
        case 3u: { return select(0.0, 1.0, x > 0.0); }
        case 4u: { return select(LEAKY_RELU_SLOPE, 1.0, x > 0.0); }
        case 5u: { return normal_cdf(x) + x * normal_pdf(x); }
        case 0u: { return 1.0; }
        default: { return unknown_case(kind); }
    }
}

// out = a + b[column]: a is [len / cols, cols], b the bias of length cols.
@compute @workgroup_size(256, 1, 1)
fn add_bias(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = a[i] + b[i % params.cols];
    }
}

// out = f(a).
@compute @workgroup_size(256, 1, 1)
fn activation_forward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = activate(params.activation, a[i]);
    }
}

// out += c * f'(a) with a = x, b = y = f(x), c = dL/dy: the chain rule, accumulating like the engine.
@compute @workgroup_size(256, 1, 1)
fn activation_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        let x = a[i];
        let gy = c[i];
        var gx: f32;
        // The same products, in the same order, as `Activation::backward_slice`.
        switch params.activation {
            case 0u: { gx = gy; }
            case 3u: { gx = select(0.0, gy, x > 0.0); }
            case 4u: { gx = select(LEAKY_RELU_SLOPE * gy, gy, x > 0.0); }
            case 1u: { gx = gy * b[i] * (1.0 - b[i]); }
            case 2u, 5u: { gx = gy * derivative(params.activation, x, b[i]); }
            default: { gx = unknown_case(params.activation); }
        }
        out[i] = out[i] + gx;
    }
}

// out = a + b (`elementwise::add_forward`).
@compute @workgroup_size(256, 1, 1)
fn add(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = a[i] + b[i];
    }
}

// out = a * b (`elementwise::mul_forward`).
@compute @workgroup_size(256, 1, 1)
fn multiply(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = a[i] * b[i];
    }
}

// out += a: the gradient a sum passes to each of its inputs (`elementwise::accumulate`).
@compute @workgroup_size(256, 1, 1)
fn accumulate(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = out[i] + a[i];
    }
}

// out += a * b with a = dL/d(product), b = the other factor (`elementwise::mul_backward`).
@compute @workgroup_size(256, 1, 1)
fn accumulate_product(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = out[i] + a[i] * b[i];
    }
}

// out = a * factor (`Op::Scale`).
@compute @workgroup_size(256, 1, 1)
fn scale(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = a[i] * params.factor;
    }
}

// out = a + factor (`Op::AddScalar`).
@compute @workgroup_size(256, 1, 1)
fn shift(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = a[i] + params.factor;
    }
}

// Row by row, out = b where the row's a is not 0, c where it is: a recurrent state carried over
// the padding after a sequence's end (`carry::forward`; a holds one value per row of `cols`).
@compute @workgroup_size(256, 1, 1)
fn carry(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = select(c[i], b[i], a[i / params.cols] != 0.0);
    }
}

// out += b on the rows whose a is not 0 when factor is 1 (the new state's gradient), on those
// whose a is 0 when factor is 0 (the carried state's) (`carry::backward`).
@compute @workgroup_size(256, 1, 1)
fn accumulate_carried(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len && (a[i / params.cols] != 0.0) == (params.factor != 0.0) {
        out[i] = out[i] + b[i];
    }
}

// out += a * factor: the gradient `Op::Scale` passes to its input.
@compute @workgroup_size(256, 1, 1)
fn accumulate_scaled(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = out[i] + a[i] * params.factor;
    }
}

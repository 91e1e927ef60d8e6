// What the element-by-element kernels share (`elementwise.wgsl` and `lstm.wgsl` are each compiled
// after it): their uniform block, their buffers, the launch index, and the engine's sigmoid, tanh
// and normal distribution, ported one for one from `engine::activation` so that both backends
// agree to rounding.

struct ElementwiseParams {
    len: u32,
    // Columns of a row (bias add, carry; an LSTM's gates: 4 · hidden, its states: hidden).
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

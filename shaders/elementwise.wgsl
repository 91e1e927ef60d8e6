// Element-by-element kernels: bias add, sums and products of two tensors with their gradients,
// a tensor times or plus a number, and every activation's forward and backward.
//
// CPU twins: `engine::ops::elementwise` (`add_bias_forward`, `add_forward`, `mul_forward`,
// `accumulate`, `mul_backward`, and `Op::Scale` / `Op::AddScalar`'s arms in `engine::ops`) and `engine::activation` (`Activation::apply_slice`,
// `Activation::backward_slice`). The formulas are ported one for one,
// including the engine's own rational tanh and its Numerical Recipes erfc, so both backends agree
// to rounding.
//
// Compiled after `elementwise_common.wgsl` (the uniform block, the buffers, sigmoid and tanh).

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

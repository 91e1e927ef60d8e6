// An LSTM cell's step, forward and backward (CPU twin: `engine::ops::lstm`, the same operations in
// the same order). The gates lie in rows of 4 · hidden: f, i, o, then the candidate C~. Compiled
// after `elementwise_common.wgsl` (the uniform block, the buffers, sigmoid and tanh).
//
// Every backward kernel adds to `out`, which the GPU pass zeroes before a step's backward pass.

// Where gate `gate` of element i (of a [rows, hidden] state) lies in the gates: params.cols is
// hidden.
fn gate_index(i: u32, gate: u32) -> u32 {
    let row = i / params.cols;
    let unit = i % params.cols;
    return row * 4u * params.cols + gate * params.cols + unit;
}

// out = σ(a) on f, i and o, tanh(a) on C~; params.cols is 4 · hidden.
@compute @workgroup_size(256, 1, 1)
fn lstm_gates(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        let candidate = i % params.cols >= params.cols / 4u * 3u;
        out[i] = select(sigmoid(a[i]), rational_tanh(a[i]), candidate);
    }
}

// out += c · σ'(b) or c · tanh'(b), from the gates b themselves (c: their gradient).
@compute @workgroup_size(256, 1, 1)
fn lstm_gates_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        let y = b[i];
        if i % params.cols >= params.cols / 4u * 3u {
            out[i] = out[i] + c[i] * (1.0 - y * y);
        } else {
            out[i] = out[i] + c[i] * y * (1.0 - y);
        }
    }
}

// out = C_t = f · C_{t-1} + i · C~ from the gates a and C_{t-1} in b, or i · C~ where
// params.factor is 0 (the first step, C_0 = 0).
@compute @workgroup_size(256, 1, 1)
fn lstm_cell(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        let written = a[gate_index(i, 1u)] * a[gate_index(i, 3u)];
        if params.factor != 0.0 {
            out[i] = a[gate_index(i, 0u)] * b[i] + written;
        } else {
            out[i] = written;
        }
    }
}

// The gates' gradient from dC (c): f += dC · C_{t-1} (b, unless params.factor is 0),
// i += dC · C~, C~ += dC · i. One invocation per element of the state writes three gates' entries.
@compute @workgroup_size(256, 1, 1)
fn lstm_cell_backward_gates(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        let forget = gate_index(i, 0u);
        let input = gate_index(i, 1u);
        let candidate = gate_index(i, 3u);
        if params.factor != 0.0 {
            out[forget] = out[forget] + c[i] * b[i];
        }
        out[input] = out[input] + c[i] * a[candidate];
        out[candidate] = out[candidate] + c[i] * a[input];
    }
}

// C_{t-1}'s gradient: out += dC (c) · f (from the gates a).
@compute @workgroup_size(256, 1, 1)
fn lstm_cell_backward_previous(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = out[i] + c[i] * a[gate_index(i, 0u)];
    }
}

// out = h_t = o · tanh(C_t), from the gates a and C_t in b.
@compute @workgroup_size(256, 1, 1)
fn lstm_state(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        out[i] = a[gate_index(i, 2u)] * rational_tanh(b[i]);
    }
}

// The output gate's gradient from dh (c): o += dh · tanh(C_t) (C_t in b).
@compute @workgroup_size(256, 1, 1)
fn lstm_state_backward_gates(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        let output = gate_index(i, 2u);
        out[output] = out[output] + c[i] * rational_tanh(b[i]);
    }
}

// C_t's gradient from dh (c): out += dh · o · (1 - tanh²(C_t)).
@compute @workgroup_size(256, 1, 1)
fn lstm_state_backward_cell(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        let squashed = rational_tanh(b[i]);
        out[i] = out[i] + c[i] * a[gate_index(i, 2u)] * (1.0 - squashed * squashed);
    }
}

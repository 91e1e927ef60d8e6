// Max and average pooling of NCHW feature maps, forward and backward: a `kernel`x`kernel` window
// sliding with `stride` over each plane (no padding), one invocation per written element.
//
// CPU twin: `engine::ops::pool` (`max_forward`, `max_backward`, `average_forward`,
// `average_backward`). Max pooling keeps the first maximum of a window in row-major order (a
// later value must be strictly larger) and backward routes the whole gradient there; the winner
// is found again from the input rather than stored, with the same loop, so the two agree. Average
// pooling multiplies the window's sum by `share` = 1/size² (computed on the CPU as the engine
// does) and backward adds `dy·share` to every element of the window. Backward gathers, one input
// element per invocation, adding its outputs' gradients to the buffer in the order the engine
// adds them (increasing output index), so the results are the engine's to the bit.
// The uniform block and `element_index` come from window.wgsl.

@group(0) @binding(0) var<uniform> params: WindowParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> upstream: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// Index, within its plane, of the first maximum of the window of output (oy, ox) of the plane
// starting at `plane_start`.
fn window_argmax(plane_start: u32, oy: u32, ox: u32) -> u32 {
    let corner = oy * params.stride * params.width + ox * params.stride;
    var best = corner;
    var best_value = input[plane_start + corner];
    for (var dy = 0u; dy < params.kernel; dy++) {
        let row = corner + dy * params.width;
        for (var dx = 0u; dx < params.kernel; dx++) {
            let value = input[plane_start + row + dx];
            if value > best_value {
                best = row + dx;
                best_value = value;
            }
        }
    }
    return best;
}

// The outputs along one side whose window covers input `i`: `first..end`.
fn covering(i: u32, outputs: u32) -> vec2<u32> {
    // o·s ≤ i < o·s + size
    var first = 0u;
    if i + 1u > params.kernel {
        first = (i + 1u - params.kernel + params.stride - 1u) / params.stride;
    }
    let end = min(i / params.stride + 1u, outputs);
    return vec2<u32>(first, max(first, end));
}

// out = the largest value of each window; `count` = batch·channels·out_height·out_width.
@compute @workgroup_size(256, 1, 1)
fn max_pool_forward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i >= params.count {
        return;
    }
    let ox = i % params.out_width;
    let rest = i / params.out_width;
    let oy = rest % params.out_height;
    let plane_start = (rest / params.out_height) * params.height * params.width;
    out[i] = input[plane_start + window_argmax(plane_start, oy, ox)];
}

// out (the input gradient) += dy of every window this element won; `count` = input elements.
@compute @workgroup_size(256, 1, 1)
fn max_pool_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i >= params.count {
        return;
    }
    let plane_len = params.height * params.width;
    let plane = i / plane_len;
    let local = i % plane_len;
    let y = local / params.width;
    let x = local % params.width;
    let plane_start = plane * plane_len;
    let rows = covering(y, params.out_height);
    let cols = covering(x, params.out_width);
    var total = out[i];
    for (var oy = rows.x; oy < rows.y; oy++) {
        for (var ox = cols.x; ox < cols.y; ox++) {
            if window_argmax(plane_start, oy, ox) == local {
                total += upstream[(plane * params.out_height + oy) * params.out_width + ox];
            }
        }
    }
    out[i] = total;
}

// out = the mean of each window (its sum in row-major order, times 1/size²).
@compute @workgroup_size(256, 1, 1)
fn average_pool_forward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i >= params.count {
        return;
    }
    let ox = i % params.out_width;
    let rest = i / params.out_width;
    let oy = rest % params.out_height;
    let plane_start = (rest / params.out_height) * params.height * params.width;
    let corner = plane_start + oy * params.stride * params.width + ox * params.stride;
    var total = 0.0;
    for (var dy = 0u; dy < params.kernel; dy++) {
        for (var dx = 0u; dx < params.kernel; dx++) {
            total += input[corner + dy * params.width + dx];
        }
    }
    out[i] = total * params.share;
}

// out (the input gradient) += dy·share of every window covering this element.
@compute @workgroup_size(256, 1, 1)
fn average_pool_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i >= params.count {
        return;
    }
    let plane_len = params.height * params.width;
    let plane = i / plane_len;
    let local = i % plane_len;
    let rows = covering(local / params.width, params.out_height);
    let cols = covering(local % params.width, params.out_width);
    var total = out[i];
    for (var oy = rows.x; oy < rows.y; oy++) {
        for (var ox = cols.x; ox < cols.y; ox++) {
            total += upstream[(plane * params.out_height + oy) * params.out_width + ox] * params.share;
        }
    }
    out[i] = total;
}

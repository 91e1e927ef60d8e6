// 2-D convolution of NCHW feature maps, forward and backward, direct loops (no im2col matrix):
// the forward pass and the input gradient one invocation per element they write, the weight and
// bias gradients one workgroup per element (see below).
//
// CPU twin: `engine::ops::conv` (`forward`, `backward` slots 0, 1 and 2). With
// `out[n, o, oy, ox] = bias[o] + Σ_{c, ky, kx} x[n, c, oy·s + ky − p, ox·s + kx − p] · w[o, c, ky, kx]`
// (terms in the zero padding left out), the gradients gather what the CPU scatters:
//   dx[n, c, y, x]    += Σ over (o, ky, kx) whose window reads (y, x) of dy[n, o, oy, ox] · w[o, c, ky, kx]
//   dw[o, c, ky, kx]  += Σ_{n, oy, ox} dy[n, o, oy, ox] · x[n, c, oy·s + ky − p, ox·s + kx − p]
//   db[o]             += Σ_n (Σ_{oy, ox} dy[n, o, oy, ox])
// Every gradient is added to what its buffer holds, as the engine's backward adds. Each invocation
// (or workgroup) owns one output element, so no two write the same address and no atomics are
// needed.
// The uniform block and `element_index` come from window.wgsl.

@group(0) @binding(0) var<uniform> params: WindowParams;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> upstream: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

fn input_index(n: u32, c: u32, y: u32, x: u32) -> u32 {
    return ((n * params.in_channels + c) * params.height + y) * params.width + x;
}

fn weight_index(o: u32, c: u32, ky: u32, kx: u32) -> u32 {
    return ((o * params.in_channels + c) * params.kernel + ky) * params.kernel + kx;
}

fn output_index(n: u32, o: u32, oy: u32, ox: u32) -> u32 {
    return ((n * params.out_channels + o) * params.out_height + oy) * params.out_width + ox;
}

// The output index along one side whose window reads input `i` at kernel offset `k`
// (o·s + k − p = i), or `none` when there is none.
const NONE: u32 = 0xffffffffu;

fn reading_output(i: u32, k: u32, outputs: u32) -> u32 {
    let shifted = i + params.padding;
    if shifted < k {
        return NONE;
    }
    let d = shifted - k;
    if d % params.stride != 0u || d / params.stride >= outputs {
        return NONE;
    }
    return d / params.stride;
}

// out = conv2d(input, weights) + bias; `count` = batch·out_channels·out_height·out_width.
@compute @workgroup_size(256, 1, 1)
fn conv2d_forward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i >= params.count {
        return;
    }
    let ox = i % params.out_width;
    var rest = i / params.out_width;
    let oy = rest % params.out_height;
    rest = rest / params.out_height;
    let o = rest % params.out_channels;
    let n = rest / params.out_channels;
    var sum = 0.0;
    // Same order as the engine's im2col rows: channel, kernel row, kernel column.
    for (var c = 0u; c < params.in_channels; c++) {
        for (var ky = 0u; ky < params.kernel; ky++) {
            let y = oy * params.stride + ky;
            if y < params.padding || y - params.padding >= params.height {
                continue;
            }
            for (var kx = 0u; kx < params.kernel; kx++) {
                let x = ox * params.stride + kx;
                if x < params.padding || x - params.padding >= params.width {
                    continue;
                }
                let value = input[input_index(n, c, y - params.padding, x - params.padding)];
                sum = fma(value, weights[weight_index(o, c, ky, kx)], sum);
            }
        }
    }
    out[i] = sum + bias[o];
}

// out (the input gradient) += Wᵀ·dy scattered back, gathered per input element;
// `count` = batch·in_channels·height·width.
@compute @workgroup_size(256, 1, 1)
fn conv2d_input_grad(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i >= params.count {
        return;
    }
    let x = i % params.width;
    var rest = i / params.width;
    let y = rest % params.height;
    rest = rest / params.height;
    let c = rest % params.in_channels;
    let n = rest / params.in_channels;
    var sum = 0.0;
    for (var o = 0u; o < params.out_channels; o++) {
        for (var ky = 0u; ky < params.kernel; ky++) {
            let oy = reading_output(y, ky, params.out_height);
            if oy == NONE {
                continue;
            }
            for (var kx = 0u; kx < params.kernel; kx++) {
                let ox = reading_output(x, kx, params.out_width);
                if ox == NONE {
                    continue;
                }
                let d_output = upstream[output_index(n, o, oy, ox)];
                sum = fma(d_output, weights[weight_index(o, c, ky, kx)], sum);
            }
        }
    }
    out[i] = out[i] + sum;
}

// The gradients of the weights and the bias are sums over the whole batch and every output
// position: one workgroup per weight (or channel), its 256 invocations each summing every
// 256th (image, position) term, then a tree reduction in workgroup memory. (One invocation per
// weight looping over the batch left a GPU with a few hundred busy threads: LeNet-5's first
// layer has 150 weights.)
var<workgroup> partial: array<f32, 256>;

// The sum of every invocation's `mine`, for each invocation of the workgroup. Called in
// uniform control flow (it has barriers).
fn workgroup_total(local: u32, mine: f32) -> f32 {
    partial[local] = mine;
    workgroupBarrier();
    for (var width = WORKGROUP / 2u; width > 0u; width = width / 2u) {
        if local < width {
            partial[local] = partial[local] + partial[local + width];
        }
        workgroupBarrier();
    }
    return partial[0];
}

// The workgroup's element; past 65,535 workgroups the dispatch spills into y.
fn group_index(group: vec3<u32>, groups: vec3<u32>) -> u32 {
    return group.x + group.y * groups.x;
}

// out (the kernel gradient) += Σ over the batch of dy · im2col(x)ᵀ, one weight per workgroup;
// `count` = out_channels·in_channels·kernel².
@compute @workgroup_size(256, 1, 1)
fn conv2d_weight_grad(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = group_index(group, groups);
    // The same for the whole workgroup, so leaving here keeps the barriers uniform.
    if i >= params.count {
        return;
    }
    let kx = i % params.kernel;
    var rest = i / params.kernel;
    let ky = rest % params.kernel;
    rest = rest / params.kernel;
    let c = rest % params.in_channels;
    let o = rest / params.in_channels;
    let positions = params.out_height * params.out_width;
    let terms = params.batch * positions;
    var sum = 0.0;
    // Neighbouring invocations take neighbouring output columns: neighbouring addresses.
    for (var t = local; t < terms; t += WORKGROUP) {
        let n = t / positions;
        let position = t % positions;
        let oy = position / params.out_width;
        let ox = position % params.out_width;
        let y = oy * params.stride + ky;
        let x = ox * params.stride + kx;
        if y < params.padding || y - params.padding >= params.height || x < params.padding
            || x - params.padding >= params.width {
            continue;
        }
        let value = input[input_index(n, c, y - params.padding, x - params.padding)];
        sum = fma(upstream[output_index(n, o, oy, ox)], value, sum);
    }
    let total = workgroup_total(local, sum);
    if local == 0u {
        out[i] = out[i] + total;
    }
}

// out (the bias gradient) += the sum of each output channel over the batch, one channel per
// workgroup; `count` = out_channels.
@compute @workgroup_size(256, 1, 1)
fn conv2d_bias_grad(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let o = group_index(group, groups);
    if o >= params.count {
        return;
    }
    let positions = params.out_height * params.out_width;
    let terms = params.batch * positions;
    var sum = 0.0;
    for (var t = local; t < terms; t += WORKGROUP) {
        let n = t / positions;
        sum += upstream[output_index(n, o, 0u, 0u) + t % positions];
    }
    let total = workgroup_total(local, sum);
    if local == 0u {
        out[o] = out[o] + total;
    }
}

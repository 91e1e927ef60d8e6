// Matrix multiplication `out = op(a) · op(b)` (or `out += ...`), tiled in workgroup memory and
// blocked in registers.
//
// CPU twin: `engine::gemm::matmul`. `op(a)` is [m, k] and `op(b)` is [k, n]; each operand is stored
// row-major and read transposed when its flag is set, so backprop's `dW = xᵀ · dy` and
// `dx = dy · Wᵀ` need no transposed copy.
//
// A 16x16 workgroup computes a 64x64 block of `out`: invocation (x, y) owns the 4x4 outputs at
// rows `y + 16r` and columns `x + 16c` (r, c in 0..4), so neighbouring invocations store to
// neighbouring addresses. The k dimension goes by in steps of 16: each step, the workgroup
// copies a 64x16 tile of op(a) and a 16x64 tile of op(b) into workgroup memory (8 KiB, within
// the downlevel limit; four values per invocation per tile), then each invocation does 16 x 16
// multiply-adds from registers: one value of op(a) per output row times a vec4 of op(b).
// Out-of-range invocations load zeros and skip the store but reach every barrier (barriers need
// uniform control flow). The bindings and `load_a`/`load_b` are in matmul_operands.wgsl.

// Outputs per side of the workgroup's block: 4 per invocation.
const BLOCK: u32 = 64u;

// tile_a[i][p] = op(a)[row0 + i, p0 + p]; tile_b[p][j] = op(b)[p0 + p, col0 + j].
var<workgroup> tile_a: array<array<f32, 16>, 64>;
var<workgroup> tile_b: array<array<f32, 64>, 16>;

// Writes (or adds) the four outputs of row `i` at columns `j + 16c`.
fn store_row(i: u32, j: u32, values: vec4<f32>) {
    if i >= params.m {
        return;
    }
    let accumulate = (params.flags & 4u) != 0u;
    for (var c = 0u; c < 4u; c++) {
        let column = j + SIDE * c;
        if column < params.n {
            let index = i * params.n + column;
            if accumulate {
                out[index] = out[index] + values[c];
            } else {
                out[index] = values[c];
            }
        }
    }
}

@compute @workgroup_size(16, 16, 1)
fn matmul(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let row0 = group.y * BLOCK;
    let col0 = group.x * BLOCK;
    let x = local.x;
    let y = local.y;

    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    let steps = (params.k + SIDE - 1u) / SIDE;
    for (var t = 0u; t < steps; t++) {
        let p0 = t * SIDE;
        for (var r = 0u; r < 4u; r++) {
            let a_slot = a_tile_slot(x, y, r);
            tile_a[a_slot.x][a_slot.y] = load_a(row0 + a_slot.x, p0 + a_slot.y);
            let b_slot = b_tile_slot(x, y, r);
            tile_b[b_slot.x][b_slot.y] = load_b(p0 + b_slot.x, col0 + b_slot.y);
        }
        workgroupBarrier();
        for (var p = 0u; p < SIDE; p++) {
            let b4 = vec4<f32>(tile_b[p][x], tile_b[p][x + 16u], tile_b[p][x + 32u], tile_b[p][x + 48u]);
            acc0 = fma(vec4<f32>(tile_a[y][p]), b4, acc0);
            acc1 = fma(vec4<f32>(tile_a[y + 16u][p]), b4, acc1);
            acc2 = fma(vec4<f32>(tile_a[y + 32u][p]), b4, acc2);
            acc3 = fma(vec4<f32>(tile_a[y + 48u][p]), b4, acc3);
        }
        workgroupBarrier();
    }

    store_row(row0 + y, col0 + x, acc0);
    store_row(row0 + y + 16u, col0 + x, acc1);
    store_row(row0 + y + 32u, col0 + x, acc2);
    store_row(row0 + y + 48u, col0 + x, acc3);
}

// Matrix multiplication `out = op(a) · op(b)` (or `out += ...`) for large products, on adapters
// that give a workgroup 16 KiB of memory (WebGPU's default; wgpu's downlevel limit is 32 bytes
// short of it).
//
// The same contract and layout as `matmul.wgsl`, with a block four times the area: a 16x16
// workgroup computes a 128x128 block of `out`, invocation (x, y) owning the 8x8 outputs at rows
// `y + 16r` and columns `x + 16c` (r, c in 0..8). Each step of 16 along k, the workgroup copies
// a 128x16 tile of op(a) and a 16x128 tile of op(b) into workgroup memory (eight values per
// invocation per tile), then each invocation does 16 x 64 multiply-adds from registers: two
// values read from workgroup memory per eight multiply-adds instead of one per four, so the
// arithmetic, not workgroup memory, sets the pace on a GPU with many cores. Chosen by
// `gpu::Kernels` when the output has enough 128x128 blocks to keep such a GPU busy. The bindings
// and `load_a`/`load_b` are in matmul_operands.wgsl.

// Outputs per side of the workgroup's block: 8 per invocation.
const BLOCK: u32 = 128u;

// tile_a[i][p] = op(a)[row0 + i, p0 + p]; tile_b[p][j] = op(b)[p0 + p, col0 + j].
var<workgroup> tile_a: array<array<f32, 16>, 128>;
var<workgroup> tile_b: array<array<f32, 128>, 16>;

// Writes (or adds) the eight outputs of row `i` at columns `j + 16c`: `low` holds c in 0..4,
// `high` c in 4..8.
fn store_row(i: u32, j: u32, low: vec4<f32>, high: vec4<f32>) {
    if i >= params.m {
        return;
    }
    let accumulate = (params.flags & 4u) != 0u;
    for (var c = 0u; c < 8u; c++) {
        let column = j + SIDE * c;
        if column < params.n {
            let index = i * params.n + column;
            var value: f32;
            if c < 4u {
                value = low[c];
            } else {
                value = high[c - 4u];
            }
            if accumulate {
                value += out[index];
            }
            out[index] = value;
        }
    }
}

@compute @workgroup_size(16, 16, 1)
fn matmul_wide(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let row0 = group.y * BLOCK;
    let col0 = group.x * BLOCK;
    let x = local.x;
    let y = local.y;

    // lo_r holds the outputs of row y + 16r at columns x + 16c for c in 0..4, hi_r those for
    // c in 4..8: sixteen named registers rather than an array, which some compilers would
    // keep in memory when it is indexed in a loop.
    var lo0 = vec4<f32>(0.0);
    var lo1 = vec4<f32>(0.0);
    var lo2 = vec4<f32>(0.0);
    var lo3 = vec4<f32>(0.0);
    var lo4 = vec4<f32>(0.0);
    var lo5 = vec4<f32>(0.0);
    var lo6 = vec4<f32>(0.0);
    var lo7 = vec4<f32>(0.0);
    var hi0 = vec4<f32>(0.0);
    var hi1 = vec4<f32>(0.0);
    var hi2 = vec4<f32>(0.0);
    var hi3 = vec4<f32>(0.0);
    var hi4 = vec4<f32>(0.0);
    var hi5 = vec4<f32>(0.0);
    var hi6 = vec4<f32>(0.0);
    var hi7 = vec4<f32>(0.0);
    let steps = (params.k + SIDE - 1u) / SIDE;
    for (var t = 0u; t < steps; t++) {
        let p0 = t * SIDE;
        for (var r = 0u; r < 8u; r++) {
            let a_slot = a_tile_slot(x, y, r);
            tile_a[a_slot.x][a_slot.y] = load_a(row0 + a_slot.x, p0 + a_slot.y);
            let b_slot = b_tile_slot(x, y, r);
            tile_b[b_slot.x][b_slot.y] = load_b(p0 + b_slot.x, col0 + b_slot.y);
        }
        workgroupBarrier();
        for (var p = 0u; p < SIDE; p++) {
            let b_lo = vec4<f32>(tile_b[p][x], tile_b[p][x + 16u], tile_b[p][x + 32u], tile_b[p][x + 48u]);
            let b_hi = vec4<f32>(tile_b[p][x + 64u], tile_b[p][x + 80u], tile_b[p][x + 96u], tile_b[p][x + 112u]);
            let a0 = vec4<f32>(tile_a[y][p]);
            lo0 = fma(a0, b_lo, lo0);
            hi0 = fma(a0, b_hi, hi0);
            let a1 = vec4<f32>(tile_a[y + 16u][p]);
            lo1 = fma(a1, b_lo, lo1);
            hi1 = fma(a1, b_hi, hi1);
            let a2 = vec4<f32>(tile_a[y + 32u][p]);
            lo2 = fma(a2, b_lo, lo2);
            hi2 = fma(a2, b_hi, hi2);
            let a3 = vec4<f32>(tile_a[y + 48u][p]);
            lo3 = fma(a3, b_lo, lo3);
            hi3 = fma(a3, b_hi, hi3);
            let a4 = vec4<f32>(tile_a[y + 64u][p]);
            lo4 = fma(a4, b_lo, lo4);
            hi4 = fma(a4, b_hi, hi4);
            let a5 = vec4<f32>(tile_a[y + 80u][p]);
            lo5 = fma(a5, b_lo, lo5);
            hi5 = fma(a5, b_hi, hi5);
            let a6 = vec4<f32>(tile_a[y + 96u][p]);
            lo6 = fma(a6, b_lo, lo6);
            hi6 = fma(a6, b_hi, hi6);
            let a7 = vec4<f32>(tile_a[y + 112u][p]);
            lo7 = fma(a7, b_lo, lo7);
            hi7 = fma(a7, b_hi, hi7);
        }
        workgroupBarrier();
    }

    store_row(row0 + y, col0 + x, lo0, hi0);
    store_row(row0 + y + 16u, col0 + x, lo1, hi1);
    store_row(row0 + y + 32u, col0 + x, lo2, hi2);
    store_row(row0 + y + 48u, col0 + x, lo3, hi3);
    store_row(row0 + y + 64u, col0 + x, lo4, hi4);
    store_row(row0 + y + 80u, col0 + x, lo5, hi5);
    store_row(row0 + y + 96u, col0 + x, lo6, hi6);
    store_row(row0 + y + 112u, col0 + x, lo7, hi7);
}

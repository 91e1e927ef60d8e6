// Matrix multiplication `out = op(a) · op(b)` (or `out += ...`) for products whose stored rows
// all hold a multiple of four floats, on adapters that give a workgroup 16 KiB of memory
// (WebGPU's default; wgpu's downlevel limit is 32 bytes short of it).
//
// The contract of `matmul.wgsl` (its uniform block begins as that one does, and binding 4 is added
// for split products), but every buffer is read and written four floats at a time (`vec4`), which
// is why the rows must hold multiples of four.
// A workgroup of 256 invocations computes a 128x128 block of `out`, 8x8 outputs each. Each step
// of 16 along k, the workgroup copies a 128x16 tile of op(a) and a 16x128 tile of op(b) into
// workgroup memory, both stored depth-major (row p of a tile holds depth p), so that each
// invocation reads its eight values of op(a) and eight of op(b) for one depth as four `vec4`s
// and does 64 multiply-adds with them. While it multiplies, it already holds the next step's
// values from `a` and `b` in registers, so the wait for memory overlaps the arithmetic.
// On an H100 this ran at 63% of cuBLAS's SGEMM at 4096³ (the 8x8 scalar-read version it replaced:
// 29%); docs/gpu.md has the figures. `gpu::matmul` picks it for large enough products, and
// splits products with few output blocks along k (`gpu::matmul_split`), so that a GPU with many
// compute units gets enough workgroups: each part writes its partial product, and `sum_splits`
// adds them up.

struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    // bit 0: a transposed, bit 1: b transposed, bit 2: accumulate into `out`.
    flags: u32,
    // Split along k into this many parts of `split_steps` steps of DEPTH each; with more than
    // one, each part writes its own m x n partial product into `partials`, and `sum_splits`
    // adds them into `out`.
    splits: u32,
    split_steps: u32,
}

@group(0) @binding(0) var<uniform> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;
// `splits` partial products of m x n, one after the other (a small unused buffer when there is
// one part).
@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>;

// Whether this pipeline computes parts of split products (`gpu::matmul` builds one of each: on
// an H100 the unsplit product ran at 22 TFLOP/s instead of 33 with the split's arithmetic in it).
override SPLIT: bool = false;

// Outputs per side of the workgroup's block, and the k step.
const BLOCK: u32 = 128u;
const DEPTH: u32 = 16u;
// A tile row (one depth, 128 values) in vec4s.
const ROW: u32 = BLOCK / 4u;

// tile_a[p * ROW + i / 4][i % 4] = op(a)[row0 + i, p0 + p];
// tile_b[p * ROW + j / 4][j % 4] = op(b)[p0 + p, col0 + j].
var<workgroup> tile_a: array<vec4<f32>, DEPTH * ROW>;
var<workgroup> tile_b: array<vec4<f32>, DEPTH * ROW>;

// The `slot`-th vec4 (0..512) of op(a)'s tile at (row0, p0), zeros outside the matrix. Stored
// [k, m] (transposed), a vec4 holds four rows at one depth; stored [m, k], four depths of a row.
// Either way neighbouring slots read neighbouring addresses.
fn load_a(row0: u32, p0: u32, slot: u32) -> vec4<f32> {
    if (params.flags & 1u) != 0u {
        let p = p0 + slot / ROW;
        let i = row0 + (slot % ROW) * 4u;
        if p < params.k && i < params.m {
            return a[(p * params.m + i) / 4u];
        }
        return vec4<f32>(0.0);
    }
    let i = row0 + slot / (DEPTH / 4u);
    let p = p0 + (slot % (DEPTH / 4u)) * 4u;
    if i < params.m && p < params.k {
        return a[(i * params.k + p) / 4u];
    }
    return vec4<f32>(0.0);
}

// Puts what `load_a(_, _, slot)` read into its place in the tile.
fn store_a(slot: u32, v: vec4<f32>) {
    if (params.flags & 1u) != 0u {
        tile_a[slot] = v;
        return;
    }
    // Four depths of row i: one value in each of four tile rows.
    let i = slot / (DEPTH / 4u);
    let at = (slot % (DEPTH / 4u)) * 4u * ROW + i / 4u;
    let lane = i % 4u;
    tile_a[at][lane] = v.x;
    tile_a[at + ROW][lane] = v.y;
    tile_a[at + 2u * ROW][lane] = v.z;
    tile_a[at + 3u * ROW][lane] = v.w;
}

// The same for op(b): stored [n, k] (transposed), a vec4 holds four depths of a column; stored
// [k, n], four columns at one depth.
fn load_b(col0: u32, p0: u32, slot: u32) -> vec4<f32> {
    if (params.flags & 2u) != 0u {
        let j = col0 + slot / (DEPTH / 4u);
        let p = p0 + (slot % (DEPTH / 4u)) * 4u;
        if j < params.n && p < params.k {
            return b[(j * params.k + p) / 4u];
        }
        return vec4<f32>(0.0);
    }
    let p = p0 + slot / ROW;
    let j = col0 + (slot % ROW) * 4u;
    if p < params.k && j < params.n {
        return b[(p * params.n + j) / 4u];
    }
    return vec4<f32>(0.0);
}

fn store_b(slot: u32, v: vec4<f32>) {
    if (params.flags & 2u) != 0u {
        let j = slot / (DEPTH / 4u);
        let at = (slot % (DEPTH / 4u)) * 4u * ROW + j / 4u;
        let lane = j % 4u;
        tile_b[at][lane] = v.x;
        tile_b[at + ROW][lane] = v.y;
        tile_b[at + 2u * ROW][lane] = v.z;
        tile_b[at + 3u * ROW][lane] = v.w;
        return;
    }
    tile_b[slot] = v;
}

// Writes (or adds) the eight outputs of row i at columns j..j+4 (`left`) and j+64..j+68
// (`right`).
fn store_row(split: u32, i: u32, j: u32, left: vec4<f32>, right: vec4<f32>) {
    store_out(split, i, j, left);
    store_out(split, i, j + 64u, right);
}

// Writes (or adds) the four outputs of row i at columns j..j+4 (j and n are multiples of 4); of
// a split product, writes part `split`'s partial sums instead.
fn store_out(split: u32, i: u32, j: u32, v: vec4<f32>) {
    if i < params.m && j < params.n {
        let index = (i * params.n + j) / 4u;
        if SPLIT {
            partials[split * (params.m * params.n / 4u) + index] = v;
        } else if (params.flags & 4u) != 0u {
            out[index] += v;
        } else {
            out[index] = v;
        }
    }
}

@compute @workgroup_size(256, 1, 1)
fn matmul_wide(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    // Split, x counts the column blocks of each part along k in turn.
    var split = 0u;
    var column_block = group.x;
    if SPLIT {
        let column_blocks = (params.n + BLOCK - 1u) / BLOCK;
        split = group.x / column_blocks;
        column_block = group.x % column_blocks;
    }
    let row0 = group.y * BLOCK;
    let col0 = column_block * BLOCK;
    // Invocation `local` owns rows 4g..4g+4 and 64+4g..64+4g+4 of the block (g = `rows`), and
    // the columns likewise (g = `cols`). The 32 invocations of a subgroup of 32 (a warp) span
    // 4 row groups and 8 column groups, so that each depth's reads from the tiles touch few
    // distinct addresses.
    let warp = local / 32u;
    let lane = local % 32u;
    let rows = (warp / 2u) * 4u + lane / 8u;
    let cols = (warp % 2u) * 8u + lane % 8u;

    // c<r><h>: the outputs of the invocation's r-th row (0..4: 4g+r, 4..8: 64+4g+r-4) at its
    // columns 4g.. (h = 0) or 64+4g.. (h = 1); named registers rather than an array, which some
    // compilers would keep in memory when it is indexed in a loop.
    var c00 = vec4<f32>(0.0);
    var c01 = vec4<f32>(0.0);
    var c10 = vec4<f32>(0.0);
    var c11 = vec4<f32>(0.0);
    var c20 = vec4<f32>(0.0);
    var c21 = vec4<f32>(0.0);
    var c30 = vec4<f32>(0.0);
    var c31 = vec4<f32>(0.0);
    var c40 = vec4<f32>(0.0);
    var c41 = vec4<f32>(0.0);
    var c50 = vec4<f32>(0.0);
    var c51 = vec4<f32>(0.0);
    var c60 = vec4<f32>(0.0);
    var c61 = vec4<f32>(0.0);
    var c70 = vec4<f32>(0.0);
    var c71 = vec4<f32>(0.0);

    // This part's steps along k: first..last.
    var first = 0u;
    var last = (params.k + DEPTH - 1u) / DEPTH;
    if SPLIT {
        first = split * params.split_steps;
        last = min(first + params.split_steps, last);
    }
    // The values of the coming step, read ahead: two vec4s of each operand per invocation.
    let p_first = first * DEPTH;
    var next_a0 = load_a(row0, p_first, local);
    var next_a1 = load_a(row0, p_first, local + 256u);
    var next_b0 = load_b(col0, p_first, local);
    var next_b1 = load_b(col0, p_first, local + 256u);
    for (var t = first; t < last; t++) {
        store_a(local, next_a0);
        store_a(local + 256u, next_a1);
        store_b(local, next_b0);
        store_b(local + 256u, next_b1);
        workgroupBarrier();
        if t + 1u < last {
            let p0 = (t + 1u) * DEPTH;
            next_a0 = load_a(row0, p0, local);
            next_a1 = load_a(row0, p0, local + 256u);
            next_b0 = load_b(col0, p0, local);
            next_b1 = load_b(col0, p0, local + 256u);
        }
        for (var p = 0u; p < DEPTH; p++) {
            let at = p * ROW;
            let a_lo = tile_a[at + rows];
            let a_hi = tile_a[at + 16u + rows];
            let b_lo = tile_b[at + cols];
            let b_hi = tile_b[at + 16u + cols];
            c00 = fma(vec4<f32>(a_lo.x), b_lo, c00);
            c01 = fma(vec4<f32>(a_lo.x), b_hi, c01);
            c10 = fma(vec4<f32>(a_lo.y), b_lo, c10);
            c11 = fma(vec4<f32>(a_lo.y), b_hi, c11);
            c20 = fma(vec4<f32>(a_lo.z), b_lo, c20);
            c21 = fma(vec4<f32>(a_lo.z), b_hi, c21);
            c30 = fma(vec4<f32>(a_lo.w), b_lo, c30);
            c31 = fma(vec4<f32>(a_lo.w), b_hi, c31);
            c40 = fma(vec4<f32>(a_hi.x), b_lo, c40);
            c41 = fma(vec4<f32>(a_hi.x), b_hi, c41);
            c50 = fma(vec4<f32>(a_hi.y), b_lo, c50);
            c51 = fma(vec4<f32>(a_hi.y), b_hi, c51);
            c60 = fma(vec4<f32>(a_hi.z), b_lo, c60);
            c61 = fma(vec4<f32>(a_hi.z), b_hi, c61);
            c70 = fma(vec4<f32>(a_hi.w), b_lo, c70);
            c71 = fma(vec4<f32>(a_hi.w), b_hi, c71);
        }
        workgroupBarrier();
    }

    let i0 = row0 + rows * 4u;
    let i1 = row0 + 64u + rows * 4u;
    let j = col0 + cols * 4u;
    store_row(split, i0, j, c00, c01);
    store_row(split, i0 + 1u, j, c10, c11);
    store_row(split, i0 + 2u, j, c20, c21);
    store_row(split, i0 + 3u, j, c30, c31);
    store_row(split, i1, j, c40, c41);
    store_row(split, i1 + 1u, j, c50, c51);
    store_row(split, i1 + 2u, j, c60, c61);
    store_row(split, i1 + 3u, j, c70, c71);
}

// out = (out if accumulating) + the sum of the `splits` partial products, one vec4 per
// invocation (x, then y, as the one-dimensional kernels count them).
@compute @workgroup_size(256, 1, 1)
fn sum_splits(
    @builtin(global_invocation_id) id: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let index = id.x + id.y * groups.x * 256u;
    let len = params.m * params.n / 4u;
    if index >= len {
        return;
    }
    var sum = vec4<f32>(0.0);
    if (params.flags & 4u) != 0u {
        sum = out[index];
    }
    for (var split = 0u; split < params.splits; split++) {
        sum += partials[split * len + index];
    }
    out[index] = sum;
}

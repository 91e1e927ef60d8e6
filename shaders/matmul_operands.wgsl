// Shared by matmul.wgsl and matmul_wide.wgsl (prepended to each when it is compiled): the
// uniform block and bindings of a product `out = op(a) · op(b)`, the reads of `op(a)` and
// `op(b)` that see through the transposes and give zeros outside the matrices, and where each
// invocation puts what it reads in the workgroup's tiles.

struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    // bit 0: a transposed, bit 1: b transposed, bit 2: accumulate into `out`.
    flags: u32,
}

// Invocations per side of the workgroup, and the k step.
const SIDE: u32 = 16u;

@group(0) @binding(0) var<uniform> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// op(a)[i, p], or 0 outside.
fn load_a(i: u32, p: u32) -> f32 {
    if i >= params.m || p >= params.k {
        return 0.0;
    }
    if (params.flags & 1u) != 0u {
        return a[p * params.m + i];
    }
    return a[i * params.k + p];
}

// op(b)[p, j], or 0 outside.
fn load_b(p: u32, j: u32) -> f32 {
    if p >= params.k || j >= params.n {
        return 0.0;
    }
    if (params.flags & 2u) != 0u {
        return b[j * params.k + p];
    }
    return b[p * params.n + j];
}

// Where invocation (x, y) of a 16x16 workgroup puts its `r`-th value of the op(a) tile: (row i,
// depth p) within the tile, chosen so that neighbouring invocations (x) read neighbouring
// addresses whichever way `a` is stored.
fn a_tile_slot(x: u32, y: u32, r: u32) -> vec2<u32> {
    if (params.flags & 1u) != 0u {
        // Stored [k, m]: consecutive rows i are consecutive addresses.
        return vec2<u32>(x + SIDE * r, y);
    }
    return vec2<u32>(y + SIDE * r, x);
}

// The same for the op(b) tile: (depth p, column j) within the tile.
fn b_tile_slot(x: u32, y: u32, r: u32) -> vec2<u32> {
    if (params.flags & 2u) != 0u {
        // Stored [n, k]: consecutive p are consecutive addresses.
        return vec2<u32>(x, y + SIDE * r);
    }
    return vec2<u32>(y, x + SIDE * r);
}

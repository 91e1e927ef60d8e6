// Shared by matmul.wgsl and matmul_wide.wgsl (prepended to each when it is compiled): the
// uniform block and bindings of a product `out = op(a) · op(b)`, and the reads of `op(a)` and
// `op(b)` that see through the transposes and give zeros outside the matrices.

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

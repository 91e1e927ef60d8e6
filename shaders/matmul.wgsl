// Matrix multiplication `out = op(a) · op(b)` (or `out += ...`), tiled in workgroup memory.
//
// CPU twin: `engine::gemm::matmul`. `op(a)` is [m, k] and `op(b)` is [k, n]; each operand is stored
// row-major and read transposed when its flag is set, so backprop's `dW = xᵀ · dy` and
// `dx = dy · Wᵀ` need no transposed copy. One invocation computes one output element; a 16x16
// workgroup walks the k dimension one 16x16 tile of each operand at a time. Out-of-range threads
// load zeros and skip the store but still reach every barrier (barriers need uniform control flow).

struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    // bit 0: a transposed, bit 1: b transposed, bit 2: accumulate into `out`.
    flags: u32,
}

const TILE: u32 = 16u;

@group(0) @binding(0) var<uniform> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// tile_a[i][p] = op(a)[row0 + i, p0 + p]; tile_b[p][j] = op(b)[p0 + p, col0 + j].
var<workgroup> tile_a: array<array<f32, 16>, 16>;
var<workgroup> tile_b: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16, 1)
fn matmul(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
) {
    let m = params.m;
    let n = params.n;
    let k = params.k;
    let a_transposed = (params.flags & 1u) != 0u;
    let b_transposed = (params.flags & 2u) != 0u;
    let accumulate = (params.flags & 4u) != 0u;
    let row0 = group.y * TILE;
    let col0 = group.x * TILE;
    let lx = local.x;
    let ly = local.y;

    var sum = 0.0;
    let tiles = (k + TILE - 1u) / TILE;
    for (var t = 0u; t < tiles; t++) {
        let p0 = t * TILE;
        // Neighbouring invocations (lx) read neighbouring addresses in both layouts.
        if a_transposed {
            // Stored [k, m]: op(a)[i, p] = a[p * m + i].
            let i = row0 + lx;
            let p = p0 + ly;
            var value = 0.0;
            if i < m && p < k {
                value = a[p * m + i];
            }
            tile_a[lx][ly] = value;
        } else {
            // Stored [m, k]: op(a)[i, p] = a[i * k + p].
            let i = row0 + ly;
            let p = p0 + lx;
            var value = 0.0;
            if i < m && p < k {
                value = a[i * k + p];
            }
            tile_a[ly][lx] = value;
        }
        if b_transposed {
            // Stored [n, k]: op(b)[p, j] = b[j * k + p].
            let p = p0 + lx;
            let j = col0 + ly;
            var value = 0.0;
            if p < k && j < n {
                value = b[j * k + p];
            }
            tile_b[lx][ly] = value;
        } else {
            // Stored [k, n]: op(b)[p, j] = b[p * n + j].
            let p = p0 + ly;
            let j = col0 + lx;
            var value = 0.0;
            if p < k && j < n {
                value = b[p * n + j];
            }
            tile_b[ly][lx] = value;
        }
        workgroupBarrier();
        for (var p = 0u; p < TILE; p++) {
            sum = fma(tile_a[ly][p], tile_b[p][lx], sum);
        }
        workgroupBarrier();
    }

    let i = row0 + ly;
    let j = col0 + lx;
    if i < m && j < n {
        let index = i * n + j;
        if accumulate {
            out[index] = out[index] + sum;
        } else {
            out[index] = sum;
        }
    }
}

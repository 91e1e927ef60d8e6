// Tokens as numbers, forward and backward (CPU twin: `engine::ops::tokens`, the same operations
// in the same order): `embedding` copies each id's row of a table, `embedding_backward` adds the
// rows' gradients back into the table's, and `argmax` picks each row's most likely token.
//
// The ids are floats, as the engine reads them: an id that is not a whole number in
// 0..tokens reads a row of zeros and adds nothing back.

struct TokenParams {
    // Rows of ids (embedding) or of scores (argmax).
    rows: u32,
    // Rows of the table.
    tokens: u32,
    // Values of a table row (embedding) or scores of a row (argmax).
    width: u32,
    _pad: u32,
}

const WORKGROUP: u32 = 256u;

@group(0) @binding(0) var<uniform> params: TokenParams;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<f32>;
@group(0) @binding(3) var<storage, read> upstream: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// Dispatches wider than 65535 workgroups spill into the y dimension.
fn element_index(id: vec3<u32>, groups: vec3<u32>) -> u32 {
    return id.x + id.y * groups.x * WORKGROUP;
}

// Whether `id` names a row of the table (`tokens::row_of`): whole, not negative, in range.
fn names_a_row(id: f32) -> bool {
    return id >= 0.0 && fract(id) == 0.0 && id < f32(params.tokens);
}

// out[r, c] = table[ids[r], c], or 0 where ids[r] names no row. One invocation per output value.
@compute @workgroup_size(256, 1, 1)
fn embedding(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.rows * params.width {
        let row = i / params.width;
        let column = i % params.width;
        let token = ids[row];
        if names_a_row(token) {
            out[i] = table[u32(token) * params.width + column];
        } else {
            out[i] = 0.0;
        }
    }
}

// out[t, c] += upstream[r, c] for every row r whose id is t, the rows in order. One invocation
// per (table row, column) reads every id: nothing else writes its value, so no two invocations
// race and the sum is the CPU's, in the CPU's order (WGSL has no float atomics to scatter with).
@compute @workgroup_size(256, 1, 1)
fn embedding_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.tokens * params.width {
        let token = i / params.width;
        let column = i % params.width;
        var sum = out[i];
        for (var row = 0u; row < params.rows; row++) {
            let named = ids[row];
            if names_a_row(named) && u32(named) == token {
                sum = sum + upstream[row * params.width + column];
            }
        }
        out[i] = sum;
    }
}

// out[r] = the index of the first largest of row r of `table` (the scores). One invocation per
// row.
@compute @workgroup_size(256, 1, 1)
fn argmax(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = element_index(id, groups);
    if row < params.rows {
        let start = row * params.width;
        var best = 0u;
        for (var k = 1u; k < params.width; k++) {
            if table[start + k] > table[start + best] {
                best = k;
            }
        }
        out[row] = f32(best);
    }
}

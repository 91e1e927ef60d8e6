// Training-loop kernels: batch gathering, the weight penalty, the epoch-loss bookkeeping kept on
// the GPU, and the softmax of the shown prediction (and of an attention's scores, with its
// gradient).
//
// CPU twins: `engine::trainer` (`gather_rows`; the epoch loss = sum over batches of
// (batch loss + penalty) * batch rows, divided by the rows), `Regularization::penalty`
// (L1 = rate * sum |w|, L2 = rate / 2 * sum w^2, weights only) and `engine::softmax::softmax_rows`.
// Nothing here is read back until the trainer is asked for its losses.

struct TrainingParams {
    // gather_rows: rows and columns of the batch, and where in the epoch's order it starts.
    // weight_penalty: `len` weights, `kind` 1 = L1 / 2 = L2, `accumulate` 0 = first tensor.
    // accumulate_loss: `weight` = rows of the batch. finish_epoch: `slot` and `weight` = 1 / rows.
    // softmax_rows, softmax_rows_backward: rows and columns.
    len: u32,
    cols: u32,
    offset: u32,
    kind: u32,
    accumulate: u32,
    slot: u32,
    weight: f32,
    rate: f32,
}

const WORKGROUP: u32 = 256u;

@group(0) @binding(0) var<uniform> params: TrainingParams;
@group(0) @binding(1) var<storage, read> order: array<u32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> total: array<f32>;

var<workgroup> partial: array<f32, 256>;

fn element_index(id: vec3<u32>, groups: vec3<u32>) -> u32 {
    return id.x + id.y * groups.x * WORKGROUP;
}

// out[r, c] = a[order[offset + r], c]: the batch's rows of the whole training set, in the
// shuffled order the CPU trainer uses (`len` = rows * cols of the batch).
@compute @workgroup_size(256, 1, 1)
fn gather_rows(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = element_index(id, groups);
    if i < params.len {
        let row = i / params.cols;
        let col = i - row * params.cols;
        out[i] = a[order[params.offset + row] * params.cols + col];
    }
}

// out[0] (+)= rate * sum |w| (L1) or rate / 2 * sum w^2 (L2), in one workgroup.
@compute @workgroup_size(256, 1, 1)
fn weight_penalty(@builtin(local_invocation_index) local: u32) {
    var sum = 0.0;
    for (var i = local; i < params.len; i += WORKGROUP) {
        let w = a[i];
        if params.kind == 1u {
            sum += abs(w);
        } else {
            sum += 0.5 * w * w;
        }
    }
    partial[local] = sum;
    workgroupBarrier();
    for (var width = WORKGROUP / 2u; width > 0u; width /= 2u) {
        if local < width {
            partial[local] += partial[local + width];
        }
        workgroupBarrier();
    }
    if local == 0u {
        let penalty = params.rate * partial[0];
        if params.accumulate == 0u {
            out[0] = penalty;
        } else {
            out[0] = out[0] + penalty;
        }
    }
}

// total[0] += rows * (batch loss a[0] + penalty b[0]): `Trainer::train_batches`' running sum.
@compute @workgroup_size(1, 1, 1)
fn accumulate_loss() {
    total[0] = total[0] + params.weight * (a[0] + b[0]);
}

// out[slot] = total[0] / rows, then total[0] = 0: one epoch's mean loss, kept for the readback.
@compute @workgroup_size(1, 1, 1)
fn finish_epoch() {
    out[params.slot] = total[0] * params.weight;
    total[0] = 0.0;
}

// out = softmax(a) row by row, stable (`engine::softmax::softmax_rows`, same operations).
@compute @workgroup_size(256, 1, 1)
fn softmax_rows(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = element_index(id, groups);
    if row < params.len {
        let start = row * params.cols;
        var biggest = a[start];
        for (var j = 1u; j < params.cols; j++) {
            biggest = max(biggest, a[start + j]);
        }
        var sum = 0.0;
        for (var j = 0u; j < params.cols; j++) {
            let e = exp(a[start + j] - biggest);
            out[start + j] = e;
            sum += e;
        }
        let inverse = 1.0 / sum;
        for (var j = 0u; j < params.cols; j++) {
            out[start + j] = out[start + j] * inverse;
        }
    }
}

// out += a · (b - Σ_j b · a) row by row: the gradient through a softmax from its output a and the
// output's gradient b (`engine::softmax::softmax_rows_backward`, same operations). An attention's
// weights are a softmax of its scores.
@compute @workgroup_size(256, 1, 1)
fn softmax_rows_backward(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let row = element_index(id, groups);
    if row < params.len {
        let start = row * params.cols;
        var dot = 0.0;
        for (var j = 0u; j < params.cols; j++) {
            dot += a[start + j] * b[start + j];
        }
        for (var j = 0u; j < params.cols; j++) {
            out[start + j] = out[start + j] + a[start + j] * (b[start + j] - dot);
        }
    }
}

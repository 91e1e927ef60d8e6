//! The encoder-decoder's kernels' cases (`src/gpu/token_kernels.rs`,
//! `src/gpu/attention_kernels.rs`, the softmax gradient in `src/gpu/training_kernels.rs`):
//! embedding lookups with repeated and out-of-table ids and their scatter-added gradient, argmax
//! with ties, each attention op forward and backward, and a whole attention step (scores, mask
//! over padding, softmax, mix) forward and backward, each against the CPU engine's own ops.
//!
//! The error of a case is `max |gpu - cpu| / max |cpu|` over every compared value.

use neural_playground::engine::{Op, Params, SeededRng, Tape, Tensor};
use neural_playground::gpu::{GpuContext, GpuError, GpuTensor, Kernels, TrainingKernels};

use super::kernel_cases::on_the_engine;
use super::{Gpu, Report, compare, parameter, random, weighted_sum_backward};

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub enum Case {
    /// `Op::Embedding` of `rows` ids into a `[tokens, width]` table, some ids naming no row:
    /// the value and the table's gradient.
    Embedding {
        rows: usize,
        tokens: usize,
        width: usize,
    },
    /// `Op::ArgMax` of `[rows, k]` scores, some rows with ties for the largest.
    ArgMax {
        rows: usize,
        k: usize,
    },
    /// `Op::StepScores`, `Op::StepMix`, `Op::AddToSteps` on `n` sequences of `steps` steps of
    /// `k` values: the value and both inputs' gradients.
    StepScores {
        n: usize,
        steps: usize,
        k: usize,
    },
    StepMix {
        n: usize,
        steps: usize,
        k: usize,
    },
    AddToSteps {
        n: usize,
        steps: usize,
        k: usize,
    },
    /// Dot-product attention as the seq2seq layer records it: scores, plus the mask over
    /// padding (`masked`: sequences of random lengths), softmax, mix; forward, then backward of
    /// `sum(context * r)`: the weights, the context and the keys' and query's gradients.
    Attend {
        n: usize,
        steps: usize,
        k: usize,
        masked: bool,
    },
}

pub fn table() -> Vec<Case> {
    let mut cases = Vec::new();
    // One id; a few ids with every kind of id that names no row; many ids per row of a small
    // table; the most tokens a table holds.
    for (rows, tokens, width) in [(1, 1, 1), (9, 5, 3), (300, 13, 17), (64, 1024, 16)] {
        cases.push(Case::Embedding {
            rows,
            tokens,
            width,
        });
    }
    for (rows, k) in [(1, 1), (33, 7), (300, 1030)] {
        cases.push(Case::ArgMax { rows, k });
    }
    for (n, steps, k) in [(1, 1, 1), (3, 4, 5), (64, 12, 33)] {
        cases.push(Case::StepScores { n, steps, k });
        cases.push(Case::StepMix { n, steps, k });
        cases.push(Case::AddToSteps { n, steps, k });
    }
    for (n, steps, k, masked) in [(3, 4, 5, false), (3, 4, 5, true), (64, 9, 16, true)] {
        cases.push(Case::Attend {
            n,
            steps,
            k,
            masked,
        });
    }
    cases
}

/// The two families the cases use: the dense one (tokens, attention, sums) and the training
/// one (softmax and its gradient).
pub struct SequenceKernels {
    dense: Kernels,
    training: TrainingKernels,
}

/// Runs every case of the table on `context` and panics listing those over the tolerance.
pub async fn check(context: GpuContext) {
    let dense = Kernels::new(&context).await.expect("the kernels compile");
    let training = TrainingKernels::new(&context)
        .await
        .expect("the training kernels compile");
    let gpu = Gpu {
        context,
        kernels: SequenceKernels { dense, training },
    };
    let mut report = Report::new("GPU token and attention parity", &gpu.context, &["error"]);
    for (index, case) in table().into_iter().enumerate() {
        let mut rng = SeededRng::new(3000 + index as u64);
        let outcome = run(&gpu, case, &mut rng).await;
        report.case(format!("{case:?}"), outcome.map(|error| vec![error]));
    }
    report.finish();
}

async fn run(gpu: &Gpu<SequenceKernels>, case: Case, rng: &mut SeededRng) -> Result<f64, GpuError> {
    match case {
        Case::Embedding {
            rows,
            tokens,
            width,
        } => embedding_case(gpu, rng, rows, tokens, width).await,
        Case::ArgMax { rows, k } => {
            let mut scores = random(rng, &[rows, k], -1.0, 1.0);
            // Ties: the first of equals wins on both engines.
            for row in scores.data_mut().chunks_exact_mut(k).step_by(3) {
                let largest = row.iter().copied().fold(f32::MIN, f32::max);
                let last = row.len() - 1;
                row[last] = largest;
            }
            let (value, _) = on_the_engine(Op::ArgMax, &[&scores], &Tensor::zeros(&[rows, 1]), rng);
            let out = gpu.zeros(&[rows, 1]);
            let mut commands = gpu.kernels.dense.begin(&gpu.context);
            commands.argmax(&gpu.upload(&scores), &out)?;
            commands.submit();
            Ok(compare(&gpu.read(&out).await?, &value))
        }
        Case::StepScores { n, steps, k } => {
            let (keys, query) = (
                random(rng, &[n, steps, k], -1.0, 1.0),
                random(rng, &[n, k], -1.0, 1.0),
            );
            let upstream = random(rng, &[n, steps], -1.0, 1.0);
            let (value, grads) = on_the_engine(Op::StepScores, &[&keys, &query], &upstream, rng);
            let (gpu_keys, gpu_query) = (gpu.upload(&keys), gpu.upload(&query));
            let (out, gpu_upstream) = (gpu.zeros(&[n, steps]), gpu.upload(&upstream));
            let gpu_grads = [gpu.upload(&grads[0].0), gpu.upload(&grads[1].0)];
            let mut commands = gpu.kernels.dense.begin(&gpu.context);
            commands.step_scores(&gpu_keys, &gpu_query, &out)?;
            commands.step_scores_backward_keys(&gpu_query, &gpu_upstream, &gpu_grads[0])?;
            commands.step_scores_backward_query(&gpu_keys, &gpu_upstream, &gpu_grads[1])?;
            commands.submit();
            worst(
                gpu,
                [
                    (&out, &value),
                    (&gpu_grads[0], &grads[0].1),
                    (&gpu_grads[1], &grads[1].1),
                ],
            )
            .await
        }
        Case::StepMix { n, steps, k } => {
            let weights = random(rng, &[n, steps], 0.0, 1.0);
            let values = random(rng, &[n, steps, k], -1.0, 1.0);
            let upstream = random(rng, &[n, k], -1.0, 1.0);
            let (value, grads) = on_the_engine(Op::StepMix, &[&weights, &values], &upstream, rng);
            let (gpu_weights, gpu_values) = (gpu.upload(&weights), gpu.upload(&values));
            let (out, gpu_upstream) = (gpu.zeros(&[n, k]), gpu.upload(&upstream));
            let gpu_grads = [gpu.upload(&grads[0].0), gpu.upload(&grads[1].0)];
            let mut commands = gpu.kernels.dense.begin(&gpu.context);
            commands.step_mix(&gpu_weights, &gpu_values, &out)?;
            commands.step_mix_backward_weights(&gpu_values, &gpu_upstream, &gpu_grads[0])?;
            commands.step_mix_backward_values(&gpu_weights, &gpu_upstream, &gpu_grads[1])?;
            commands.submit();
            worst(
                gpu,
                [
                    (&out, &value),
                    (&gpu_grads[0], &grads[0].1),
                    (&gpu_grads[1], &grads[1].1),
                ],
            )
            .await
        }
        Case::AddToSteps { n, steps, k } => {
            let (sequences, x) = (
                random(rng, &[n, steps, k], -1.0, 1.0),
                random(rng, &[n, k], -1.0, 1.0),
            );
            let upstream = random(rng, &[n, steps, k], -1.0, 1.0);
            let (value, grads) = on_the_engine(Op::AddToSteps, &[&sequences, &x], &upstream, rng);
            let out = gpu.zeros(&[n, steps, k]);
            let gpu_upstream = gpu.upload(&upstream);
            let gpu_grads = [gpu.upload(&grads[0].0), gpu.upload(&grads[1].0)];
            let mut commands = gpu.kernels.dense.begin(&gpu.context);
            commands.add_to_steps(&gpu.upload(&sequences), &gpu.upload(&x), &out)?;
            commands.accumulate(&gpu_upstream, &gpu_grads[0])?;
            commands.add_to_steps_backward_vector(&gpu_upstream, &gpu_grads[1])?;
            commands.submit();
            worst(
                gpu,
                [
                    (&out, &value),
                    (&gpu_grads[0], &grads[0].1),
                    (&gpu_grads[1], &grads[1].1),
                ],
            )
            .await
        }
        Case::Attend {
            n,
            steps,
            k,
            masked,
        } => attend_case(gpu, rng, n, steps, k, masked).await,
    }
}

/// The largest error of the pairs (GPU tensor, engine's tensor).
async fn worst<const N: usize>(
    gpu: &Gpu<SequenceKernels>,
    pairs: [(&GpuTensor, &Tensor); N],
) -> Result<f64, GpuError> {
    let mut worst: f64 = 0.0;
    for (on_gpu, expected) in pairs {
        worst = worst.max(compare(&gpu.read(on_gpu).await?, expected));
    }
    Ok(worst)
}

/// Ids of rows of the table, repeated, and among them (where there are rows enough) every kind
/// of id that names none: negative, just past the table, far past it, and not whole.
async fn embedding_case(
    gpu: &Gpu<SequenceKernels>,
    rng: &mut SeededRng,
    rows: usize,
    tokens: usize,
    width: usize,
) -> Result<f64, GpuError> {
    let table = random(rng, &[tokens, width], -1.0, 1.0);
    let outside = [-1.0, tokens as f32, tokens as f32 + 7.0, 0.5, -2.5];
    let ids: Vec<f32> = (0..rows)
        .map(|row| match outside.get(row) {
            Some(&id) if rows > outside.len() => id,
            _ => rng.below(tokens) as f32,
        })
        .collect();
    let ids = Tensor::from_vec(&[rows, 1], ids).unwrap();
    let upstream = random(rng, &[rows, width], -1.0, 1.0);
    let (value, grads) = on_the_engine(Op::Embedding, &[&table, &ids], &upstream, rng);
    let (gpu_table, gpu_ids) = (gpu.upload(&table), gpu.upload(&ids));
    let (out, grad) = (gpu.zeros(&[rows, width]), gpu.upload(&grads[0].0));
    let mut commands = gpu.kernels.dense.begin(&gpu.context);
    commands.embedding(&gpu_table, &gpu_ids, &out)?;
    commands.embedding_backward(&gpu_ids, &gpu.upload(&upstream), &grad)?;
    commands.submit();
    worst(gpu, [(&out, &value), (&grad, &grads[0].1)]).await
}

/// The seq2seq layer's `attend` for dot-product attention, on the engine's tape and kernel by
/// kernel on the GPU (the add of the mask sends its gradient on unchanged).
async fn attend_case(
    gpu: &Gpu<SequenceKernels>,
    rng: &mut SeededRng,
    n: usize,
    steps: usize,
    k: usize,
    masked: bool,
) -> Result<f64, GpuError> {
    let keys = random(rng, &[n, steps, k], -2.0, 2.0);
    let query = random(rng, &[n, k], -2.0, 2.0);
    // `seq2seq::memory`'s mask: 0 on a sequence's steps, -1e9 on the padding after them.
    let mut mask = Tensor::zeros(&[n, steps]);
    if masked {
        for row in mask.data_mut().chunks_exact_mut(steps) {
            let length = 1 + rng.below(steps);
            row[length..].fill(-1e9);
        }
    }
    let mut params = Params::new();
    let mut tape = Tape::new();
    let (keys_id, keys_node) = parameter(&mut tape, &mut params, &keys);
    let (query_id, query_node) = parameter(&mut tape, &mut params, &query);
    let mask_node = tape.input(&[n, steps]);
    let scores = tape.step_scores(keys_node, query_node).unwrap();
    let masked_scores = tape.add(scores, mask_node).unwrap();
    let weights = tape.softmax(masked_scores).unwrap();
    let context = tape.step_mix(weights, keys_node).unwrap();
    tape.set_input(mask_node, &mask).unwrap();
    let r = weighted_sum_backward(&mut tape, &mut params, context, rng);

    let (gpu_keys, gpu_query, gpu_mask) =
        (gpu.upload(&keys), gpu.upload(&query), gpu.upload(&mask));
    let [
        gpu_scores,
        gpu_masked,
        gpu_weights,
        grad_weights,
        grad_scores,
    ] = std::array::from_fn(|_| gpu.zeros(&[n, steps]));
    let (gpu_context, gpu_r) = (gpu.zeros(&[n, k]), gpu.upload(&r));
    let (grad_keys, grad_query) = (gpu.zeros(&[n, steps, k]), gpu.zeros(&[n, k]));
    let mut commands = gpu.kernels.dense.begin(&gpu.context);
    commands.step_scores(&gpu_keys, &gpu_query, &gpu_scores)?;
    commands.add(&gpu_scores, &gpu_mask, &gpu_masked)?;
    let mut training = gpu
        .kernels
        .training
        .resume(&gpu.context, commands.into_encoder());
    training.softmax_rows(&gpu_masked, &gpu_weights)?;
    let mut commands = gpu
        .kernels
        .dense
        .resume(&gpu.context, training.into_encoder());
    commands.step_mix(&gpu_weights, &gpu_keys, &gpu_context)?;
    commands.step_mix_backward_weights(&gpu_keys, &gpu_r, &grad_weights)?;
    commands.step_mix_backward_values(&gpu_weights, &gpu_r, &grad_keys)?;
    let mut training = gpu
        .kernels
        .training
        .resume(&gpu.context, commands.into_encoder());
    training.softmax_rows_backward(&gpu_weights, &grad_weights, &grad_scores)?;
    let mut commands = gpu
        .kernels
        .dense
        .resume(&gpu.context, training.into_encoder());
    commands.step_scores_backward_keys(&gpu_query, &grad_scores, &grad_keys)?;
    commands.step_scores_backward_query(&gpu_keys, &grad_scores, &grad_query)?;
    commands.submit();
    let read_weights = gpu.read(&gpu_weights).await?;
    // Padding gets no weight at all, as on the CPU.
    let padding_weighted = read_weights
        .data()
        .iter()
        .zip(mask.data())
        .any(|(&w, &m)| m != 0.0 && w != 0.0);
    if padding_weighted {
        return Ok(f64::INFINITY);
    }
    worst(
        gpu,
        [
            (&gpu_weights, tape.value(weights)),
            (&gpu_context, tape.value(context)),
            (&grad_keys, params.grad(keys_id)),
            (&grad_query, params.grad(query_id)),
        ],
    )
    .await
}

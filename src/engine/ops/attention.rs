//! What attention is made of, for a batch of sequences `[n, steps, k]` and one vector per
//! sequence `[n, k]`:
//! - `step_scores` (`Op::StepScores`): inputs `[keys [n, steps, k], query [n, k]]`, output
//!   `[n, steps]`, the dot product of each step's key with its sequence's query (Luong's
//!   dot-product score);
//! - `step_mix` (`Op::StepMix`): inputs `[weights [n, steps], values [n, steps, k]]`, output
//!   `[n, k]`, each sequence's steps summed with its weights (the context vector, once the
//!   weights are a softmax of the scores);
//! - `add_to_steps` (`Op::AddToSteps`): inputs `[steps [n, steps, k], x [n, k]]`, output
//!   `[n, steps, k]`, `x` added to every step of its sequence (Bahdanau's additive score adds
//!   the query's projection to every key's).
//!
//! Each backward pass is the forward's products the other way round. GPU twins:
//! `shaders/attention.wgsl` (`src/gpu/attention_kernels.rs`).

use super::OutputShape;
use crate::engine::error::EngineError;
use crate::engine::tensor::Tensor;

/// `(n, steps, k)` when `sequences` is `[n, steps, k]` and `vectors` is `[n, k]`.
fn sequences_and_vectors(
    op: &'static str,
    sequences: &[usize],
    vectors: &[usize],
) -> Result<(usize, usize, usize), EngineError> {
    match (sequences, vectors) {
        (&[n, steps, k], &[rows, width]) if rows == n && width == k => Ok((n, steps, k)),
        _ => Err(EngineError::shape(
            op,
            "sequences [n, steps, k] and one vector [n, k] per sequence",
            format!("{sequences:?} and {vectors:?}"),
        )),
    }
}

pub fn step_scores_shape(keys: &[usize], query: &[usize]) -> Result<OutputShape, EngineError> {
    let (n, steps, _) = sequences_and_vectors("step_scores", keys, query)?;
    Ok(OutputShape::Matrix(n, steps))
}

pub fn step_mix_shape(weights: &[usize], values: &[usize]) -> Result<OutputShape, EngineError> {
    match (weights, values) {
        (&[n, steps], &[rows, length, k]) if n == rows && steps == length => {
            Ok(OutputShape::Matrix(n, k))
        }
        _ => Err(EngineError::shape(
            "step_mix",
            "weights [n, steps] and values [n, steps, k]",
            format!("{weights:?} and {values:?}"),
        )),
    }
}

pub fn add_to_steps_shape(steps: &[usize], x: &[usize]) -> Result<OutputShape, EngineError> {
    sequences_and_vectors("add_to_steps", steps, x)?;
    Ok(OutputShape::SameAs(0))
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

/// `out[b, s] = keys[b, s] · query[b]` for each sequence `b` and step `s`.
pub fn step_scores_forward(keys: &Tensor, query: &Tensor, out: &mut Tensor) {
    let k = query.cols();
    let steps = keys.shape()[1];
    let sequences = keys.data().chunks_exact(steps * k);
    let scores = out.data_mut().chunks_exact_mut(steps);
    for ((keys, query), scores) in sequences.zip(query.data().chunks_exact(k)).zip(scores) {
        for (score, key) in scores.iter_mut().zip(keys.chunks_exact(k)) {
            *score = dot(key, query);
        }
    }
}

/// Slot 0 (the keys): `g[b, s] · query[b]`; slot 1 (the query): `Σ_s g[b, s] · keys[b, s]`.
pub fn step_scores_backward(
    slot: usize,
    keys: &Tensor,
    query: &Tensor,
    upstream: &Tensor,
    grad: &mut Tensor,
) {
    let k = query.cols();
    let steps = keys.shape()[1];
    let sequences = keys
        .data()
        .chunks_exact(steps * k)
        .zip(query.data().chunks_exact(k));
    let upstream = upstream.data().chunks_exact(steps);
    match slot {
        0 => {
            let grads = grad.data_mut().chunks_exact_mut(steps * k);
            for (((_, query), upstream), grads) in sequences.zip(upstream).zip(grads) {
                for (grad, &g) in grads.chunks_exact_mut(k).zip(upstream) {
                    grad.iter_mut().zip(query).for_each(|(d, q)| *d += g * q);
                }
            }
        }
        _ => {
            let grads = grad.data_mut().chunks_exact_mut(k);
            for (((keys, _), upstream), grad) in sequences.zip(upstream).zip(grads) {
                for (key, &g) in keys.chunks_exact(k).zip(upstream) {
                    grad.iter_mut().zip(key).for_each(|(d, v)| *d += g * v);
                }
            }
        }
    }
}

pub fn step_mix_forward(weights: &Tensor, values: &Tensor, out: &mut Tensor) {
    let k = out.cols();
    let steps = weights.cols();
    let sequences = values.data().chunks_exact(steps * k);
    let rows = out.data_mut().chunks_exact_mut(k);
    for ((values, weights), row) in sequences.zip(weights.data().chunks_exact(steps)).zip(rows) {
        row.fill(0.0);
        for (value, &w) in values.chunks_exact(k).zip(weights) {
            row.iter_mut().zip(value).for_each(|(o, v)| *o += w * v);
        }
    }
}

/// Slot 0 (the weights): `g[b] · values[b, s]`; slot 1 (the values): `weights[b, s] · g[b]`.
pub fn step_mix_backward(
    slot: usize,
    weights: &Tensor,
    values: &Tensor,
    upstream: &Tensor,
    grad: &mut Tensor,
) {
    let k = upstream.cols();
    let steps = weights.cols();
    let sequences = values
        .data()
        .chunks_exact(steps * k)
        .zip(weights.data().chunks_exact(steps))
        .zip(upstream.data().chunks_exact(k));
    match slot {
        0 => {
            let grads = grad.data_mut().chunks_exact_mut(steps);
            for (((values, _), g), grads) in sequences.zip(grads) {
                for (d, value) in grads.iter_mut().zip(values.chunks_exact(k)) {
                    *d += dot(g, value);
                }
            }
        }
        _ => {
            let grads = grad.data_mut().chunks_exact_mut(steps * k);
            for (((_, weights), g), grads) in sequences.zip(grads) {
                for (grad, &w) in grads.chunks_exact_mut(k).zip(weights) {
                    grad.iter_mut().zip(g).for_each(|(d, u)| *d += w * u);
                }
            }
        }
    }
}

pub fn add_to_steps_forward(steps: &Tensor, x: &Tensor, out: &mut Tensor) {
    let k = x.cols();
    let length = steps.shape()[1];
    let rows = out.data_mut().chunks_exact_mut(length * k);
    let sources = steps
        .data()
        .chunks_exact(length * k)
        .zip(x.data().chunks_exact(k));
    for (row, (sequence, x)) in rows.zip(sources) {
        for (out, step) in row.chunks_exact_mut(k).zip(sequence.chunks_exact(k)) {
            for ((o, s), v) in out.iter_mut().zip(step).zip(x) {
                *o = s + v;
            }
        }
    }
}

/// Slot 0: the gradient itself; slot 1: summed over the steps of each sequence.
pub fn add_to_steps_backward(slot: usize, upstream: &Tensor, grad: &mut Tensor) {
    match slot {
        0 => {
            let pairs = grad.data_mut().iter_mut().zip(upstream.data());
            pairs.for_each(|(d, u)| *d += u);
        }
        _ => {
            let k = grad.cols();
            let length = upstream.shape()[1];
            let sequences = upstream.data().chunks_exact(length * k);
            for (grad, sequence) in grad.data_mut().chunks_exact_mut(k).zip(sequences) {
                for step in sequence.chunks_exact(k) {
                    grad.iter_mut().zip(step).for_each(|(d, u)| *d += u);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(shape: &[usize], data: &[f32]) -> Tensor {
        Tensor::from_vec(shape, data.to_vec()).unwrap()
    }

    #[test]
    fn scores_and_mixes_work_sequence_by_sequence() {
        // Two sequences of two steps of two values.
        let keys = tensor(&[2, 2, 2], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, -1.0]);
        let query = tensor(&[2, 2], &[3.0, 4.0, 1.0, 2.0]);
        let mut scores = Tensor::zeros(&[2, 2]);
        step_scores_forward(&keys, &query, &mut scores);
        assert_eq!(scores.data(), &[3.0, 4.0, 3.0, 0.0]);
        let weights = tensor(&[2, 2], &[0.25, 0.75, 1.0, 0.0]);
        let mut mixed = Tensor::zeros(&[2, 2]);
        step_mix_forward(&weights, &keys, &mut mixed);
        assert_eq!(mixed.data(), &[0.25, 0.75, 1.0, 1.0]);
        let mut added = Tensor::zeros(&[2, 2, 2]);
        add_to_steps_forward(&keys, &query, &mut added);
        assert_eq!(added.data(), &[4.0, 4.0, 3.0, 5.0, 2.0, 3.0, 3.0, 1.0]);
        assert!(step_scores_shape(&[2, 2, 2], &[3, 2]).is_err());
        assert!(step_mix_shape(&[2, 3], &[2, 2, 2]).is_err());
    }
}

//! Tokens as numbers: `embedding` looks each token's row up in a learned table (PyTorch's
//! `nn.Embedding`), and `argmax` picks the most likely token of each row of scores (what a
//! decoder feeds back to itself when it writes greedily).
//!
//! - `embedding` (`Op::Embedding`): inputs `[table [tokens, size], ids [rows, 1]]`, output
//!   `[rows, size]`, row `r` a copy of the table's row `ids[r]`. Its gradient adds each output
//!   row's gradient into the table row it came from (a scatter-add); the ids are data and take
//!   none. An id that is not a whole number in `0..tokens` (a reader refuses such input before
//!   it gets here) reads a row of zeros and adds nothing back.
//! - `argmax` (`Op::ArgMax`): inputs `[scores [rows, k]]`, output `[rows, 1]`, the index of each
//!   row's largest value (the first of equals); a choice, through which no gradient flows.
//!
//! GPU twins: `shaders/tokens.wgsl` (`src/gpu/token_kernels.rs`).

use super::OutputShape;
use crate::engine::error::EngineError;
use crate::engine::tensor::Tensor;

pub fn embedding_shape(table: &[usize], ids: &[usize]) -> Result<OutputShape, EngineError> {
    match (table, ids) {
        (&[tokens, size], &[rows, 1]) if tokens > 0 && size > 0 => {
            Ok(OutputShape::Matrix(rows, size))
        }
        _ => Err(EngineError::shape(
            "embedding",
            "a table [tokens, size] and one token id per row [rows, 1]",
            format!("a table {table:?} and ids {ids:?}"),
        )),
    }
}

/// The table row of `id`, if `id` names one of `tokens` rows.
fn row_of(id: f32, tokens: usize) -> Option<usize> {
    let whole = id >= 0.0 && id.fract() == 0.0 && (id as usize) < tokens;
    whole.then_some(id as usize)
}

pub fn embedding_forward(table: &Tensor, ids: &Tensor, out: &mut Tensor) {
    let (tokens, size) = (table.shape()[0], table.shape()[1]);
    let rows = out.data_mut().chunks_exact_mut(size);
    for (row, &id) in rows.zip(ids.data()) {
        match row_of(id, tokens) {
            Some(token) => row.copy_from_slice(&table.data()[token * size..(token + 1) * size]),
            None => row.fill(0.0),
        }
    }
}

/// Adds each row of `upstream` into the gradient of the table row its id named.
pub fn embedding_backward(ids: &Tensor, upstream: &Tensor, grad: &mut Tensor) {
    let (tokens, size) = (grad.shape()[0], grad.shape()[1]);
    let grad = grad.data_mut();
    for (row, &id) in upstream.data().chunks_exact(size).zip(ids.data()) {
        if let Some(token) = row_of(id, tokens) {
            let target = &mut grad[token * size..(token + 1) * size];
            target.iter_mut().zip(row).for_each(|(g, u)| *g += u);
        }
    }
}

pub fn argmax_shape(scores: &[usize]) -> Result<OutputShape, EngineError> {
    match *scores {
        [rows, k] if k > 0 => Ok(OutputShape::Matrix(rows, 1)),
        _ => Err(EngineError::shape(
            "argmax",
            "scores [rows, k] with at least one column",
            format!("{scores:?}"),
        )),
    }
}

pub fn argmax_forward(scores: &Tensor, out: &mut Tensor) {
    let width = scores.cols();
    for (row, best) in scores.data().chunks_exact(width).zip(out.data_mut()) {
        let mut index = 0;
        for (k, &value) in row.iter().enumerate() {
            if value > row[index] {
                index = k;
            }
        }
        *best = index as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_copies_rows_and_adds_their_gradients_back_by_token() {
        let table = Tensor::from_vec(&[3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        // Token 2, token 0, token 2 again, and an id no table row has.
        let ids = Tensor::from_vec(&[4, 1], vec![2.0, 0.0, 2.0, 7.0]).unwrap();
        let mut out = Tensor::zeros(&[4, 2]);
        embedding_forward(&table, &ids, &mut out);
        assert_eq!(out.data(), &[5.0, 6.0, 1.0, 2.0, 5.0, 6.0, 0.0, 0.0]);
        let upstream = Tensor::from_vec(&[4, 2], vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 9.0, 9.0]);
        let mut grad = Tensor::zeros(&[3, 2]);
        embedding_backward(&ids, &upstream.unwrap(), &mut grad);
        assert_eq!(grad.data(), &[2.0, 2.0, 0.0, 0.0, 4.0, 4.0]);
        assert!(embedding_shape(&[3, 2], &[4, 2]).is_err());
    }

    #[test]
    fn argmax_picks_the_first_largest_of_each_row() {
        let scores = Tensor::from_vec(
            &[3, 3],
            vec![0.1, 0.7, 0.2, 5.0, 5.0, 1.0, -3.0, -2.0, -9.0],
        );
        let mut out = Tensor::zeros(&[3, 1]);
        argmax_forward(&scores.unwrap(), &mut out);
        assert_eq!(out.data(), &[1.0, 0.0, 1.0]);
    }
}

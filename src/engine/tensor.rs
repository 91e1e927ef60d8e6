//! `Tensor`: a row-major block of `f32` with a shape, the one data type the engine computes on.

use serde::{Deserialize, Serialize};

use super::error::EngineError;

/// A row-major array of `f32` values.
///
/// The last dimension is contiguous: element `(r, c)` of a 2-D tensor lives at `data[r * cols + c]`.
/// A rank-0 tensor (shape `[]`) holds one value; a rank-1 tensor of length `n` is read as one row
/// of `n` columns (so a bias vector lines up with the columns of a batch).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

/// Number of elements of a tensor of this shape (1 for the scalar shape `[]`).
pub fn element_count(shape: &[usize]) -> usize {
    shape.iter().product()
}

impl Tensor {
    /// A tensor with no shape and no data, usable in `static`s (no allocation).
    pub const fn empty() -> Tensor {
        Tensor {
            shape: Vec::new(),
            data: Vec::new(),
        }
    }

    /// A tensor of the given shape filled with zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor {
            shape: shape.to_vec(),
            data: vec![0.0; element_count(shape)],
        }
    }

    /// A tensor of the given shape filled with `value`.
    pub fn full(shape: &[usize], value: f32) -> Tensor {
        Tensor {
            shape: shape.to_vec(),
            data: vec![value; element_count(shape)],
        }
    }

    /// Wraps `data` (row-major) as a tensor of `shape`, checking that the sizes agree.
    pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Result<Tensor, EngineError> {
        let expected = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if expected != Some(data.len()) {
            return Err(EngineError::ShapeMismatch {
                op: "tensor",
                expected: format!(
                    "{} values for shape {shape:?}",
                    expected.unwrap_or(usize::MAX)
                ),
                found: format!("{} values", data.len()),
            });
        }
        Ok(Tensor {
            shape: shape.to_vec(),
            data,
        })
    }

    /// A 2-D tensor from rows of equal length.
    pub fn from_rows(rows: &[Vec<f32>]) -> Result<Tensor, EngineError> {
        let cols = rows.first().map_or(0, Vec::len);
        if let Some((index, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != cols) {
            return Err(EngineError::ShapeMismatch {
                op: "tensor",
                expected: format!("every row to have {cols} values"),
                found: format!("row {index} with {} values", row.len()),
            });
        }
        Ok(Tensor {
            shape: vec![rows.len(), cols],
            data: rows.concat(),
        })
    }

    /// A rank-0 tensor holding one value.
    pub fn scalar(value: f32) -> Tensor {
        Tensor {
            shape: Vec::new(),
            data: vec![value],
        }
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn data(&self) -> &[f32] {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Consumes the tensor and returns its row-major values.
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of rows when read as a matrix: `shape[0]` for rank 2+, 1 for a vector or scalar.
    pub fn rows(&self) -> usize {
        if self.shape.len() >= 2 {
            self.shape[0]
        } else {
            1
        }
    }

    /// Number of columns when read as a matrix: the product of all but the first dimension for
    /// rank 2+, the length of a vector, 1 for a scalar.
    pub fn cols(&self) -> usize {
        match self.shape.len() {
            0 => 1,
            1 => self.shape[0],
            _ => self.shape[1..].iter().product(),
        }
    }

    /// Element `(row, col)` of the matrix view. Panics when out of range, like slice indexing.
    pub fn get(&self, row: usize, col: usize) -> f32 {
        assert!(
            col < self.cols(),
            "column {col} out of range for {:?}",
            self.shape
        );
        self.data[row * self.cols() + col]
    }

    /// Sets element `(row, col)` of the matrix view. Panics when out of range.
    pub fn set(&mut self, row: usize, col: usize, value: f32) {
        assert!(
            col < self.cols(),
            "column {col} out of range for {:?}",
            self.shape
        );
        let cols = self.cols();
        self.data[row * cols + col] = value;
    }

    /// One row of the matrix view.
    pub fn row(&self, row: usize) -> &[f32] {
        let cols = self.cols();
        &self.data[row * cols..(row + 1) * cols]
    }

    /// Changes the shape, keeping the allocation: buffers only grow when the new shape is larger
    /// than any before, so tensors reused every step stop allocating. New elements are zero;
    /// existing values are kept in row-major order (callers overwrite them).
    pub fn resize(&mut self, shape: &[usize]) {
        if self.shape != shape {
            self.shape.clear();
            self.shape.extend_from_slice(shape);
        }
        self.data.resize(element_count(shape), 0.0);
    }

    /// Sets every element to `value`.
    pub fn fill(&mut self, value: f32) {
        self.data.fill(value);
    }

    /// Copies shape and values from `other`, reusing this tensor's allocation.
    pub fn copy_from(&mut self, other: &Tensor) {
        self.resize(&other.shape);
        self.data.copy_from_slice(&other.data);
    }

    /// True when no element is NaN or infinite.
    pub fn is_finite(&self) -> bool {
        self.data.iter().all(|v| v.is_finite())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_vec_checks_length() {
        assert!(Tensor::from_vec(&[2, 3], vec![0.0; 6]).is_ok());
        let error = Tensor::from_vec(&[2, 3], vec![0.0; 5]).unwrap_err();
        assert!(error.to_string().contains("6 values"), "{error}");
    }

    #[test]
    fn resize_reuses_capacity() {
        let mut t = Tensor::zeros(&[10, 4]);
        let pointer = t.data().as_ptr();
        t.resize(&[3, 4]);
        t.resize(&[10, 4]);
        assert_eq!(t.data().as_ptr(), pointer);
        assert_eq!(t.shape(), &[10, 4]);
    }

    #[test]
    fn matrix_view() {
        let mut t = Tensor::from_vec(&[2, 3], vec![1., 2., 3., 4., 5., 6.]).unwrap();
        assert_eq!((t.rows(), t.cols()), (2, 3));
        assert_eq!(t.get(1, 2), 6.0);
        t.set(0, 1, 9.0);
        assert_eq!(t.row(0), &[1.0, 9.0, 3.0]);
        assert_eq!(
            (Tensor::scalar(1.0).rows(), Tensor::zeros(&[5]).cols()),
            (1, 5)
        );
    }
}

//! Matrix multiplication on row-major slices through `matrixmultiply::sgemm`; transposes are
//! expressed with strides, so no transposed copy is ever made.

/// Where one operand of a product lives: its row-major data and whether it is used transposed.
#[derive(Clone, Copy, Debug)]
pub struct Operand<'a> {
    pub data: &'a [f32],
    /// Rows of the *stored* matrix.
    pub rows: usize,
    /// Columns of the *stored* matrix.
    pub cols: usize,
    pub transposed: bool,
}

impl<'a> Operand<'a> {
    pub fn new(data: &'a [f32], rows: usize, cols: usize, transposed: bool) -> Self {
        Operand {
            data,
            rows,
            cols,
            transposed,
        }
    }

    /// Rows and columns of the operand as used in the product (after the optional transpose).
    pub fn used_shape(&self) -> (usize, usize) {
        if self.transposed {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        }
    }

    /// Row and column strides of the operand as used in the product.
    fn strides(&self) -> (isize, isize) {
        if self.transposed {
            (1, self.cols as isize)
        } else {
            (self.cols as isize, 1)
        }
    }
}

/// `out = op(a) · op(b)`, or `out += op(a) · op(b)` when `accumulate` (used to sum gradients).
///
/// `out` is row-major `[m, n]` where `op(a)` is `[m, k]` and `op(b)` is `[k, n]`.
/// Panics if the sizes disagree: callers (the tape ops) validate shapes first.
pub fn matmul(a: Operand<'_>, b: Operand<'_>, out: &mut [f32], accumulate: bool) {
    let (m, k) = a.used_shape();
    let (k_b, n) = b.used_shape();
    assert_eq!(k, k_b, "matmul inner dimensions differ");
    assert_eq!(a.data.len(), a.rows * a.cols, "matmul: left operand size");
    assert_eq!(b.data.len(), b.rows * b.cols, "matmul: right operand size");
    assert_eq!(out.len(), m * n, "matmul: output size");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out.fill(0.0);
        }
        return;
    }
    let (rsa, csa) = a.strides();
    let (rsb, csb) = b.strides();
    let beta = if accumulate { 1.0 } else { 0.0 };
    // SAFETY: the asserts above guarantee that every index sgemm touches, derived from m, k, n
    // and the strides, lies inside `a.data`, `b.data` and `out`; `out` does not alias the inputs
    // because it is borrowed mutably.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.data.as_ptr(),
            rsa,
            csa,
            b.data.as_ptr(),
            rsb,
            csb,
            beta,
            out.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], m: usize, k: usize, b: &[f32], n: usize) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        out
    }

    fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
        let mut t = vec![0.0; x.len()];
        for r in 0..rows {
            for c in 0..cols {
                t[c * rows + r] = x[r * cols + c];
            }
        }
        t
    }

    #[test]
    fn all_transpose_combinations_match_naive() {
        let (m, k, n) = (3, 4, 5);
        let a: Vec<f32> = (0..m * k).map(|i| i as f32 * 0.5 - 2.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.3).sin()).collect();
        let expected = naive(&a, m, k, &b, n);
        let at = transpose(&a, m, k);
        let bt = transpose(&b, k, n);
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let left = if ta {
                Operand::new(&at, k, m, true)
            } else {
                Operand::new(&a, m, k, false)
            };
            let right = if tb {
                Operand::new(&bt, n, k, true)
            } else {
                Operand::new(&b, k, n, false)
            };
            let mut out = vec![1.0; m * n];
            matmul(left, right, &mut out, true);
            for (o, e) in out.iter().zip(&expected) {
                assert!(
                    (o - (e + 1.0)).abs() < 1e-4,
                    "{ta} {tb}: {o} vs {}",
                    e + 1.0
                );
            }
        }
    }
}

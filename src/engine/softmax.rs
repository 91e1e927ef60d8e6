//! Row-wise softmax, numerically stable (the row maximum is subtracted before `exp`), with its
//! backward pass beside it.

use super::fast_exp;

/// `y[r, :] = softmax(x[r, :])` for each row of `cols` values.
pub fn softmax_rows(x: &[f32], y: &mut [f32], cols: usize) {
    assert_eq!(x.len(), y.len());
    if cols == 0 {
        return;
    }
    for (x_row, y_row) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
        let max = x_row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut total = 0.0;
        for (y, &x) in y_row.iter_mut().zip(x_row) {
            // Not `f32::exp`, a libm call per element.
            *y = fast_exp::exp(x - max);
            total += *y;
        }
        let inverse = 1.0 / total;
        y_row.iter_mut().for_each(|y| *y *= inverse);
    }
}

/// `log softmax` of one row, computed as `x - max - ln(sum e^(x - max))` (log-sum-exp).
pub fn log_sum_exp(row: &[f32]) -> f64 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let max = f64::from(max);
    let total: f64 = row.iter().map(|&x| (f64::from(x) - max).exp()).sum();
    max + total.ln()
}

/// Chain rule through softmax: `grad_x += y * (grad_y - sum(grad_y * y))`, row by row.
pub fn softmax_rows_backward(y: &[f32], grad_y: &[f32], grad_x: &mut [f32], cols: usize) {
    if cols == 0 {
        return;
    }
    let rows = y.chunks_exact(cols).zip(grad_y.chunks_exact(cols));
    for ((y_row, gy_row), gx_row) in rows.zip(grad_x.chunks_exact_mut(cols)) {
        let dot: f32 = y_row.iter().zip(gy_row).map(|(y, g)| y * g).sum();
        for ((gx, &y), &gy) in gx_row.iter_mut().zip(y_row).zip(gy_row) {
            *gx += y * (gy - dot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_sum_to_one_even_for_huge_inputs() {
        let x = [1000.0, 1001.0, 999.0, -5.0, 0.0, 5.0];
        let mut y = [0.0; 6];
        softmax_rows(&x, &mut y, 3);
        for row in y.chunks(3) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
            assert!(row.iter().all(|v| v.is_finite()));
        }
        assert!(y[1] > y[0] && y[0] > y[2]);
    }

    #[test]
    fn log_sum_exp_is_stable() {
        assert!((log_sum_exp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-9);
    }
}

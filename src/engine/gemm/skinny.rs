//! Direct loops for the skinny products the playground runs all the time (`[10000 x 2] · [2 x 8]`
//! for the decision boundary, `[batch x 8] · [8 x 1]`, and their backward shapes), where packing
//! would cost as much as the multiplication: a short inner dimension or a thin operand.
//!
//! Two loop orders, picked by the layout so that the innermost loop runs over contiguous memory
//! and vectorises: *row updates* (`out[i, :] += a[i, p] · b[p, :]`, over the columns) when the
//! rows of `op(B)` are contiguous, and *dot products* (`out[i, j] = a[i, :] · b[:, j]`, over the
//! depth) for one or two output columns. A transposed `B` that neither fits is first copied
//! into a reused buffer.

use std::cell::RefCell;

use super::{Shape, View};

/// Up to this depth, or this many rows or columns of output, packing does not pay.
const THIN: usize = 4;
const SHALLOW: usize = 8;

/// Up to this many outputs, dot products over a long contiguous depth beat packing both
/// operands (the kernel gradient of a small convolution: 6x25 outputs, 784 deep).
const FEW_OUTPUTS: usize = 512;
/// Up to this many rows of output, row updates over contiguous rows of `B` beat packing `B`
/// (a small convolution's kernels times its im2col matrix: 6 rows, 784 columns).
const FEW_ROWS: usize = 8;

/// Whether the product is better served by these loops than by the blocked GEMM.
pub(super) fn suits(shape: Shape, a: &View<'_>, b: &View<'_>) -> bool {
    shape.k <= SHALLOW
        || shape.n <= THIN
        || shape.m <= THIN
        || (shape.m <= FEW_ROWS && b.col_stride == 1)
        || dots_fit(shape, a, b)
}

/// Both operands contiguous along the depth, and few outputs.
fn dots_fit(shape: Shape, a: &View<'_>, b: &View<'_>) -> bool {
    a.col_stride == 1 && b.row_stride == 1 && shape.m * shape.n <= FEW_OUTPUTS
}

thread_local! {
    /// `op(B)` rearranged when its layout fits neither loop order; only grows.
    static REARRANGED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// What each element of the output starts from, before the products are added to it.
#[derive(Clone, Copy, Debug)]
pub(super) enum Start<'a> {
    /// Zero: `out = op(A) · op(B)`.
    Zero,
    /// What `out` holds: `out += op(A) · op(B)` (gradients summing up).
    Existing,
    /// The bias vector, one value per column: `out = op(A) · op(B) + bias` (a dense layer),
    /// without a second pass over `out`.
    Bias(&'a [f32]),
}

impl Start<'_> {
    fn is_existing(self) -> bool {
        matches!(self, Start::Existing)
    }

    /// The start of columns `j..j + W` when it is not the output's own values.
    #[inline(always)]
    fn columns<const W: usize>(self, j: usize) -> [f32; W] {
        match self {
            Start::Bias(bias) => bias[j..j + W].try_into().expect("W columns"),
            Start::Zero | Start::Existing => [0.0; W],
        }
    }
}

pub(super) fn matmul(shape: Shape, a: View<'_>, b: View<'_>, out: &mut [f32], start: Start<'_>) {
    let Shape { k, n, .. } = shape;
    let rows_fit = b.col_stride == 1;
    if rows_fit && (k <= SHALLOW || n > 2 || a.col_stride != 1) {
        return dispatch_rows(shape, a, b.data, b.row_stride, out, start);
    }
    if dots_fit(shape, &a, &b) {
        return dispatch_dots(shape, a, b.data, b.col_stride, out, start);
    }
    if n <= 2 && a.col_stride == 1 {
        // With one column, `B`'s column is always contiguous (`row_stride == 1`).
        if b.row_stride == 1 {
            return dispatch_dots(shape, a, b.data, b.col_stride, out, start);
        }
        // Columns of `B` gathered so each is contiguous.
        return with_buffer(k * n, out, |columns, out| {
            for (j, column) in columns.chunks_exact_mut(k).enumerate() {
                column
                    .iter_mut()
                    .enumerate()
                    .for_each(|(p, v)| *v = b.at(p, j));
            }
            dispatch_dots(shape, a, columns, k, out, start);
        });
    }
    if rows_fit {
        return dispatch_rows(shape, a, b.data, b.row_stride, out, start);
    }
    with_buffer(k * n, out, |rows, out| {
        for (p, row) in rows.chunks_exact_mut(n).enumerate() {
            row.iter_mut()
                .enumerate()
                .for_each(|(j, v)| *v = b.at(p, j));
        }
        dispatch_rows(shape, a, rows, n, out, start);
    })
}

/// Runs `work` with a reused buffer of `len` floats (a fresh one if re-entered).
fn with_buffer(len: usize, out: &mut [f32], work: impl FnOnce(&mut [f32], &mut [f32])) {
    let mut work = Some(work);
    let mut out = Some(out);
    let done = REARRANGED.try_with(|cell| {
        let Ok(mut buffer) = cell.try_borrow_mut() else {
            return false;
        };
        if buffer.len() < len {
            buffer.resize(len, 0.0);
        }
        (work.take().expect("once"))(&mut buffer[..len], out.take().expect("once"));
        true
    });
    if done != Ok(true) {
        (work.take().expect("once"))(&mut vec![0.0; len], out.take().expect("once"));
    }
}

/// [`rows`] compiled for AVX2 where the CPU has it (8 lanes instead of 4).
fn dispatch_rows(
    shape: Shape,
    a: View<'_>,
    b: &[f32],
    b_row_stride: usize,
    out: &mut [f32],
    start: Start<'_>,
) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { rows_avx2(shape, a, b, b_row_stride, out, start) };
    }
    rows(shape, a, b, b_row_stride, out, start)
}

/// [`dots`] compiled for AVX2 where the CPU has it.
fn dispatch_dots(
    shape: Shape,
    a: View<'_>,
    b: &[f32],
    b_column_stride: usize,
    out: &mut [f32],
    start: Start<'_>,
) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { dots_avx2(shape, a, b, b_column_stride, out, start) };
    }
    dots(shape, a, b, b_column_stride, out, start)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn rows_avx2(
    shape: Shape,
    a: View<'_>,
    b: &[f32],
    stride: usize,
    out: &mut [f32],
    start: Start<'_>,
) {
    rows(shape, a, b, stride, out, start)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dots_avx2(
    shape: Shape,
    a: View<'_>,
    b: &[f32],
    stride: usize,
    out: &mut [f32],
    start: Start<'_>,
) {
    dots(shape, a, b, stride, out, start)
}

/// `out[i, :] = start + sum over p of a[i, p] · b[p, :]`, where row `p` of `b` starts at
/// `p * b_row_stride` and is contiguous. The columns go in blocks of a constant width, summed in
/// registers over the whole depth: with a runtime width (8 for the playground) the compiler's
/// vectorised loop, built for long rows, would never run.
#[inline(always)]
fn rows(
    shape: Shape,
    a: View<'_>,
    b: &[f32],
    b_row_stride: usize,
    out: &mut [f32],
    start: Start<'_>,
) {
    // Depths up to 8 (the playground's features and hidden widths) get a loop of their own, so
    // that a block of `B` stays in registers while every row of `A` goes through it.
    macro_rules! fixed_depths {
        ($($depth:literal)*) => {
            match shape.k {
                $($depth => return rows_of_depth::<$depth>(shape, a, b, b_row_stride, out, start),)*
                _ => {}
            }
        };
    }
    fixed_depths!(1 2 3 4 5 6 7 8);
    let n = shape.n;
    for (i, out_row) in out.chunks_exact_mut(n).enumerate() {
        let mut j = 0;
        while n - j >= 16 {
            column_block::<16>(shape.k, a, i, b, b_row_stride, j, out_row, start);
            j += 16;
        }
        if n - j >= 8 {
            column_block::<8>(shape.k, a, i, b, b_row_stride, j, out_row, start);
            j += 8;
        }
        if n - j >= 4 {
            column_block::<4>(shape.k, a, i, b, b_row_stride, j, out_row, start);
            j += 4;
        }
        while j < n {
            column_block::<1>(shape.k, a, i, b, b_row_stride, j, out_row, start);
            j += 1;
        }
    }
}

/// [`rows`] for the depth `K`, one block of columns at a time.
#[inline(always)]
fn rows_of_depth<const K: usize>(
    shape: Shape,
    a: View<'_>,
    b: &[f32],
    b_row_stride: usize,
    out: &mut [f32],
    start: Start<'_>,
) {
    let n = shape.n;
    let mut j = 0;
    while n - j >= 8 {
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        rows_block_simd128::<K>(a, b, b_row_stride, j, n, out, start);
        #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
        rows_block::<K, 8>(a, b, b_row_stride, j, n, out, start);
        j += 8;
    }
    if n - j >= 4 {
        rows_block::<K, 4>(a, b, b_row_stride, j, n, out, start);
        j += 4;
    }
    while j < n {
        rows_block::<K, 1>(a, b, b_row_stride, j, n, out, start);
        j += 1;
    }
}

/// Columns `j..j + W` of every row, depth `K`, with that `K x W` block of `B` held in registers.
#[inline(always)]
fn rows_block<const K: usize, const W: usize>(
    a: View<'_>,
    b: &[f32],
    b_row_stride: usize,
    j: usize,
    n: usize,
    out: &mut [f32],
    start: Start<'_>,
) {
    let mut b_block = [[0.0f32; W]; K];
    for (p, row) in b_block.iter_mut().enumerate() {
        let start = p * b_row_stride + j;
        *row = b[start..start + W].try_into().expect("W columns");
    }
    let initial = start.columns::<W>(j);
    let keeps_existing = start.is_existing();
    for (i, out_row) in out.chunks_exact_mut(n).enumerate() {
        let target: &mut [f32; W] = (&mut out_row[j..j + W]).try_into().expect("W columns");
        let mut sums = if keeps_existing { *target } else { initial };
        for (p, b_row) in b_block.iter().enumerate() {
            let a_value = a.at(i, p);
            for (sum, &b_value) in sums.iter_mut().zip(b_row) {
                *sum += a_value * b_value;
            }
        }
        *target = sums;
    }
}

/// [`rows_block`] for 8 columns written with SIMD128 values: V8 runs the compiler's own
/// vectorisation of the array version (checked in Chromium) slower than the blocked GEMM.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn rows_block_simd128<const K: usize>(
    a: View<'_>,
    b: &[f32],
    b_row_stride: usize,
    j: usize,
    n: usize,
    out: &mut [f32],
    start: Start<'_>,
) {
    use core::arch::wasm32::*;
    let load = |values: &[f32]| -> (v128, v128) {
        let values: &[f32; 8] = values.try_into().expect("8 columns");
        (
            f32x4(values[0], values[1], values[2], values[3]),
            f32x4(values[4], values[5], values[6], values[7]),
        )
    };
    let mut b_block = [(f32x4_splat(0.0), f32x4_splat(0.0)); K];
    for (p, halves) in b_block.iter_mut().enumerate() {
        let start = p * b_row_stride + j;
        *halves = load(&b[start..start + 8]);
    }
    let initial = load(&start.columns::<8>(j));
    let keeps_existing = start.is_existing();
    for (i, out_row) in out.chunks_exact_mut(n).enumerate() {
        let target: &mut [f32; 8] = (&mut out_row[j..j + 8]).try_into().expect("8 columns");
        let (mut low, mut high) = if keeps_existing {
            load(target)
        } else {
            initial
        };
        for (p, &(b_low, b_high)) in b_block.iter().enumerate() {
            let a_value = f32x4_splat(a.at(i, p));
            low = f32x4_add(low, f32x4_mul(a_value, b_low));
            high = f32x4_add(high, f32x4_mul(a_value, b_high));
        }
        let lanes = |v: v128| {
            [
                f32x4_extract_lane::<0>(v),
                f32x4_extract_lane::<1>(v),
                f32x4_extract_lane::<2>(v),
                f32x4_extract_lane::<3>(v),
            ]
        };
        let (low, high) = (lanes(low), lanes(high));
        target[..4].copy_from_slice(&low);
        target[4..].copy_from_slice(&high);
    }
}

/// Columns `j..j + W` of row `i` of the product.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn column_block<const W: usize>(
    k: usize,
    a: View<'_>,
    i: usize,
    b: &[f32],
    b_row_stride: usize,
    j: usize,
    out_row: &mut [f32],
    start: Start<'_>,
) {
    let target: &mut [f32; W] = (&mut out_row[j..j + W]).try_into().expect("W columns");
    let mut sums = if start.is_existing() {
        *target
    } else {
        start.columns::<W>(j)
    };
    for p in 0..k {
        let a_value = a.at(i, p);
        let start = p * b_row_stride + j;
        let b_values: &[f32; W] = b[start..start + W].try_into().expect("W columns");
        for (sum, &b_value) in sums.iter_mut().zip(b_values) {
            *sum += a_value * b_value;
        }
    }
    *target = sums;
}

/// `out[i, j] = start + a[i, :] · b[:, j]` for the one or two columns of `out`, where column `j` of
/// `b` starts at `j * b_column_stride` and is contiguous, as are the rows of `a`.
#[inline(always)]
fn dots(
    shape: Shape,
    a: View<'_>,
    b: &[f32],
    b_column_stride: usize,
    out: &mut [f32],
    start: Start<'_>,
) {
    let Shape { k, n, .. } = shape;
    for (i, out_row) in out.chunks_exact_mut(n).enumerate() {
        let a_row = &a.data[i * a.row_stride..i * a.row_stride + k];
        for (j, o) in out_row.iter_mut().enumerate() {
            let column = &b[j * b_column_stride..j * b_column_stride + k];
            let value = dot(a_row, column);
            *o = match start {
                Start::Zero => value,
                Start::Existing => *o + value,
                Start::Bias(bias) => bias[j] + value,
            };
        }
    }
}

/// `x · y` with sixteen partial sums, so that the loop vectorises into independent chains of
/// additions (two AVX registers, four wasm ones) instead of waiting on one.
#[inline(always)]
fn dot(x: &[f32], y: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut partial = [0.0f32; LANES];
    let (x_chunks, y_chunks) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let tail: f32 = (x_chunks.remainder().iter())
        .zip(y_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in x_chunks.zip(y_chunks) {
        for lane in 0..LANES {
            partial[lane] += x[lane] * y[lane];
        }
    }
    partial.iter().sum::<f32>() + tail
}

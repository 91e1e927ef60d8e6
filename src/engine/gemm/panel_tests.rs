//! Weights kept in panels (`panel_layout.rs`) against the row-major paths: the layout holds every
//! element where `offset` says and gives the matrix back; the products from packed weights equal
//! the blocked GEMM's bit for bit (the same tiles over the same values) and an f64 product
//! closely; the banded weight gradient covers every row once, in one block, with zero padding.

use super::*;
use crate::engine::rng::SeededRng;

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = SeededRng::new(seed);
    (0..len).map(|_| rng.uniform_range(-1.0, 1.0)).collect()
}

/// `[rows, cols]` weight shapes: the MLP benchmark's, blocks of 196 rows (not a multiple of 8),
/// odd sizes, a last panel partly padding, fewer columns than one panel, and columns in blocks
/// of 150 (so that `Wᵀ`'s second depth block starts inside a panel, off the AVX2 path).
const SHAPES: [(usize, usize); 8] = [
    (784, 512),
    (512, 512),
    (37, 21),
    (300, 10),
    (9, 40),
    (600, 33),
    (1, 3),
    (40, 300),
];

#[test]
fn the_layout_holds_each_element_at_its_offset_and_gives_the_matrix_back() {
    for width in [8, 16] {
        for (rows, cols) in SHAPES {
            let layout = PanelLayout::with_width(rows, cols, width);
            let matrix = random(rows * cols, 1);
            let mut packed = vec![f32::NAN; layout.len()];
            layout.pack(&matrix, &mut packed);
            let mut seen = vec![false; layout.len()];
            for r in 0..rows {
                for c in 0..cols {
                    let offset = layout.offset(r, c);
                    assert_eq!(packed[offset], matrix[r * cols + c], "({r}, {c})");
                    assert!(!seen[offset], "two elements at {offset}");
                    seen[offset] = true;
                }
            }
            // Everything else is padding, and zero.
            for (value, seen) in packed.iter().zip(&seen) {
                assert!(*seen || *value == 0.0);
            }
            let mut back = vec![0.0; rows * cols];
            layout.unpack(&packed, &mut back);
            assert_eq!(back, matrix);
        }
    }
}

fn packed(rows: usize, cols: usize, seed: u64) -> (Vec<f32>, PanelLayout, Vec<f32>) {
    let layout = PanelLayout::new(rows, cols);
    let matrix = random(rows * cols, seed);
    let mut data = vec![0.0; layout.len()];
    layout.pack(&matrix, &mut data);
    (matrix, layout, data)
}

fn assert_close_to_f64(got: &[f32], a: &[f32], b: &[f32], m: usize, k: usize, n: usize) {
    let (mut error, mut norm) = (0.0f64, 0.0f64);
    for i in 0..m {
        for j in 0..n {
            let exact: f64 = (0..k)
                .map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j]))
                .sum();
            error += (f64::from(got[i * n + j]) - exact).powi(2);
            norm += exact * exact;
        }
    }
    assert!(error.sqrt() <= 1e-5 * norm.sqrt().max(1.0), "{m}x{k}x{n}");
}

#[test]
fn the_forward_product_from_packed_weights_equals_the_blocked_one() {
    for (rows, cols) in SHAPES {
        let (w, layout, data) = packed(rows, cols, 2);
        let bias = random(cols, 3);
        for batch in [64, 7, 200, 1] {
            let x = random(batch * rows, 4);
            let mut got = vec![f32::NAN; batch * cols];
            let left = Operand::new(&x, batch, rows, false);
            matmul_packed_plus_bias(left, &data, &layout, &bias, &mut got);
            let mut expected: Vec<f32> = bias.iter().copied().cycle().take(batch * cols).collect();
            let right = Operand::new(&w, rows, cols, false);
            matmul_blocked(left, right, &mut expected, true);
            assert_eq!(got, expected, "{batch}x{rows}x{cols}");
            let mut product: Vec<f32> = got.clone();
            product
                .chunks_exact_mut(cols)
                .for_each(|row| row.iter_mut().zip(&bias).for_each(|(v, b)| *v -= b));
            assert_close_to_f64(&product, &x, &w, batch, rows, cols);
        }
    }
}

#[test]
fn the_input_gradient_from_packed_weights_equals_the_blocked_one() {
    for (rows, cols) in SHAPES {
        let (w, layout, data) = packed(rows, cols, 5);
        // Wᵀ as a row-major [cols, rows] matrix, for the f64 check.
        let mut transposed = vec![0.0; rows * cols];
        for r in 0..rows {
            for c in 0..cols {
                transposed[c * rows + r] = w[r * cols + c];
            }
        }
        for batch in [64, 7, 200] {
            let upstream = random(batch * cols, 6);
            let left = Operand::new(&upstream, batch, cols, false);
            let right = Operand::new(&w, rows, cols, true);
            for accumulate in [false, true] {
                let start = random(batch * rows, 7);
                let (mut got, mut expected) = (start.clone(), start.clone());
                matmul_packed_transposed(left, &data, &layout, &mut got, accumulate);
                matmul_blocked(left, right, &mut expected, accumulate);
                assert_eq!(got, expected, "{batch}x{cols}x{rows} {accumulate}");
            }
            let mut got = vec![f32::NAN; batch * rows];
            matmul_packed_transposed(left, &data, &layout, &mut got, false);
            assert_close_to_f64(&got, &upstream, &transposed, batch, cols, rows);
        }
    }
}

/// The weight gradient `Xᵀ · dY` gathered from its bands through their runs into a packed
/// matrix, with checks on each band.
fn gathered_bands(x: &[f32], upstream: &[f32], batch: usize, layout: &PanelLayout) -> Vec<f32> {
    let (rows, cols) = (layout.rows(), layout.cols());
    let mut gathered = vec![f32::NAN; layout.len()];
    let mut scratch = vec![0.0; rows * cols];
    let (a, b) = (
        Operand::new(x, batch, rows, true),
        Operand::new(upstream, batch, cols, false),
    );
    matmul_in_panel_bands(a, b, layout, &mut scratch, &[], |runs, band| {
        assert_eq!(band.len(), runs.total());
        for (in_packed, in_band) in runs.pairs() {
            for (target, &value) in gathered[in_packed].iter_mut().zip(&band[in_band]) {
                assert!(target.is_nan(), "an element handed over twice");
                *target = value;
            }
        }
    });
    gathered
}

#[test]
fn panel_bands_make_up_the_weight_gradient_in_the_packed_order() {
    for (rows, cols) in SHAPES {
        let layout = PanelLayout::new(rows, cols);
        // A batch in one block (banded), and one deeper than a block (row by row).
        for batch in [64, 5, 300] {
            let x = random(batch * rows, 8);
            let upstream = random(batch * cols, 9);
            let gathered = gathered_bands(&x, &upstream, batch, &layout);
            let mut expected = vec![0.0; rows * cols];
            // Banded: the blocked kernel's tiles; deeper: `matmul`, whichever path it takes.
            let reference = if batch <= 256 { matmul_blocked } else { matmul };
            reference(
                Operand::new(&x, batch, rows, true),
                Operand::new(&upstream, batch, cols, false),
                &mut expected,
                false,
            );
            let mut got = vec![0.0; rows * cols];
            layout.unpack(&gathered, &mut got);
            assert_eq!(got, expected, "{rows}x{batch}x{cols}");
            // The banded path hands over the padding too, as zeros; row by row leaves it out.
            let mut element = vec![false; layout.len()];
            for r in 0..rows {
                for c in 0..cols {
                    element[layout.offset(r, c)] = true;
                }
            }
            for (value, _) in gathered.iter().zip(&element).filter(|(_, e)| !**e) {
                assert!(*value == 0.0 || (batch > 256 && value.is_nan()), "{value}");
            }
        }
    }
}

#[test]
fn the_portable_kernel_makes_the_same_panel_bands() {
    let (rows, cols, batch) = (50, 21, 9);
    let layout = PanelLayout::with_width(rows, cols, 8);
    let (x, upstream) = (random(batch * rows, 10), random(batch * cols, 11));
    let mut gathered = vec![f32::NAN; layout.len()];
    let shape = Shape {
        m: rows,
        k: batch,
        n: cols,
    };
    let a = View::of(&Operand::new(&x, batch, rows, true));
    let b = View::of(&Operand::new(&upstream, batch, cols, false));
    bands::in_panel_bands_with::<kernel_generic::Portable>(
        shape,
        a,
        b,
        &layout,
        &[],
        &mut |runs, band| {
            for (in_packed, in_band) in runs.pairs() {
                gathered[in_packed].copy_from_slice(&band[in_band]);
            }
        },
    );
    let mut got = vec![0.0; rows * cols];
    layout.unpack(&gathered, &mut got);
    let mut transposed = vec![0.0; rows * batch];
    for i in 0..batch {
        for r in 0..rows {
            transposed[r * batch + i] = x[i * rows + r];
        }
    }
    assert_close_to_f64(&got, &transposed, &upstream, rows, batch, cols);
}

//! The GEMM against a naive triple loop in f64: every path (dispatching, blocked, portable
//! kernel), every transpose combination, with and without accumulation, on odd shapes; and the
//! product plus a bias against the product, then the bias.

use super::*;
use crate::engine::rng::SeededRng;

fn random(len: usize, rng: &mut SeededRng) -> Vec<f32> {
    (0..len).map(|_| rng.uniform_range(-1.0, 1.0)).collect()
}

/// Stored `[rows, cols]` holding `op(x)` = `x` (`[m, k]` row-major) used transposed or not.
fn stored(x: &[f32], m: usize, k: usize, transposed: bool) -> Vec<f32> {
    if !transposed {
        return x.to_vec();
    }
    let mut t = vec![0.0; x.len()];
    for i in 0..m {
        for p in 0..k {
            t[p * m + i] = x[i * k + p];
        }
    }
    t
}

type Path = fn(Operand<'_>, Operand<'_>, &mut [f32], bool);

/// Checks `path` on `[m, k] · [k, n]` in the four transpose combinations, with and without
/// accumulation: relative error (Frobenius) below 1e-5.
fn check(path: Path, m: usize, k: usize, n: usize, seed: u64) {
    let mut rng = SeededRng::new(seed);
    let a = random(m * k, &mut rng);
    let b = random(k * n, &mut rng);
    let start = random(m * n, &mut rng);
    let mut exact = vec![0.0f64; m * n];
    for i in 0..m {
        for j in 0..n {
            exact[i * n + j] = (0..k)
                .map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j]))
                .sum();
        }
    }
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let a_stored = stored(&a, m, k, ta);
        let b_stored = stored(&b, k, n, tb);
        let left = if ta {
            Operand::new(&a_stored, k, m, true)
        } else {
            Operand::new(&a_stored, m, k, false)
        };
        let right = if tb {
            Operand::new(&b_stored, n, k, true)
        } else {
            Operand::new(&b_stored, k, n, false)
        };
        for accumulate in [false, true] {
            let mut out = start.clone();
            path(left, right, &mut out, accumulate);
            let (mut error, mut norm) = (0.0f64, 0.0f64);
            for ((&got, &exact), &before) in out.iter().zip(&exact).zip(&start) {
                let expected = exact + if accumulate { f64::from(before) } else { 0.0 };
                error += (f64::from(got) - expected).powi(2);
                norm += expected.powi(2);
            }
            let relative = (error / norm.max(f64::MIN_POSITIVE)).sqrt();
            assert!(
                relative < 1e-5,
                "{m}x{k}x{n} transposed ({ta}, {tb}) accumulate {accumulate}: relative error \
                 {relative}"
            );
        }
    }
}

const SHAPES: [(usize, usize, usize); 16] = [
    (64, 784, 512),
    (784, 64, 512),
    (64, 512, 10),
    (1, 1, 1),
    (33, 17, 29),
    (7, 300, 13),
    (2, 3, 5),
    (100, 2, 8),
    (100, 8, 8),
    (100, 8, 1),
    (8, 100, 8),
    (8, 100, 1),
    (3, 50, 2),
    (130, 257, 70),
    // LeNet-5's first convolution: kernels times im2col columns, and the kernel gradient.
    (6, 25, 784),
    (6, 784, 25),
];

#[test]
fn matmul_matches_the_naive_product() {
    for (seed, &(m, k, n)) in SHAPES.iter().enumerate() {
        check(matmul, m, k, n, seed as u64);
    }
}

/// The MLP-sized shapes (the first three) take `matmul`'s blocked path anyway; repeating them
/// through the other entry points would only slow the unoptimised test build.
const SMALL_SHAPES: usize = 3;

#[test]
fn the_blocked_path_matches_on_every_shape() {
    for (seed, &(m, k, n)) in SHAPES.iter().enumerate().skip(SMALL_SHAPES) {
        check(matmul_blocked, m, k, n, 100 + seed as u64);
    }
}

#[test]
fn the_portable_kernel_matches() {
    for (seed, &(m, k, n)) in SHAPES.iter().enumerate().skip(SMALL_SHAPES) {
        check(matmul_portable, m, k, n, 200 + seed as u64);
    }
}

#[test]
fn random_shapes_match() {
    let mut rng = SeededRng::new(42);
    for seed in 0..60 {
        let (m, k, n) = (1 + rng.below(70), 1 + rng.below(300), 1 + rng.below(70));
        check(matmul, m, k, n, 300 + seed);
        check(matmul_blocked, m, k, n, 400 + seed);
    }
}

#[test]
fn an_empty_depth_zeroes_or_keeps_the_output() {
    let (a, b) = (
        Operand::new(&[], 2, 0, false),
        Operand::new(&[], 0, 3, false),
    );
    let mut out = vec![1.0; 6];
    matmul(a, b, &mut out, true);
    assert_eq!(out, vec![1.0; 6]);
    matmul(a, b, &mut out, false);
    assert_eq!(out, vec![0.0; 6]);
}

/// `matmul_plus_bias` against `matmul` followed by adding the bias to every row, on shapes that
/// take the skinny loops (every loop order) and the blocked path, in every transpose combination.
#[test]
fn the_bias_start_equals_adding_the_bias_afterwards() {
    let mut rng = SeededRng::new(7);
    let mut shapes = SHAPES.to_vec();
    shapes.extend([
        (37, 2, 11),
        (21, 8, 3),
        (5, 9, 2),
        (19, 13, 1),
        (67, 33, 45),
    ]);
    let (mut skinny_seen, mut blocked_seen) = (false, false);
    for (m, k, n) in shapes {
        let a = random(m * k, &mut rng);
        let b = random(k * n, &mut rng);
        let bias = random(n, &mut rng);
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let (a_stored, b_stored) = (stored(&a, m, k, ta), stored(&b, k, n, tb));
            let (a_rows, a_cols) = if ta { (k, m) } else { (m, k) };
            let (b_rows, b_cols) = if tb { (n, k) } else { (k, n) };
            let left = Operand::new(&a_stored, a_rows, a_cols, ta);
            let right = Operand::new(&b_stored, b_rows, b_cols, tb);
            let takes_skinny =
                skinny::suits(Shape { m, k, n }, &View::of(&left), &View::of(&right));
            (skinny_seen, blocked_seen) =
                (skinny_seen || takes_skinny, blocked_seen || !takes_skinny);
            let mut expected = vec![0.0; m * n];
            matmul(left, right, &mut expected, false);
            for row in expected.chunks_exact_mut(n) {
                row.iter_mut().zip(&bias).for_each(|(v, b)| *v += b);
            }
            let mut fused = vec![f32::NAN; m * n];
            matmul_plus_bias(left, right, &bias, &mut fused);
            for (index, (got, want)) in fused.iter().zip(&expected).enumerate() {
                assert!(
                    (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                    "{m}x{k}x{n} transposed ({ta}, {tb}), element {index}: {got} against {want}"
                );
            }
        }
    }
    assert!(skinny_seen && blocked_seen);
}

#[test]
fn an_empty_depth_leaves_the_bias() {
    let (a, b) = (
        Operand::new(&[], 2, 0, false),
        Operand::new(&[], 0, 3, false),
    );
    let mut out = vec![f32::NAN; 6];
    matmul_plus_bias(a, b, &[1.0, 2.0, 3.0], &mut out);
    assert_eq!(out, vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
}

/// The product assembled from its row bands, checking that they come in order, one after the
/// other, each a whole number of rows: `path`'s signature, for [`check`].
fn assembled_from_bands(
    a: Operand<'_>,
    b: Operand<'_>,
    out: &mut [f32],
    accumulate: bool,
    bands: impl FnOnce(Operand<'_>, Operand<'_>, &mut [f32], &mut dyn FnMut(usize, &mut [f32])),
) {
    let (m, n) = (a.used_shape().0, b.used_shape().1);
    let mut product = vec![f32::NAN; m * n];
    let mut scratch = vec![f32::NAN; m * n];
    let mut next_row = 0;
    bands(a, b, &mut scratch, &mut |first, band| {
        assert_eq!(first, next_row, "bands out of order");
        assert!(!band.is_empty() && band.len().is_multiple_of(n));
        product[first * n..][..band.len()].copy_from_slice(band);
        next_row += band.len() / n;
        band.fill(f32::NAN); // what a band's user does with it changes nothing else
    });
    assert_eq!(next_row, m, "the bands cover every row");
    for (out, value) in out.iter_mut().zip(product) {
        *out = if accumulate { *out + value } else { value };
    }
}

fn dispatched_bands(a: Operand<'_>, b: Operand<'_>, out: &mut [f32], accumulate: bool) {
    // Read-ahead of two matrices as wide as the product: hints only, they change no value.
    let (n, m) = (out.len() / a.used_shape().0.max(1), a.used_shape().0);
    let (first, second) = (vec![1.0; m * n], vec![2.0; m * n / 2]);
    let ahead = [ReadAhead::of(&first), ReadAhead::of(&second)];
    assembled_from_bands(a, b, out, accumulate, |a, b, scratch, each_band| {
        matmul_in_row_bands(a, b, scratch, &ahead, each_band)
    });
}

/// The banded loops whatever the shape, with the portable kernel (`SHAPES` deeper than one
/// packed block go through the dispatching entry point instead).
fn portable_bands(a: Operand<'_>, b: Operand<'_>, out: &mut [f32], accumulate: bool) {
    assembled_from_bands(a, b, out, accumulate, |a, b, scratch, each_band| {
        let shape = Shape::checked(&a, &b, scratch);
        if !bands::fits(shape) {
            return matmul_in_row_bands(a, b, scratch, &[], each_band);
        }
        let (a, b) = (View::of(&a), View::of(&b));
        bands::in_row_bands_with::<kernel_generic::Portable>(shape, a, b, &[], each_band)
    });
}

#[test]
fn row_bands_make_up_the_product() {
    for (seed, &(m, k, n)) in SHAPES.iter().enumerate() {
        check(dispatched_bands, m, k, n, 500 + seed as u64);
    }
    for (seed, &(m, k, n)) in SHAPES.iter().enumerate().skip(SMALL_SHAPES) {
        check(portable_bands, m, k, n, 600 + seed as u64);
    }
    let mut rng = SeededRng::new(43);
    for seed in 0..30 {
        let (m, k, n) = (1 + rng.below(90), 1 + rng.below(300), 1 + rng.below(600));
        check(dispatched_bands, m, k, n, 700 + seed);
    }
}

/// A weight gradient's bands hold the very floats `matmul` gives (the same kernel summing in
/// the same order), so that an optimizer applied band by band updates the weights exactly as one
/// applied to the stored gradient: the MLP's, LeNet-5's dense layers', and odd ones.
#[test]
fn row_bands_equal_the_product_bit_for_bit() {
    let mut rng = SeededRng::new(44);
    let shapes = [(784, 64, 512), (512, 64, 10), (400, 64, 120), (131, 37, 70)];
    for (inputs, batch, outputs) in shapes {
        let x = random(batch * inputs, &mut rng);
        let dy = random(batch * outputs, &mut rng);
        let (xt, dy) = (
            Operand::new(&x, batch, inputs, true),
            Operand::new(&dy, batch, outputs, false),
        );
        let mut whole = vec![0.0; inputs * outputs];
        matmul(xt, dy, &mut whole, false);
        let mut scratch = vec![0.0; inputs * outputs];
        let mut bands = 0;
        matmul_in_row_bands(xt, dy, &mut scratch, &[], |first, band| {
            bands += 1;
            let expected = &whole[first * outputs..][..band.len()];
            assert!(
                band.iter()
                    .zip(expected)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{inputs}x{outputs}, band from row {first}"
            );
        });
        assert!(bands >= 1);
        if (inputs, outputs) == (784, 512) {
            assert!(bands > 1, "the MLP's gradient comes in bands");
        }
    }
}

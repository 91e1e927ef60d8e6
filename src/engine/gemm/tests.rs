//! The GEMM against a naive triple loop in f64: every path (dispatching, blocked, portable
//! kernel), every transpose combination, with and without accumulation, on odd shapes.

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

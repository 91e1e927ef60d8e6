//! [`super::activation::tanh`] over a slice in the page's relaxed-SIMD build (wasm32): the same
//! rational function four lanes at a time, with fused multiply-adds (`f32x4.relaxed_madd`).
//!
//! Written out because the compiler's own vectorisation of the scalar loop is wrong there: with
//! relaxed SIMD on, it lowers `clamp` to `relaxed_min`/`relaxed_max`, which in Chromium turn a NaN
//! into the clamp's bound, so tanh(NaN) came out as -1 and a diverged network's NaNs were hidden.
//! Here the clamp is `pmin`/`pmax` and a NaN lane is put back explicitly. It is also a little
//! faster: the benchmark's 100x100 grid through a 2-8-8-1 tanh net, timed 12 times each way
//! alternately in one page, twice, took 0.38 and 0.40 ms at best (medians 0.42 and 0.58) against
//! 0.42 and 0.44 (0.45 and 0.62) with the compiler's loop. The SIMD128 build keeps the compiler's
//! loop, which is right there, and which beat this one without fused multiply-adds (at best 0.42
//! and 0.43 ms against 0.47 and 0.69).

use core::arch::wasm32::*;

use super::activation::{TANH_CLAMP, TANH_DENOMINATOR, TANH_NUMERATOR, tanh};

/// `y[i] = tanh(x[i])` for every `i`. Panics if the lengths differ.
pub fn tanh_slice(x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len(), "tanh_slice: lengths differ");
    let (x_lanes, x_rest) = x.as_chunks::<4>();
    let (y_lanes, y_rest) = y.as_chunks_mut::<4>();
    for (x, y) in x_lanes.iter().zip(y_lanes) {
        // SAFETY: `x` and `y` are four floats each; wasm loads and stores need no alignment.
        unsafe {
            v128_store(
                y.as_mut_ptr().cast(),
                tanh_lanes(v128_load(x.as_ptr().cast())),
            )
        };
    }
    for (y, &x) in y_rest.iter_mut().zip(x_rest) {
        *y = tanh(x);
    }
}

/// `acc + x * y`, fused.
#[inline(always)]
fn multiply_add(x: v128, y: v128, acc: v128) -> v128 {
    f32x4_relaxed_madd(x, y, acc)
}

/// The polynomial `coefficients` (lowest power first) at `x2`, by Horner's rule in the scalar
/// function's order.
#[inline(always)]
fn horner(coefficients: &[f32], x2: v128) -> v128 {
    let (&last, rest) = coefficients.split_last().expect("coefficients");
    rest.iter().rev().fold(f32x4_splat(last), |sum, &c| {
        multiply_add(x2, sum, f32x4_splat(c))
    })
}

#[inline(always)]
fn tanh_lanes(input: v128) -> v128 {
    let x = f32x4_pmin(
        f32x4_pmax(input, f32x4_splat(-TANH_CLAMP)),
        f32x4_splat(TANH_CLAMP),
    );
    let x2 = f32x4_mul(x, x);
    let value = f32x4_div(
        f32x4_mul(x, horner(&TANH_NUMERATOR, x2)),
        horner(&TANH_DENOMINATOR, x2),
    );
    // A NaN gives NaN, as with `clamp` (here too `pmax(NaN, -c)` came out as `-c`).
    v128_bitselect(input, value, f32x4_ne(input, input))
}

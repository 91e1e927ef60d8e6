//! `exp` for f32 without libm and without branches, so that loops calling it (sigmoid, softmax)
//! vectorise: libm's `expf` is a branchy call per element, on wasm as well as natively.

/// Below this, e^x rounds to 0 in f32 (e^-104 is under half the smallest subnormal).
const MIN_INPUT: f32 = -104.0;
/// Above ln(f32::MAX) = 88.72, so that large inputs still overflow to infinity.
const MAX_INPUT: f32 = 89.0;

/// Adding then subtracting 1.5 · 2^23 rounds a float below 2^22 in magnitude to the nearest
/// integer, and leaves that integer in the low bits of the sum. Not `floor(v + 0.5)`: `floor`
/// is a call to libm's `floorf` on x86-64 without SSE4.1 (the default native target).
const ROUNDER: f32 = 12_582_912.0;

/// ln 2 split in two (Cephes): the high part is 355/512 (9 significant bits), so `n · LN2_HIGH`
/// is exact for every `n` here, and `x - n · LN2_HIGH` loses nothing.
const LN2_HIGH: f32 = 0.693_359_4;
const LN2_LOW: f32 = -2.121_944_4e-4;

/// e^x within 1 ulp (Cephes `expf`'s reduction and polynomial; 0.99 ulp at worst over every f32
/// input, checked once exhaustively). Results in the subnormal range are the exact value rounded
/// once to a subnormal, below e^-104 they are 0, and above ln(f32::MAX) they are infinite, as
/// for `f32::exp`; a NaN gives a NaN.
#[inline(always)]
pub fn exp(input: f32) -> f32 {
    let x = input.clamp(MIN_INPUT, MAX_INPUT);
    // x = n ln2 + r with n an integer and |r| <= ln2 / 2.
    let shifted = x * std::f32::consts::LOG2_E + ROUNDER;
    let n = shifted - ROUNDER;
    let n_integer = shifted.to_bits() as i32 - ROUNDER.to_bits() as i32;
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    // Cephes `expf`'s minimax polynomial for (e^r - 1 - r) / r², rounded to f32.
    let polynomial = 1.987_569_1e-4;
    let polynomial = polynomial * r + 1.398_199_9e-3;
    let polynomial = polynomial * r + 8.333_452e-3;
    let polynomial = polynomial * r + 4.166_579_6e-2;
    let polynomial = polynomial * r + 1.666_666_6e-1;
    let polynomial = polynomial * r + 0.5;
    let e_r = polynomial * r * r + r + 1.0;
    // 2^n as two factors 2^(n/2) and 2^(n - n/2), each a normal float for n in [-150, 128]:
    // a single 2^n would leave the exponent field below -126 (subnormal results) or above 127.
    let half = n_integer >> 1;
    let value = e_r * power_of_two(half) * power_of_two(n_integer - half);
    // A NaN gives NaN. `clamp` passes it on, but a loop of these that the compiler vectorises in
    // the page's relaxed-SIMD build clamps with `relaxed_min`/`relaxed_max`, which in Chromium
    // turn a NaN into a bound (sigmoid(NaN) came out as a number): chosen here, it stays NaN.
    if input.is_nan() { input } else { value }
}

/// 2^n for n in [-126, 127], built from its exponent bits.
#[inline(always)]
fn power_of_two(n: i32) -> f32 {
    f32::from_bits(((n + 127) << 23) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error of `got` against `exact` in units of the last place of the f32 nearest `exact`
    /// (the smallest subnormal in the subnormal range).
    fn error_in_ulps(got: f32, exact: f64) -> f64 {
        let smallest_subnormal = f64::from(f32::from_bits(1));
        let nearest = exact as f32;
        let ulp = if nearest.is_normal() {
            let exponent = f64::from(nearest).log2().floor() as i32;
            2f64.powi(exponent - 23)
        } else {
            smallest_subnormal
        };
        (f64::from(got) - exact).abs() / ulp
    }

    #[test]
    fn is_within_one_ulp_over_the_whole_range() {
        let mut worst = (0.0f64, 0.0f32);
        let steps = 400_000;
        for i in 0..=steps {
            let x = MIN_INPUT + (MAX_INPUT - MIN_INPUT) * i as f32 / steps as f32;
            let exact = f64::from(x).exp();
            if exact > f64::from(f32::MAX) {
                assert_eq!(exp(x), f32::INFINITY, "exp({x})");
                continue;
            }
            let error = error_in_ulps(exp(x), exact);
            if error > worst.0 {
                worst = (error, x);
            }
        }
        // Small inputs, where e^x is near 1 and any absolute error shows.
        for i in -10_000..=10_000 {
            let x = i as f32 * 1e-6;
            let error = error_in_ulps(exp(x), f64::from(x).exp());
            if error > worst.0 {
                worst = (error, x);
            }
        }
        assert!(worst.0 <= 1.0, "{} ulp at x = {}", worst.0, worst.1);
    }

    #[test]
    fn saturates_and_propagates_nan_like_libm() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert_eq!(exp(-105.0), 0.0);
        assert_eq!(exp(-1e30), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(88.8), f32::INFINITY);
        assert_eq!(exp(1e30), f32::INFINITY);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert!(exp(88.7).is_finite());
        // e^-100 = 3.72e-44, a subnormal, not flushed to zero.
        let tiny = exp(-100.0);
        assert!(tiny > 0.0 && (f64::from(tiny) - (-100f64).exp()).abs() < 1.5e-45);
        assert!(exp(f32::NAN).is_nan());
    }
}

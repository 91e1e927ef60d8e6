//! Activation functions: each one's value `f(x)` and local derivative `f'(x)` side by side,
//! as scalar functions (for plots and the backprop stepper) and as tight slice loops (for the ops).

use serde::{Deserialize, Serialize};

use super::description::{Described, Description};
use super::fast_exp;

/// Slope of Leaky ReLU for negative inputs.
pub const LEAKY_RELU_SLOPE: f32 = 0.01;

/// A non-linearity applied element by element after a layer's weighted sum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Linear,
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu,
    Gelu,
}

impl Activation {
    pub const ALL: [Activation; 6] = [
        Activation::Linear,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Gelu,
    ];

    /// `f'(x)` as the course writes it, beside [`Description::formula`].
    pub fn derivative_formula(self) -> &'static str {
        match self {
            Activation::Linear => "f'(x) = 1",
            Activation::Sigmoid => "σ'(x) = σ(x) · (1 − σ(x))",
            Activation::Tanh => "tanh'(x) = 1 − tanh²(x)",
            Activation::Relu => "ReLU'(x) = 1 if x > 0, else 0",
            Activation::LeakyRelu => "LeakyReLU'(x) = 1 if x > 0, else 0.01",
            Activation::Gelu => "GELU'(x) = Φ(x) + x · φ(x)",
        }
    }

    /// `f(x)`.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Linear => x,
            Activation::Sigmoid => sigmoid(x),
            Activation::Tanh => tanh(x),
            // Not `f32::max`: on wasm that is a call to libm's `fmaxf` per element.
            Activation::Relu => relu(x),
            Activation::LeakyRelu => {
                if x > 0.0 {
                    x
                } else {
                    LEAKY_RELU_SLOPE * x
                }
            }
            Activation::Gelu => x * normal_cdf(x),
        }
    }

    /// `f'(x)`, given the input `x` and the output `y = f(x)` (sigmoid and tanh are cheaper from y).
    pub fn derivative(self, x: f32, y: f32) -> f32 {
        match self {
            Activation::Linear => 1.0,
            Activation::Sigmoid => y * (1.0 - y),
            Activation::Tanh => 1.0 - y * y,
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu => {
                if x > 0.0 {
                    1.0
                } else {
                    LEAKY_RELU_SLOPE
                }
            }
            Activation::Gelu => normal_cdf(x) + x * normal_pdf(x),
        }
    }

    /// `y[i] = f(x[i])`. Natively on a CPU with AVX2, the loops are compiled for its eight
    /// lanes (the same operations, so the same numbers as the portable loop, which has four).
    pub fn apply_slice(self, x: &[f32], y: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { self.apply_slice_avx2(x, y) };
        }
        self.apply_slice_portable(x, y)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn apply_slice_avx2(self, x: &[f32], y: &mut [f32]) {
        self.apply_slice_portable(x, y)
    }

    #[inline(always)]
    fn apply_slice_portable(self, x: &[f32], y: &mut [f32]) {
        assert_eq!(x.len(), y.len());
        // One loop per variant so each compiles to a tight (vectorisable) loop.
        match self {
            Activation::Linear => y.copy_from_slice(x),
            Activation::Relu => y.iter_mut().zip(x).for_each(|(y, &x)| *y = relu(x)),
            Activation::LeakyRelu => y
                .iter_mut()
                .zip(x)
                .for_each(|(y, &x)| *y = if x > 0.0 { x } else { LEAKY_RELU_SLOPE * x }),
            Activation::Sigmoid => y.iter_mut().zip(x).for_each(|(y, &x)| *y = sigmoid(x)),
            Activation::Tanh => {
                #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
                return super::tanh_wasm::tanh_slice(x, y);
                #[allow(unreachable_code)]
                y.iter_mut().zip(x).for_each(|(y, &x)| *y = tanh(x))
            }
            Activation::Gelu => y
                .iter_mut()
                .zip(x)
                .for_each(|(y, &x)| *y = x * normal_cdf(x)),
        }
    }

    /// Chain rule through the activation: `grad_x[i] += grad_y[i] * f'(x[i])`, or with
    /// `overwrite` `grad_x[i] = ...` whatever it held.
    pub fn backward_slice(
        self,
        x: &[f32],
        y: &[f32],
        grad_y: &[f32],
        grad_x: &mut [f32],
        overwrite: bool,
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { self.backward_slice_avx2(x, y, grad_y, grad_x, overwrite) };
        }
        self.backward_slice_portable(x, y, grad_y, grad_x, overwrite)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn backward_slice_avx2(
        self,
        x: &[f32],
        y: &[f32],
        grad_y: &[f32],
        grad_x: &mut [f32],
        overwrite: bool,
    ) {
        self.backward_slice_portable(x, y, grad_y, grad_x, overwrite)
    }

    #[inline(always)]
    fn backward_slice_portable(
        self,
        x: &[f32],
        y: &[f32],
        grad_y: &[f32],
        grad_x: &mut [f32],
        overwrite: bool,
    ) {
        assert!(x.len() == y.len() && y.len() == grad_y.len() && grad_y.len() == grad_x.len());
        // Each arm its own closure: a tight loop per activation, no call through a pointer.
        let (gy, o) = (grad_y, overwrite);
        match self {
            Activation::Linear => chain_rule(grad_x, gy, x, y, o, |gy, _, _| gy),
            Activation::Relu => chain_rule(
                grad_x,
                gy,
                x,
                y,
                o,
                |gy, x, _| if x > 0.0 { gy } else { 0.0 },
            ),
            Activation::LeakyRelu => chain_rule(grad_x, gy, x, y, o, |gy, x, _| {
                if x > 0.0 { gy } else { LEAKY_RELU_SLOPE * gy }
            }),
            Activation::Sigmoid => chain_rule(grad_x, gy, x, y, o, |gy, _, y| gy * y * (1.0 - y)),
            Activation::Tanh => chain_rule(grad_x, gy, x, y, o, |gy, _, y| gy * (1.0 - y * y)),
            Activation::Gelu => chain_rule(grad_x, gy, x, y, o, |gy, x, _| {
                gy * (normal_cdf(x) + x * normal_pdf(x))
            }),
        }
    }
}

/// `grad_x[i] (+)= local(grad_y[i], x[i], y[i])`: added, or written with `overwrite`. Inlined
/// into each activation's arm, so that every loop is a tight (vectorisable) one.
#[inline(always)]
fn chain_rule(
    grad_x: &mut [f32],
    grad_y: &[f32],
    x: &[f32],
    y: &[f32],
    overwrite: bool,
    local: impl Fn(f32, f32, f32) -> f32,
) {
    let each = grad_x.iter_mut().zip(grad_y.iter().zip(x).zip(y));
    match overwrite {
        true => each.for_each(|(gx, ((&gy, &x), &y))| *gx = local(gy, x, y)),
        false => each.for_each(|(gx, ((&gy, &x), &y))| *gx += local(gy, x, y)),
    }
}

/// The logistic function `1 / (1 + e^-x)`, from `e = e^-|x|` (at most 1, so nothing overflows):
/// `1 / (1 + e)` for x >= 0, `e / (1 + e)` below, which keeps the relative accuracy of tiny
/// results. Both sides are computed and one is selected, and [`fast_exp::exp`] has no branches
/// either, so the slice loop vectorises: `f32::exp` was a libm call per element, 10% of the
/// decision-boundary grid.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    let e = fast_exp::exp(-x.abs());
    let for_positive = 1.0 / (1.0 + e);
    if x >= 0.0 {
        for_positive
    } else {
        e * for_positive
    }
}

/// `max(x, 0)`, written as a comparison so that it compiles to a select (a vector one in slice
/// loops); `f32::max` becomes a call to `fmaxf` on wasm, which measured 11% of a LeNet-5 step.
/// A NaN gives 0, as `f32::max` does.
#[inline(always)]
fn relu(x: f32) -> f32 {
    if x > 0.0 { x } else { 0.0 }
}

/// Hyperbolic tangent as a rational function (the minimax fit used by Eigen's `ptanh`), with
/// absolute error below 1e-6. Unlike `f32::tanh` (a libm call) it has no branches on the hot
/// path, so the slice loop vectorises: natively in release it measured 0.9 ns per element
/// against 16 ns for `f32::tanh`.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let x = x.clamp(-TANH_CLAMP, TANH_CLAMP);
    let x2 = x * x;
    let horner = |coefficients: &[f32]| {
        let (&last, rest) = coefficients.split_last().expect("coefficients");
        rest.iter().rev().fold(last, |sum, &c| c + x2 * sum)
    };
    x * horner(&TANH_NUMERATOR) / horner(&TANH_DENOMINATOR)
}

/// Beyond this, tanh(x) rounds to ±1 in f32.
pub(crate) const TANH_CLAMP: f32 = 7.905_311;
/// [`tanh`]'s numerator over `x`, a polynomial in `x^2`, lowest power first.
pub(crate) const TANH_NUMERATOR: [f32; 7] = [
    4.893_524_6e-3,
    6.372_619_3e-4,
    1.485_722_4e-5,
    5.122_297e-8,
    -8.604_672e-11,
    2.000_188e-13,
    -2.760_768_5e-16,
];
/// [`tanh`]'s denominator, a polynomial in `x^2`, lowest power first.
pub(crate) const TANH_DENOMINATOR: [f32; 4] =
    [4.893_525e-3, 2.268_434_6e-3, 1.185_347_1e-4, 1.198_258_4e-6];

/// The standard normal density `phi(x) = e^(-x^2/2) / sqrt(2 pi)`.
pub fn normal_pdf(x: f32) -> f32 {
    const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    let x = f64::from(x);
    (INV_SQRT_2PI * (-0.5 * x * x).exp()) as f32
}

/// The standard normal distribution function `Phi(x) = erfc(-x / sqrt 2) / 2`.
pub fn normal_cdf(x: f32) -> f32 {
    (0.5 * erfc(-f64::from(x) * std::f64::consts::FRAC_1_SQRT_2)) as f32
}

/// The error function.
pub fn erf(x: f64) -> f64 {
    1.0 - erfc(x)
}

/// The complementary error function, with relative error below 1.2e-7 everywhere.
///
/// Chebyshev-fitted rational form from Numerical Recipes (`erfcc`); it keeps its relative
/// accuracy in the tails, where `1 - erf(x)` would cancel. (Abramowitz–Stegun 7.1.26, at 1.5e-7
/// absolute, loses all relative accuracy there.)
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let polynomial = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let value = t * polynomial.exp();
    if x >= 0.0 { value } else { 2.0 - value }
}

impl Described for Activation {
    fn every() -> &'static [Activation] {
        &Activation::ALL
    }

    fn describe(self) -> Description {
        let words = Description::new;
        match self {
            Activation::Linear => words("linear", "Linear", "f", "f(x) = x"),
            Activation::Sigmoid => words("sigmoid", "Sigmoid", "σ", "σ(x) = 1 / (1 + e⁻ˣ)"),
            Activation::Tanh => words("tanh", "Tanh", "tanh", "tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)"),
            Activation::Relu => words("relu", "ReLU", "ReLU", "ReLU(x) = max(0, x)"),
            Activation::LeakyRelu => words(
                "leaky_relu",
                "Leaky ReLU",
                "LeakyReLU",
                "LeakyReLU(x) = x if x > 0, else 0.01·x",
            ),
            Activation::Gelu => words(
                "gelu",
                "GELU",
                "GELU",
                "GELU(x) = x · Φ(x)   (Φ: the standard normal CDF)",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serialised_form_is_the_key() {
        for a in Activation::ALL {
            let written = serde_json::to_string(&a).unwrap();
            assert_eq!(written, format!("\"{}\"", a.key()));
        }
        assert_eq!(Activation::from_key("swish"), None);
    }

    #[test]
    fn erf_matches_reference_values() {
        // erf values from tables (15 digits).
        let table = [
            (0.0, 0.0),
            (0.1, 0.112_462_916_018_284_9),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (3.0, 0.999_977_909_503_001_4),
        ];
        for (x, expected) in table {
            assert!((erf(x) - expected).abs() < 2e-7, "erf({x})");
            assert!((erf(-x) + expected).abs() < 2e-7, "erf(-{x})");
        }
    }

    #[test]
    fn fast_tanh_is_accurate() {
        let mut worst = 0.0f64;
        for i in -200_000..=200_000 {
            let x = i as f32 * 1e-4;
            worst = worst.max((f64::from(tanh(x)) - f64::from(x).tanh()).abs());
        }
        for x in [-1e30, -50.0, 50.0, 1e30, f32::MAX] {
            worst = worst.max((f64::from(tanh(x)) - f64::from(x).tanh()).abs());
        }
        assert!(worst < 1e-6, "max error {worst}");
        assert_eq!(tanh(0.0), 0.0);
        assert!(tanh(f32::NAN).is_nan());
    }

    #[test]
    fn gelu_known_values() {
        // PyTorch: F.gelu(torch.tensor([1., -1., 2.])) = [0.8413447, -0.1586553, 1.9544997]
        assert!((Activation::Gelu.apply(1.0) - 0.841_344_7).abs() < 1e-6);
        assert!((Activation::Gelu.apply(-1.0) + 0.158_655_3).abs() < 1e-6);
        assert!((Activation::Gelu.apply(2.0) - 1.954_499_7).abs() < 1e-6);
    }

    #[test]
    fn slice_versions_agree_with_scalar_ones() {
        let x: Vec<f32> = (-20..=20).map(|i| i as f32 * 0.37).collect();
        let grad_y: Vec<f32> = x.iter().map(|v| 1.0 + v * 0.1).collect();
        for a in Activation::ALL {
            let mut y = vec![0.0; x.len()];
            a.apply_slice(&x, &mut y);
            let mut grad_x = vec![0.5; x.len()];
            a.backward_slice(&x, &y, &grad_y, &mut grad_x, false);
            for i in 0..x.len() {
                assert_eq!(y[i], a.apply(x[i]), "{a:?}");
                let expected = 0.5 + grad_y[i] * a.derivative(x[i], y[i]);
                assert!((grad_x[i] - expected).abs() < 1e-6, "{a:?}");
            }
        }
    }

    #[test]
    fn sigmoid_is_stable_for_large_inputs() {
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert_eq!(sigmoid(100.0), 1.0);
        // e^-100 = 3.7e-44: tiny, positive, not flushed to zero.
        let tiny = sigmoid(-100.0);
        assert!(tiny > 0.0 && tiny < 1e-43, "{tiny}");
        assert!(sigmoid(f32::NAN).is_nan());
    }

    #[test]
    fn sigmoid_is_accurate() {
        let exact = |x: f64| 1.0 / (1.0 + (-x).exp());
        for i in -120_000..=120_000 {
            let x = i as f32 * 1e-3;
            let expected = exact(f64::from(x));
            let error = (f64::from(sigmoid(x)) - expected).abs();
            if expected < f64::from(f32::MIN_POSITIVE) {
                // Subnormal results: within one step of the smallest subnormal.
                assert!(
                    error <= f64::from(f32::from_bits(1)),
                    "sigmoid({x}): error {error}"
                );
            } else {
                let relative = error / expected;
                assert!(
                    relative < 2.0 * f64::from(f32::EPSILON),
                    "sigmoid({x}): {relative}"
                );
            }
        }
        assert_eq!(sigmoid(0.0), 0.5);
    }
}

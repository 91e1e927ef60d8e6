//! What the activation explorer draws: sampled curves of `f` and `f'`, the stretches of x where
//! the gradient vanishes, each activation's formula, and softmax with a temperature. All values
//! come from the engine's `Activation` and `softmax_rows`; this module only samples and labels them.

use crate::engine::Activation;
use crate::engine::softmax::softmax_rows;

/// The x range the explorer plots, as in most textbook figures.
pub const X_RANGE: (f32, f32) = (-6.0, 6.0);

/// Below this slope we say the gradient vanishes: a signal passing back through ten such
/// layers shrinks by at least 0.05^10 ≈ 1e-13.
pub const VANISHING_SLOPE: f32 = 0.05;

/// One sample of an activation: its input, value and slope.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    pub x: f32,
    pub value: f32,
    pub slope: f32,
}

/// `f(x)` and `f'(x)` from the engine.
pub fn evaluate(activation: Activation, x: f32) -> CurvePoint {
    let value = activation.apply(x);
    CurvePoint {
        x,
        value,
        slope: activation.derivative(x, value),
    }
}

/// `samples` evenly spaced points of the activation over `[from, to]`, both ends included.
pub fn sample_curve(activation: Activation, from: f32, to: f32, samples: usize) -> Vec<CurvePoint> {
    let steps = samples.max(2) - 1;
    (0..=steps)
        .map(|i| evaluate(activation, from + (to - from) * i as f32 / steps as f32))
        .collect()
}

/// The intervals of `[from, to]` where `|f'(x)| < threshold`, found on a fine grid (to 0.01).
pub fn vanishing_intervals(
    activation: Activation,
    from: f32,
    to: f32,
    threshold: f32,
) -> Vec<(f32, f32)> {
    let samples = ((to - from) / 0.01).round() as usize + 1;
    let mut intervals = Vec::new();
    let mut start: Option<f32> = None;
    let mut previous_x = from;
    for point in sample_curve(activation, from, to, samples) {
        let vanishing = point.slope.abs() < threshold;
        match (vanishing, start) {
            (true, None) => start = Some(point.x),
            (false, Some(begin)) => {
                intervals.push((begin, previous_x));
                start = None;
            }
            _ => {}
        }
        previous_x = point.x;
    }
    if let Some(begin) = start {
        intervals.push((begin, to));
    }
    intervals
}

/// The x the explorer uses for a requested one: inside `X_RANGE` and rounded to 0.01, so the x
/// printed beside `f(x)` is exactly the x it was computed at.
pub fn pick_x(requested: f32) -> f32 {
    let (from, to) = X_RANGE;
    (requested.clamp(from, to) * 100.0).round() / 100.0
}

/// `softmax(logits / temperature)`. A small temperature sharpens the distribution towards the
/// argmax; a large one flattens it towards uniform.
pub fn softmax_with_temperature(logits: &[f32], temperature: f32) -> Vec<f32> {
    let temperature = temperature.max(1e-6);
    let scaled: Vec<f32> = logits.iter().map(|z| z / temperature).collect();
    let mut probabilities = vec![0.0; scaled.len()];
    softmax_rows(&scaled, &mut probabilities, scaled.len());
    probabilities
}

/// The index of the largest logit (the first one on a tie), what softmax tends to as T → 0.
pub fn argmax(values: &[f32]) -> Option<usize> {
    values
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f32)>, (i, &v)| match best {
            Some((_, top)) if top >= v => best,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_slope_at_zero_is_a_quarter() {
        let point = evaluate(Activation::Sigmoid, 0.0);
        assert_eq!(point.value, 0.5);
        assert_eq!(point.slope, 0.25);
    }

    #[test]
    fn picked_x_is_clamped_and_rounded() {
        assert_eq!(pick_x(1.234_567), 1.23);
        assert_eq!(pick_x(-40.0), -6.0);
        assert_eq!(pick_x(6.5), 6.0);
    }

    #[test]
    fn curve_includes_both_ends() {
        let curve = sample_curve(Activation::Relu, -6.0, 6.0, 121);
        assert_eq!(curve.len(), 121);
        assert_eq!(curve[0].x, -6.0);
        assert!((curve[120].x - 6.0).abs() < 1e-6);
        assert_eq!(curve[120].value, curve[120].x);
    }

    #[test]
    fn sigmoid_gradient_vanishes_beyond_about_2_9() {
        // σ'(x) = 0.05 where σ(x) = (1 + sqrt(0.8)) / 2, i.e. |x| = ln((1 + √0.8) / (1 − √0.8)) ≈ 2.887.
        let edge = ((1.0 + 0.8f32.sqrt()) / (1.0 - 0.8f32.sqrt())).ln();
        let intervals = vanishing_intervals(Activation::Sigmoid, -6.0, 6.0, VANISHING_SLOPE);
        assert_eq!(intervals.len(), 2);
        assert_eq!(intervals[0].0, -6.0);
        assert!((intervals[0].1 + edge).abs() < 0.02, "{intervals:?}");
        assert!((intervals[1].0 - edge).abs() < 0.02, "{intervals:?}");
        assert_eq!(intervals[1].1, 6.0);
    }

    #[test]
    fn tanh_vanishes_sooner_and_relu_only_on_the_left() {
        // tanh'(x) = 0.05 where tanh²(x) = 0.95: |x| = atanh(√0.95) ≈ 2.178.
        let edge = 0.95f64.sqrt().atanh() as f32;
        let intervals = vanishing_intervals(Activation::Tanh, -6.0, 6.0, VANISHING_SLOPE);
        assert!((intervals[0].1 + edge).abs() < 0.02, "{intervals:?}");
        let relu = vanishing_intervals(Activation::Relu, -6.0, 6.0, VANISHING_SLOPE);
        assert_eq!(relu.len(), 1);
        assert_eq!(relu[0].0, -6.0);
        assert!(relu[0].1.abs() < 0.02, "{relu:?}");
        assert!(vanishing_intervals(Activation::Linear, -6.0, 6.0, VANISHING_SLOPE).is_empty());
    }

    #[test]
    fn temperature_sharpens_and_flattens() {
        let logits = [2.0, 1.0, 0.1];
        let plain = softmax_with_temperature(&logits, 1.0);
        // The textbook example: softmax(2, 1, 0.1) = (0.659, 0.242, 0.099).
        assert!((plain[0] - 0.659_001).abs() < 1e-5, "{plain:?}");
        assert!((plain[1] - 0.242_433).abs() < 1e-5, "{plain:?}");
        let cold = softmax_with_temperature(&logits, 0.01);
        assert!(cold[0] > 0.999_99, "{cold:?}");
        let hot = softmax_with_temperature(&logits, 1000.0);
        assert!(hot.iter().all(|p| (p - 1.0 / 3.0).abs() < 1e-3), "{hot:?}");
        assert_eq!(argmax(&logits), Some(0));
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), Some(1));
        assert_eq!(argmax(&[]), None);
    }
}

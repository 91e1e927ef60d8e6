//! The colour scale shared by every heatmap, edge and point: orange for negative (class 0),
//! white around zero, blue for positive (class 1), as in TensorFlow Playground.

/// RGB of the two ends and the middle of the scale.
const NEGATIVE: [f32; 3] = [245.0, 147.0, 34.0];
const MIDDLE: [f32; 3] = [232.0, 234.0, 235.0];
const POSITIVE: [f32; 3] = [8.0, 119.0, 189.0];

/// Colour of a value in [-1, 1] as RGB bytes.
pub fn rgb(value: f32) -> [u8; 3] {
    let t = value.clamp(-1.0, 1.0);
    let (end, weight) = if t < 0.0 {
        (NEGATIVE, -t)
    } else {
        (POSITIVE, t)
    };
    std::array::from_fn(|channel| {
        (MIDDLE[channel] + (end[channel] - MIDDLE[channel]) * weight) as u8
    })
}

/// CSS colour of a value in [-1, 1].
pub fn css(value: f32) -> String {
    let [r, g, b] = rgb(value);
    format!("rgb({r},{g},{b})")
}

/// Fills an RGBA buffer with the colours of `values`; `discretize` snaps each to its sign.
pub fn fill_rgba(values: &[f32], discretize: bool, rgba: &mut Vec<u8>) {
    rgba.clear();
    rgba.reserve(values.len() * 4);
    for &value in values {
        let shown = if discretize { value.signum() } else { value };
        let [r, g, b] = rgb(shown);
        rgba.extend_from_slice(&[r, g, b, 255]);
    }
}

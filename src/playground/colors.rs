//! The colour scale shared by every heatmap, edge and point: orange for negative (class 0),
//! white around zero, blue for positive (class 1), as in TensorFlow Playground; and WCAG contrast,
//! to pick text that reads on any shade.

/// RGB of the two ends and the middle of the scale.
const NEGATIVE: [f32; 3] = [245.0, 147.0, 34.0];
const MIDDLE: [f32; 3] = [232.0, 234.0, 235.0];
const POSITIVE: [f32; 3] = [8.0, 119.0, 189.0];

/// The edge drawn around every mark on a heatmap (data points): at least 3:1 against any shade
/// of the scale, so that a mark stands out whatever it sits on.
pub const MARK_EDGE: [u8; 3] = [0, 0, 0];

/// The inks of lines and marks on a chart's white ground, each at 3:1 or more against it (a unit
/// test checks), from a colour-blind-safe set (blue, orange and green of Dark2 and Tableau, told
/// apart by people with any common colour vision deficiency).
pub mod ink {
    pub const BLUE: [u8; 3] = [8, 119, 189];
    pub const ORANGE: [u8; 3] = [217, 95, 2];
    pub const GREEN: [u8; 3] = [46, 125, 50];
    pub const RED: [u8; 3] = [208, 75, 42];
    pub const DARK_RED: [u8; 3] = [176, 58, 30];
    pub const CRIMSON: [u8; 3] = [214, 39, 40];
    pub const PURPLE: [u8; 3] = [148, 103, 189];
    pub const GREY: [u8; 3] = [118, 118, 118];
    pub const DARK: [u8; 3] = [51, 51, 51];
    /// Every ink above.
    pub const ALL: [[u8; 3]; 9] = [
        BLUE, ORANGE, GREEN, RED, DARK_RED, CRIMSON, PURPLE, GREY, DARK,
    ];
}

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

/// Steps of the scale in [`SCALE_RGBA`]: a value in [-1, 1] is drawn in the colour of the
/// nearest of `2 * SCALE_STEPS + 1` evenly spaced values, within one level of [`rgb`]'s own.
pub const SCALE_STEPS: usize = 512;

/// The scale's colours, RGBA, at its steps: a heatmap's pixels are looked up, not computed.
static SCALE_RGBA: std::sync::LazyLock<Vec<[u8; 4]>> = std::sync::LazyLock::new(|| {
    (0..=2 * SCALE_STEPS)
        .map(|index| {
            let [r, g, b] = rgb(scale_value(index));
            [r, g, b, 255]
        })
        .collect()
});

/// The step of [`SCALE_RGBA`] nearest to `value` (clamped to [-1, 1]; NaN at the middle).
pub fn scale_index(value: f32) -> usize {
    let value = if value.is_nan() {
        0.0
    } else {
        value.clamp(-1.0, 1.0)
    };
    ((value + 1.0) * SCALE_STEPS as f32).round() as usize
}

/// The value at step `index` of [`SCALE_RGBA`].
pub fn scale_value(index: usize) -> f32 {
    index as f32 / SCALE_STEPS as f32 - 1.0
}

/// Fills an RGBA buffer with the colours of `values`; `discretize` snaps each to its sign.
pub fn fill_rgba(values: &[f32], discretize: bool, rgba: &mut Vec<u8>) {
    let table = &*SCALE_RGBA;
    rgba.clear();
    rgba.resize(values.len() * 4, 0);
    for (pixel, &value) in rgba.chunks_exact_mut(4).zip(values) {
        let shown = if discretize { value.signum() } else { value };
        pixel.copy_from_slice(&table[scale_index(shown)]);
    }
}

/// `rgb` drawn at opacity `alpha` over a white page.
pub fn over_white(rgb: [u8; 3], alpha: f32) -> [u8; 3] {
    let alpha = alpha.clamp(0.0, 1.0);
    rgb.map(|channel| (255.0 + (channel as f32 - 255.0) * alpha).round() as u8)
}

/// WCAG's relative luminance of an sRGB colour.
fn luminance(rgb: [u8; 3]) -> f32 {
    let linear = |channel: u8| {
        let c = channel as f32 / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2])
}

/// WCAG's contrast ratio of two colours, from 1 (the same) to 21 (black on white).
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f32 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Black or white, whichever reads better on `background` (always at least 4.5:1).
pub fn text_on(background: [u8; 3]) -> &'static str {
    if contrast([0, 0, 0], background) >= contrast([255, 255, 255], background) {
        "#000"
    } else {
        "#fff"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The looked-up colours are within one level of the computed ones, and the ends and the
    /// middle are exact.
    #[test]
    fn heatmap_pixels_follow_the_scale() {
        let values: Vec<f32> = (0..=4000).map(|i| i as f32 / 2000.0 - 1.0).collect();
        let mut rgba = Vec::new();
        fill_rgba(&values, false, &mut rgba);
        for (pixel, &value) in rgba.chunks_exact(4).zip(&values) {
            let exact = rgb(value);
            for channel in 0..3 {
                let difference = (i16::from(pixel[channel]) - i16::from(exact[channel])).abs();
                assert!(difference <= 1, "{value}: {pixel:?} against {exact:?}");
            }
            assert_eq!(pixel[3], 255);
        }
        fill_rgba(&[-1.0, 0.0, 1.0, 7.0, f32::NAN], false, &mut rgba);
        let expected = [rgb(-1.0), rgb(0.0), rgb(1.0), rgb(1.0), rgb(0.0)];
        for (pixel, exact) in rgba.chunks_exact(4).zip(expected) {
            assert_eq!(pixel[..3], exact);
        }
        fill_rgba(&[-0.2, 0.3], true, &mut rgba);
        assert_eq!(rgba[..3], rgb(-1.0));
        assert_eq!(rgba[4..7], rgb(1.0));
    }

    #[test]
    fn contrast_matches_wcag_worked_values() {
        assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-3);
        assert!((contrast([119, 119, 119], [255, 255, 255]) - 4.48).abs() < 0.01);
        assert!((contrast([8, 119, 189], [255, 255, 255]) - 4.79).abs() < 0.01);
    }

    #[test]
    fn marks_stand_out_from_any_shade_and_the_ends_from_the_page() {
        for step in 0..=200 {
            let shade = rgb(step as f32 / 100.0 - 1.0);
            assert!(contrast(MARK_EDGE, shade) >= 3.0, "{shade:?}");
        }
    }

    #[test]
    fn every_chart_ink_reads_on_white() {
        for colour in ink::ALL {
            assert!(contrast(colour, [255; 3]) >= 3.0, "{colour:?}");
        }
    }

    #[test]
    fn text_on_any_shade_of_the_scale_reads_at_aa() {
        for step in 0..=200 {
            let background = rgb(step as f32 / 100.0 - 1.0);
            let text = if text_on(background) == "#000" {
                [0; 3]
            } else {
                [255; 3]
            };
            assert!(contrast(text, background) >= 4.5, "{background:?}");
            for alpha in [0.1, 0.5, 0.9] {
                let blended = over_white(background, alpha);
                let text = if text_on(blended) == "#000" {
                    [0; 3]
                } else {
                    [255; 3]
                };
                assert!(contrast(text, blended) >= 4.5, "{blended:?}");
            }
        }
    }
}

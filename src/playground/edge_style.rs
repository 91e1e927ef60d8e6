//! How the network diagram draws an edge: coloured by its weight on the shared scale, dashed
//! when negative (the sign shown by more than colour), as thick as the weight is large. Edges
//! that look alike form one group, stroked together: a few hundred strokes draw thousands.

/// Colour steps on each side of zero.
const COLOUR_STEPS: f32 = 32.0;
/// The thinnest and thickest an edge is drawn, in pixels.
const THINNEST: f32 = 0.6;
const THICKEST: f32 = 9.0;

/// How an edge looks: dashed (negative), colour step, width in quarter pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EdgeStyle {
    pub negative: bool,
    colour_step: i32,
    quarter_pixels: u32,
}

impl EdgeStyle {
    /// The style of an edge of `weight` in a diagram whose widest layer has `widest` neurons.
    pub fn of(weight: f32, widest: usize) -> EdgeStyle {
        let width = (weight.abs() * 2.0 * thickness_scale(widest)).clamp(THINNEST, THICKEST);
        EdgeStyle {
            negative: weight < 0.0,
            colour_step: (weight.clamp(-1.0, 1.0) * COLOUR_STEPS).round() as i32,
            quarter_pixels: (width * 4.0).round() as u32,
        }
    }

    /// The value in [-1, 1] whose colour the edge takes.
    pub fn colour(self) -> f32 {
        self.colour_step as f32 / COLOUR_STEPS
    }

    pub fn width_px(self) -> f64 {
        f64::from(self.quarter_pixels) / 4.0
    }
}

/// How much thinner edges are drawn beside a layer of `widest` neurons than beside four or
/// fewer: neighbouring edges leave a neuron a few pixels apart there, and thick strokes would
/// cover each other (and cost the browser more to paint than a frame has).
fn thickness_scale(widest: usize) -> f32 {
    (4.0 / widest.max(1) as f32).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Edges keep their sizes relative to each other in wide layers, thinner, never below
    /// the thinnest; the sign decides the dashes; the colour follows the weight in steps.
    #[test]
    fn wide_layers_draw_thinner_edges() {
        let width = |weight: f32, widest: usize| EdgeStyle::of(weight, widest).width_px();
        assert_eq!((width(1.0, 2), width(1.0, 4)), (2.0, 2.0));
        assert_eq!((width(1.0, 8), width(1.0, 16)), (1.0, 0.5));
        assert_eq!(width(4.0, 16), 2.0);
        assert_eq!((width(0.01, 16), width(100.0, 2)), (0.5, 9.0));
        assert!(EdgeStyle::of(-0.5, 4).negative && !EdgeStyle::of(0.5, 4).negative);
        assert_eq!(EdgeStyle::of(0.5, 4).colour(), 0.5);
        assert_eq!(EdgeStyle::of(-7.0, 4).colour(), -1.0);
        assert_eq!(EdgeStyle::of(0.01, 4), EdgeStyle::of(0.012, 4), "one group");
    }
}

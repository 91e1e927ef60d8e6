//! The race's plot, drawn on two stacked canvases: underneath, the loss surface as a
//! log-scaled heatmap with contour lines (painted once per surface); on top, the start, the
//! minima and each optimizer's path in its own colour (repainted every frame).

use crate::engine::OptimizerKind;
use crate::playground::colors;
use crate::playground::optimizer_race::contours::{contour_segments, even_levels};
use crate::playground::optimizer_race::{Point, Race, Surface};
use crate::ui::heatmap::context_2d;
use wasm_bindgen::Clamped;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData, MouseEvent};

/// Width and height of both canvases, in canvas pixels.
pub const PLOT_SIZE: usize = 480;
/// The contour lines are traced on a coarser grid than the heatmap: smooth enough, and cheap.
const CONTOUR_GRID: usize = 121;
const CONTOUR_LEVELS: usize = 14;
/// The heatmap stops short of the scale's darkest blue, so that paths stay visible on it.
const DARKEST: f32 = 0.75;
/// Orders of magnitude of loss the colours cover, down from the highest loss in view.
const DECADES_SHOWN: f32 = 3.0;

/// The colour of an optimizer's path, dot and legend swatch.
pub fn racer_colour(kind: OptimizerKind) -> &'static str {
    match kind {
        OptimizerKind::Sgd => "#d62728",
        OptimizerKind::Momentum => "#f59322",
        OptimizerKind::AdaGrad => "#2ca02c",
        OptimizerKind::RmsProp => "#c51b8a",
        OptimizerKind::Adam => "#111111",
    }
}

/// The surface as a heatmap of its log loss, light where low, blue where high, with contours.
pub fn paint_surface(canvas: &HtmlCanvasElement, surface: Surface) {
    let Some(context) = context_2d(canvas) else {
        return;
    };
    let grid = surface.log_loss_grid(PLOT_SIZE);
    let (low, high) = shown_range(&grid);
    let mut rgba = Vec::with_capacity(grid.len() * 4);
    for value in &grid {
        let [r, g, b] = colors::rgb((value.max(low) - low) / (high - low) * DARKEST);
        rgba.extend_from_slice(&[r, g, b, 255]);
    }
    let size = PLOT_SIZE as u32;
    if let Ok(image) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), size, size) {
        let _ = context.put_image_data(&image, 0.0, 0.0);
    }

    let coarse: Vec<f32> = surface
        .log_loss_grid(CONTOUR_GRID)
        .into_iter()
        .map(|value| value.max(low))
        .collect();
    let scale = PLOT_SIZE as f64 / (CONTOUR_GRID - 1) as f64;
    context.set_stroke_style_str("rgba(24, 61, 78, 0.45)");
    context.set_line_width(1.0);
    context.begin_path();
    for level in even_levels(&coarse, CONTOUR_LEVELS) {
        for [a, b] in contour_segments(&coarse, CONTOUR_GRID, CONTOUR_GRID, level) {
            context.move_to(f64::from(a[0]) * scale, f64::from(a[1]) * scale);
            context.line_to(f64::from(b[0]) * scale, f64::from(b[1]) * scale);
        }
    }
    context.stroke();
}

/// The minima, the common start and every racer's path so far, over a transparent canvas.
pub fn paint_paths(canvas: &HtmlCanvasElement, race: &Race) {
    let Some(context) = context_2d(canvas) else {
        return;
    };
    let size = PLOT_SIZE as f64;
    context.clear_rect(0.0, 0.0, size, size);
    let surface = race.surface();
    let to_pixels = |point: Point| {
        let (u, v) = surface.view().fractions_of(point);
        (u * size, v * size)
    };

    context.set_stroke_style_str("white");
    context.set_line_width(2.0);
    for &minimum in surface.minima() {
        let (x, y) = to_pixels(minimum);
        cross(&context, x, y, 5.0);
    }

    context.set_line_join("round");
    for racer in race.racers() {
        let colour = racer_colour(racer.kind());
        context.set_stroke_style_str(colour);
        context.set_fill_style_str(colour);
        context.set_line_width(2.0);
        context.begin_path();
        for (index, &point) in racer.path().iter().enumerate() {
            let (x, y) = to_pixels(point);
            if index == 0 {
                context.move_to(x, y);
            } else {
                context.line_to(x, y);
            }
        }
        context.stroke();
        let Some(&last) = racer.path().last() else {
            continue;
        };
        let (x, y) = to_pixels(last);
        if racer.diverged() {
            context.set_line_width(3.0);
            cross(&context, x, y, 6.0);
        } else {
            context.begin_path();
            let _ = context.arc(x, y, 4.5, 0.0, std::f64::consts::TAU);
            context.fill();
        }
    }

    let (x, y) = to_pixels(race.start());
    context.set_fill_style_str("white");
    context.set_stroke_style_str("#183d4e");
    context.set_line_width(2.0);
    context.begin_path();
    let _ = context.arc(x, y, 6.0, 0.0, std::f64::consts::TAU);
    context.fill();
    context.stroke();
}

/// The point of the surface under `event` on the canvas.
pub fn point_under(canvas: &HtmlCanvasElement, surface: Surface, event: &MouseEvent) -> Point {
    let (x, y) = crate::ui::pointer::fraction_within(canvas, event);
    surface.view().point_at(x, y)
}

fn cross(context: &CanvasRenderingContext2d, x: f64, y: f64, half: f64) {
    context.begin_path();
    context.move_to(x - half, y - half);
    context.line_to(x + half, y + half);
    context.move_to(x - half, y + half);
    context.line_to(x + half, y - half);
    context.stroke();
}

/// The range of log losses the colours and contours spread over: the top [`DECADES_SHOWN`]
/// below the highest (lower losses all look like the minimum), never empty.
fn shown_range(values: &[f32]) -> (f32, f32) {
    let (low, high) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(low, high), &value| {
            (low.min(value), high.max(value))
        });
    let low = low.max(high - DECADES_SHOWN);
    if high > low {
        (low, high)
    } else {
        (low, low + 1.0)
    }
}

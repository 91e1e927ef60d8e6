//! Length generalisation: the network's test accuracy on sequences from its training length to
//! four times it (blue, dots), beside the share of those sequences that have an answer among
//! its classes at all (grey, dashed, triangles), with the training length marked; the same
//! numbers in a table below.

use crate::ui::chart_ink::{color_of, ink};
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

use crate::playground::sequences::generalisation::{LengthAccuracy, probe_lengths};

const BLUE: RGBColor = color_of(ink::BLUE);
const GREY: RGBColor = color_of(ink::GREY);

#[derive(Properties, PartialEq)]
pub struct LengthChartProps {
    /// The latest test's accuracy by length, the training length first.
    pub measured: Vec<LengthAccuracy>,
    /// The training length (the axis runs from it to the longest test length before any test).
    pub length: usize,
    /// The shortest training sequence, where lengths varied.
    #[prop_or_default]
    pub shortest: Option<usize>,
}

#[component]
pub fn LengthChart(props: &LengthChartProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        use_effect_with(
            (props.measured.clone(), props.length),
            move |(measured, length)| {
                if let Some(canvas) = canvas.cast::<HtmlCanvasElement>() {
                    let _ = draw(canvas, measured, *length);
                }
            },
        );
    }
    let summary = summary(&props.measured, props.shortest);
    let percent = |share: f32| format!("{:.0}%", 100.0 * share);
    html! {
        <div class="length-chart">
            <canvas ref={canvas} width="520" height="170" role="img"
                aria-label={format!("Test accuracy by sequence length. {summary}")} />
            <p class="hint" data-testid="length-accuracy">{summary}</p>
            if !props.measured.is_empty() {
                <table class="length-table" data-testid="length-table">
                    <caption>{"Accuracy by test sequence length"}</caption>
                    <tr><th scope="row">{"length"}</th>
                        { for props.measured.iter().map(|m| html! { <td>{m.length}</td> }) }</tr>
                    <tr><th scope="row">{"right"}</th>
                        { for props.measured.iter().map(|m| html! { <td>{percent(m.accuracy)}</td> }) }</tr>
                    <tr><th scope="row">{"answerable"}</th>
                        { for props.measured.iter().map(|m| html! { <td>{percent(m.answerable)}</td> }) }</tr>
                </table>
            }
        </div>
    }
}

/// "Trained on 8 steps: 100% right at 8, 62% at 32 (where 3% have an answer it can give)";
/// "Trained on 2 to 8 steps: ..." where lengths varied.
fn summary(measured: &[LengthAccuracy], shortest: Option<usize>) -> String {
    let (Some(first), Some(last)) = (measured.first(), measured.last()) else {
        return "Train to see how the network does on longer sequences.".to_string();
    };
    let trained = match shortest {
        Some(shortest) if shortest < first.length => format!("{shortest} to {}", first.length),
        _ => first.length.to_string(),
    };
    let mut text = format!(
        "Trained on {trained} steps: {:.0}% right at {}, {:.0}% at {}",
        100.0 * first.accuracy,
        first.length,
        100.0 * last.accuracy,
        last.length
    );
    if last.answerable < 1.0 {
        text += &format!(
            " (where only {:.0}% have an answer among its classes)",
            100.0 * last.answerable
        );
    }
    text + "."
}

fn draw(canvas: HtmlCanvasElement, measured: &[LengthAccuracy], length: usize) -> Option<()> {
    let root = CanvasBackend::with_canvas_object(canvas)?.into_drawing_area();
    root.fill(&WHITE).ok()?;
    let lengths = probe_lengths(length);
    let (first, last) = match (measured.first(), measured.last()) {
        (Some(first), Some(last)) => (first.length as f32, last.length as f32),
        _ => (
            length as f32,
            lengths.last().copied().unwrap_or(length) as f32,
        ),
    };
    // Whole lengths only: no more labels than there are of them.
    let labels = ((last - first) as usize + 1).min(8);
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(first..last.max(first + 1.0), 0f32..100f32)
        .ok()?;
    chart
        .configure_mesh()
        .x_labels(labels)
        .y_labels(5)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}%"))
        .label_style(("sans-serif", 10))
        .x_desc("test sequence length")
        .draw()
        .ok()?;
    let answerable: Vec<(f32, f32)> = measured
        .iter()
        .map(|m| (m.length as f32, 100.0 * m.answerable))
        .collect();
    let right: Vec<(f32, f32)> = measured
        .iter()
        .map(|m| (m.length as f32, 100.0 * m.accuracy))
        .collect();
    chart
        .draw_series(DashedLineSeries::new(
            answerable.iter().copied(),
            6,
            4,
            GREY.stroke_width(1),
        ))
        .ok()?;
    chart
        .draw_series(
            answerable
                .iter()
                .map(|&point| TriangleMarker::new(point, 4, GREY.filled())),
        )
        .ok()?;
    chart
        .draw_series(LineSeries::new(right.iter().copied(), BLUE.stroke_width(2)))
        .ok()?;
    chart
        .draw_series(
            right
                .iter()
                .map(|&point| Circle::new(point, 3, BLUE.filled())),
        )
        .ok()?;
    if !measured.is_empty() {
        let label = ("sans-serif", 11).into_font().color(&RGBColor(60, 60, 60));
        chart
            .draw_series([Text::new(
                format!("← trained on {first}"),
                (first + 0.02 * (last - first), 14.0),
                label,
            )])
            .ok()?;
    }
    root.present().ok()
}

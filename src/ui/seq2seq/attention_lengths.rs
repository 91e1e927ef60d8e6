//! Whole answers right by input length, one line per kind of attention the learner trained
//! with (the latest test of each run on this task and these lengths): without attention the
//! decoder has only the fixed-size encoding, and long inputs suffer first. Each kind has its
//! own colour, marker and dash, and the numbers are in a table below.

use crate::ui::chart_ink::{color_of, ink};
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

use crate::engine::{Attention, Described};
use crate::playground::sequences::generalisation::LengthAccuracy;

#[derive(Properties, PartialEq)]
pub struct AttentionLengthsProps {
    /// Each kind of attention trained with, and its answers right by input length.
    pub measured: Vec<(Attention, Vec<LengthAccuracy>)>,
    pub shortest: usize,
    pub longest: usize,
}

/// A line's colour and whether it is dashed, by attention.
fn style(attention: Attention) -> (RGBColor, bool) {
    match attention {
        Attention::None => (color_of(ink::GREY), true),
        Attention::Dot => (color_of(ink::BLUE), false),
        Attention::Additive => (color_of(ink::ORANGE), false),
    }
}

#[component]
pub fn AttentionLengths(props: &AttentionLengthsProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        use_effect_with(
            (props.measured.clone(), props.shortest, props.longest),
            move |(measured, shortest, longest)| {
                if let Some(canvas) = canvas.cast::<HtmlCanvasElement>() {
                    let _ = draw(canvas, measured, (*shortest, *longest));
                }
            },
        );
    }
    let summary = summary(&props.measured);
    let percent = |share: f32| format!("{:.0}%", 100.0 * share);
    let lengths: Vec<usize> = (props.shortest..=props.longest).collect();
    html! {
        <div class="length-chart">
            <canvas ref={canvas} width="520" height="180" role="img"
                aria-label={format!("Answers right by input length, by attention. {summary}")} />
            <ul class="race-legend">
                { for props.measured.iter().map(|(attention, _)| {
                    let (RGBColor(r, g, b), dashed) = style(*attention);
                    let look = match (attention, dashed) {
                        (Attention::Additive, _) => "solid, triangles",
                        (_, true) => "dashed, dots",
                        _ => "solid, dots",
                    };
                    html! {
                        <li><span class="swatch" style={format!("background: rgb({r}, {g}, {b})")}></span>
                            {format!("{} ({look})", attention.title())}</li>
                    }
                }) }
            </ul>
            <p class="hint" data-testid="s2s-length-summary">{summary}</p>
            if !props.measured.is_empty() {
                <table class="length-table" data-testid="s2s-length-table">
                    <caption>{"Whole answers right by input length"}</caption>
                    <tr><th scope="row">{"input length"}</th>
                        { for lengths.iter().map(|length| html! { <td>{length}</td> }) }</tr>
                    { for props.measured.iter().map(|(attention, measured)| html! {
                        <tr><th scope="row">{attention.title()}</th>
                            { for lengths.iter().map(|&length| html! {
                                <td>{measured.iter().find(|m| m.length == length)
                                    .map_or("–".to_string(), |m| percent(m.accuracy))}</td>
                            }) }
                        </tr>
                    }) }
                </table>
            }
        </div>
    }
}

/// "Dot-product (Luong): 100% at 1, 97% at 8. No attention: ...".
fn summary(measured: &[(Attention, Vec<LengthAccuracy>)]) -> String {
    if measured.is_empty() {
        return "Train to see how the answers hold up as inputs grow; train again with another \
                attention to compare."
            .to_string();
    }
    let lines: Vec<String> = measured
        .iter()
        .filter_map(|(attention, lengths)| {
            let (first, last) = (lengths.first()?, lengths.last()?);
            Some(format!(
                "{}: {:.0}% right at length {}, {:.0}% at {}",
                attention.title(),
                100.0 * first.accuracy,
                first.length,
                100.0 * last.accuracy,
                last.length
            ))
        })
        .collect();
    lines.join(". ") + "."
}

fn draw(
    canvas: HtmlCanvasElement,
    measured: &[(Attention, Vec<LengthAccuracy>)],
    (shortest, longest): (usize, usize),
) -> Option<()> {
    let root = CanvasBackend::with_canvas_object(canvas)?.into_drawing_area();
    root.fill(&WHITE).ok()?;
    let (first, last) = (shortest as f32, (longest as f32).max(shortest as f32 + 1.0));
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(first..last, 0f32..100f32)
        .ok()?;
    chart
        .configure_mesh()
        .x_labels((longest - shortest + 1).min(12))
        .y_labels(5)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}%"))
        .label_style(("sans-serif", 10))
        .x_desc("input length")
        .draw()
        .ok()?;
    for (attention, lengths) in measured {
        let (colour, dashed) = style(*attention);
        let points: Vec<(f32, f32)> = lengths
            .iter()
            .map(|m| (m.length as f32, 100.0 * m.accuracy))
            .collect();
        let line = colour.stroke_width(2);
        if dashed {
            chart
                .draw_series(DashedLineSeries::new(points.iter().copied(), 6, 4, line))
                .ok()?;
        } else {
            chart
                .draw_series(LineSeries::new(points.iter().copied(), line))
                .ok()?;
        }
        match attention {
            Attention::Additive => chart
                .draw_series(
                    points
                        .iter()
                        .map(|&p| TriangleMarker::new(p, 4, colour.filled())),
                )
                .ok()?,
            _ => chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .ok()?,
        };
    }
    root.present().ok()
}

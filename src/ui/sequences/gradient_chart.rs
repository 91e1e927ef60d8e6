//! Gradients through time: how large the loss's gradient with respect to the state is at each
//! step, `‖∂L/∂h_t‖` for t = 1..T on a log scale, for the untrained network (grey) and at the
//! latest test (blue), with the ratio of the first step's to the last's written out: in a plain
//! RNN it vanishes towards the first steps; an LSTM or a GRU keeps it. Under truncated
//! backpropagation the steps no gradient reaches are shaded and named.

use crate::ui::chart_ink::{color_of, ink};
use crate::ui::data_table::DataTable;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct GradientChartProps {
    /// `‖∂L/∂h_t‖` of the top recurrent layer before training.
    pub first: Vec<f32>,
    /// The same at the latest test.
    pub latest: Vec<f32>,
    /// Backpropagation through at most this many steps.
    #[prop_or_default]
    pub truncation: Option<usize>,
    /// Time steps of the sequences (the axis's length before any test).
    pub steps: usize,
}

#[component]
pub fn GradientChart(props: &GradientChartProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        let deps = (
            props.first.clone(),
            props.latest.clone(),
            props.truncation,
            props.steps,
        );
        use_effect_with(deps, move |(first, latest, truncation, steps)| {
            if let Some(canvas) = canvas.cast::<HtmlCanvasElement>() {
                let _ = draw(canvas, first, latest, (*truncation, *steps));
            }
        });
    }
    let summary = summary(&props.latest, props.truncation);
    html! {
        <div class="gradient-chart">
            <canvas ref={canvas} width="520" height="165" data-testid="state-gradients"
                role="img" aria-label={format!("Gradient size at each time step, log scale. {summary}")} />
            <p class="hint" aria-live="polite" data-testid="state-gradient-ratio">{summary}</p>
            <DataTable caption="Gradient size at each time step" test_id="state-gradients-table"
                columns={vec!["time step".into(), "before training".into(), "latest test".into()]}
                rows={gradient_rows(vec![props.first.clone(), props.latest.clone()])} />
        </div>
    }
}

/// One row per time step: its number, then each series' `‖∂L/∂h_t‖` ("–" where a series has
/// none). The race's gradient table shares it.
pub fn gradient_rows(series: Vec<Vec<f32>>) -> Callback<(), Vec<Vec<String>>> {
    Callback::from(move |()| {
        let steps = series.iter().map(Vec::len).max().unwrap_or(0);
        (0..steps)
            .map(|t| {
                let mut row = vec![(t + 1).to_string()];
                row.extend(series.iter().map(|values| {
                    values
                        .get(t)
                        .map_or("–".to_string(), |v| format!("{v:.3e}"))
                }));
                row
            })
            .collect()
    })
}

/// The chart in words: how the first step's gradient compares with the last's, or, truncated,
/// which steps it does not reach and how the first it reaches compares.
fn summary(latest: &[f32], truncation: Option<usize>) -> String {
    let steps = latest.len();
    let Some(&last) = latest.last().filter(|&&last| last > 0.0) else {
        return "Train to see how far back the gradient reaches.".to_string();
    };
    match truncation.filter(|&k| k < steps) {
        Some(k) => format!(
            "Truncated to the last {k} steps: steps 1 to {} get no gradient; at step {} it is {} \
             of its size at the last step.",
            steps - k,
            steps - k + 1,
            ratio_text(latest[steps - k] / last)
        ),
        None => format!(
            "At the first step the gradient is {} of its size at the last step.",
            ratio_text(latest[0] / last)
        ),
    }
}

/// 0.5 as "0.5×", 2e-5 as "2.0e-5×".
fn ratio_text(ratio: f32) -> String {
    if (0.01..1000.0).contains(&ratio) {
        format!("{ratio:.2}×")
    } else {
        format!("{ratio:.1e}×")
    }
}

fn draw(
    canvas: HtmlCanvasElement,
    first: &[f32],
    latest: &[f32],
    (truncation, steps): (Option<usize>, usize),
) -> Option<()> {
    let root = CanvasBackend::with_canvas_object(canvas)?.into_drawing_area();
    root.fill(&WHITE).ok()?;
    let logs = |values: &[f32]| -> Vec<(f32, f32)> {
        values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite() && **v > 0.0)
            .map(|(t, v)| ((t + 1) as f32, v.log10()))
            .collect()
    };
    // Every step has its place on the axis, those without a gradient too.
    let total = first.len().max(latest.len()).max(steps);
    let steps = total.max(2) as f32;
    let (first, latest) = (logs(first), logs(latest));
    let (low, high) = first
        .iter()
        .chain(&latest)
        .fold((f32::MAX, f32::MIN), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    let (low, high) = if low > high {
        (-3.0, 0.0)
    } else {
        (low.floor() - 0.2, high.ceil() + 0.2)
    };
    let mut chart = ChartBuilder::on(&root)
        .margin(6)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(1f32..steps, low..high)
        .ok()?;
    chart
        .configure_mesh()
        .x_labels(total.clamp(2, 12))
        .y_labels(5)
        .y_label_formatter(&|v| format!("{:.0e}", 10f32.powf(*v)))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 10))
        .x_desc("time step t")
        .draw()
        .ok()?;
    // The steps truncation cuts off, shaded and labelled (not by colour alone).
    if let Some(k) = truncation.filter(|&k| k < total) {
        let edge = (total - k) as f32 + 0.5;
        let shade = RGBColor(225, 225, 225).filled();
        chart
            .draw_series([Rectangle::new([(1.0, low), (edge, high)], shade)])
            .ok()?;
        let label = ("sans-serif", 11).into_font().color(&RGBColor(70, 70, 70));
        chart
            .draw_series([Text::new("no gradient (cut)", (1.1, high - 0.3), label)])
            .ok()?;
    }
    chart
        .draw_series(LineSeries::new(first, color_of(ink::GREY).stroke_width(1)))
        .ok()?;
    chart
        .draw_series(LineSeries::new(
            latest.iter().copied(),
            color_of(ink::BLUE).stroke_width(2),
        ))
        .ok()?;
    chart
        .draw_series(
            latest
                .iter()
                .map(|&point| Circle::new(point, 2, color_of(ink::BLUE).filled())),
        )
        .ok()?;
    root.present().ok()
}

//! The training and test loss curves, drawn with plotters on a canvas.

use super::data_table::{DataTable, MOST_ROWS};
use super::shared::Shared;
use crate::playground::Snapshot;
use crate::playground::table_rows::evenly_spaced;
use crate::ui::chart_ink::{color_of, ink};
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LossChartProps {
    pub snapshot: Shared<Snapshot>,
}

#[component]
pub fn LossChart(props: &LossChartProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        use_effect_with(props.snapshot.clone(), move |snapshot| {
            if let Some(canvas) = canvas.cast::<HtmlCanvasElement>() {
                let _ = draw(canvas, snapshot);
            }
        });
    }
    // What the chart shows, in words, for a screen reader.
    let summary = match props.snapshot.history.last() {
        Some(last) => format!(
            "Loss curves over {} epochs; now test loss {:.3}, training loss {:.3}",
            last.epoch, last.test, last.train
        ),
        None => "Loss curves: no epoch trained yet".to_string(),
    };
    let rows = {
        let snapshot = props.snapshot.clone();
        Callback::from(move |()| {
            let history = &snapshot.history;
            evenly_spaced(history.len(), MOST_ROWS)
                .into_iter()
                .map(|index| {
                    let record = &history[index];
                    vec![
                        record.epoch.to_string(),
                        format!("{:.4}", record.train),
                        format!("{:.4}", record.test),
                    ]
                })
                .collect()
        })
    };
    html! {
        <>
            <canvas ref={canvas} class="loss-chart" width="340" height="90" data-testid="loss-chart"
                role="img" aria-label={summary} />
            <DataTable caption="Loss by epoch" test_id="loss-chart-table" {rows}
                columns={vec!["epoch".into(), "training loss".into(), "test loss".into()]} />
        </>
    }
}

fn draw(canvas: HtmlCanvasElement, snapshot: &Snapshot) -> Option<()> {
    let backend = CanvasBackend::with_canvas_object(canvas)?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).ok()?;
    let history = &snapshot.history;
    if history.is_empty() {
        return Some(());
    }
    let last_epoch = history.last().map(|r| r.epoch).unwrap_or(1).max(1) as f32;
    let first_epoch = history.first().map(|r| r.epoch).unwrap_or(0) as f32;
    let top = history
        .iter()
        .flat_map(|r| [r.train, r.test])
        .filter(|v| v.is_finite())
        .fold(1e-3_f32, f32::max);
    let mut chart = ChartBuilder::on(&root)
        .margin(4)
        .build_cartesian_2d(
            first_epoch..last_epoch.max(first_epoch + 1.0),
            0.0..top * 1.05,
        )
        .ok()?;
    let test = RGBColor(0, 0, 0);
    let train = color_of(ink::GREY);
    chart
        .draw_series(LineSeries::new(
            history.iter().map(|r| (r.epoch as f32, r.test)),
            test.stroke_width(2),
        ))
        .ok()?;
    chart
        .draw_series(LineSeries::new(
            history.iter().map(|r| (r.epoch as f32, r.train)),
            train.stroke_width(2),
        ))
        .ok()?;
    root.present().ok()
}

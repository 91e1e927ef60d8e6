//! The training curves of the Images page, drawn with plotters: the training loss and the test
//! loss against epochs, and the test accuracy.

use super::super::data_table::{DataTable, MOST_ROWS};
use super::super::shared::Shared;
use crate::playground::table_rows::evenly_spaced;
use crate::ui::chart_ink::{color_of, ink};
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// One test measurement: epochs done, accuracy, loss.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TestPoint {
    pub epoch: f32,
    pub accuracy: f32,
    pub loss: f32,
}

#[derive(Properties, PartialEq)]
pub struct CurvesProps {
    /// `(epochs done, mean training loss)` since the previous point.
    pub train_loss: Shared<Vec<(f32, f32)>>,
    pub tests: Shared<Vec<TestPoint>>,
    /// The run's length in epochs (the x axis).
    pub epochs: f32,
    /// What the accuracy is of ("test accuracy", or a regression's "test answers within ±0.1").
    #[prop_or(AttrValue::Static("test accuracy"))]
    pub accuracy_title: AttrValue,
}

#[component]
pub fn Curves(props: &CurvesProps) -> Html {
    let loss_canvas = use_node_ref();
    let accuracy_canvas = use_node_ref();
    {
        let (loss_canvas, accuracy_canvas) = (loss_canvas.clone(), accuracy_canvas.clone());
        let deps = (props.train_loss.clone(), props.tests.clone(), props.epochs);
        use_effect_with(deps, move |(train, tests, epochs)| {
            if let Some(canvas) = loss_canvas.cast::<HtmlCanvasElement>() {
                let _ = draw_loss(canvas, train, tests, *epochs);
            }
            if let Some(canvas) = accuracy_canvas.cast::<HtmlCanvasElement>() {
                let _ = draw_accuracy(canvas, tests, *epochs);
            }
        });
    }
    let (loss_summary, accuracy_summary) = match props.tests.last() {
        Some(test) => (
            format!(
                "Loss curves; at epoch {:.1} the test loss is {:.3}",
                test.epoch, test.loss
            ),
            format!(
                "{} curve; at epoch {:.1} it is {:.1}%",
                props.accuracy_title,
                test.epoch,
                test.accuracy * 100.0
            ),
        ),
        None => (
            "Loss curves: not tested yet".to_string(),
            format!("{} curve: not tested yet", props.accuracy_title),
        ),
    };
    html! {
        <div class="curves">
            <div class="curve"><span class="curve-title">{"loss "}<span class="key train">{"train"}</span>{" "}<span class="key test">{"test"}</span></span>
                <canvas ref={loss_canvas} width="360" height="130" data-testid="loss-curve"
                    role="img" aria-label={loss_summary} /></div>
            <div class="curve"><span class="curve-title">{props.accuracy_title.clone()}</span>
                <canvas ref={accuracy_canvas} width="360" height="130" data-testid="accuracy-curve"
                    role="img" aria-label={accuracy_summary} /></div>
            <DataTable caption="Loss and accuracy at each test" test_id="curves-table"
                columns={vec!["epoch".into(), "training loss".into(), "test loss".into(), props.accuracy_title.clone()]}
                rows={table_rows(props.train_loss.clone(), props.tests.clone())} />
        </div>
    }
}

/// One row per test (thinned to `MOST_ROWS`): the epoch, the training loss last reported by
/// then, the test loss and the accuracy.
fn table_rows(
    train_loss: Shared<Vec<(f32, f32)>>,
    tests: Shared<Vec<TestPoint>>,
) -> Callback<(), Vec<Vec<String>>> {
    Callback::from(move |()| {
        evenly_spaced(tests.len(), MOST_ROWS)
            .into_iter()
            .map(|index| {
                let test = tests[index];
                let train = train_loss
                    .iter()
                    .take_while(|(epoch, _)| *epoch <= test.epoch + 1e-3)
                    .last()
                    .map_or("–".to_string(), |(_, loss)| format!("{loss:.4}"));
                vec![
                    format!("{:.2}", test.epoch),
                    train,
                    format!("{:.4}", test.loss),
                    format!("{:.1}%", test.accuracy * 100.0),
                ]
            })
            .collect()
    })
}

fn draw_loss(
    canvas: HtmlCanvasElement,
    train: &[(f32, f32)],
    tests: &[TestPoint],
    epochs: f32,
) -> Option<()> {
    let root = CanvasBackend::with_canvas_object(canvas)?.into_drawing_area();
    root.fill(&WHITE).ok()?;
    let top = train
        .iter()
        .map(|p| p.1)
        .chain(tests.iter().map(|t| t.loss))
        .filter(|v| v.is_finite())
        .fold(0.1f32, f32::max);
    let mut chart = ChartBuilder::on(&root)
        .margin(6)
        .margin_right(14)
        .x_label_area_size(30)
        .y_label_area_size(34)
        .build_cartesian_2d(0f32..epochs.max(1.0), 0f32..top * 1.05)
        .ok()?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(4)
        // Short enough for the axis whatever the loss: 0.25, 2.0, 3e4.
        .y_label_formatter(&|v| match v.abs() {
            size if size >= 1000.0 => format!("{v:.0e}"),
            size if size >= 10.0 => format!("{v:.0}"),
            _ => format!("{v:.1}"),
        })
        .label_style(("sans-serif", 10))
        .x_desc("epoch")
        .draw()
        .ok()?;
    chart
        .draw_series(LineSeries::new(
            train.iter().copied(),
            color_of(ink::GREY).stroke_width(1),
        ))
        .ok()?;
    chart
        .draw_series(LineSeries::new(
            tests.iter().map(|t| (t.epoch, t.loss)),
            BLACK.stroke_width(2),
        ))
        .ok()?;
    root.present().ok()
}

fn draw_accuracy(canvas: HtmlCanvasElement, tests: &[TestPoint], epochs: f32) -> Option<()> {
    let root = CanvasBackend::with_canvas_object(canvas)?.into_drawing_area();
    root.fill(&WHITE).ok()?;
    // Zoomed on the top once the model is good, where the differences are.
    let best = tests.iter().map(|t| t.accuracy).fold(0.0f32, f32::max);
    let bottom = if best > 0.95 { 0.8 } else { 0.0 };
    let mut chart = accuracy_chart(&root, epochs, bottom)?;
    chart
        .draw_series(LineSeries::new(
            tests.iter().map(|t| (t.epoch, t.accuracy.max(bottom))),
            color_of(ink::BLUE).stroke_width(2),
        ))
        .ok()?;
    root.present().ok()
}

/// A chart of accuracy (from `bottom` to 100%) against `epochs`, its grid and labels drawn: the
/// Images page's accuracy curve and the Sequences page's race share it.
pub fn accuracy_chart<'a>(
    root: &'a DrawingArea<CanvasBackend, plotters::coord::Shift>,
    epochs: f32,
    bottom: f32,
) -> Option<
    ChartContext<
        'a,
        CanvasBackend,
        Cartesian2d<plotters::coord::types::RangedCoordf32, plotters::coord::types::RangedCoordf32>,
    >,
> {
    let mut chart = ChartBuilder::on(root)
        .margin(6)
        .margin_right(14)
        .x_label_area_size(30)
        .y_label_area_size(34)
        .build_cartesian_2d(0f32..epochs.max(1.0), bottom..1.0f32)
        .ok()?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(5)
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .label_style(("sans-serif", 10))
        .x_desc("epoch")
        .draw()
        .ok()?;
    Some(chart)
}

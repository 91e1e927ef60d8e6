//! The output column: losses and accuracies, the loss curves, and the decision boundary with the
//! data drawn over it. Clicking the plot adds a training point (shift-click: the other class).

use super::announcer::Announcer;
use super::app::Msg;
use super::data_table::DataTable;
use super::heatmap::{Heatmap, HeatmapSource, context_2d};
use super::loss_chart::LossChart;
use super::shared::Shared;
use crate::data::Point;
use crate::data::generators::DOMAIN;
use crate::playground::boundary_text;
use crate::playground::colors;
use crate::playground::session::OUTPUT_RESOLUTION;
use crate::playground::{Grid, PlaygroundConfig, ProblemType, Snapshot};
use web_sys::{HtmlCanvasElement, HtmlInputElement};
use yew::prelude::*;

/// Side of the plot in CSS pixels.
const PLOT: f64 = 340.0;

#[derive(Properties, PartialEq)]
pub struct OutputPanelProps {
    pub config: PlaygroundConfig,
    pub snapshot: Shared<Snapshot>,
    pub train_points: Shared<Vec<Point>>,
    pub test_points: Shared<Vec<Point>>,
    /// A neuron under the pointer in the diagram: the plot shows it instead of the output.
    pub hovered: Option<(usize, usize)>,
    pub send: Callback<Msg>,
}

#[component]
pub fn OutputPanel(props: &OutputPanelProps) -> Html {
    let config = &props.config;
    let snapshot = &props.snapshot;
    let overlay = use_node_ref();
    {
        let overlay = overlay.clone();
        let deps = (
            props.train_points.clone(),
            props.test_points.clone(),
            config.show_test_data,
            config.problem,
        );
        use_effect_with(deps, move |(train, test, show_test, problem)| {
            if let Some(canvas) = overlay.cast::<HtmlCanvasElement>() {
                draw_points(
                    &canvas,
                    train,
                    if *show_test { test } else { &[] },
                    *problem,
                );
            }
        });
    }
    let onclick = {
        let send = props.send.clone();
        let overlay = overlay.clone();
        Callback::from(move |event: MouseEvent| {
            let Some(canvas) = overlay.cast::<HtmlCanvasElement>() else {
                return;
            };
            let rect = canvas.get_bounding_client_rect();
            let pixel_x = (event.client_x() as f64 - rect.left()) as f32;
            let pixel_y = (event.client_y() as f64 - rect.top()) as f32;
            let (x, y) = Grid::plane_point(pixel_x, pixel_y, rect.width() as f32);
            send.emit(Msg::AddPoint {
                x,
                y,
                class_one: !event.shift_key(),
            });
        })
    };
    let toggle = |test_id: &'static str,
                  label: &'static str,
                  on: bool,
                  update: fn(&mut PlaygroundConfig, bool)| {
        let config = config.clone();
        let onchange = props.send.reform(move |event: Event| {
            let mut config = config.clone();
            update(
                &mut config,
                event.target_unchecked_into::<HtmlInputElement>().checked(),
            );
            Msg::Configure(Box::new(config))
        });
        html! {
            <label class="toggle"><input type="checkbox" data-testid={test_id} checked={on} {onchange} />{label}</label>
        }
    };
    let classification = config.problem == ProblemType::Classification;
    let mut summary = format!(
        "Epoch {}: test loss {:.3}, training loss {:.3}",
        snapshot.epoch, snapshot.test.loss, snapshot.train.loss
    );
    if classification {
        summary += &format!(", test accuracy {:.1}%", snapshot.test.accuracy * 100.0);
    }
    html! {
        <section class="column output-column">
            <h2>{"Output"}</h2>
            <Announcer text={summary} test_id="playground-announcement" />
            <div class="metrics">
                <div>{"Test loss "}<b data-testid="loss-test">{format!("{:.4}", snapshot.test.loss)}</b></div>
                <div>{"Training loss "}<b data-testid="loss-train">{format!("{:.4}", snapshot.train.loss)}</b></div>
                if classification {
                    <div>{"Test accuracy "}<b data-testid="accuracy-test">{format!("{:.1}%", snapshot.test.accuracy * 100.0)}</b></div>
                    <div>{"Training accuracy "}<b data-testid="accuracy-train">{format!("{:.1}%", snapshot.train.accuracy * 100.0)}</b></div>
                }
            </div>
            <LossChart snapshot={snapshot.clone()} />
            <div class="chart-legend"><span class="test-line" />{"test"}<span class="train-line" />{"training"}</div>
            <div class="plot" style={format!("width:{PLOT}px;height:{PLOT}px")}
                data-grid-engine={if snapshot.grid_on_gpu { "gpu" } else { "cpu" }}>
                <Heatmap snapshot={snapshot.clone()} source={HeatmapSource::Output} discretize={config.discretize}
                    class={classes!("boundary", props.hovered.is_some().then_some("hidden"))} test_id="output-heatmap"
                    label={boundary_text::describe(&snapshot.output_heatmap, OUTPUT_RESOLUTION, classification)} />
                if let Some((layer, neuron)) = props.hovered {
                    <Heatmap snapshot={snapshot.clone()} source={HeatmapSource::Neuron { layer, neuron }}
                        discretize={config.discretize} class="boundary" />
                }
                <canvas ref={overlay} class="points" data-testid="plot" width={PLOT.to_string()} height={PLOT.to_string()} {onclick}
                    title="Click to add a point of the blue class, shift-click for the orange class" />
            </div>
            <div class="hint" data-testid="point-counts">
                {format!("{} training points · {} test points", props.train_points.len(), props.test_points.len())}
            </div>
            <div class="hint">
                if classification { {"Blue circles and orange squares are the two classes; "} }
                {"training points have a white ring, test points a thick black one."}
            </div>
            <div class="legend">
                <span>{"−1"}</span><div class="scale" /><span>{"1"}</span>
            </div>
            <DataTable caption="The output across the plane (mean of each block; rows from the top)"
                test_id="output-table" columns={plane_columns()} rows={plane_rows(snapshot.clone())} />
            {toggle("show-test", "Show test data", config.show_test_data, |c, on| c.show_test_data = on)}
            {toggle("discretize", "Discretize output", config.discretize, |c, on| c.discretize = on)}
        </section>
    }
}

/// Blocks across each axis of the output's table of numbers.
const TABLE_BLOCKS: usize = 6;

/// The table's headings: the corner, then each block's x.
fn plane_columns() -> Vec<AttrValue> {
    let mut columns = vec![AttrValue::Static("y \\ x")];
    columns.extend(
        boundary_text::block_centres(TABLE_BLOCKS)
            .into_iter()
            .map(|x| AttrValue::from(format!("{x}"))),
    );
    columns
}

/// One row per block of y, from the top: its y, then the output's mean over each block of x.
fn plane_rows(snapshot: Shared<Snapshot>) -> Callback<(), Vec<Vec<String>>> {
    Callback::from(move |()| {
        let means =
            boundary_text::block_means(&snapshot.output_heatmap, OUTPUT_RESOLUTION, TABLE_BLOCKS);
        let heights = boundary_text::block_centres(TABLE_BLOCKS).into_iter().rev();
        heights
            .zip(means)
            .map(|(y, row)| {
                let mut cells = vec![format!("{y}")];
                cells.extend(row.into_iter().map(|v| format!("{v:.2}")));
                cells
            })
            .collect()
    })
}

/// Draws the points over the plot, marked by more than colour: a classifier's class 1 (blue) as
/// circles and class 0 (orange) as squares; training points ringed in white inside a black
/// outline, test points in a thick black ring. The black edge keeps every mark at 3:1 or more
/// against any shade of the plot (`colors::MARK_EDGE`).
fn draw_points(canvas: &HtmlCanvasElement, train: &[Point], test: &[Point], problem: ProblemType) {
    let Some(context) = context_2d(canvas) else {
        return;
    };
    context.clear_rect(0.0, 0.0, PLOT, PLOT);
    let to_pixel = |v: f32| (v as f64 / DOMAIN as f64 + 1.0) / 2.0 * PLOT;
    let [r, g, b] = colors::MARK_EDGE;
    let edge = format!("rgb({r},{g},{b})");
    for (points, is_test) in [(train, false), (test, true)] {
        for point in points {
            let (value, square) = match problem {
                ProblemType::Classification => (point.label * 2.0 - 1.0, point.label < 0.5),
                ProblemType::Regression => (point.label, false),
            };
            let (x, y) = (to_pixel(point.x), PLOT - to_pixel(point.y));
            let shape = |radius: f64| {
                context.begin_path();
                if square {
                    context.rect(x - radius, y - radius, 2.0 * radius, 2.0 * radius);
                } else {
                    let _ = context.arc(x, y, radius, 0.0, std::f64::consts::TAU);
                }
            };
            shape(3.5);
            context.set_fill_style_str(&colors::css(value));
            context.fill();
            if is_test {
                context.set_line_width(2.0);
                context.set_stroke_style_str(&edge);
                context.stroke();
            } else {
                context.set_line_width(1.5);
                context.set_stroke_style_str("#ffffff");
                context.stroke();
                shape(4.75);
                context.set_line_width(1.0);
                context.set_stroke_style_str(&edge);
                context.stroke();
            }
        }
    }
    context.set_line_width(1.0);
}

//! The race: an RNN, an LSTM and a GRU trained side by side on the same sequences from the same
//! seed, each in a training worker of its own (so on three cores where there are), their test
//! accuracy overlaid on one chart (a marker shape per cell, beside its colour), their gradients
//! through time (`‖∂L/∂h_t‖` at the latest test, log scale) on another, and each cell's latest
//! accuracy and gradient reach written out.

use crate::engine::LayerConfig;
use crate::playground::images::protocol::{Command, Report};
use crate::playground::sequences::SequenceSettings;
use crate::playground::table_rows::evenly_spaced;
use crate::ui::chart_ink::{color_of, ink};
use crate::ui::data_table::{DataTable, MOST_ROWS};
use crate::ui::images::curves::accuracy_chart;
use crate::ui::images::worker_link::{TrainingWorker, WorkerReport};
use crate::ui::sequences::gradient_chart::gradient_rows;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// The cells that race, in the legend's order.
const CELLS: [&str; 3] = ["rnn", "lstm", "gru"];
/// Each cell's colour on the chart.
const COLOURS: [RGBColor; 3] = [
    color_of(ink::ORANGE),
    color_of(ink::BLUE),
    color_of(ink::GREEN),
];
/// Each cell's marker, named for the legend (the shape tells them apart without colour).
const MARKERS: [&str; 3] = ["circle", "triangle", "square"];

pub enum Msg {
    Start,
    Stop,
    Report(usize, WorkerReport),
}

#[derive(Properties, PartialEq)]
pub struct RaceProps {
    pub settings: SequenceSettings,
}

/// One racer: its worker and what it has reported.
#[derive(Default)]
struct Racer {
    worker: Option<TrainingWorker>,
    ready: bool,
    /// `(epochs done, test accuracy)`.
    tests: Vec<(f32, f32)>,
    /// The first step's share of the last step's state gradient, at the latest test.
    reach: Option<f32>,
    /// `‖∂L/∂h_t‖` of the top layer at each step, at the latest test.
    gradients: Vec<f32>,
    finished: bool,
    failed: Option<String>,
}

pub struct Race {
    racers: Vec<Racer>,
    /// The settings the race started with (each with its own cell).
    running: Option<SequenceSettings>,
    canvas: NodeRef,
    gradient_canvas: NodeRef,
}

impl Component for Race {
    type Message = Msg;
    type Properties = RaceProps;

    fn create(_ctx: &Context<Self>) -> Self {
        Race {
            racers: CELLS.iter().map(|_| Racer::default()).collect(),
            running: None,
            canvas: NodeRef::default(),
            gradient_canvas: NodeRef::default(),
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Start => {
                let settings = ctx.props().settings.clone();
                for (index, racer) in self.racers.iter_mut().enumerate() {
                    *racer = Racer::default();
                    let on_report = ctx
                        .link()
                        .callback(move |report| Msg::Report(index, report));
                    racer.worker = Some(
                        TrainingWorker::spawn(on_report.clone())
                            .unwrap_or_else(|_| TrainingWorker::in_page(on_report)),
                    );
                }
                self.running = Some(settings);
            }
            Msg::Stop => {
                // Dropping the workers stops them.
                for racer in &mut self.racers {
                    racer.worker = None;
                }
                self.running = None;
            }
            Msg::Report(index, WorkerReport { report, .. }) => {
                let settings = self.running.clone();
                let Some(racer) = self.racers.get_mut(index) else {
                    return false;
                };
                match report {
                    Report::Ready => {
                        racer.ready = true;
                        if let (Some(worker), Some(settings)) = (&racer.worker, settings) {
                            let cell = SequenceSettings {
                                cell: CELLS[index].to_string(),
                                ..settings
                            };
                            worker.send(&Command::Start {
                                settings: cell.run_settings(),
                                weights: None,
                            });
                        }
                    }
                    Report::Tested { report } => {
                        racer.tests.push((report.at_epoch, report.accuracy));
                        racer.reach = report
                            .state_gradients
                            .last()
                            .and_then(|norms| Some(norms.first()? / norms.last()?));
                        racer.gradients =
                            report.state_gradients.last().cloned().unwrap_or_default();
                    }
                    Report::Finished => racer.finished = true,
                    Report::Failed { message } => racer.failed = Some(message),
                    Report::Paused {
                        reason: Some(reason),
                    } => racer.failed = Some(reason),
                    Report::Gpu { .. }
                    | Report::Started { .. }
                    | Report::Progress { .. }
                    | Report::Paused { reason: None }
                    | Report::Notice { .. }
                    | Report::Saved
                    | Report::Resumed { .. } => return false,
                }
            }
        }
        true
    }

    fn rendered(&mut self, ctx: &Context<Self>, _first_render: bool) {
        if let Some(canvas) = self.canvas.cast::<HtmlCanvasElement>() {
            let epochs = ctx.props().settings.epochs as f32;
            let _ = draw(canvas, &self.racers, epochs);
        }
        if let Some(canvas) = self.gradient_canvas.cast::<HtmlCanvasElement>() {
            let steps = ctx.props().settings.length;
            let _ = draw_gradients(canvas, &self.racers, steps);
        }
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let racing = self.running.is_some();
        let all_done = self.racers.iter().all(|r| r.finished || r.failed.is_some());
        let legend = self.racers.iter().enumerate().map(|(index, racer)| {
            let title = LayerConfig::title_of_kind(CELLS[index]).unwrap_or(CELLS[index]);
            let accuracy = racer
                .tests
                .last()
                .map_or("–".to_string(), |&(_, a)| format!("{:.1}%", 100.0 * a));
            let reach = racer
                .reach
                .map_or(String::new(), |r| format!(", gradient at step 1: {r:.1e}× the last step's"));
            let colour = COLOURS[index];
            html! {
                <li data-testid={format!("race-{}", CELLS[index])}>
                    <span class="swatch" style={format!("background: rgb({},{},{})", colour.0, colour.1, colour.2)}></span>
                    {format!("{title} ({}): {accuracy}{reach}", MARKERS[index])}
                    if let Some(failed) = &racer.failed { {format!(" — stopped: {failed}")} }
                </li>
            }
        });
        html! {
            <section class="card race-card" aria-labelledby="race-title">
                <h3 id="race-title">{"Race: RNN, LSTM and GRU"}</h3>
                <p class="hint">{"The three cells on the same sequences from the same seed, each in a worker of its own, with the set-up above."}</p>
                <div class="row buttons">
                    if racing && !all_done {
                        <button onclick={link.callback(|_| Msg::Stop)} data-testid="race-stop">{"Stop the race"}</button>
                    } else {
                        <button class="primary" onclick={link.callback(|_| Msg::Start)} data-testid="race-start">{"Race the three cells"}</button>
                    }
                </div>
                <canvas ref={self.canvas.clone()} width="520" height="170" data-testid="race-chart"
                    role="img" aria-label="Test accuracy of the three cells against epochs" />
                <canvas ref={self.gradient_canvas.clone()} width="520" height="150" data-testid="race-gradients"
                    role="img" aria-label="The three cells' gradient size at each time step, log scale; the legend below gives each one's reach" />
                <ul class="race-legend" aria-live="polite">{ for legend }</ul>
                <DataTable caption="Test accuracy of each cell" test_id="race-table"
                    columns={vec!["epoch".into(), "RNN".into(), "LSTM".into(), "GRU".into()]}
                    rows={accuracy_rows(self.racers.iter().map(|r| r.tests.clone()).collect())} />
                <DataTable caption="Gradient size of each cell at each time step" test_id="race-gradients-table"
                    columns={vec!["time step".into(), "RNN".into(), "LSTM".into(), "GRU".into()]}
                    rows={gradient_rows(self.racers.iter().map(|r| r.gradients.clone()).collect())} />
            </section>
        }
    }
}

/// One row per test (thinned): the epoch, then each racer's accuracy at its test of that rank.
fn accuracy_rows(tests: Vec<Vec<(f32, f32)>>) -> Callback<(), Vec<Vec<String>>> {
    Callback::from(move |()| {
        let longest = tests.iter().map(Vec::len).max().unwrap_or(0);
        evenly_spaced(longest, MOST_ROWS)
            .into_iter()
            .map(|k| {
                let epoch = tests.iter().find_map(|racer| racer.get(k)).map(|p| p.0);
                let mut row = vec![epoch.map_or("–".to_string(), |e| format!("{e:.2}"))];
                row.extend(tests.iter().map(|racer| {
                    racer
                        .get(k)
                        .map_or("–".to_string(), |p| format!("{:.1}%", p.1 * 100.0))
                }));
                row
            })
            .collect()
    })
}

type Chart<'a> = ChartContext<
    'a,
    CanvasBackend,
    Cartesian2d<plotters::coord::types::RangedCoordf32, plotters::coord::types::RangedCoordf32>,
>;

/// Racer `index`'s line through `points`, with its marker at each.
fn draw_racer(chart: &mut Chart<'_>, index: usize, points: &[(f32, f32)]) -> Option<()> {
    let colour = COLOURS[index];
    let points = points.iter().copied();
    chart
        .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
        .ok()?;
    let style = colour.filled();
    match index {
        0 => chart
            .draw_series(points.map(|p| Circle::new(p, 3, style)))
            .ok()?,
        1 => chart
            .draw_series(points.map(|p| TriangleMarker::new(p, 4, style)))
            .ok()?,
        _ => {
            chart
                .draw_series(points.map(|(x, y)| {
                    EmptyElement::at((x, y)) + Rectangle::new([(-3, -3), (3, 3)], style)
                }))
                .ok()?
        }
    };
    Some(())
}

fn draw(canvas: HtmlCanvasElement, racers: &[Racer], epochs: f32) -> Option<()> {
    let root = CanvasBackend::with_canvas_object(canvas)?.into_drawing_area();
    root.fill(&WHITE).ok()?;
    let mut chart = accuracy_chart(&root, epochs, 0.0)?;
    for (index, racer) in racers.iter().enumerate() {
        draw_racer(&mut chart, index, &racer.tests)?;
    }
    root.present().ok()
}

/// Each racer's `log10 ‖∂L/∂h_t‖` against t.
fn draw_gradients(canvas: HtmlCanvasElement, racers: &[Racer], steps: usize) -> Option<()> {
    let root = CanvasBackend::with_canvas_object(canvas)?.into_drawing_area();
    root.fill(&WHITE).ok()?;
    let lines: Vec<Vec<(f32, f32)>> = racers
        .iter()
        .map(|racer| {
            racer
                .gradients
                .iter()
                .enumerate()
                .filter(|(_, g)| g.is_finite() && **g > 0.0)
                .map(|(t, g)| ((t + 1) as f32, g.log10()))
                .collect()
        })
        .collect();
    let (low, high) = lines
        .iter()
        .flatten()
        .fold((f32::MAX, f32::MIN), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    let (low, high) = match low > high {
        true => (-3.0, 0.0),
        false => (low.floor() - 0.2, high.ceil() + 0.2),
    };
    let total = racers
        .iter()
        .map(|racer| racer.gradients.len())
        .max()
        .unwrap_or(0)
        .max(steps)
        .max(2);
    let mut chart = ChartBuilder::on(&root)
        .margin(6)
        .margin_right(14)
        .x_label_area_size(30)
        .y_label_area_size(44)
        .build_cartesian_2d(1f32..total as f32, low..high)
        .ok()?;
    chart
        .configure_mesh()
        .x_labels(total.clamp(2, 12))
        .y_labels(5)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{:.0e}", 10f32.powf(*v)))
        .label_style(("sans-serif", 10))
        .x_desc("time step t: ‖∂L/∂h_t‖")
        .draw()
        .ok()?;
    for (index, line) in lines.iter().enumerate() {
        draw_racer(&mut chart, index, line)?;
    }
    root.present().ok()
}

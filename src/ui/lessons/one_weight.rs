//! The one-weight page: gradient descent on the loss x² + 3 drawn as a curve, the current x
//! with its tangent and the step it is about to take, Step / Play / Reset, a learning-rate menu
//! and the table of iterations. The descent itself is `playground::one_weight`, on the engine.

use crate::playground::one_weight::{
    DEFAULT_LEARNING_RATE, Iteration, LEARNING_RATES, OneWeightDescent, loss_at, rate_behaviour,
};
use crate::playground::page::ONE_WEIGHT_INTRODUCTION;
use crate::ui::chart_ink::{color_of, ink};
use crate::ui::controls::choice;
use gloo::timers::callback::Interval;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// Milliseconds between two steps while playing: the course's few hundred steps in about 20 s.
const PLAY_INTERVAL_MS: u32 = 50;
/// Rows of the table after the first: the latest ones.
const LATEST_ROWS: usize = 9;
const CURVE_INK: RGBColor = color_of(ink::BLUE);
const POINT_INK: RGBColor = color_of(ink::RED);
const STEP_INK: RGBColor = color_of(ink::ORANGE);
const PATH_INK: RGBColor = color_of(ink::GREY);
/// The downhill arrow's length: it shows a direction, not a size.
const DOWNHILL_ARROW_PIXELS: f32 = 70.0;

pub enum Msg {
    Step,
    TogglePlay,
    Reset,
    SetLearningRate(f32),
}

pub struct OneWeight {
    /// `Err` only if the engine refused to build the descent: the page says why.
    descent: Result<OneWeightDescent, String>,
    learning_rate: f32,
    player: Option<Interval>,
    canvas: NodeRef,
}

impl Component for OneWeight {
    type Message = Msg;
    type Properties = ();

    fn create(_ctx: &Context<Self>) -> Self {
        OneWeight {
            descent: start(DEFAULT_LEARNING_RATE),
            learning_rate: DEFAULT_LEARNING_RATE,
            player: None,
            canvas: NodeRef::default(),
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::Step => {
                if self.step() {
                    self.player = None;
                }
            }
            Msg::TogglePlay => {
                if self.player.take().is_none() && !self.stopped() {
                    let link = ctx.link().clone();
                    self.player = Some(Interval::new(PLAY_INTERVAL_MS, move || {
                        link.send_message(Msg::Step)
                    }));
                }
            }
            Msg::Reset => {
                self.player = None;
                self.descent = start(self.learning_rate);
            }
            Msg::SetLearningRate(rate) => {
                self.player = None;
                self.learning_rate = rate;
                self.descent = start(rate);
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let rate_menu = choice(
            "one-weight-rate",
            "Learning rate",
            LEARNING_RATES
                .iter()
                .map(|rate| (rate.to_string(), rate.to_string()))
                .collect(),
            self.learning_rate.to_string(),
            link.batch_callback(|value: String| value.parse().ok().map(Msg::SetLearningRate)),
        );
        let playing = self.player.is_some();
        html! {
            <section class="page one-weight" data-testid="one-weight-page">
                <h2>{ONE_WEIGHT_INTRODUCTION.heading}</h2>
                <p class="one-weight-lead">{ONE_WEIGHT_INTRODUCTION.lead}</p>
                <div class="one-weight-controls">
                    <div class="run-buttons">
                        <button class="round" data-testid="one-weight-reset" title="Back to x = 2"
                            onclick={link.callback(|_| Msg::Reset)}>{"↺"}</button>
                        <button class={classes!("round", "play", playing.then_some("playing"))}
                            data-testid="one-weight-play" title="Step again and again" disabled={self.stopped()}
                            onclick={link.callback(|_| Msg::TogglePlay)}>
                            { if playing { "Pause" } else { "Play" } }
                        </button>
                        <button class="round" data-testid="one-weight-step" title="One step of gradient descent"
                            disabled={self.stopped()} onclick={link.callback(|_| Msg::Step)}>{"Step"}</button>
                    </div>
                    {rate_menu}
                    <p class="one-weight-rate-note" data-testid="one-weight-rate-note">{rate_behaviour(self.learning_rate)}</p>
                </div>
                {self.message()}
                <div class="one-weight-body">
                    <div class="one-weight-plot">
                        <canvas ref={self.canvas.clone()} class="one-weight-chart" width="600" height="400"
                            data-testid="one-weight-chart" />
                        <p class="hint">
                            {"Blue: the loss x² + 3. Red: the current x, its tangent (slope = the gradient 2x) and an arrow                               pointing downhill. Orange: the next step, x − rate · gradient, and the loss it lands on.                               Grey: the path so far."}
                        </p>
                    </div>
                    <div class="one-weight-side">
                        {self.next_step()}
                        {self.table()}
                    </div>
                </div>
            </section>
        }
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        if let (Some(canvas), Ok(descent)) =
            (self.canvas.cast::<HtmlCanvasElement>(), &self.descent)
        {
            let _ = draw(canvas, descent);
        }
    }
}

fn start(learning_rate: f32) -> Result<OneWeightDescent, String> {
    OneWeightDescent::new(learning_rate).map_err(|error| error.to_string())
}

impl OneWeight {
    fn stopped(&self) -> bool {
        self.descent
            .as_ref()
            .map_or(true, |descent| descent.stop().is_some())
    }

    /// One step; true when the descent has stopped (converged, diverged or at its limit).
    fn step(&mut self) -> bool {
        let Ok(descent) = &mut self.descent else {
            return true;
        };
        match descent.step() {
            Ok(stop) => stop.is_some(),
            Err(error) => {
                self.descent = Err(error.to_string());
                true
            }
        }
    }

    fn message(&self) -> Html {
        let text = match &self.descent {
            Err(error) => Some(format!("The engine could not run this descent: {error}")),
            Ok(descent) => descent.stop().map(|stop| stop.message()),
        };
        let Some(text) = text else {
            return html! {};
        };
        html! { <p class="one-weight-message" data-testid="one-weight-message" role="status">{text}</p> }
    }

    /// The arithmetic of the next step with today's numbers.
    fn next_step(&self) -> Html {
        let Ok(descent) = &self.descent else {
            return html! {};
        };
        if descent.stop().is_some() {
            return html! {};
        }
        let now = descent.current();
        html! {
            <p class="one-weight-next" data-testid="one-weight-next">
                {"Next step: x ← x − rate · d(loss)/dx = "}
                {format!("{:.4} − {} · {:.4} = {:.4}", now.x, self.learning_rate, now.gradient, descent.next_x())}
            </p>
        }
    }

    /// The first iteration and the latest ones.
    fn table(&self) -> Html {
        let Ok(descent) = &self.descent else {
            return html! {};
        };
        let history = descent.history();
        let latest = history.len().saturating_sub(LATEST_ROWS).max(1);
        let skipped = latest - 1;
        html! {
            <table class="one-weight-table" data-testid="one-weight-table">
                <thead><tr>
                    <th>{"Iteration"}</th><th>{"x"}</th><th>{"loss x² + 3"}</th><th>{"gradient 2x"}</th>
                </tr></thead>
                <tbody>
                    {iteration_row(&history[0])}
                    if skipped > 0 {
                        <tr class="skipped"><td colspan="4">{format!("… {skipped} more …")}</td></tr>
                    }
                    {for history[latest.min(history.len())..].iter().map(iteration_row)}
                </tbody>
            </table>
        }
    }
}

fn iteration_row(row: &Iteration) -> Html {
    let index = row.index;
    html! {
        <tr>
            <td>{index}</td>
            <td data-testid={format!("one-weight-x-{index}")}>{table_number(row.x)}</td>
            <td data-testid={format!("one-weight-loss-{index}")}>{table_number(row.loss)}</td>
            <td>{table_number(row.gradient)}</td>
        </tr>
    }
}

/// Four decimals, as the course writes them, or a power of ten once a diverging run is huge.
fn table_number(value: f32) -> String {
    if value.abs() >= 1e5 {
        format!("{value:.3e}")
    } else {
        format!("{value:.4}")
    }
}

/// The curve, the path so far, the tangent at the current x and the step about to be taken.
fn draw(canvas: HtmlCanvasElement, descent: &OneWeightDescent) -> Option<()> {
    let root = CanvasBackend::with_canvas_object(canvas)?.into_drawing_area();
    root.fill(&WHITE).ok()?;
    let history = descent.history();
    let now = descent.current();
    let next_x = descent.next_x();
    // Wide enough for every x visited and the next one, so a diverging run stays in view.
    let widest = history
        .iter()
        .map(|row| row.x.abs())
        .chain([next_x.abs()])
        .filter(|x| x.is_finite())
        .fold(2.5f32, f32::max);
    let half_width = widest * 1.15;
    let top = loss_at(half_width) * 1.05;
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(48)
        .build_cartesian_2d(-half_width..half_width, 0f32..top)
        .ok()?;
    chart
        .configure_mesh()
        .x_labels(9)
        .y_labels(6)
        .x_label_formatter(&axis_label)
        .y_label_formatter(&axis_label)
        .x_desc("x")
        .y_desc("loss")
        .light_line_style(RGBColor(245, 245, 245))
        .bold_line_style(RGBColor(228, 228, 228))
        .draw()
        .ok()?;
    const SAMPLES: usize = 240;
    let curve = (0..=SAMPLES).map(|i| {
        let x = -half_width + 2.0 * half_width * i as f32 / SAMPLES as f32;
        (x, loss_at(x))
    });
    chart
        .draw_series(LineSeries::new(curve, CURVE_INK.stroke_width(2)))
        .ok()?;
    let visited = history.iter().map(|row| (row.x, row.loss));
    chart
        .draw_series(LineSeries::new(visited.clone(), PATH_INK.mix(0.5)))
        .ok()?;
    chart
        .draw_series(visited.map(|point| Circle::new(point, 3, PATH_INK.filled())))
        .ok()?;
    // The tangent: slope = gradient, kept short enough to stay inside the chart.
    let reach = if now.gradient == 0.0 {
        half_width * 0.3
    } else {
        (half_width * 0.3).min(top * 0.3 / now.gradient.abs())
    };
    let tangent = [-reach, reach].map(|dx| (now.x + dx, now.loss + now.gradient * dx));
    chart
        .draw_series(LineSeries::new(
            tangent,
            POINT_INK.mix(0.45).stroke_width(1),
        ))
        .ok()?;
    // Downhill along the tangent, a fixed length: the way the negative gradient points.
    if now.gradient != 0.0 {
        let downhill = -now.gradient.signum() * reach;
        let from = chart.backend_coord(&(now.x, now.loss));
        let towards = chart.backend_coord(&(now.x + downhill, now.loss + now.gradient * downhill));
        let (dx, dy) = ((towards.0 - from.0) as f32, (towards.1 - from.1) as f32);
        let scale = DOWNHILL_ARROW_PIXELS / (dx * dx + dy * dy).sqrt().max(1.0);
        let tip = (from.0 + (dx * scale) as i32, from.1 + (dy * scale) as i32);
        draw_arrow(&root, from, tip, POINT_INK)?;
    }
    if descent.stop().is_none() && next_x.is_finite() && next_x != now.x {
        let from = chart.backend_coord(&(now.x, now.loss));
        let to = chart.backend_coord(&(next_x, now.loss));
        draw_arrow(&root, from, to, STEP_INK)?;
        chart
            .draw_series(DashedLineSeries::new(
                [(next_x, now.loss), (next_x, loss_at(next_x))],
                5,
                4,
                STEP_INK.stroke_width(1),
            ))
            .ok()?;
        chart
            .draw_series([Circle::new(
                (next_x, loss_at(next_x)),
                5,
                STEP_INK.stroke_width(2),
            )])
            .ok()?;
    }
    chart
        .draw_series([Circle::new((now.x, now.loss), 6, POINT_INK.filled())])
        .ok()?;
    root.present().ok()
}

/// Axis numbers short enough for the label area, even when x has run off to a million.
fn axis_label(value: &f32) -> String {
    if value.abs() >= 1e4 {
        format!("{value:.1e}")
    } else {
        format!("{value:.1}")
    }
}

/// A straight arrow between two pixel positions, its head a filled triangle.
fn draw_arrow<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    from: (i32, i32),
    to: (i32, i32),
    colour: RGBColor,
) -> Option<()> {
    let (dx, dy) = ((to.0 - from.0) as f32, (to.1 - from.1) as f32);
    let length = (dx * dx + dy * dy).sqrt();
    area.draw(&PathElement::new([from, to], colour.stroke_width(3)))
        .ok()?;
    if length < 4.0 {
        return Some(());
    }
    let (ux, uy) = (dx / length, dy / length);
    let head = 10.0f32.min(length);
    let base = (to.0 as f32 - ux * head, to.1 as f32 - uy * head);
    let corner = |side: f32| {
        (
            (base.0 - uy * head * 0.5 * side) as i32,
            (base.1 + ux * head * 0.5 * side) as i32,
        )
    };
    area.draw(&Polygon::new(
        vec![to, corner(1.0), corner(-1.0)],
        colour.filled(),
    ))
    .ok()
}

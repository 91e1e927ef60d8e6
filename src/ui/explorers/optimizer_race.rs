//! Optimizers racing on one loss surface: the page's controls, its read-outs and the animation
//! loop. The race itself (surfaces, the engine's optimizers, divergence) lives in
//! `playground::optimizer_race`; the drawing in `contour_plot`.

use super::contour_plot::{self, PLOT_SIZE, racer_colour};
use crate::engine::{Described, OptimizerKind};
use crate::playground::optimizer_race::{Point, RACE_LEARNING_RATES, Race, Racer, Surface};
use crate::playground::page::OPTIMIZERS_INTRODUCTION;
use crate::ui::controls::choice;
use gloo::render::{AnimationFrame, request_animation_frame};
use web_sys::{HtmlCanvasElement, HtmlSelectElement};
use yew::prelude::*;

/// Steps per animation frame while playing: a race of a few hundred steps takes a few seconds.
const STEPS_PER_FRAME: usize = 3;

pub enum Msg {
    TogglePlay,
    Step,
    Reset,
    Frame,
    ChooseSurface(Surface),
    /// The shared rate: every optimizer gets it.
    SetLearningRate(f32),
    SetLearningRateOf(OptimizerKind, f32),
    PickStart(Point),
    /// The slides' example: x = 2, rate 0.01, on the course's loss.
    CourseExample,
}

pub struct OptimizerRace {
    race: Race,
    learning_rate: f32,
    playing: bool,
    frame: Option<AnimationFrame>,
    surface_canvas: NodeRef,
    paths_canvas: NodeRef,
    painted_surface: Option<Surface>,
}

impl Component for OptimizerRace {
    type Message = Msg;
    type Properties = ();

    fn create(_ctx: &Context<Self>) -> Self {
        let surface = Surface::ElongatedBowl;
        OptimizerRace {
            race: Race::new(surface),
            learning_rate: surface.learning_rate(),
            playing: false,
            frame: None,
            surface_canvas: NodeRef::default(),
            paths_canvas: NodeRef::default(),
            painted_surface: None,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::TogglePlay => {
                if self.race.finished() {
                    self.race.reset();
                }
                self.playing = !self.playing;
                self.frame = None;
                if self.playing {
                    self.schedule_frame(ctx);
                }
            }
            Msg::Frame => {
                self.frame = None;
                if !self.playing {
                    return false;
                }
                for _ in 0..STEPS_PER_FRAME {
                    self.race.step();
                }
                if self.race.finished() {
                    self.playing = false;
                } else {
                    self.schedule_frame(ctx);
                }
            }
            Msg::Step => {
                self.pause();
                self.race.step();
            }
            Msg::Reset => {
                self.pause();
                self.race.reset();
            }
            Msg::ChooseSurface(surface) => {
                self.pause();
                self.learning_rate = surface.learning_rate();
                self.race = Race::new(surface);
            }
            Msg::SetLearningRate(rate) => {
                self.learning_rate = rate;
                self.race.set_learning_rate(rate);
            }
            Msg::SetLearningRateOf(kind, rate) => self.race.set_learning_rate_of(kind, rate),
            Msg::PickStart(start) => {
                self.pause();
                self.race.set_start(start);
            }
            Msg::CourseExample => {
                self.pause();
                self.learning_rate = 0.01;
                self.race = Race::from(Surface::CourseBowl, [2.0, 0.0], 0.01);
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let surface = self.race.surface();
        let surface_menu = choice(
            "race-surface",
            "Loss surface",
            Surface::ALL
                .iter()
                .map(|s| (s.key().to_string(), s.title().to_string()))
                .collect(),
            surface.key().to_string(),
            link.batch_callback(|key: String| Surface::from_key(&key).map(Msg::ChooseSurface)),
        );
        let rate_menu = choice(
            "race-learning-rate",
            "Learning rate (all)",
            rate_options(self.learning_rate),
            self.learning_rate.to_string(),
            link.batch_callback(|value: String| value.parse().ok().map(Msg::SetLearningRate)),
        );
        let paths_canvas = self.paths_canvas.clone();
        let onclick = link.batch_callback(move |event: MouseEvent| {
            let canvas = paths_canvas.cast::<HtmlCanvasElement>()?;
            Some(Msg::PickStart(contour_plot::point_under(
                &canvas, surface, &event,
            )))
        });
        // The keyboard's way to pick a start: arrows move it a twentieth of the view (Shift: a
        // hundredth), in view of the plot.
        let start = self.race.start();
        let view = surface.view();
        let onkeydown = link.batch_callback(move |event: KeyboardEvent| {
            let fraction = if event.shift_key() { 0.01 } else { 0.05 };
            let (u, v) = view.fractions_of(start);
            let (du, dv) = match event.key().as_str() {
                "ArrowLeft" => (-fraction, 0.0),
                "ArrowRight" => (fraction, 0.0),
                "ArrowUp" => (0.0, -fraction),
                "ArrowDown" => (0.0, fraction),
                _ => return None,
            };
            event.prevent_default();
            let (u, v) = ((u + du).clamp(0.0, 1.0), (v + dv).clamp(0.0, 1.0));
            Some(Msg::PickStart(view.point_at(u, v)))
        });
        let plot_name = format!(
            "Loss surface with the racers' paths; start at x = {:.2}, y = {:.2}: arrow keys move it (Shift for small steps)",
            start[0], start[1]
        );
        let size = PLOT_SIZE.to_string();
        html! {
            <section class="page explorer optimizer-race">
                <h2>{OPTIMIZERS_INTRODUCTION.heading}</h2>
                <p class="race-intro">{OPTIMIZERS_INTRODUCTION.lead}</p>
                <div class="race-controls">
                    <div class="run-buttons">
                        <button class="round" data-testid="race-reset" title="Back to the start"
                            onclick={link.callback(|_| Msg::Reset)}>{"↺"}</button>
                        <button class={classes!("round", "play", self.playing.then_some("playing"))}
                            data-testid="race-play" title="Run or pause the race"
                            onclick={link.callback(|_| Msg::TogglePlay)}>
                            { if self.playing { "Pause" } else { "Play" } }
                        </button>
                        <button class="round" data-testid="race-step" title="One step of every optimizer"
                            onclick={link.callback(|_| Msg::Step)}>{"Step"}</button>
                    </div>
                    <div class="control">
                        <label>{"Step"}</label>
                        <span class="epoch" data-testid="race-steps">{self.race.steps()}</span>
                    </div>
                    {surface_menu}
                    {rate_menu}
                </div>
                <div class="race-body">
                    <div class="race-plot" style={format!("width: {size}px; height: {size}px")}>
                        <canvas ref={self.surface_canvas.clone()} width={size.clone()} height={size.clone()}
                            data-testid="race-surface-plot" />
                        <canvas ref={self.paths_canvas.clone()} class="race-paths" width={size.clone()}
                            height={size} data-testid="race-plot" {onclick} {onkeydown}
                            tabindex="0" role="img" aria-label={plot_name} />
                    </div>
                    <div class="race-side">
                        {self.board(link)}
                        <p class="hint">{"Click the plot (or focus it and use the arrow keys) to start everyone from there. Crosses mark the minima; light is low loss, blue is high (log scale), with contour lines."}</p>
                        if surface == Surface::CourseBowl {
                            {course_note(link)}
                        }
                    </div>
                </div>
            </section>
        }
    }

    fn rendered(&mut self, _ctx: &Context<Self>, _first_render: bool) {
        let surface = self.race.surface();
        if self.painted_surface != Some(surface)
            && let Some(canvas) = self.surface_canvas.cast::<HtmlCanvasElement>()
        {
            contour_plot::paint_surface(&canvas, surface);
            self.painted_surface = Some(surface);
        }
        if let Some(canvas) = self.paths_canvas.cast::<HtmlCanvasElement>() {
            contour_plot::paint_paths(&canvas, &self.race);
        }
    }
}

impl OptimizerRace {
    fn pause(&mut self) {
        self.playing = false;
        self.frame = None;
    }

    fn schedule_frame(&mut self, ctx: &Context<Self>) {
        let link = ctx.link().clone();
        self.frame = Some(request_animation_frame(move |_| {
            link.send_message(Msg::Frame)
        }));
    }

    /// The legend and read-outs: one row per optimizer with its colour, rate, loss and fate.
    fn board(&self, link: &yew::html::Scope<Self>) -> Html {
        html! {
            <table class="race-board">
                <thead><tr>
                    <th>{"Optimizer"}</th><th>{"Rate"}</th><th class="number">{"Loss"}</th><th class="number">{"(x, y)"}</th><th>{"Status"}</th>
                </tr></thead>
                <tbody>{ for self.race.racers().iter().map(|racer| racer_row(racer, link)) }</tbody>
            </table>
        }
    }
}

fn racer_row(racer: &Racer, link: &yew::html::Scope<OptimizerRace>) -> Html {
    let kind = racer.kind();
    let name = kind.key();
    let onchange = link.batch_callback(move |event: Event| {
        let value = event.target_unchecked_into::<HtmlSelectElement>().value();
        value
            .parse()
            .ok()
            .map(|rate| Msg::SetLearningRateOf(kind, rate))
    });
    let current = racer.learning_rate().to_string();
    let (loss, status) = if racer.diverged() {
        ("—".to_string(), "diverged".to_string())
    } else {
        let status = racer
            .reached_at()
            .map(|step| format!("minimum at step {step}"))
            .unwrap_or_default();
        (format!("{:.4}", racer.loss()), status)
    };
    let position = racer
        .path()
        .last()
        .map(|&[x, y]| format!("({}, {})", coordinate(x), coordinate(y)))
        .unwrap_or_default();
    html! {
        <tr class={classes!(racer.diverged().then_some("diverged"))}>
            <td><span class="swatch" style={format!("background: {}", racer_colour(kind))} />{kind.describe().short}</td>
            <td>
                <select data-testid={format!("race-learning-rate-{name}")} {onchange}
                    aria-label={format!("Learning rate of {}", kind.describe().short)}>
                    { for rate_options(racer.learning_rate()).into_iter().map(|(value, label)| {
                        let is_selected = value == current;
                        html! { <option selected={is_selected} {value}>{label}</option> }
                    }) }
                </select>
            </td>
            <td class="number" data-testid={format!("race-loss-{name}")}>{loss}</td>
            <td class="number">{position}</td>
            <td class="status" data-testid={format!("race-status-{name}")}>{status}</td>
        </tr>
    }
}

fn course_note(link: &yew::html::Scope<OptimizerRace>) -> Html {
    html! {
        <div class="race-course">
            <p>{"The course's example: the weight x starts at 2, so the loss x² + 3 is 7 and its slope 2x is 4. "}
               {"One SGD step at rate 0.01 gives x = 2 − 0.01 × 4 = 1.96 and loss 1.96² + 3 = 6.8416."}</p>
            <button data-testid="race-course-example" onclick={link.callback(|_| Msg::CourseExample)}>
                {"Start at x = 2, y = 0, rate 0.01"}
            </button>
        </div>
    }
}

/// Three decimals, without the "-0.000" of a tiny negative number.
fn coordinate(value: f64) -> String {
    let text = format!("{value:.3}");
    if text == "-0.000" {
        "0.000".to_string()
    } else {
        text
    }
}

/// The menu's rates, plus `current` if it is not among them.
fn rate_options(current: f32) -> Vec<(String, String)> {
    let mut rates = RACE_LEARNING_RATES.to_vec();
    if !rates.contains(&current) {
        rates.push(current);
        rates.sort_by(f32::total_cmp);
    }
    rates
        .into_iter()
        .map(|rate| (rate.to_string(), rate.to_string()))
        .collect()
}

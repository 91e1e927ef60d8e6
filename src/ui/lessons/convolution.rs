//! The convolution page: an editable input (padding drawn as grey zeros), editable kernels and
//! biases, a window that Step / Play slide one output cell at a time with its products written
//! out, and the output filling in; the pooling section below. The arithmetic is
//! `playground::convolution`, run on the engine: this view only draws it.

use super::pooling::Pooling;
use crate::playground::convolution::backward::{ConvGradients, accumulate_conv, kernel_increments};
use crate::playground::convolution::presets::{CONV_PRESETS, one_kernel, randomized};
use crate::playground::convolution::{ConvCell, ConvProblem, ConvResult, number};
use crate::playground::page::CONVOLUTION_INTRODUCTION;
use crate::ui::announcer::Announcer;
use crate::ui::controls::number_choice;
use gloo::timers::callback::Interval;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Milliseconds between two steps while playing.
pub(super) const PLAY_INTERVAL_MS: u32 = 700;
const INPUT_SIZES: [usize; 7] = [2, 3, 4, 5, 6, 7, 8];
const KERNEL_SIZES: [usize; 5] = [1, 2, 3, 4, 5];
const STRIDES: [usize; 3] = [1, 2, 3];
const PADDINGS: [usize; 3] = [0, 1, 2];
const IN_CHANNELS: [usize; 3] = [1, 2, 3];
const OUT_CHANNELS: [usize; 4] = [1, 2, 3, 4];

pub enum Msg {
    Preset(usize),
    Random,
    Input(usize, usize, usize, String),
    Weight([usize; 4], String),
    Bias(usize, String),
    Size(usize),
    Kernel(usize),
    Stride(usize),
    Padding(usize),
    InChannels(usize),
    OutChannels(usize),
    Animate(Animate),
    /// Forward (the output) or backward (the gradients) animation.
    Backward,
    Upstream(usize, String),
}

pub struct Convolution {
    problem: ConvProblem,
    result: Result<ConvResult, String>,
    /// How many output cells are filled in; the window sits on the last of them.
    shown: usize,
    player: Option<Interval>,
    seed: u64,
    backward: bool,
    /// dL/dout, one per output cell (ones unless edited).
    upstream: Vec<f32>,
    /// The engine's dL/dK and dL/db for `upstream`.
    gradients: Option<ConvGradients>,
}

impl Convolution {
    fn set(&mut self, problem: ConvProblem, restart: bool) {
        self.result = problem.evaluate();
        self.problem = problem;
        self.shown = if restart {
            0
        } else {
            self.shown.min(self.total())
        };
        if restart {
            self.player = None;
        }
        if self.upstream.len() != self.total() {
            self.upstream = vec![1.0; self.total()];
        }
        self.gradients = self
            .result
            .is_ok()
            .then(|| self.problem.gradients(&self.upstream).ok())
            .flatten();
    }

    fn total(&self) -> usize {
        self.result.as_ref().map_or(0, |r| r.cells.len())
    }

    fn current(&self) -> Option<&ConvCell> {
        let cells = &self.result.as_ref().ok()?.cells;
        self.shown.checked_sub(1).and_then(|i| cells.get(i))
    }
}

impl Component for Convolution {
    type Message = Msg;
    type Properties = ();

    fn create(_ctx: &Context<Self>) -> Self {
        let problem = one_kernel();
        let mut page = Convolution {
            result: problem.evaluate(),
            problem: problem.clone(),
            shown: 0,
            player: None,
            seed: 1,
            backward: false,
            upstream: Vec::new(),
            gradients: None,
        };
        page.set(problem, true);
        page
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let mut problem = self.problem.clone();
        match msg {
            Msg::Preset(index) => return self.restart((CONV_PRESETS[index].build)()),
            Msg::Random => {
                self.seed += 1;
                return self.restart(randomized(&problem, self.seed));
            }
            Msg::Input(c, r, col, text) => match text.trim().parse::<f32>() {
                Ok(v) => problem.input[(c * problem.size + r) * problem.size + col] = v,
                Err(_) => return true,
            },
            Msg::Weight([o, c, r, col], text) => match text.trim().parse::<f32>() {
                Ok(v) => {
                    let k = problem.kernel;
                    problem.kernels[((o * problem.in_channels + c) * k + r) * k + col] = v;
                }
                Err(_) => return true,
            },
            Msg::Bias(o, text) => match text.trim().parse::<f32>() {
                Ok(v) => problem.bias[o] = v,
                Err(_) => return true,
            },
            Msg::Size(size) => {
                problem.resize_input(size);
                return self.restart(problem);
            }
            Msg::Kernel(k) => {
                problem.resize_kernels(k);
                return self.restart(problem);
            }
            Msg::Stride(s) => {
                problem.stride = s;
                return self.restart(problem);
            }
            Msg::Padding(p) => {
                problem.padding = p;
                return self.restart(problem);
            }
            Msg::InChannels(c) => {
                problem.set_in_channels(c);
                return self.restart(problem);
            }
            Msg::OutChannels(c) => {
                problem.set_out_channels(c);
                return self.restart(problem);
            }
            Msg::Animate(Animate::Step) => {
                self.shown = (self.shown + 1).min(self.total());
                if self.shown == self.total() {
                    self.player = None;
                }
                return true;
            }
            Msg::Animate(Animate::TogglePlay) => {
                if self.player.take().is_none() && self.shown < self.total() {
                    let link = ctx.link().clone();
                    self.player = Some(Interval::new(PLAY_INTERVAL_MS, move || {
                        link.send_message(Msg::Animate(Animate::Step))
                    }));
                }
                return true;
            }
            Msg::Animate(Animate::Reset) => return self.restart(problem),
            Msg::Animate(Animate::Finish) => {
                self.player = None;
                self.shown = self.total();
                return true;
            }
            Msg::Backward => {
                self.backward = !self.backward;
                return self.restart(problem);
            }
            Msg::Upstream(index, text) => match text.trim().parse::<f32>() {
                Ok(v) if index < self.upstream.len() => self.upstream[index] = v,
                _ => return true,
            },
        }
        // An edited number: the same step, new values.
        self.set(problem, false);
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let p = &self.problem;
        let presets = CONV_PRESETS.iter().enumerate().map(|(i, preset)| {
            html! {
                <button data-testid={format!("conv-preset-{}", preset.id)}
                    onclick={link.callback(move |_| Msg::Preset(i))}>{preset.title}</button>
            }
        });
        let menu = |id: &'static str,
                    label: &'static str,
                    options: &[usize],
                    value: usize,
                    msg: fn(usize) -> Msg| {
            number_choice(id, label, options, value, link.callback(msg))
        };
        html! {
            <section class="page convolution" data-testid="convolution-page">
                <h2>{CONVOLUTION_INTRODUCTION.heading}</h2>
                <p class="conv-lead">{CONVOLUTION_INTRODUCTION.lead}</p>
                <div class="conv-presets">{ for presets }
                    <button data-testid="conv-random" onclick={link.callback(|_| Msg::Random)}>{"Random numbers"}</button>
                </div>
                <div class="conv-controls">
                    {menu("conv-input-size", "Input size", &INPUT_SIZES, p.size, Msg::Size)}
                    {menu("conv-kernel-size", "Kernel size", &KERNEL_SIZES, p.kernel, Msg::Kernel)}
                    {menu("conv-stride", "Stride", &STRIDES, p.stride, Msg::Stride)}
                    {menu("conv-padding", "Padding", &PADDINGS, p.padding, Msg::Padding)}
                    {menu("conv-in-channels", "Input channels", &IN_CHANNELS, p.in_channels, Msg::InChannels)}
                    {menu("conv-out-channels", "Output channels", &OUT_CHANNELS, p.out_channels, Msg::OutChannels)}
                </div>
                <p class="conv-formula" data-testid="conv-formula">{p.formula()}</p>
                { match &self.result {
                    Err(why) => html! { <p class="conv-error" data-testid="conv-error">{why}</p> },
                    Ok(_) => html! {},
                } }
                <div class="conv-mode">
                    <button data-testid="conv-backward" aria-pressed={self.backward.to_string()}
                        class={classes!("conv-toggle", self.backward.then_some("on"))}
                        title="Show the backward pass: the gradients of the kernels, the biases and the pooled input"
                        onclick={link.callback(|_| Msg::Backward)}>
                        { if self.backward { "Backward: on" } else { "Backward: off" } }</button>
                    if self.backward {
                        <span class="conv-mode-note">{"The engine's tape differentiates L = Σ dL/dout × out:                             each output cell passes its upstream gradient dL/dout back to the kernel that made it."}</span>
                    }
                </div>
                {stepper("conv", self.player.is_some(), (self.shown, self.total()),
                    self.current().map(|cell| format!("output channel {}, cell ({}, {}) = {}",
                        cell.out_channel, cell.row, cell.col, number(cell.value))),
                    link.callback(Msg::Animate))}
                <div class="conv-stage">
                    <div class="conv-column">
                        <h3>{"Input"}</h3>
                        { for (0..p.in_channels).map(|c| self.input_grid(ctx, c)) }
                    </div>
                    <div class="conv-column">
                        <h3>{"Kernels and biases"}</h3>
                        { for (0..p.out_channels).map(|o| self.kernel_group(ctx, o)) }
                    </div>
                    <div class="conv-column">
                        <h3>{"Output"}</h3>
                        {self.output_grids()}
                    </div>
                    if self.backward {
                        <div class="conv-column">
                            <h3>{"Gradients"}</h3>
                            {self.upstream_grids(ctx)}
                            {self.kernel_gradients()}
                        </div>
                    }
                </div>
                { if self.backward { self.grad_products() } else { self.products() } }
                <Pooling backward={self.backward} />
            </section>
        }
    }
}

impl Convolution {
    fn restart(&mut self, problem: ConvProblem) -> bool {
        self.set(problem, true);
        true
    }

    /// One input channel with its padding drawn as grey zeros and the window highlighted.
    fn input_grid(&self, ctx: &Context<Self>, channel: usize) -> Html {
        let (n, pad) = (self.problem.size, self.problem.padding);
        let k = self.problem.kernel;
        let window = self.current().map(|cell| (cell.top, cell.left));
        let rows = (0..n + 2 * pad).map(|row| {
            let cells = (0..n + 2 * pad).map(|col| {
                let inside = window
                    .is_some_and(|(t, l)| (t..t + k).contains(&row) && (l..l + k).contains(&col));
                let class = classes!("conv-cell", inside.then_some("in-window"));
                let (r, c) = (row.wrapping_sub(pad), col.wrapping_sub(pad));
                if r >= n || c >= n {
                    return html! { <td class={classes!(class, "padding")}>{"0"}</td> };
                }
                let value = self.problem.input_at(channel, r, c);
                let edit = ctx.link().callback(move |t| Msg::Input(channel, r, c, t));
                html! { <td {class}>{number_input(format!("conv-input-{channel}-{r}-{c}"),
                    format!("Input channel {}, row {}, column {}", channel + 1, r + 1, c + 1), value, edit)}</td> }
            });
            html! { <tr>{ for cells }</tr> }
        });
        grid_box(format!("channel {channel}"), GridCells::Inputs, rows)
    }

    /// The kernels of one output channel (one grid per input channel) and its bias.
    fn kernel_group(&self, ctx: &Context<Self>, out: usize) -> Html {
        let p = &self.problem;
        let active = self.current().is_some_and(|cell| cell.out_channel == out);
        let grids = (0..p.in_channels).map(|c| {
            let rows = (0..p.kernel).map(|r| {
                let cells = (0..p.kernel).map(|col| {
                    let edit = ctx.link().callback(move |t| Msg::Weight([out, c, r, col], t));
                    let id = format!("conv-weight-{out}-{c}-{r}-{col}");
                    html! { <td class="conv-cell">{number_input(id,
                        format!("Kernel of output {}, input channel {}, row {}, column {}", out + 1, c + 1, r + 1, col + 1),
                        p.weight_at(out, c, r, col), edit)}</td> }
                });
                html! { <tr>{ for cells }</tr> }
            });
            html! { <table class="conv-grid kernel" role="presentation" title={format!("reads input channel {c}")}>{ for rows }</table> }
        });
        let bias = ctx.link().callback(move |t| Msg::Bias(out, t));
        html! {
            <div class={classes!("conv-kernel-group", active.then_some("active"))}>
                <span class="conv-grid-label">{format!("kernel {out}")}</span>
                <div class="conv-kernels">{ for grids }</div>
                <label class="conv-bias">{"bias "}{number_input(format!("conv-bias-{out}"), format!("Bias of output {}", out + 1), p.bias[out], bias)}</label>
            </div>
        }
    }

    /// The output channels, filled up to the current cell.
    fn output_grids(&self) -> Html {
        let Ok(result) = &self.result else {
            return html! { <p class="conv-none" data-testid="conv-output">{"No output: see the reason above."}</p> };
        };
        let side = result.out_side;
        let grids = (0..self.problem.out_channels).map(|o| {
            let rows = (0..side).map(|r| {
                let cells = (0..side).map(|c| {
                    let index = (o * side + r) * side + c;
                    let current = index + 1 == self.shown;
                    let text = (index < self.shown).then(|| number(result.cells[index].value));
                    // Channel 0 reads conv-out-<row>-<col>; the others add their channel first.
                    let id = if o == 0 {
                        format!("conv-out-{r}-{c}")
                    } else {
                        format!("conv-out-{o}-{r}-{c}")
                    };
                    html! { <td class={classes!("conv-cell", "out", current.then_some("in-window"))}
                    data-testid={id}>{text.unwrap_or_default()}</td> }
                });
                html! { <tr>{row_heading(r)}{ for cells }</tr> }
            });
            grid_box(format!("channel {o}"), GridCells::Values(side), rows)
        });
        html! { <div data-testid="conv-output">{ for grids }</div> }
    }

    /// The current cell's products, channel by channel, and their sum plus the bias.
    fn products(&self) -> Html {
        let Some(cell) = self.current() else {
            return html! { <div class="conv-products" data-testid="conv-products">
            {"Press Step to place the kernel on the first window."}</div> };
        };
        let lines = (0..self.problem.in_channels).map(|channel| {
            let terms = cell.taps.iter().filter(|t| t.channel == channel).enumerate().map(|(i, t)| {
                let plus = if i == 0 { "" } else { " + " };
                html! { <>{plus}<span class={classes!("term", t.padded.then_some("padded"))}>
                    {format!("{}×{}", number(t.input), number(t.weight))}</span></> }
            });
            html! { <div class="conv-product-line">{format!("input channel {channel}: ")}{ for terms }</div> }
        });
        html! {
            <div class="conv-products" data-testid="conv-products">
                <div class="conv-product-head">{format!(
                    "Output channel {}, cell ({}, {}): the window's top-left corner is row {}, column {} of the padded input.",
                    cell.out_channel, cell.row, cell.col, cell.top, cell.left)}</div>
                { for lines }
                <div class="conv-product-total">{format!(
                    "sum {} + bias {} = {}", number(cell.sum), number(cell.bias), number(cell.value))}</div>
            </div>
        }
    }
}

impl Convolution {
    /// dL/dout of every output cell, editable; the current cell highlighted.
    fn upstream_grids(&self, ctx: &Context<Self>) -> Html {
        let Ok(result) = &self.result else {
            return html! {};
        };
        let side = result.out_side;
        let grids = (0..self.problem.out_channels).map(|o| {
            let rows = (0..side).map(|r| {
                let cells = (0..side).map(|c| {
                    let index = (o * side + r) * side + c;
                    let current = index + 1 == self.shown;
                    let edit = ctx.link().callback(move |t| Msg::Upstream(index, t));
                    let id = format!("conv-dout-{o}-{r}-{c}");
                    html! { <td class={classes!("conv-cell", "grad", current.then_some("in-window"))}>
                        {number_input(id,
                            format!("Gradient reaching output {}, row {}, column {}", o + 1, r + 1, c + 1),
                            self.upstream[index], edit)}</td> }
                });
                html! { <tr>{ for cells }</tr> }
            });
            grid_box(format!("dL/dout, channel {o}"), GridCells::Inputs, rows)
        });
        html! { <div data-testid="conv-upstream">{ for grids }</div> }
    }

    /// dL/dK (one grid per input channel) and dL/db of each kernel, summed up to the current step.
    fn kernel_gradients(&self) -> Html {
        let Ok(result) = &self.result else {
            return html! {};
        };
        let p = &self.problem;
        let k = p.kernel;
        let totals = accumulate_conv(p, &result.cells, &self.upstream, self.shown);
        let current = self.current();
        let groups = (0..p.out_channels).map(|o| {
            let active = current.is_some_and(|cell| cell.out_channel == o);
            let grids = (0..p.in_channels).map(|c| {
                let rows = (0..k).map(|r| {
                    let cells = (0..k).map(|col| {
                        let value = totals.kernels[((o * p.in_channels + c) * k + r) * k + col];
                        let id = if (o, c) == (0, 0) {
                            format!("conv-dk-{r}-{col}")
                        } else {
                            format!("conv-dk-{o}-{c}-{r}-{col}")
                        };
                        html! { <td class={classes!("conv-cell", "grad", active.then_some("touched"))}
                            data-testid={id}>{number(value)}</td> }
                    });
                    html! { <tr>{row_heading(r)}{ for cells }</tr> }
                });
                html! { <table class="conv-grid kernel" title={format!("dL/dK for input channel {c}")}>{column_headings(p.kernel)}{ for rows }</table> }
            });
            html! {
                <div class={classes!("conv-kernel-group", active.then_some("active"))}>
                    <span class="conv-grid-label">{format!("dL/dK, kernel {o}")}</span>
                    <div class="conv-kernels">{ for grids }</div>
                    <span class="conv-bias" data-testid={format!("conv-db-{o}")}>
                        {format!("dL/db = {}", number(totals.bias[o]))}</span>
                </div>
            }
        });
        html! { <div data-testid="conv-grad-kernel">{ for groups }</div> }
    }

    /// The current step's dL/dK += dL/dout × window, written out, and at the end the engine's totals.
    fn grad_products(&self) -> Html {
        let Some(cell) = self.current() else {
            return html! { <div class="conv-products" data-testid="conv-grad-products">
            {"Press Step: each output cell in turn sends its dL/dout back, and the kernel's gradient grows by dL/dout × the window it saw."}</div> };
        };
        let index = self.shown - 1;
        let g = self.upstream[index];
        let increments = kernel_increments(cell, g);
        let k = self.problem.kernel;
        let lines = (0..self.problem.in_channels).map(|channel| {
            let terms = cell.taps.iter().zip(&increments).filter(|(t, _)| t.channel == channel).enumerate().map(|(i, (t, step))| {
                let sep = if i == 0 { "" } else if i % k == 0 { " | " } else { ", " };
                html! { <>{sep}<span class={classes!("term", t.padded.then_some("padded"))}>
                    {format!("{}×{} = {}", number(g), number(t.input), number(*step))}</span></> }
            });
            html! { <div class="conv-product-line">{format!("dL/dK (input channel {channel}) += ")}{ for terms }</div> }
        });
        let done = self.shown == self.total();
        let check = match (&self.result, &self.gradients) {
            (Ok(result), Some(engine)) if done => {
                let totals =
                    accumulate_conv(&self.problem, &result.cells, &self.upstream, self.shown);
                let same = totals
                    .kernels
                    .iter()
                    .chain(&totals.bias)
                    .zip(engine.kernels.iter().chain(&engine.bias))
                    .all(|(a, b)| (a - b).abs() <= 1e-3 * (1.0 + b.abs()));
                let text = if same {
                    "All steps done: these totals are the engine's dL/dK and dL/db from its tape backward."
                } else {
                    "All steps done, but the totals differ from the engine's gradients."
                };
                html! { <div class={classes!("conv-grad-check", (!same).then_some("conv-error"))}
                data-testid="conv-grad-check">{text}</div> }
            }
            _ => html! {},
        };
        html! {
            <div class="conv-products" data-testid="conv-grad-products">
                <div class="conv-product-head">{format!(
                    "Output channel {}, cell ({}, {}): dL/dout = {}; kernel {} gets dL/dout × its window.",
                    cell.out_channel, cell.row, cell.col, number(g), cell.out_channel)}</div>
                { for lines }
                <div class="conv-product-total">{format!(
                    "dL/db{} += {} → {}", cell.out_channel, number(g),
                    number(self.result.as_ref().map_or(0.0, |r| accumulate_conv(&self.problem, &r.cells, &self.upstream, self.shown).bias[cell.out_channel])))}</div>
                {check}
            </div>
        }
    }
}

/// An `<input>` holding a number; `on_change` gets the typed text.
pub(super) fn number_input(
    test_id: String,
    name: String,
    value: f32,
    on_change: Callback<String>,
) -> Html {
    let onchange =
        on_change.reform(|event: Event| event.target_unchecked_into::<HtmlInputElement>().value());
    html! { <input type="number" step="any" class="conv-number" data-testid={test_id}
    aria-label={name} value={number(value)} {onchange} /> }
}

/// What the animation buttons ask for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Animate {
    Step,
    TogglePlay,
    Reset,
    Finish,
}

/// Reset, Play/Pause, Step and All for one animation; `prefix` names the test hooks
/// (`<prefix>-reset`, `-play`, `-step`, `-finish`). `current` says the cell just computed, for a
/// screen reader (announced politely, at most once a second).
pub(super) fn stepper(
    prefix: &str,
    playing: bool,
    (shown, total): (usize, usize),
    current: Option<String>,
    on: Callback<Animate>,
) -> Html {
    let done = shown >= total;
    let button = |action: Animate| {
        let on = on.clone();
        Callback::from(move |_: MouseEvent| on.emit(action))
    };
    html! {
        <div class="run-buttons conv-stepper">
            <button class="round" data-testid={format!("{prefix}-reset")} title="Empty the output, window back to the start"
                onclick={button(Animate::Reset)}>{"↺"}</button>
            <button class={classes!("round", "play", playing.then_some("playing"))}
                data-testid={format!("{prefix}-play")} disabled={done && !playing}
                onclick={button(Animate::TogglePlay)}>{ if playing { "Pause" } else { "Play" } }</button>
            <button class="round" data-testid={format!("{prefix}-step")} title="Move the window to the next output cell"
                disabled={done} onclick={button(Animate::Step)}>{"Step"}</button>
            <button class="round" data-testid={format!("{prefix}-finish")} title="Fill in every output cell"
                disabled={done} onclick={button(Animate::Finish)}>{"All"}</button>
            <span class="conv-progress">{format!("{shown} of {total} cells")}</span>
            <Announcer test_id={format!("{prefix}-announcement")}
                text={match current {
                    Some(cell) => format!("{cell}; {shown} of {total} cells"),
                    None => format!("{shown} of {total} cells"),
                }} />
        </div>
    }
}

/// What a grid's cells hold.
enum GridCells {
    /// Number fields, each named with its row and column: the table only lays them out.
    Inputs,
    /// Numbers, `columns` to a row, each row led by a hidden row heading ([`row_heading`]).
    Values(usize),
}

/// A labelled table of grid rows: an input, output or gradient map.
fn grid_box(label: String, cells: GridCells, rows: impl Iterator<Item = Html>) -> Html {
    let (role, headings) = match cells {
        GridCells::Inputs => (Some("presentation"), Html::default()),
        GridCells::Values(columns) => (None, column_headings(columns)),
    };
    html! {
        <div class="conv-grid-box">
            <span class="conv-grid-label">{label}</span>
            <table class="conv-grid" {role}>{headings}{ for rows }</table>
        </div>
    }
}

/// A grid of numbers' column headings ("column 1", ...), for a screen reader only: with
/// [`row_heading`] each number is read with its place.
pub fn column_headings(columns: usize) -> Html {
    html! {
        <tr class="grid-headings">
            <td class="visually-hidden"></td>
            { for (0..columns).map(|c| html! { <th scope="col" class="visually-hidden">{format!("column {}", c + 1)}</th> }) }
        </tr>
    }
}

/// The hidden heading that leads row `row` of a grid of numbers.
pub fn row_heading(row: usize) -> Html {
    html! { <th scope="row" class="visually-hidden">{format!("row {}", row + 1)}</th> }
}

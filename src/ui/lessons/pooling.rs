//! The pooling section of the convolution page: max or average pooling of a 4×4 grid, the window
//! sliding one output cell at a time with its working written out and, for max pooling, the
//! winning cell marked. The pooling itself is `playground::convolution`, on the engine.

use super::convolution::{
    Animate, PLAY_INTERVAL_MS, column_headings, number_input, row_heading, stepper,
};
use crate::playground::convolution::backward::{accumulate_pool, routed};
use crate::playground::convolution::presets::{course_pooling, random_pooling};
use crate::playground::convolution::{PoolCell, PoolKind, PoolProblem, PoolResult, number};
use crate::ui::controls::{choice, number_choice};
use gloo::timers::callback::Interval;
use yew::prelude::*;

const SIZES: [usize; 4] = [1, 2, 3, 4];
const STRIDES: [usize; 3] = [1, 2, 3];

/// `backward`: show the gradient routed back to the input instead of the forward working.
#[derive(Properties, PartialEq)]
pub struct Props {
    #[prop_or_default]
    pub backward: bool,
}

pub enum Msg {
    Preset(PoolKind),
    Random,
    Kind(PoolKind),
    Size(usize),
    Stride(usize),
    Value(usize, usize, String),
    Animate(Animate),
}

pub struct Pooling {
    problem: PoolProblem,
    result: Result<PoolResult, String>,
    shown: usize,
    player: Option<Interval>,
    seed: u64,
}

impl Pooling {
    fn restart(&mut self, problem: PoolProblem) -> bool {
        self.result = problem.evaluate();
        self.problem = problem;
        self.shown = 0;
        self.player = None;
        true
    }

    fn total(&self) -> usize {
        self.result.as_ref().map_or(0, |r| r.cells.len())
    }

    fn current(&self) -> Option<&PoolCell> {
        let cells = &self.result.as_ref().ok()?.cells;
        self.shown.checked_sub(1).and_then(|i| cells.get(i))
    }
}

impl Component for Pooling {
    type Message = Msg;
    type Properties = Props;

    fn create(_ctx: &Context<Self>) -> Self {
        let problem = course_pooling(PoolKind::Max);
        Pooling {
            result: problem.evaluate(),
            problem,
            shown: 0,
            player: None,
            seed: 1,
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let mut problem = self.problem.clone();
        match msg {
            Msg::Preset(kind) => self.restart(course_pooling(kind)),
            Msg::Random => {
                self.seed += 1;
                self.restart(random_pooling(&problem, self.seed))
            }
            Msg::Kind(kind) => {
                problem.kind = kind;
                self.restart(problem)
            }
            Msg::Size(size) => {
                problem.size = size;
                self.restart(problem)
            }
            Msg::Stride(stride) => {
                problem.stride = stride;
                self.restart(problem)
            }
            Msg::Value(r, c, text) => {
                if let Ok(v) = text.trim().parse::<f32>() {
                    problem.input[r * problem.side + c] = v;
                    self.result = problem.evaluate();
                    self.problem = problem;
                    self.shown = self.shown.min(self.total());
                }
                true
            }
            Msg::Animate(Animate::Step) => {
                self.shown = (self.shown + 1).min(self.total());
                if self.shown == self.total() {
                    self.player = None;
                }
                true
            }
            Msg::Animate(Animate::TogglePlay) => {
                if self.player.take().is_none() && self.shown < self.total() {
                    let link = ctx.link().clone();
                    self.player = Some(Interval::new(PLAY_INTERVAL_MS, move || {
                        link.send_message(Msg::Animate(Animate::Step))
                    }));
                }
                true
            }
            Msg::Animate(Animate::Reset) => self.restart(problem),
            Msg::Animate(Animate::Finish) => {
                self.player = None;
                self.shown = self.total();
                true
            }
        }
    }

    fn changed(&mut self, _ctx: &Context<Self>, _old: &Props) -> bool {
        // A new mode starts its animation from the first window.
        self.shown = 0;
        self.player = None;
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let backward = ctx.props().backward;
        let p = &self.problem;
        let menu = |id: &'static str,
                    label: &'static str,
                    options: &[usize],
                    value: usize,
                    msg: fn(usize) -> Msg| {
            number_choice(id, label, options, value, link.callback(msg))
        };
        let kind = choice(
            "pool-kind",
            "Pooling",
            vec![
                ("max".into(), "Max".into()),
                ("average".into(), "Average".into()),
            ],
            if p.kind == PoolKind::Max {
                "max"
            } else {
                "average"
            }
            .into(),
            link.callback(|text: String| {
                Msg::Kind(if text == "max" {
                    PoolKind::Max
                } else {
                    PoolKind::Average
                })
            }),
        );
        html! {
            <section class="pooling" data-testid="pooling-section">
                <h2>{"Pooling: keeping the largest value, or the average, of each window"}</h2>
                <p class="conv-lead">
                    {"A pooling layer has no weights: a window slides over each feature map and keeps either its \
                      largest value (max pooling) or the mean of its values (average pooling), shrinking the map. \
                      There is no padding, so n_out = (n_in − k)/s + 1."}
                </p>
                <div class="conv-presets">
                    <button data-testid="pool-preset-max" onclick={link.callback(|_| Msg::Preset(PoolKind::Max))}>
                        {"Course: max pooling of the 4×4 grid"}</button>
                    <button data-testid="pool-preset-average" onclick={link.callback(|_| Msg::Preset(PoolKind::Average))}>
                        {"Course: average pooling of the 4×4 grid"}</button>
                    <button data-testid="pool-random" onclick={link.callback(|_| Msg::Random)}>{"Random numbers"}</button>
                </div>
                <div class="conv-controls">
                    {kind}
                    {menu("pool-size", "Window size", &SIZES, p.size, Msg::Size)}
                    {menu("pool-stride", "Stride", &STRIDES, p.stride, Msg::Stride)}
                </div>
                <p class="conv-formula" data-testid="pool-formula">{p.formula()}</p>
                { match &self.result {
                    Err(why) => html! { <p class="conv-error" data-testid="pool-error">{why}</p> },
                    Ok(_) => html! {},
                } }
                {stepper("pool", self.player.is_some(), (self.shown, self.total()),
                    self.current().map(|cell| format!("output cell ({}, {}) = {}", cell.row, cell.col, number(cell.value))),
                    link.callback(Msg::Animate))}
                <div class="conv-stage">
                    <div class="conv-column"><h3>{"Input"}</h3>{self.input_grid(ctx)}</div>
                    <div class="conv-column"><h3>{"Output"}</h3>{self.output_grid()}</div>
                    if backward {
                        <div class="conv-column"><h3>{"dL/dInput"}</h3>{self.input_gradient()}</div>
                    }
                </div>
                { if backward { self.routing() } else { self.working() } }
            </section>
        }
    }
}

impl Pooling {
    fn input_grid(&self, ctx: &Context<Self>) -> Html {
        let n = self.problem.side;
        let current = self.current();
        let rows = (0..n).map(|r| {
            let cells = (0..n).map(|c| {
                let inside = current.is_some_and(|cell| cell.window.iter().any(|&(wr, wc, _)| (wr, wc) == (r, c)));
                let max = current.is_some_and(|cell| cell.max_at == Some((r, c)));
                let class = classes!("conv-cell", inside.then_some("in-window"), max.then_some("max-cell"));
                let edit = ctx.link().callback(move |t| Msg::Value(r, c, t));
                html! { <td {class}>{number_input(format!("pool-input-{r}-{c}"),
                    format!("Input row {}, column {}", r + 1, c + 1), self.problem.input[r * n + c], edit)}</td> }
            });
            html! { <tr>{ for cells }</tr> }
        });
        html! { <table class="conv-grid" role="presentation">{ for rows }</table> }
    }

    fn output_grid(&self) -> Html {
        let Ok(result) = &self.result else {
            return html! { <p class="conv-none" data-testid="pool-output">{"No output: see the reason above."}</p> };
        };
        let side = result.out_side;
        let rows = (0..side).map(|r| {
            let cells = (0..side).map(|c| {
                let index = r * side + c;
                let current = index + 1 == self.shown;
                let text = (index < self.shown).then(|| number(result.cells[index].value));
                html! { <td class={classes!("conv-cell", "out", current.then_some("in-window"))}
                data-testid={format!("pool-out-{r}-{c}")}>{text.unwrap_or_default()}</td> }
            });
            html! { <tr>{row_heading(r)}{ for cells }</tr> }
        });
        html! { <table class="conv-grid" data-testid="pool-output">{column_headings(side)}{ for rows }</table> }
    }

    /// dL/dout, all ones: one per output cell.
    fn upstream(&self) -> Vec<f32> {
        vec![1.0; self.total()]
    }

    /// dL/dInput summed up to the current window; the cells it just received marked.
    fn input_gradient(&self) -> Html {
        let Ok(result) = &self.result else {
            return html! {};
        };
        let n = self.problem.side;
        let upstream = self.upstream();
        let grad = accumulate_pool(&self.problem, &result.cells, &upstream, self.shown);
        let received: Vec<(usize, usize)> = self
            .current()
            .map(|cell| {
                routed(self.problem.kind, cell, 1.0)
                    .iter()
                    .map(|&(r, c, _)| (r, c))
                    .collect()
            })
            .unwrap_or_default();
        let rows = (0..n).map(|r| {
            let cells = (0..n).map(|c| {
                let got = received.contains(&(r, c));
                html! { <td class={classes!("conv-cell", "grad", got.then_some("touched"))}
                data-testid={format!("pool-dx-{r}-{c}")}>{number(grad[r * n + c])}</td> }
            });
            html! { <tr>{row_heading(r)}{ for cells }</tr> }
        });
        html! { <table class="conv-grid" data-testid="pool-grad-input">{column_headings(n)}{ for rows }</table> }
    }

    /// Where the current window's dL/dout goes, and at the end the engine's check.
    fn routing(&self) -> Html {
        let Some(cell) = self.current() else {
            return html! { <div class="conv-products" data-testid="pool-grad-working">
            {"Press Step: each output cell sends its dL/dout = 1 back into its window."}</div> };
        };
        let at = format!("Output cell ({}, {}), dL/dout = 1: ", cell.row, cell.col);
        let shares = routed(self.problem.kind, cell, 1.0);
        let text = match self.problem.kind {
            PoolKind::Max => {
                let (r, c, g) = shares[0];
                format!(
                    "{at}all of it, {}, goes to the max at ({r}, {c}); the rest of the window gets 0.",
                    number(g)
                )
            }
            PoolKind::Average => {
                let cells: Vec<String> = shares
                    .iter()
                    .map(|&(r, c, _)| format!("({r}, {c})"))
                    .collect();
                format!(
                    "{at}split evenly, 1/{} = {} to each of {}.",
                    shares.len(),
                    number(shares[0].2),
                    cells.join(", ")
                )
            }
        };
        let check = match &self.result {
            Ok(result) if self.shown == self.total() => {
                let upstream = self.upstream();
                let totals = accumulate_pool(&self.problem, &result.cells, &upstream, self.shown);
                let same = self.problem.input_gradient(&upstream).is_ok_and(|engine| {
                    totals
                        .iter()
                        .zip(&engine)
                        .all(|(a, b)| (a - b).abs() <= 1e-4)
                });
                let text = if same {
                    " All windows done: this is the engine's dL/dInput from its tape backward."
                } else {
                    " All windows done, but the total differs from the engine's dL/dInput."
                };
                html! { <span data-testid="pool-grad-check">{text}</span> }
            }
            _ => html! {},
        };
        html! { <div class="conv-products" data-testid="pool-grad-working">{text}{check}</div> }
    }

    /// `max(4, 3, 2, 4) = 4` or `(4 + 3 + 2 + 4)/4 = 3.25` for the current window.
    fn working(&self) -> Html {
        let text = match self.current() {
            None => "Press Step to place the window on the first cells.".to_string(),
            Some(cell) => {
                let values: Vec<String> = cell.window.iter().map(|&(_, _, v)| number(v)).collect();
                let at = format!("Output cell ({}, {}): ", cell.row, cell.col);
                match self.problem.kind {
                    PoolKind::Max => {
                        format!("{at}max({}) = {}", values.join(", "), number(cell.value))
                    }
                    PoolKind::Average => format!(
                        "{at}({})/{} = {}",
                        values.join(" + "),
                        values.len(),
                        number(cell.value)
                    ),
                }
            }
        };
        html! { <div class="conv-products" data-testid="pool-working">{text}</div> }
    }
}

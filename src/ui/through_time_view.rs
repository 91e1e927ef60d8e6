//! Backpropagation through time on the Backprop page: the course-sized recurrent network (2
//! units, a bit a step, counting the ones) unrolled over the typed bits, and one training
//! iteration walked step by step: forward through time, the loss, backward from the last step
//! to the first, then the update, each step's formula with the engine's numbers, and its place
//! lit on the unrolled diagram. Buttons, the phase jumps, or the arrow keys (Home and End) on
//! the walk move through it.

use crate::playground::backprop::Phase;
use crate::playground::backprop::number;
use crate::playground::backprop::through_time::{TimeTrace, gate_names};
use crate::playground::backprop::time_steps::{CELLS, MOST_UNITS, TimeStep, example, time_steps};
use crate::playground::sequences::parse_bits;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Most bits the walk unrolls over.
const LONGEST: usize = 8;

fn phase_class(phase: Phase) -> &'static str {
    match phase {
        Phase::Forward => "forward",
        Phase::Loss => "loss",
        Phase::Backward => "backward",
        Phase::Update => "update",
    }
}

/// The unrolled network: a column per time step (its input, gates, cell state, state, and
/// its ∂L/∂h once the backward pass has reached it), then the output and the loss; the
/// current step's box lit.
fn diagram(trace: &TimeTrace, step: &TimeStep) -> Html {
    // The time steps whose ∂L/∂h_t the walk has worked out so far.
    let reached = |t: usize| match step.phase {
        Phase::Forward | Phase::Loss => false,
        Phase::Backward => step.time.is_some_and(|now| t >= now),
        Phase::Update => true,
    };
    let lit = |time: Option<usize>, part: &str| {
        let here = step.time == time && (step.part == part || (step.part == "W" && time.is_some()));
        here.then_some("lit")
    };
    let values = |values: &[f32]| {
        values
            .iter()
            .map(|&v| number(v))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut rows: Vec<&'static str> = vec!["x"];
    rows.extend(gate_names(trace.cell).iter().filter(|&&g| g != "h"));
    if trace.cell.key() == "lstm" {
        rows.push("C");
    }
    rows.push("h");
    let columns = trace.forward.len();
    html! {
        <div class="bptt-diagram" role="group" aria-label="the network unrolled in time" tabindex="0">
            <div class="bptt-grid" style={format!("grid-template-columns: 3em repeat({columns}, minmax(5.5em, 1fr)) minmax(6em, 1fr)")}>
                <span></span>
                { for (0..columns).map(|t| html! {
                    <span class={classes!("bptt-time", lit(Some(t), "W"))}>{format!("t = {}", t + 1)}</span>
                }) }
                <span class="bptt-time">{"output"}</span>
                { for rows.iter().map(|&row| html! {
                    <>
                        <span class="row-name">{row}</span>
                        { for trace.forward.iter().enumerate().map(|(t, now)| {
                            let shown = match row {
                                "x" => Some(values(&now.input)),
                                _ => now.values(row).map(values),
                            };
                            let gradient = (reached(t) && row == "h")
                                .then(|| trace.backward.get(t).map(|b| values(&b.state)))
                                .flatten();
                            html! {
                                <span class={classes!("bptt-box", lit(Some(t), row), shown.is_none().then_some("empty"))}
                                    data-testid={format!("bptt-{row}-{t}")}>
                                    {shown.unwrap_or_else(|| "–".to_string())}
                                    if let Some(gradient) = gradient {
                                        <span class="bptt-gradient">{format!("∂L/∂h: {gradient}")}</span>
                                    }
                                </span>
                            }
                        }) }
                        if row == "h" {
                            <span class={classes!("bptt-box", "bptt-output", lit(None, "y"), lit(None, "L"))} data-testid="bptt-output">
                                {format!("y = {}; L = {}", values(&trace.logits), number(trace.loss))}
                            </span>
                        } else {
                            <span></span>
                        }
                    </>
                }) }
            </div>
        </div>
    }
}

#[component]
pub fn ThroughTimeView() -> Html {
    let cell = use_state(|| "rnn".to_string());
    let bits = use_state(|| "1 0 1".to_string());
    let units = use_state(|| 2usize);
    let current = use_state(|| 0usize);
    let trace = use_memo(
        ((*cell).clone(), *units, (*bits).clone()),
        |(cell, units, bits)| {
            parse_bits(bits, 1..=LONGEST)
                .and_then(|bits| example(cell, *units, &bits).map_err(|e| e.to_string()))
        },
    );
    let steps = use_memo(trace.clone(), |trace| match trace.as_ref() {
        Ok(trace) => time_steps(trace),
        Err(_) => Vec::new(),
    });
    let last = steps.len().saturating_sub(1);
    let index = (*current).min(last);
    let go = |target: usize| {
        let current = current.clone();
        Callback::from(move |_: MouseEvent| current.set(target))
    };
    let onkeydown = {
        let current = current.clone();
        Callback::from(move |event: KeyboardEvent| {
            let next = match event.key().as_str() {
                "ArrowRight" | "ArrowDown" => (index + 1).min(last),
                "ArrowLeft" | "ArrowUp" => index.saturating_sub(1),
                "Home" => 0,
                "End" => last,
                _ => return,
            };
            // The dense stepper above listens to the arrow keys on the whole page.
            event.stop_propagation();
            event.prevent_default();
            current.set(next);
        })
    };
    let on_cell = {
        let (cell, current) = (cell.clone(), current.clone());
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            cell.set(select.value());
            current.set(0);
        })
    };
    let on_bits = {
        let (bits, current) = (bits.clone(), current.clone());
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            bits.set(input.value());
            current.set(0);
        })
    };
    let on_units = {
        let (units, current) = (units.clone(), current.clone());
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Ok(value) = input.value().trim().parse::<usize>() {
                units.set(value.clamp(1, MOST_UNITS));
                current.set(0);
            }
        })
    };
    let weights_hint = match *units {
        2 => {
            "its weights are round numbers (an RNN's: W = [[0.5, −0.3], [0.2, 0.4], [1, 0.5]] for the rows h₁, h₂, x; b = [0, 0.1]; V = [1, 0.5]; c = 0) so that every step can be checked by hand"
        }
        _ => {
            "its weights are the engine's initial ones (2 units have round ones, to check by hand)"
        }
    };
    let jumps = Phase::ALL.into_iter().filter_map(|phase| {
        let first = steps.iter().position(|step| step.phase == phase)?;
        let here = steps.get(index).is_some_and(|s| s.phase == phase);
        Some(html! {
            <button class={classes!("phase", here.then_some("current"))}
                data-testid={format!("bptt-jump-{}", phase.title().to_lowercase())} onclick={go(first)}>{phase.title()}</button>
        })
    });
    let body = match (trace.as_ref(), steps.get(index)) {
        (Ok(trace), Some(step)) => html! {
            <>
                {diagram(trace, step)}
                <div class={classes!("step-card", phase_class(step.phase))} data-testid="bptt-step-card">
                    <div class="step-phase">{step.phase.title()}</div>
                    <h3 data-testid="bptt-step-title" aria-live="polite">{&step.title}</h3>
                    <div class="formula">{&step.formula}</div>
                    <div class="equations" data-testid="bptt-step-equations">
                        { for step.substituted.iter().map(|line| html! { <div>{line}</div> }) }
                    </div>
                </div>
            </>
        },
        (Err(reason), _) => {
            html! { <p class="hint" role="status" data-testid="bptt-error">{reason.clone()}</p> }
        }
        _ => Html::default(),
    };
    html! {
        <section class="card bptt" aria-labelledby="bptt-title" data-testid="bptt">
            <h3 id="bptt-title">{"Backpropagation through time"}</h3>
            <p class="hint" data-testid="bptt-hint">{format!(
                "A recurrent network of {} units reads one bit a step and is trained to count the ones (half the squared error, learning rate 0.1); {weights_hint}. Every number is the engine's.",
                *units
            )}</p>
            <div class="backprop-bar">
                <label class="row">{"cell"}
                    <select onchange={on_cell} data-testid="bptt-cell">
                        { for CELLS.iter().map(|&(key, title)| html! {
                            <option value={key} selected={*cell == key}>{title}</option>
                        }) }
                    </select>
                </label>
                <label class="row">{format!("units (1 to {MOST_UNITS})")}
                    <input type="number" min="1" max={MOST_UNITS.to_string()} value={units.to_string()}
                        onchange={on_units} data-testid="bptt-units" />
                </label>
                <label class="row">{format!("bits (1 to {LONGEST})")}
                    <input type="text" value={(*bits).clone()} oninput={on_bits} data-testid="bptt-bits"
                        spellcheck="false" autocomplete="off" inputmode="numeric" />
                </label>
            </div>
            <div class="bptt-walk" tabindex="0" {onkeydown} data-testid="bptt-walk"
                aria-label="the walk through one iteration: arrow keys move, Home and End jump">
                <div class="backprop-bar">
                    <div class="phases">{ for jumps }</div>
                    <div class="step-buttons">
                        <button data-testid="bptt-previous" onclick={go(index.saturating_sub(1))} disabled={index == 0}>{"← Previous"}</button>
                        <button data-testid="bptt-next" onclick={go((index + 1).min(last))} disabled={index >= last}>{"Next →"}</button>
                        <span data-testid="bptt-index">{format!("Step {} of {}", index + 1, steps.len())}</span>
                    </div>
                </div>
                {body}
            </div>
        </section>
    }
}

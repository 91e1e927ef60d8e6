//! The task and the network of the Sequences page: which task, how long the sequences (all
//! alike, or varying from a shortest length), which
//! cell, how many values of state and how many layers, how many sequences; and how
//! backpropagation goes through time (gradient clipping, truncation).

use crate::data::sequences::SequenceTask;
use crate::engine::{Described, LayerConfig};
use crate::playground::sequences::SequenceSettings;
use crate::playground::sequences::settings::{MAX_HIDDEN, MAX_LAYERS, MAX_PAGE_LENGTH, page_tasks};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SetupCardProps {
    pub settings: SequenceSettings,
    /// While a run exists the set-up cannot change (Reset first).
    pub locked: bool,
    pub on_change: Callback<SequenceSettings>,
}

#[component]
pub fn SetupCard(props: &SetupCardProps) -> Html {
    let settings = &props.settings;
    let locked = props.locked;
    let number = |label: &'static str,
                  id: &'static str,
                  value: usize,
                  (min, max): (usize, usize),
                  apply: fn(&mut SequenceSettings, usize)| {
        let (on_change, settings) = (props.on_change.clone(), settings.clone());
        let onchange = Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Ok(value) = input.value().trim().parse::<usize>() {
                let mut settings = settings.clone();
                apply(&mut settings, value.clamp(min, max));
                on_change.emit(settings);
            }
        });
        html! {
            <label class="row">{label}
                <input type="number" value={value.to_string()} min={min.to_string()} max={max.to_string()}
                    disabled={locked} {onchange} data-testid={id} />
            </label>
        }
    };
    let on_task = {
        let (on_change, settings) = (props.on_change.clone(), settings.clone());
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            if let Some(task) = SequenceTask::from_key(&select.value()) {
                on_change.emit(SequenceSettings {
                    task,
                    ..settings.clone()
                });
            }
        })
    };
    let on_cell = {
        let (on_change, settings) = (props.on_change.clone(), settings.clone());
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            on_change.emit(SequenceSettings {
                cell: select.value(),
                ..settings.clone()
            });
        })
    };
    // An optional number: empty (or not a number in range) is off.
    let optional = |label: &'static str,
                    id: &'static str,
                    value: Option<String>,
                    (min, step): (&'static str, &'static str),
                    apply: fn(&mut SequenceSettings, &str)| {
        let (on_change, settings) = (props.on_change.clone(), settings.clone());
        let onchange = Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            let mut settings = settings.clone();
            apply(&mut settings, input.value().trim());
            on_change.emit(settings);
        });
        html! {
            <label class="row">{label}
                <input type="number" value={value.unwrap_or_default()} placeholder="off" {min} {step}
                    disabled={locked} {onchange} data-testid={id} />
            </label>
        }
    };
    let shortest = settings.shortest.map(|steps| steps.to_string());
    let clip = settings.clip_norm.map(|clip| clip.to_string());
    let truncation = settings.truncation.map(|steps| steps.to_string());
    let parameters = settings.model().parameter_count().unwrap_or(0);
    html! {
        <section class="card sequences-setup" aria-labelledby="sequences-setup-title">
            <h3 id="sequences-setup-title">{"Task and network"}</h3>
            <label class="row">{"task"}
                <select onchange={on_task} disabled={locked} data-testid="seq-task">
                    { for page_tasks().map(|task| html! {
                        <option value={task.key()} selected={task == settings.task}>{task.title()}</option>
                    }) }
                </select>
            </label>
            <p class="hint">{settings.task.describe().formula}</p>
            {number("sequence length", "seq-length", settings.length, (2, MAX_PAGE_LENGTH), |s, v| {
                s.length = v;
                s.shortest = s.shortest.map(|shortest| shortest.min(v));
            })}
            {optional("shortest (lengths vary)", "seq-shortest", shortest, ("1", "1"), |s, text| {
                s.shortest = text.parse::<usize>().ok().filter(|steps| (1..=s.length).contains(steps));
            })}
            <p class="hint" data-testid="seq-lengths-hint">{match settings.shortest {
                None => "Every sequence has the full length (type a shortest length to vary them).".to_string(),
                Some(shortest) => format!(
                    "Sequences of {shortest} to {} steps: the shorter ones are padded at the end, each step flagged as there or padding, and every cell carries its state over the padding unchanged.",
                    settings.length
                ),
            }}</p>
            <label class="row">{"cell"}
                <select onchange={on_cell} disabled={locked} data-testid="seq-cell">
                    { for LayerConfig::keys(true).into_iter().map(|key| html! {
                        <option value={key} selected={key == settings.cell}>{LayerConfig::title_of_kind(key).unwrap_or(key)}</option>
                    }) }
                </select>
            </label>
            {number("hidden values", "seq-hidden", settings.hidden, (1, MAX_HIDDEN), |s, v| s.hidden = v)}
            {number("layers", "seq-layers", settings.layers, (1, MAX_LAYERS), |s, v| s.layers = v)}
            {number("sequences", "seq-count", settings.count, (20, 20_000), |s, v| s.count = v)}
            <p class="hint" data-testid="seq-parameters">{format!(
                "{parameters} parameters; a tenth of the sequences is held out for testing."
            )}</p>
            <fieldset class="through-time">
                <legend>{"Backpropagation through time"}</legend>
                {optional("clip gradient norm to", "seq-clip", clip, ("0.001", "0.1"), |s, text| {
                    s.clip_norm = text.parse::<f32>().ok().filter(|v| v.is_finite() && *v > 0.0);
                })}
                {optional("only the last … steps", "seq-truncation", truncation, ("1", "1"), |s, text| {
                    s.truncation = text.parse::<usize>().ok().filter(|&steps| steps >= 1);
                })}
                <p class="hint">{"Clipping scales all gradients down together when their norm is larger (empty: off). Truncation lets the loss's gradient flow back only through the last steps (empty: all of them); watch the gradients below."}</p>
            </fieldset>
        </section>
    }
}

//! The task and the network of the Seq2seq page: which translation, how long the inputs, the
//! encoder's and decoder's cell and size, the embeddings, attention and teacher forcing.

use crate::data::translation::TranslationTask;
use crate::engine::{Attention, Described, Seq2Seq};
use crate::playground::sequences::seq2seq_settings::{
    COUNTS, MAX_HIDDEN, MAX_PAGE_LENGTH, Seq2SeqSettings,
};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SetupCardProps {
    pub settings: Seq2SeqSettings,
    /// While a run exists the set-up cannot change (Reset first).
    pub locked: bool,
    pub on_change: Callback<Seq2SeqSettings>,
}

/// A typed count, brought within `(min, max)`; `None` if it is not a number.
fn clamped(text: &str, (min, max): (usize, usize)) -> Option<usize> {
    text.parse::<usize>().ok().map(|v| v.clamp(min, max))
}

#[component]
pub fn SetupCard(props: &SetupCardProps) -> Html {
    let settings = &props.settings;
    let locked = props.locked;
    // A change to the settings from a control's text.
    let changer = |apply: fn(&mut Seq2SeqSettings, &str)| {
        let (on_change, settings) = (props.on_change.clone(), settings.clone());
        move |text: String| {
            let mut settings = settings.clone();
            apply(&mut settings, text.trim());
            on_change.emit(settings);
        }
    };
    let number = |label: &'static str,
                  id: &'static str,
                  value: usize,
                  (min, max): (usize, usize),
                  apply: fn(&mut Seq2SeqSettings, &str)| {
        let change = changer(apply);
        let onchange = Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            change(input.value());
        });
        html! {
            <label class="row">{label}
                <input type="number" value={value.to_string()} min={min.to_string()} max={max.to_string()}
                    disabled={locked} {onchange} data-testid={id} />
            </label>
        }
    };
    let select = |label: &'static str,
                  id: &'static str,
                  options: Vec<(&'static str, &'static str, bool)>,
                  apply: fn(&mut Seq2SeqSettings, &str)| {
        let change = changer(apply);
        let onchange = Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            change(select.value());
        });
        html! {
            <label class="row">{label}
                <select {onchange} disabled={locked} data-testid={id}>
                    { for options.into_iter().map(|(key, title, selected)| html! {
                        <option value={key} {selected}>{title}</option>
                    }) }
                </select>
            </label>
        }
    };
    let tasks = TranslationTask::every()
        .iter()
        .map(|&task| (task.key(), task.title(), task == settings.task))
        .collect();
    let cells = Seq2Seq::CELLS
        .iter()
        .map(|&cell| {
            let title = match cell.key() {
                "lstm" => "LSTM",
                "gru" => "GRU",
                _ => "RNN (tanh)",
            };
            (cell.key(), title, cell == settings.cell)
        })
        .collect();
    let attentions = Attention::every()
        .iter()
        .map(|&attention| {
            (
                attention.key(),
                attention.title(),
                attention == settings.attention,
            )
        })
        .collect();
    let on_forcing = {
        let (on_change, settings) = (props.on_change.clone(), settings.clone());
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            on_change.emit(Seq2SeqSettings {
                teacher_forcing: input.checked(),
                ..settings.clone()
            });
        })
    };
    let parameters = settings.model().parameter_count().unwrap_or(0);
    html! {
        <section class="card sequences-setup" aria-labelledby="s2s-setup-title">
            <h3 id="s2s-setup-title">{"Task and network"}</h3>
            {select("task", "s2s-task", tasks, |s, key| {
                if let Some(task) = TranslationTask::from_key(key) {
                    s.task = task;
                }
            })}
            <p class="hint">{settings.task.describe().formula}</p>
            {number("shortest input", "s2s-shortest", settings.shortest, (1, MAX_PAGE_LENGTH), |s, text| {
                if let Some(v) = clamped(text, (1, MAX_PAGE_LENGTH)) {
                    s.shortest = v;
                    s.longest = s.longest.max(v);
                }
            })}
            {number("longest input", "s2s-longest", settings.longest, (1, MAX_PAGE_LENGTH), |s, text| {
                if let Some(v) = clamped(text, (1, MAX_PAGE_LENGTH)) {
                    s.longest = v;
                    s.shortest = s.shortest.min(v);
                }
            })}
            {select("cell", "s2s-cell", cells, |s, key| {
                if let Some(cell) = crate::engine::Cell::from_key(key) {
                    s.cell = cell;
                }
            })}
            {number("hidden values", "s2s-hidden", settings.hidden, (1, MAX_HIDDEN), |s, text| {
                s.hidden = clamped(text, (1, MAX_HIDDEN)).unwrap_or(s.hidden);
            })}
            {number("embedding values", "s2s-embedding", settings.embedding, (1, MAX_HIDDEN), |s, text| {
                s.embedding = clamped(text, (1, MAX_HIDDEN)).unwrap_or(s.embedding);
            })}
            {select("attention", "s2s-attention", attentions, |s, key| {
                if let Some(attention) = Attention::from_key(key) {
                    s.attention = attention;
                }
            })}
            <p class="hint">{settings.attention.describe().formula}</p>
            <label class="row">
                <input type="checkbox" checked={settings.teacher_forcing} disabled={locked}
                    onchange={on_forcing} data-testid="s2s-forcing" />
                {"teacher forcing while training"}
            </label>
            <p class="hint">{match settings.teacher_forcing {
                true => "Training feeds the decoder the right previous token; testing always feeds it its own.",
                false => "The decoder reads back its own previous token while training too.",
            }}</p>
            {number("examples", "s2s-count", settings.count, COUNTS, |s, text| {
                s.count = clamped(text, COUNTS).unwrap_or(s.count);
            })}
            <p class="hint" data-testid="s2s-parameters">{format!(
                "{parameters} parameters; a tenth of the examples is held out for testing."
            )}</p>
        </section>
    }
}

//! The network unrolled in time for one sequence: a column per time step with its input, and
//! for every recurrent layer its state (an LSTM's cell state too) and gates as strips of
//! coloured cells, one per value, each carrying its number (hover, or a screen reader reads it);
//! then the prediction (at every step, for a network that answers at each). The strips are one
//! tab stop: the arrow keys move between them (left and right in time, up and down the rows),
//! Home and End to the first and last step, Enter or Space opens the equation.

use crate::playground::colors;
use crate::playground::sequences::{StepValues, Unrolled};
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct UnrolledViewProps {
    pub unrolled: Unrolled,
    /// What the page calls each class (e.g. "2 ones").
    pub class_names: Vec<String>,
    /// The network answers with a value (the sine's next one), not a class.
    #[prop_or_default]
    pub regression: bool,
}

/// Which strip is open: layer, step, name.
type Selected = (usize, usize, &'static str);

/// One strip: the values of `name` at step `t`, a cell per value; a button that opens its
/// equation with the numbers.
fn strip(
    name: &'static str,
    (layer, t): (usize, usize),
    values: &[f32],
    (selected, current): (bool, bool),
    (on_select, on_focus): (&Callback<Selected>, &Callback<Selected>),
) -> Html {
    let numbers: Vec<String> = values.iter().map(|v| format!("{v:.2}")).collect();
    let label = format!("{name} at step {}: {}", t + 1, numbers.join(", "));
    let onclick = on_select.reform(move |_| (layer, t, name));
    let onfocus = on_focus.reform(move |_| (layer, t, name));
    html! {
        <button class={classes!("strip", selected.then_some("selected"))} aria-label={label.clone()} title={label}
            aria-pressed={selected.to_string()} {onclick} {onfocus} tabindex={if current { "0" } else { "-1" }}
            data-testid={format!("strip-{layer}-{t}-{name}")}>
            { for values.iter().map(|&v| html! {
                <span class="value" style={format!("background:{}", colors::css(v))}></span>
            }) }
        </button>
    }
}

/// The course's equation of `name` at step `t` of `layer`, and the same with every unit's
/// numbers substituted (all of them the engine's values).
fn equation(layer: &[StepValues], t: usize, name: &str) -> (String, Vec<String>) {
    let step = &layer[t];
    let previous = t.checked_sub(1).map(|p| &layer[p]);
    let lstm = step.cell.is_some();
    let gru = step.values("z").is_some();
    let n = |v: f32| format!("{v:.3}");
    let value = |name: &str, j: usize| step.values(name).map_or(0.0, |v| v[j]);
    let before = |name: &str, j: usize| previous.and_then(|p| p.values(name)).map_or(0.0, |v| v[j]);
    let units = step.values(name).map_or(0, <[f32]>::len);
    let per_unit = |line: &dyn Fn(usize) -> String| {
        (0..units)
            .map(|j| format!("unit {}: {}", j + 1, line(j)))
            .collect()
    };
    let input = if name == "h~" {
        "[r·h_{t-1}, x_t]"
    } else {
        "[h_{t-1}, x_t]"
    };
    if let Some(sums) = step.sum(name) {
        let squash = if matches!(name, "C~" | "h~" | "h") {
            "tanh"
        } else {
            "σ"
        };
        let general = format!("{name}_t = {squash}(s), s = {input} · W + b");
        let lines = per_unit(&|j| format!("{squash}({}) = {}", n(sums[j]), n(value(name, j))));
        return (general, lines);
    }
    match (name, lstm, gru) {
        ("C", true, _) if previous.is_some() => (
            "C_t = f · C_{t-1} + i · C~".to_string(),
            per_unit(&|j| {
                format!(
                    "{} · {} + {} · {} = {}",
                    n(value("f", j)),
                    n(before("C", j)),
                    n(value("i", j)),
                    n(value("C~", j)),
                    n(value("C", j))
                )
            }),
        ),
        ("C", true, _) => (
            "C_1 = i · C~ (C_0 = 0)".to_string(),
            per_unit(&|j| {
                format!(
                    "{} · {} = {}",
                    n(value("i", j)),
                    n(value("C~", j)),
                    n(value("C", j))
                )
            }),
        ),
        ("h", true, _) => (
            "h_t = o · tanh(C_t)".to_string(),
            per_unit(&|j| {
                format!(
                    "{} · tanh({}) = {}",
                    n(value("o", j)),
                    n(value("C", j)),
                    n(value("h", j))
                )
            }),
        ),
        ("h", _, true) if previous.is_some() => (
            "h_t = (1 − z) · h_{t-1} + z · h~".to_string(),
            per_unit(&|j| {
                format!(
                    "(1 − {}) · {} + {} · {} = {}",
                    n(value("z", j)),
                    n(before("h", j)),
                    n(value("z", j)),
                    n(value("h~", j)),
                    n(value("h", j))
                )
            }),
        ),
        ("h", _, true) => (
            "h_1 = z · h~ (h_0 = 0)".to_string(),
            per_unit(&|j| {
                format!(
                    "{} · {} = {}",
                    n(value("z", j)),
                    n(value("h~", j)),
                    n(value("h", j))
                )
            }),
        ),
        _ => (format!("{name}_t"), per_unit(&|j| n(value(name, j)))),
    }
}

/// The rows a layer shows, in the course's order: the gates, the cell state, the state.
fn row_names(steps: &[StepValues]) -> Vec<&'static str> {
    // The last step has every gate (the first lacks those with nothing to act on yet).
    let mut names: Vec<&'static str> = steps
        .last()
        .map(|step| step.gates.iter().map(|(name, _)| *name).collect())
        .unwrap_or_default();
    if steps.iter().any(|step| step.cell.is_some()) {
        names.push("C");
    }
    names.push("h");
    names
}

/// The strip the arrow key `key` moves to from `from`, if there is one: `rows` are every
/// layer's row names, top to bottom; a step without that row (a gate with nothing to act on at
/// the first step) is skipped.
fn moved(
    unrolled: &Unrolled,
    rows: &[(usize, &'static str)],
    from: Selected,
    key: &str,
) -> Option<Selected> {
    let (layer, t, name) = from;
    let steps = unrolled.layers.first()?.len();
    let exists = |(layer, t, name): Selected| {
        unrolled
            .layers
            .get(layer)
            .and_then(|steps| steps.get(t))
            .is_some_and(|step| step.values(name).is_some())
    };
    let row = rows.iter().position(|&r| r == (layer, name))?;
    let along = |t: usize, step: isize| -> Option<Selected> {
        let mut t = t as isize + step;
        while (0..steps as isize).contains(&t) {
            if exists((layer, t as usize, name)) {
                return Some((layer, t as usize, name));
            }
            t += step;
        }
        None
    };
    let across = |step: isize| -> Option<Selected> {
        let mut r = row as isize + step;
        while (0..rows.len() as isize).contains(&r) {
            let (layer, name) = rows[r as usize];
            if exists((layer, t, name)) {
                return Some((layer, t, name));
            }
            r += step;
        }
        None
    };
    match key {
        "ArrowLeft" => along(t, -1),
        "ArrowRight" => along(t, 1),
        "ArrowUp" => across(-1),
        "ArrowDown" => across(1),
        "Home" => match exists((layer, 0, name)) {
            true => Some((layer, 0, name)),
            false => along(0, 1),
        },
        "End" => match exists((layer, steps - 1, name)) {
            true => Some((layer, steps - 1, name)),
            false => along(steps - 1, -1),
        },
        _ => None,
    }
}

/// What the rows' names stand for.
fn legend(names: &[&str]) -> String {
    let meaning = |name: &str| match name {
        "f" => "f forget gate",
        "i" => "i input gate",
        "o" => "o output gate",
        "C~" => "C~ candidate",
        "C" => "C cell state",
        "z" => "z update gate",
        "r" => "r reset gate",
        "h~" => "h~ candidate",
        _ => "h state",
    };
    let mut parts: Vec<&str> = names.iter().map(|name| meaning(name)).collect();
    parts.insert(0, "x input");
    parts.join(" · ")
}

#[component]
pub fn UnrolledView(props: &UnrolledViewProps) -> Html {
    let unrolled = &props.unrolled;
    let selected = use_state(|| None::<Selected>);
    // The one strip Tab reaches (its state "h" at the first step until another takes focus).
    let current = use_state(|| (0usize, 0usize, "h"));
    let on_focus = {
        let current = current.clone();
        Callback::from(move |strip: Selected| current.set(strip))
    };
    let rows: Vec<(usize, &'static str)> = unrolled
        .layers
        .iter()
        .enumerate()
        .flat_map(|(index, layer)| row_names(layer).into_iter().map(move |name| (index, name)))
        .collect();
    let onkeydown = {
        let (current, unrolled, rows) = (current.clone(), unrolled.clone(), rows.clone());
        Callback::from(move |event: KeyboardEvent| {
            if let Some(next) = moved(&unrolled, &rows, *current, &event.key()) {
                event.prevent_default();
                current.set(next);
                let (layer, t, name) = next;
                let found = gloo::utils::document()
                    .query_selector(&format!("[data-testid=\"strip-{layer}-{t}-{name}\"]"))
                    .ok()
                    .flatten()
                    .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
                if let Some(element) = found {
                    let _ = element.focus();
                }
            }
        })
    };
    let on_select = {
        let selected = selected.clone();
        Callback::from(move |chosen: Selected| {
            let again = *selected == Some(chosen);
            selected.set((!again).then_some(chosen));
        })
    };
    let Some(first) = unrolled.layers.first() else {
        return html! {};
    };
    let steps = first.len();
    let columns = format!("grid-template-columns: 3.5em repeat({steps}, minmax(1.4em, 1fr))");
    let header = html! {
        <>
            <span class="row-name">{"t"}</span>
            { for (0..steps).map(|t| html! { <span class="step-number">{t + 1}</span> }) }
            <span class="row-name">{"x"}</span>
            { for first.iter().map(|step| {
                // Bits as they are, a sine's values to two decimals.
                let show = |v: &f32| if v.fract() == 0.0 { format!("{v}") } else { format!("{v:.2}") };
                let text = step.input.iter().map(show).collect::<Vec<_>>().join(" ");
                html! { <span class="step-input" data-testid="unrolled-input">{text}</span> }
            }) }
        </>
    };
    let layers = unrolled.layers.iter().enumerate().map(|(index, layer)| {
        let rows = row_names(layer).into_iter().map(|name| html! {
            <>
                <span class="row-name">{if unrolled.layers.len() > 1 { format!("{name}{}", index + 1) } else { name.to_string() }}</span>
                { for layer.iter().enumerate().map(|(t, step)| match step.values(name) {
                    Some(values) => strip(
                        name,
                        (index, t),
                        values,
                        (*selected == Some((index, t, name)), *current == (index, t, name)),
                        (&on_select, &on_focus),
                    ),
                    None => html! { <span class="strip empty" title="nothing to act on yet: the state starts at zero"></span> },
                }) }
            </>
        });
        html! { <>{ for rows }</> }
    });
    // One row of probabilities, or one per step for a network that answers at every step.
    let classes = props.class_names.len().max(1);
    let answers: Vec<&[f32]> = unrolled.probabilities.chunks(classes).collect();
    let name = |class: usize| {
        props
            .class_names
            .get(class)
            .cloned()
            .unwrap_or_else(|| class.to_string())
    };
    let answer_row = (answers.len() == steps && steps > 1).then(|| {
        html! {
            <>
                <span class="row-name">{"ŷ"}</span>
                { for answers.iter().enumerate().map(|(t, row)| {
                    let best = crate::engine::trainer::argmax(row);
                    let label = format!("answer at step {}: {} ({:.0}%)", t + 1, name(best), 100.0 * row[best]);
                    html! { <span class="step-input step-answer" title={label.clone()} aria-label={label}
                        data-testid="unrolled-answer">{best}</span> }
                }) }
            </>
        }
    });
    let last = answers.last().copied().unwrap_or(&[]);
    let best = crate::engine::trainer::argmax(last);
    let class = name(best);
    let confidence = last.get(best).copied().unwrap_or(0.0);
    html! {
        <div class="unrolled">
            <div class="unrolled-grid" style={columns} data-testid="unrolled" {onkeydown}>
                {header}
                { for layers }
                { for answer_row }
            </div>
            <p class="hint">{legend(&row_names(first))}{" · select a strip for its equation"}</p>
            {match *selected {
                Some((layer, t, name)) if layer < unrolled.layers.len() && t < unrolled.layers[layer].len() => {
                    let (general, lines) = equation(&unrolled.layers[layer], t, name);
                    html! {
                        <div class="equation" data-testid="equation" aria-live="polite">
                            <p><strong>{format!("step {}: {general}", t + 1)}</strong></p>
                            <ul>{ for lines.into_iter().map(|line| html! { <li>{line}</li> }) }</ul>
                        </div>
                    }
                }
                _ => html! {},
            }}
            <p class="prediction" data-testid="unrolled-prediction" aria-live="polite">
                {match props.regression {
                    true => format!("the next value, predicted after the last step: {:.3}", last.first().copied().unwrap_or(0.0)),
                    false => format!("prediction after the last step: {class} ({:.0}%)", 100.0 * confidence),
                }}
            </p>
        </div>
    }
}

//! The network unrolled in time for one sequence: a column per time step with its input, and
//! for every recurrent layer its state (an LSTM's cell state too) and gates as strips of
//! coloured cells, one per value, each carrying its number (hover, or a screen reader reads it);
//! then the prediction.

use crate::playground::sequences::{StepValues, Unrolled};
use crate::ui::colors;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct UnrolledViewProps {
    pub unrolled: Unrolled,
    /// What the page calls each class (e.g. "2 ones").
    pub class_names: Vec<String>,
}

/// One strip: the values of `name` at step `t`, a cell per value.
fn strip(name: &str, t: usize, values: &[f32]) -> Html {
    let numbers: Vec<String> = values.iter().map(|v| format!("{v:.2}")).collect();
    let label = format!("{name} at step {}: {}", t + 1, numbers.join(", "));
    html! {
        <div class="strip" role="img" aria-label={label.clone()} title={label}>
            { for values.iter().map(|&v| html! {
                <span class="value" style={format!("background:{}", colors::css(v))}></span>
            }) }
        </div>
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

fn value_of<'a>(step: &'a StepValues, name: &str) -> Option<&'a [f32]> {
    match name {
        "h" => Some(&step.state),
        "C" => step.cell.as_deref(),
        gate => step
            .gates
            .iter()
            .find(|(n, _)| *n == gate)
            .map(|(_, values)| values.as_slice()),
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
                let text = step.input.iter().map(|v| format!("{v}")).collect::<Vec<_>>().join(" ");
                html! { <span class="step-input" data-testid="unrolled-input">{text}</span> }
            }) }
        </>
    };
    let layers = unrolled.layers.iter().enumerate().map(|(index, layer)| {
        let rows = row_names(layer).into_iter().map(|name| html! {
            <>
                <span class="row-name">{if unrolled.layers.len() > 1 { format!("{name}{}", index + 1) } else { name.to_string() }}</span>
                { for layer.iter().enumerate().map(|(t, step)| match value_of(step, name) {
                    Some(values) => strip(name, t, values),
                    None => html! { <span class="strip empty" title="nothing to act on yet: the state starts at zero"></span> },
                }) }
            </>
        });
        html! { <>{ for rows }</> }
    });
    let best = crate::engine::trainer::argmax(&unrolled.probabilities);
    let class = props
        .class_names
        .get(best)
        .cloned()
        .unwrap_or_else(|| best.to_string());
    html! {
        <div class="unrolled">
            <div class="unrolled-grid" style={columns} data-testid="unrolled">
                {header}
                { for layers }
            </div>
            <p class="hint">{legend(&row_names(first))}</p>
            <p class="prediction" data-testid="unrolled-prediction" aria-live="polite">
                {format!("prediction after the last step: {class} ({:.0}%)", 100.0 * unrolled.probabilities[best])}
            </p>
        </div>
    }
}

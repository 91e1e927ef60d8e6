//! One input decoded step by step: the encoding (the encoder's last state), the tokens written
//! beside the right answer, and one decoder step at a time: the token it read, its state, the
//! probability of every output token and the one it chose, with the attention matrix's row of
//! that step outlined. The previous and next buttons, or the arrow keys (Home and End to the
//! first and last step) on the steps, walk through it.

use super::attention_matrix::AttentionMatrix;
use crate::data::translation::TranslationTask;
use crate::playground::colors;
use crate::playground::sequences::decoding::{
    Decoding, input_token_name, output_token_name, show_output,
};
use crate::ui::images::probability_bars::ProbabilityBars;
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DecodingViewProps {
    pub decoding: Decoding,
    pub task: TranslationTask,
}

/// A vector as a row of coloured cells, orange below zero and blue above; its numbers in the
/// label (hover, or a screen reader).
pub fn vector_strip(name: &str, values: &[f32], id: &str) -> Html {
    let numbers: Vec<String> = values.iter().map(|v| format!("{v:.2}")).collect();
    let label = format!("{name}: {}", numbers.join(", "));
    html! {
        <div class="vector-strip" role="img" aria-label={label.clone()} title={label} data-testid={id.to_string()}>
            { for values.iter().map(|&v| html! {
                <span class="value" style={format!("background:{}", colors::css(v))}></span>
            }) }
        </div>
    }
}

#[component]
pub fn DecodingView(props: &DecodingViewProps) -> Html {
    let decoding = &props.decoding;
    let task = props.task;
    let steps = decoding.steps.len();
    let current = use_state(|| 0usize);
    let at = (*current).min(steps.saturating_sub(1));
    let toolbar = use_node_ref();
    {
        // Focus follows the current step while it is within the steps (roving focus).
        let toolbar = toolbar.clone();
        use_effect_with(at, move |_| {
            let Some(toolbar) = toolbar.cast::<web_sys::Element>() else {
                return;
            };
            let focused = gloo::utils::document().active_element();
            let inside = focused.is_some_and(|element| toolbar.contains(Some(&element)));
            if let (true, Ok(Some(current))) = (inside, toolbar.query_selector(".token.current"))
                && let Ok(current) = current.dyn_into::<web_sys::HtmlElement>()
            {
                let _ = current.focus();
            }
        });
    }
    let go = {
        let current = current.clone();
        Callback::from(move |step: usize| current.set(step.min(steps.saturating_sub(1))))
    };
    let onkeydown = {
        let go = go.clone();
        Callback::from(move |event: KeyboardEvent| {
            let next = match event.key().as_str() {
                "ArrowRight" | "ArrowDown" => at + 1,
                "ArrowLeft" | "ArrowUp" => at.saturating_sub(1),
                "Home" => 0,
                "End" => steps.saturating_sub(1),
                _ => return,
            };
            event.prevent_default();
            go.emit(next);
        })
    };
    let end = task.output_vocabulary().end();
    let written = decoding.written(end);
    let answer = task.answer(&decoding.input);
    let right = written == answer;
    let inputs: Vec<String> = decoding
        .input
        .iter()
        .map(|&token| input_token_name(task, usize::from(token)))
        .collect();
    let names: Vec<String> = (0..task.output_vocabulary().size())
        .map(|token| output_token_name(task, token))
        .collect();
    let attention_rows: Vec<(String, Vec<f32>)> = decoding
        .steps
        .iter()
        .filter_map(|step| {
            let weights = step.attention.clone()?;
            Some((output_token_name(task, step.chosen), weights))
        })
        .collect();
    let step_detail = decoding.steps.get(at).map(|step| {
        let chosen = output_token_name(task, step.chosen);
        let expected = answer
            .get(at)
            .map_or("end".to_string(), |&token| output_token_name(task, token.into()));
        let verdict = match at <= answer.len() && chosen == expected {
            true => "right".to_string(),
            false => format!("wrong: the answer has {expected} here"),
        };
        let probability = step.probabilities.get(step.chosen).copied().unwrap_or(0.0);
        html! {
            <div class="decoder-step" data-testid="decoder-step">
                <p aria-live="polite" data-testid="decoder-step-text">{format!(
                    "Step {} of {steps} reads “{}”, writes “{chosen}” ({:.0}%): {verdict}.",
                    at + 1, output_token_name(task, step.read), 100.0 * probability
                )}</p>
                <div class="row-name">{format!("state h_{} ({} values)", at + 1, step.state.len())}</div>
                {vector_strip(&format!("decoder state at step {}", at + 1), &step.state, "decoder-state")}
                <ProbabilityBars probabilities={step.probabilities.clone()} names={names.clone()} />
            </div>
        }
    });
    let previous = go.reform(move |_: MouseEvent| at.saturating_sub(1));
    let next = go.reform(move |_: MouseEvent| at + 1);
    html! {
        <div class="decoding">
            <div class="row-name">{format!("the encoding: the encoder's last state ({} values)", decoding.encoding.len())}</div>
            {vector_strip("the encoding", &decoding.encoding, "encoding")}
            <p data-testid="decoding-output">
                {"wrote "}<strong>{show_output(task, &written)}</strong>
                {format!(" — the answer is {}: ", show_output(task, &answer))}
                <span class={classes!("verdict", if right { "right" } else { "wrong" })} data-testid="decoding-verdict">
                    {if right { "✓ right" } else { "✗ wrong" }}
                </span>
            </p>
            <div class="decoder-steps" role="toolbar" aria-label="decoder steps (arrow keys move)" {onkeydown} ref={toolbar}>
                <button onclick={previous} disabled={at == 0} data-testid="decoder-previous">{"◀ previous step"}</button>
                { for decoding.steps.iter().enumerate().map(|(step, decoded)| {
                    let label = format!("step {}: wrote {}", step + 1, output_token_name(task, decoded.chosen));
                    html! {
                        <button class={classes!("token", (step == at).then_some("current"))} aria-label={label}
                            aria-pressed={(step == at).to_string()} tabindex={if step == at { "0" } else { "-1" }}
                            onclick={go.reform(move |_: MouseEvent| step)} data-testid={format!("decoder-token-{step}")}>
                            {output_token_name(task, decoded.chosen)}
                        </button>
                    }
                }) }
                <button onclick={next} disabled={at + 1 >= steps} data-testid="decoder-next">{"next step ▶"}</button>
            </div>
            {step_detail.unwrap_or_default()}
            if !attention_rows.is_empty() {
                <AttentionMatrix {inputs} rows={attention_rows} current={Some(at)} />
            } else {
                <p class="hint" data-testid="no-attention">{"No attention: the decoder sees the input only through the encoding above."}</p>
            }
        </div>
    }
}

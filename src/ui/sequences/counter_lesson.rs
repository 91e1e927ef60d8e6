//! "Build a counter by hand": the learner sets `w_x`, `w_h` and `b` of a one-unit RNN (a slider
//! and a number each, and the activation) and watches its state step through a sequence; the
//! lesson says when it counts the ones of every sequence exactly, then trains one from random
//! weights for comparison. The numbers are the engine's ([`CounterWeights`]).

use crate::engine::{Activation, Described};
use crate::playground::sequences::counter::{
    COUNTER_LENGTH, CounterCheck, CounterWeights, TrainedCounter,
};
use crate::playground::sequences::parse_bits;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The activations the lesson offers: the two that can count, and the course's tanh that
/// cannot.
const ACTIVATIONS: [Activation; 3] = [Activation::Linear, Activation::Relu, Activation::Tanh];

/// Which of the three numbers a control sets.
#[derive(Clone, Copy, PartialEq)]
enum Number {
    Input,
    Recurrent,
    Bias,
}

impl Number {
    fn get(self, weights: &CounterWeights) -> f32 {
        match self {
            Number::Input => weights.input,
            Number::Recurrent => weights.recurrent,
            Number::Bias => weights.bias,
        }
    }

    fn set(self, weights: &mut CounterWeights, value: f32) {
        match self {
            Number::Input => weights.input = value,
            Number::Recurrent => weights.recurrent = value,
            Number::Bias => weights.bias = value,
        }
    }
}

/// "Counts exactly: ..." or how far off it is, in words.
fn verdict(check: &CounterCheck) -> String {
    if check.exact {
        return format!(
            "It counts exactly: every one of the {} sequences of {COUNTER_LENGTH} bits ends with \
             its number of ones.",
            check.total
        );
    }
    let (bits, last, count) = &check.worst;
    let bits: Vec<String> = bits.iter().map(u8::to_string).collect();
    format!(
        "Not yet: the last state rounds to the count on {} of {} sequences; it is furthest off \
         on {} (h = {last:.2}, count {count}).",
        check.rounded_right,
        check.total,
        bits.join(" ")
    )
}

fn weights_text(weights: &CounterWeights) -> String {
    format!(
        "w_x = {:.3}, w_h = {:.3}, b = {:.3}",
        weights.input, weights.recurrent, weights.bias
    )
}

#[component]
pub fn CounterLesson() -> Html {
    let weights = use_state(CounterWeights::default);
    let bits = use_state(|| "1 0 1 1 0 1 1 0".to_string());
    let trained = use_state(|| None::<Result<TrainedCounter, String>>);
    let seed = use_state(|| 1u64);

    let number_control = |number: Number, symbol: &'static str, id: &'static str| {
        let value = number.get(&weights);
        let oninput = {
            let weights = weights.clone();
            Callback::from(move |event: InputEvent| {
                let input: HtmlInputElement = event.target_unchecked_into();
                if let Ok(value) = input.value().trim().parse::<f32>()
                    && value.is_finite()
                {
                    let mut next = *weights;
                    number.set(&mut next, value.clamp(-3.0, 3.0));
                    weights.set(next);
                }
            })
        };
        html! {
            <div class="counter-number">
                <label for={format!("{id}-range")}>{symbol}</label>
                <input type="range" id={format!("{id}-range")} min="-2" max="2" step="0.05"
                    value={value.to_string()} oninput={oninput.clone()}
                    aria-valuetext={format!("{symbol} = {value:.2}")} data-testid={format!("{id}-range")} />
                <input type="number" min="-3" max="3" step="0.05" value={format!("{value}")}
                    aria-label={symbol} {oninput} data-testid={id} />
            </div>
        }
    };
    let on_activation = {
        let weights = weights.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            if let Some(activation) = Activation::from_key(&select.value()) {
                weights.set(CounterWeights {
                    activation,
                    ..*weights
                });
            }
        })
    };
    let on_bits = {
        let bits = bits.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            bits.set(input.value());
        })
    };
    let on_train = {
        let (trained, seed, activation) = (trained.clone(), seed.clone(), weights.activation);
        Callback::from(move |_| {
            let result = CounterWeights::train(activation, *seed).map_err(|e| e.to_string());
            trained.set(Some(result));
            seed.set(*seed + 1);
        })
    };
    let on_use_trained = {
        let (weights, trained) = (weights.clone(), trained.clone());
        Callback::from(move |_| {
            if let Some(Ok(counter)) = &*trained {
                weights.set(counter.weights);
            }
        })
    };

    let steps = parse_bits(&bits, COUNTER_LENGTH..=COUNTER_LENGTH).and_then(|parsed| {
        let states = weights.states(&parsed).map_err(|e| e.to_string())?;
        Ok((parsed, states))
    });
    let check = weights.check().map_err(|e| e.to_string());
    let exact = matches!(&check, Ok(check) if check.exact);
    html! {
        <section class="card counter-lesson" aria-labelledby="counter-title">
            <h3 id="counter-title">{"Build a counter by hand"}</h3>
            <p class="hint">{"One unit of state: h_t = f(w_h · h_{t-1} + w_x · x_t + b), starting from h_0 = 0. Set the three numbers so that the last state is the number of ones of any sequence."}</p>
            <div class="counter-controls">
                <div class="counter-number">
                    <label for="counter-activation">{"f"}</label>
                    <select id="counter-activation" onchange={on_activation} data-testid="counter-activation">
                        { for ACTIVATIONS.iter().map(|a| html! {
                            <option value={a.key()} selected={*a == weights.activation}>{a.title()}</option>
                        }) }
                    </select>
                </div>
                {number_control(Number::Input, "w_x", "counter-wx")}
                {number_control(Number::Recurrent, "w_h", "counter-wh")}
                {number_control(Number::Bias, "b", "counter-b")}
            </div>
            <label class="row">{"a sequence"}
                <input type="text" value={(*bits).clone()} oninput={on_bits} data-testid="counter-bits"
                    spellcheck="false" autocomplete="off" inputmode="numeric" />
            </label>
            {match &steps {
                Ok((parsed, states)) => html! {
                    <table class="counter-steps" data-testid="counter-steps">
                        <caption class="hint">{"The state after each bit"}</caption>
                        <tr><th scope="row">{"t"}</th>{ for (1..=states.len()).map(|t| html! { <td>{t}</td> }) }</tr>
                        <tr><th scope="row">{"x_t"}</th>{ for parsed.iter().map(|x| html! { <td>{*x as u8}</td> }) }</tr>
                        <tr><th scope="row">{"h_t"}</th>{ for states.iter().map(|h| html! { <td>{format!("{h:.2}")}</td> }) }</tr>
                    </table>
                },
                Err(reason) => html! { <p class="hint" role="status">{reason.clone()}</p> },
            }}
            <p class={classes!("counter-verdict", exact.then_some("exact"))} aria-live="polite" data-testid="counter-verdict">
                {if exact { "✓ " } else { "" }}
                {match &check { Ok(check) => verdict(check), Err(reason) => reason.clone() }}
            </p>
            <div class="counter-train">
                <button class="primary" onclick={on_train} data-testid="counter-train">{"Train one from random weights"}</button>
                {match &*trained {
                    Some(Ok(counter)) => html! {
                        <div data-testid="counter-trained" aria-live="polite">
                            <p>{format!(
                                "From {} the engine trained ({} epochs of Adam on the squared error of the last state) to {}: ",
                                weights_text(&counter.start), counter.losses.len(), weights_text(&counter.weights)
                            )}{verdict(&counter.check)}</p>
                            <button onclick={on_use_trained} data-testid="counter-use-trained">{"Use these numbers above"}</button>
                        </div>
                    },
                    Some(Err(reason)) => html! { <p class="hint" role="status">{reason.clone()}</p> },
                    None => html! {},
                }}
            </div>
        </section>
    }
}

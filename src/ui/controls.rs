//! The bar of run controls and training settings: play, step, reset, the epoch counter, and the
//! learning rate, activation, regularisation, problem type, loss, optimiser and initialiser.

use super::app::Msg;
use crate::engine::{Activation, Described, Loss, OptimizerKind, Regularization};
use crate::playground::config::{InitChoice, LEARNING_RATES, REGULARIZATION_RATES};
use crate::playground::{PlaygroundConfig, ProblemType};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub config: PlaygroundConfig,
    pub playing: bool,
    pub epoch: usize,
    pub send: Callback<Msg>,
}

/// The whole bar. While training, only its run buttons and epoch render again each frame: the
/// settings are a component of their own, rendered when the configuration changes.
#[component]
pub fn Controls(props: &ControlsProps) -> Html {
    html! {
        <section class="controls">
            <RunButtons playing={props.playing} epoch={props.epoch} send={props.send.clone()} />
            <TrainingSettings config={props.config.clone()} send={props.send.clone()} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct RunButtonsProps {
    playing: bool,
    epoch: usize,
    send: Callback<Msg>,
}

#[component]
fn RunButtons(props: &RunButtonsProps) -> Html {
    let send = &props.send;
    html! {
        <>
            <div class="run-buttons">
                <button class="round" data-testid="reset" title="Reset the network" onclick={send.reform(|_| Msg::Reset)}>{"↺"}</button>
                <button class={classes!("round", "play", props.playing.then_some("playing"))} data-testid="play"
                    title="Run or pause training" onclick={send.reform(|_| Msg::TogglePlay)}>
                    { if props.playing { "Pause" } else { "Play" } }
                </button>
                <button class="round" data-testid="step" title="Train one epoch" onclick={send.reform(|_| Msg::Step)}>{"Step"}</button>
            </div>
            <div class="control epoch-box">
                <label>{"Epoch"}</label>
                <span class="epoch" data-testid="epoch">{format_epoch(props.epoch)}</span>
            </div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct TrainingSettingsProps {
    config: PlaygroundConfig,
    send: Callback<Msg>,
}

#[component]
fn TrainingSettings(props: &TrainingSettingsProps) -> Html {
    let send = &props.send;
    let config = &props.config;
    let change = |update: fn(&mut PlaygroundConfig, &str)| {
        let config = config.clone();
        send.reform(move |value: String| {
            let mut config = config.clone();
            update(&mut config, &value);
            Msg::Configure(Box::new(config))
        })
    };
    let learning_rates = with_current(LEARNING_RATES.to_vec(), config.learning_rate);
    let regularization_rates =
        with_current(REGULARIZATION_RATES.to_vec(), config.regularization_rate);
    let hidden_activation = config
        .activations
        .first()
        .copied()
        .unwrap_or(Activation::Tanh);
    html! {
        <>
            {choice("learning-rate", "Learning rate",
                learning_rates.iter().map(|r| (r.to_string(), r.to_string())).collect(),
                config.learning_rate.to_string(),
                change(|c, v| if let Ok(rate) = v.parse() { c.learning_rate = rate }))}
            {choice("activation", "Activation",
                options::<Activation>(),
                hidden_activation.key().to_string(),
                change(|c, v| if let Some(a) = Activation::from_key(v) { c.activations.iter_mut().for_each(|slot| *slot = a) }))}
            {choice("regularization", "Regularization",
                options::<Regularization>(),
                config.regularization.key().to_string(),
                change(|c, v| if let Some(r) = Regularization::from_key(v) { c.regularization = r }))}
            {choice("regularization-rate", "Regularization rate",
                regularization_rates.iter().map(|r| (r.to_string(), r.to_string())).collect(),
                config.regularization_rate.to_string(),
                change(|c, v| if let Ok(rate) = v.parse() { c.regularization_rate = rate }))}
            {choice("problem", "Problem type",
                vec![("classification".into(), "Classification".into()), ("regression".into(), "Regression".into())],
                config.problem.key().to_string(),
                change(|c, v| if let Some(p) = ProblemType::from_key(v) { switch_problem(c, p) }))}
            {choice("loss", "Loss",
                options::<Loss>(),
                config.loss.key().to_string(),
                change(|c, v| if let Some(l) = Loss::from_key(v) { c.loss = l }))}
            {choice("optimizer", "Optimizer",
                options::<OptimizerKind>(),
                config.optimizer.key().to_string(),
                change(|c, v| if let Some(o) = OptimizerKind::from_key(v) { c.optimizer = o }))}
            {choice("init", "Initialization",
                InitChoice::ALL.iter().map(|i| (i.key().to_string(), i.title().to_string())).collect(),
                config.init.key().to_string(),
                change(|c, v| if let Some(i) = InitChoice::from_key(v) { c.init = i }))}
        </>
    }
}

/// A labelled `<select>`; `on_change` receives the chosen option's value.
pub fn choice(
    test_id: &'static str,
    label: &'static str,
    options: Vec<(String, String)>,
    selected: String,
    on_change: Callback<String>,
) -> Html {
    let onchange =
        on_change.reform(|event: Event| event.target_unchecked_into::<HtmlSelectElement>().value());
    html! {
        <div class="control">
            <label for={test_id}>{label}</label>
            <select id={test_id} data-testid={test_id} {onchange}>
                { for options.into_iter().map(|(value, title)| {
                    let is_selected = value == selected;
                    html! { <option selected={is_selected} {value}>{title}</option> }
                }) }
            </select>
        </div>
    }
}

/// A labelled `<select>` of whole numbers; `on_change` receives the chosen one.
pub fn number_choice(
    test_id: &'static str,
    label: &'static str,
    options: &[usize],
    value: usize,
    on_change: Callback<usize>,
) -> Html {
    let options = options
        .iter()
        .map(|v| (v.to_string(), v.to_string()))
        .collect();
    let on_text = Callback::from(move |text: String| {
        if let Ok(value) = text.parse() {
            on_change.emit(value);
        }
    });
    choice(test_id, label, options, value.to_string(), on_text)
}

/// The menu's values, plus the current one if a link set something else.
fn with_current(mut values: Vec<f32>, current: f32) -> Vec<f32> {
    if !values.contains(&current) {
        values.push(current);
        values.sort_by(f32::total_cmp);
    }
    values
}

fn switch_problem(config: &mut PlaygroundConfig, problem: ProblemType) {
    use crate::data::DatasetKind;
    if problem == config.problem {
        return;
    }
    config.dataset = match problem {
        ProblemType::Regression => DatasetKind::RegressionPlane,
        ProblemType::Classification => DatasetKind::Circle,
    };
    config.loss = match problem {
        ProblemType::Regression => crate::engine::Loss::MeanSquaredError,
        ProblemType::Classification => crate::engine::Loss::BinaryCrossEntropy,
    };
    config.problem = problem;
}

fn format_epoch(epoch: usize) -> String {
    let digits = format!("{epoch:06}");
    let (head, tail) = digits.split_at(digits.len() - 3);
    format!("{head},{tail}")
}

/// A menu's (value, text) pairs: every value of an engine choice by its key and title.
fn options<T: Described>() -> Vec<(String, String)> {
    T::every()
        .iter()
        .map(|value| (value.key().to_string(), value.title().to_string()))
        .collect()
}

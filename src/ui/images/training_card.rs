//! The run's settings (engine, epochs, batch size, optimiser, learning rate, schedule,
//! augmentation), Train / Pause / Reset, and where the run stands: progress bar, epoch,
//! examples per second.

use crate::engine::{Described, OptimizerKind};
use crate::playground::backend::Backend;
use crate::playground::images::training::{Progress, RunSettings};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// What the run is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// No run yet (or reset).
    Idle,
    Training,
    Paused,
    Finished,
}

#[derive(Properties, PartialEq)]
pub struct TrainingCardProps {
    pub settings: RunSettings,
    pub state: RunState,
    /// False until the digits and the worker are ready.
    pub can_train: bool,
    pub progress: Option<Progress>,
    pub examples_per_second: f32,
    /// The worker's GPU: `None` while it looks, then the adapter or why there is none.
    pub gpu: Option<Result<String, String>>,
    pub on_settings: Callback<RunSettings>,
    pub on_train: Callback<()>,
    pub on_pause: Callback<()>,
    pub on_reset: Callback<()>,
    /// The Train button's test hook.
    #[prop_or(AttrValue::Static("images-train"))]
    pub train_id: AttrValue,
    /// What the augmentation checkbox says, where the data has one.
    #[prop_or(Some(AttrValue::Static("shift digits by up to 2 px")))]
    pub augmentation: Option<AttrValue>,
    /// What one example is called in the speed readout.
    #[prop_or(AttrValue::Static("examples"))]
    pub examples: AttrValue,
}

#[component]
pub fn TrainingCard(props: &TrainingCardProps) -> Html {
    let locked = props.state != RunState::Idle;
    let settings = &props.settings;
    let number = |label: &'static str,
                  key: &'static str,
                  value: String,
                  apply: fn(&mut RunSettings, f64)| {
        let (on_settings, settings) = (props.on_settings.clone(), settings.clone());
        let onchange = Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Ok(value) = input.value().trim().parse::<f64>() {
                let mut settings = settings.clone();
                apply(&mut settings, value);
                on_settings.emit(settings);
            }
        });
        html! {
            <label class="row">{label}
                <input type="number" {value} disabled={locked} {onchange} data-testid={key} step="any" />
            </label>
        }
    };
    let check = |label: AttrValue,
                 key: &'static str,
                 value: bool,
                 apply: fn(&mut RunSettings, bool)| {
        let (on_settings, settings) = (props.on_settings.clone(), settings.clone());
        let onchange = Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            let mut settings = settings.clone();
            apply(&mut settings, input.checked());
            on_settings.emit(settings);
        });
        html! {
            <label class="row check"><input type="checkbox" checked={value} disabled={locked} {onchange} data-testid={key} />{label}</label>
        }
    };
    let on_optimizer = {
        let (on_settings, settings) = (props.on_settings.clone(), settings.clone());
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            if let Some(kind) = OptimizerKind::from_key(&select.value()) {
                let mut settings = settings.clone();
                settings.optimizer = kind;
                on_settings.emit(settings);
            }
        })
    };
    let on_backend = {
        let (on_settings, settings) = (props.on_settings.clone(), settings.clone());
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            if let Some(backend) = Backend::from_key(&select.value()) {
                on_settings.emit(RunSettings {
                    backend,
                    ..settings.clone()
                });
            }
        })
    };
    let (gpu_label, gpu_why) = match &props.gpu {
        None => ("WebGPU (looking for one…)".to_string(), None),
        Some(Ok(description)) => (description.clone(), None),
        Some(Err(reason)) => ("WebGPU (unavailable)".to_string(), Some(reason.clone())),
    };
    let gpu_ready = matches!(props.gpu, Some(Ok(_)));
    let (button, action) = match props.state {
        RunState::Training => ("Pause", props.on_pause.reform(|_| ())),
        RunState::Paused => ("Resume", props.on_train.reform(|_| ())),
        RunState::Idle | RunState::Finished => ("Train", props.on_train.reform(|_| ())),
    };
    let finished = props.state == RunState::Finished;
    let status = props.progress.map(|p| {
        let fraction = p.epochs_done() / p.epochs.max(1) as f32;
        html! {
            <div class="run-status">
                <progress value={format!("{fraction:.4}")} max="1" data-testid="train-progress" />
                <span data-testid="images-epoch">{format!("epoch {:.2} of {}", p.epochs_done(), p.epochs)}</span>
                {" · "}<span data-testid="examples-per-second">{format!("{:.0} {}/s", props.examples_per_second, props.examples)}</span>
                {" · "}<span>{format!("learning rate {:.5}", p.learning_rate)}</span>
            </div>
        }
    });
    html! {
        <section class="card training-card">
            <h3>{"Training"}</h3>
            <label class="row" title={gpu_why.clone()}>{"engine"}
                <select onchange={on_backend} disabled={locked} data-testid="images-backend">
                    <option value={Backend::Cpu.key()} selected={settings.backend == Backend::Cpu}>{"CPU (worker, wasm SIMD)"}</option>
                    <option value={Backend::Gpu.key()} selected={settings.backend == Backend::Gpu} disabled={!gpu_ready}>{gpu_label}</option>
                </select>
            </label>
            if settings.backend == Backend::Gpu && !gpu_ready {
                <p class="hint" data-testid="images-backend-note">{match &gpu_why {
                    Some(reason) => format!("No GPU to train on ({reason}): the CPU engine trains instead."),
                    None => "Looking for a GPU; until one is found the CPU engine trains.".to_string(),
                }}</p>
            }
            {number("epochs", "epochs", settings.epochs.to_string(), |s, v| s.epochs = v.max(1.0) as usize)}
            {number("batch size", "batch-size", settings.batch_size.to_string(), |s, v| s.batch_size = v.max(1.0) as usize)}
            <label class="row">{"optimiser"}
                <select onchange={on_optimizer} disabled={locked} data-testid="optimizer">
                    { for OptimizerKind::ALL.iter().map(|k| html! {
                        <option value={k.key()} selected={*k == settings.optimizer}>{k.title()}</option>
                    }) }
                </select>
            </label>
            {number("learning rate", "learning-rate", settings.learning_rate.to_string(), |s, v| s.learning_rate = v as f32)}
            {check("cosine decay of the rate".into(), "cosine", settings.cosine_decay, |s, v| s.cosine_decay = v)}
            if let Some(label) = props.augmentation.clone() {
                {check(label, "augment", settings.augment, |s, v| s.augment = v)}
            }
            <div class="row buttons">
                <button class="primary" onclick={action} disabled={!props.can_train || finished} data-testid={props.train_id.clone()}>{button}</button>
                <button onclick={props.on_reset.reform(|_| ())} disabled={props.state == RunState::Idle} data-testid="images-reset">{"Reset"}</button>
            </div>
            {status.unwrap_or_default()}
            if finished { <p class="hint">{"Done: every epoch trained. Reset to train again."}</p> }
        </section>
    }
}

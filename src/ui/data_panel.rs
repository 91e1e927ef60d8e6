//! The data column: which data set, how noisy, how it is split, the batch size, and Regenerate.

use super::app::Msg;
use super::heatmap::context_2d;
use crate::data::{DatasetKind, generate, generators::DOMAIN};
use crate::playground::PlaygroundConfig;
use crate::playground::colors;
use web_sys::{HtmlCanvasElement, HtmlInputElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DataPanelProps {
    pub config: PlaygroundConfig,
    pub send: Callback<Msg>,
    /// The file the points came from, when the learner opened one, and how many it holds.
    #[prop_or_default]
    pub data_file: Option<(AttrValue, usize)>,
}

#[component]
pub fn DataPanel(props: &DataPanelProps) -> Html {
    let config = &props.config;
    let send = &props.send;
    let from_file = props.data_file.is_some();
    let slider = |test_id: &'static str,
                  label: String,
                  min: f32,
                  max: f32,
                  step: f32,
                  value: f32,
                  update: fn(&mut PlaygroundConfig, f32)| {
        let config = config.clone();
        let oninput = send.reform(move |event: InputEvent| {
            let mut config = config.clone();
            let value = event
                .target_unchecked_into::<HtmlInputElement>()
                .value_as_number() as f32;
            update(&mut config, value);
            Msg::Configure(Box::new(config))
        });
        html! {
            <div class="slider">
                <label for={test_id} data-testid={format!("{test_id}-label")}>{label}</label>
                <input type="range" id={test_id} data-testid={test_id} min={min.to_string()} max={max.to_string()}
                    step={step.to_string()} value={value.to_string()} {oninput} />
            </div>
        }
    };
    html! {
        <section class="column data-column">
            <h2>{"Data"}</h2>
            <p class="hint">{"Which data set do you want to use?"}</p>
            <div class="datasets">
                { for DatasetKind::ALL.into_iter().map(|kind| dataset_button(kind, config, send, from_file)) }
            </div>
            if let Some((name, _)) = &props.data_file {
                <p class="hint" data-testid="data-file">{format!("The points come from {name}. Pick a data set to generate points again.")}</p>
            }
            {slider("train-ratio", format!("Ratio of training to test data: {}%", (config.train_fraction * 100.0).round()),
                10.0, 90.0, 10.0, config.train_fraction * 100.0, |c, v| c.train_fraction = v / 100.0)}
            {slider("noise", format!("Noise: {}", (config.noise * 100.0).round()),
                0.0, 50.0, 5.0, config.noise * 100.0, |c, v| c.noise = v / 100.0)}
            {slider("batch-size", format!("Batch size: {}", config.batch_size),
                1.0, 64.0, 1.0, config.batch_size as f32, |c, v| c.batch_size = v as usize)}
            {slider("points", match &props.data_file {
                    Some((name, count)) => format!("Points: {count} (from {name})"),
                    None => format!("Points: {}", config.point_count),
                },
                50.0, 1000.0, 50.0, config.point_count as f32, |c, v| c.point_count = v as usize)}
            <div class="seed-row">
                {seed_input("data-seed", "Data seed", config.data_seed, config, send, |c, seed| c.data_seed = seed)}
                {seed_input("weight-seed", "Weight seed", config.seed, config, send, |c, seed| c.seed = seed)}
                <button data-testid="regenerate" onclick={send.reform(|_| Msg::Regenerate)}>{"Regenerate"}</button>
            </div>
        </section>
    }
}

/// A number field for a seed; a link with the same seeds reproduces the same points and weights.
fn seed_input(
    test_id: &'static str,
    label: &'static str,
    value: u64,
    config: &PlaygroundConfig,
    send: &Callback<Msg>,
    update: fn(&mut PlaygroundConfig, u64),
) -> Html {
    let config = config.clone();
    let onchange = send.reform(move |event: Event| {
        let mut config = config.clone();
        if let Ok(seed) = event
            .target_unchecked_into::<HtmlInputElement>()
            .value()
            .trim()
            .parse()
        {
            update(&mut config, seed);
        }
        Msg::Configure(Box::new(config))
    });
    html! {
        <label class="seed">{label}
            <input type="number" min="0" step="1" data-testid={test_id} value={value.to_string()} {onchange} />
        </label>
    }
}

/// A data set to pick. While the points come from a file, none is picked, and a click
/// generates the one clicked afresh (the file's stand-in of the same kind included).
fn dataset_button(
    kind: DatasetKind,
    config: &PlaygroundConfig,
    send: &Callback<Msg>,
    from_file: bool,
) -> Html {
    let selected = config.dataset == kind && !from_file;
    let onclick = {
        let config = config.clone();
        send.reform(move |_| {
            let mut config = config.clone();
            config.dataset = kind;
            config.problem = if kind.is_regression() {
                crate::playground::ProblemType::Regression
            } else {
                crate::playground::ProblemType::Classification
            };
            if kind.is_regression() {
                config.loss = crate::engine::Loss::MeanSquaredError;
            }
            match from_file {
                true => Msg::GenerateData(Box::new(config)),
                false => Msg::Configure(Box::new(config)),
            }
        })
    };
    html! {
        <button class={classes!("dataset", selected.then_some("selected"))} title={kind.title()}
            aria-pressed={selected.to_string()}
            data-testid={format!("dataset-{}", kind.key())} {onclick}>
            <DatasetPreview {kind} />
            <span>{kind.title()}</span>
        </button>
    }
}

#[derive(Properties, PartialEq)]
struct DatasetPreviewProps {
    kind: DatasetKind,
}

/// A small picture of a data set's points, drawn once.
#[component]
fn DatasetPreview(props: &DatasetPreviewProps) -> Html {
    const SIZE: f64 = 48.0;
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        use_effect_with(props.kind, move |kind| {
            let Some(canvas) = canvas.cast::<HtmlCanvasElement>() else {
                return;
            };
            let Some(context) = context_2d(&canvas) else {
                return;
            };
            for point in generate(*kind, 150, 0.0, 1) {
                let value = if kind.is_regression() {
                    point.label
                } else {
                    point.label * 2.0 - 1.0
                };
                context.set_fill_style_str(&colors::css(value));
                let to_pixel = |v: f32| (v as f64 / DOMAIN as f64 + 1.0) / 2.0 * SIZE;
                context.fill_rect(
                    to_pixel(point.x) - 1.0,
                    SIZE - to_pixel(point.y) - 1.0,
                    2.5,
                    2.5,
                );
            }
        });
    }
    html! { <canvas ref={canvas} class="preview" width={SIZE.to_string()} height={SIZE.to_string()} /> }
}

//! The model builder: a preset or one's own network, layer by layer, with every layer's output
//! shape and parameter count updated as it is edited, and layers that cannot fit refused with
//! the size formula written out.

use crate::engine::{Activation, Described, LayerConfig, SequentialConfig, Setting, SettingValue};
use crate::playground::images::model_spec::{Preset, input_side, shape_text, size_formula};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ModelBuilderProps {
    pub config: SequentialConfig,
    /// While a run exists the model cannot change (Reset first).
    pub locked: bool,
    pub on_change: Callback<SequentialConfig>,
}

#[component]
pub fn ModelBuilder(props: &ModelBuilderProps) -> Html {
    let config = &props.config;
    let (summaries, error) = config.summary_until_error();
    let total: usize = summaries.iter().map(|s| s.parameters).sum();
    let preset = Preset::of(config);
    let on_preset = {
        let on_change = props.on_change.clone();
        let seed = config.seed;
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            if let Some(preset) = Preset::from_key(&select.value()) {
                let mut config = preset.config();
                config.seed = seed;
                on_change.emit(config);
            }
        })
    };
    let add_kind = use_state(|| "dense".to_string());
    let on_add = {
        let (on_change, config, add_kind) =
            (props.on_change.clone(), config.clone(), add_kind.clone());
        Callback::from(move |_| {
            if let Some(layer) = LayerConfig::first_of_kind(&add_kind) {
                let mut config = config.clone();
                // Before the output layer, where a new layer usually goes.
                let at = config.layers.len().saturating_sub(1);
                config.layers.insert(at, layer);
                on_change.emit(config);
            }
        })
    };
    let rows = config.layers.iter().enumerate().map(|(index, layer)| {
        let summary = summaries.get(index);
        let formula = input_side(config, &summaries, index).and_then(|side| size_formula(layer, side));
        let fields = match layer.note() {
            Some(note) => html! { <span class="hint">{note}</span> },
            None => html! {<>
                { for layer.settings().into_iter().map(|setting| setting_field(props, index, *layer, setting)) }
            </>},
        };
        let remove = {
            let (on_change, config) = (props.on_change.clone(), config.clone());
            Callback::from(move |_| {
                let mut config = config.clone();
                config.layers.remove(index);
                on_change.emit(config);
            })
        };
        // Reordering without dragging: each layer swaps with its neighbour above or below.
        let swap_with = |other: usize| {
            let (on_change, config) = (props.on_change.clone(), config.clone());
            Callback::from(move |_| {
                let mut config = config.clone();
                config.layers.swap(index, other);
                on_change.emit(config);
            })
        };
        let last = config.layers.len() - 1;
        let failed = summary.is_none();
        html! {
            <tr class={classes!(failed.then_some("layer-failed"))} data-testid={format!("layer-{index}")}>
                <td class="layer-index">{index + 1}</td>
                <td class="layer-kind">{layer.title()}</td>
                <td><div class="layer-fields">{fields}
                    if let Some(formula) = formula { <div class="layer-formula">{"n_out = "}{formula}</div> }
                </div></td>
                <td class="layer-shape" data-testid={format!("layer-{index}-shape")}>
                    {summary.map_or("—".to_string(), |s| shape_text(&s.output_shape))}</td>
                <td class="layer-params">{summary.map_or("—".to_string(), |s| s.parameters.to_string())}</td>
                <td class="layer-actions">if !props.locked && config.layers.len() > 1 {
                    <button class="layer-move" onclick={swap_with(index.saturating_sub(1))} disabled={index == 0}
                        aria-label={format!("Move layer {} ({}) up", index + 1, layer.title())}
                        data-testid={format!("layer-{index}-up")}>{"↑"}</button>
                    <button class="layer-move" onclick={swap_with((index + 1).min(last))} disabled={index == last}
                        aria-label={format!("Move layer {} ({}) down", index + 1, layer.title())}
                        data-testid={format!("layer-{index}-down")}>{"↓"}</button>
                    <button class="layer-remove" title="Remove this layer" onclick={remove}
                        aria-label={format!("Remove layer {} ({})", index + 1, layer.title())}
                        data-testid={format!("layer-{index}-remove")}>{"×"}</button>
                }</td>
            </tr>
        }
    });
    html! {
        <section class="card model-builder" data-testid="model-builder">
            <h3>{"Model"}</h3>
            <label class="row">{"Network "}
                <select onchange={on_preset} disabled={props.locked} data-testid="model-preset">
                    { for Preset::ALL.iter().map(|p| html! {
                        <option value={p.key()} selected={preset == Some(*p)}>{p.title()}</option>
                    }) }
                    if preset.is_none() { <option value="custom" selected=true>{"Your own"}</option> }
                </select>
            </label>
            <table class="layer-table">
                <thead><tr><th>{"#"}</th><th>{"layer"}</th><th>{"settings"}</th><th>{"output"}</th><th>{"parameters"}</th><th><span class="visually-hidden">{"actions"}</span></th></tr></thead>
                <tbody>
                    <tr class="layer-input"><td>{"0"}</td><td>{"Input"}</td><td>{"a 28x28 grey digit"}</td><td>{shape_text(&config.input)}</td><td>{"0"}</td><td></td></tr>
                    { for rows }
                </tbody>
            </table>
            if let Some(error) = &error {
                <p class="builder-error" data-testid="model-error" role="alert">{error.to_string()}</p>
            } else {
                <p class="builder-total" data-testid="model-parameters">{format!("{total} parameters in all")}</p>
            }
            if props.locked {
                <p class="hint">{"Reset the run to change the model."}</p>
            } else {
                <div class="row builder-add">
                    <select onchange={
                        let add_kind = add_kind.clone();
                        Callback::from(move |event: Event| {
                            let select: HtmlSelectElement = event.target_unchecked_into();
                            add_kind.set(select.value());
                        })
                    } data-testid="add-layer-kind" aria-label="Kind of layer to add">
                        { for LayerConfig::keys(false).into_iter().map(|kind| html! {
                            <option value={kind} selected={*add_kind == kind}>{LayerConfig::title_of_kind(kind).unwrap_or(kind)}</option>
                        }) }
                    </select>
                    <button onclick={on_add} data-testid="add-layer">{"Add layer"}</button>
                </div>
            }
        </section>
    }
}

/// The field that edits one setting of layer `index`: a number, a rate or an activation menu,
/// named after the setting (`layer-{index}-{key}` for the tests).
fn setting_field(
    props: &ModelBuilderProps,
    index: usize,
    layer: LayerConfig,
    setting: Setting,
) -> Html {
    let (on_change, config) = (props.on_change.clone(), props.config.clone());
    let key = setting.key;
    let change = move |value: SettingValue| {
        if let Some(edited) = layer.with_setting(Setting { key, value }) {
            let mut config = config.clone();
            config.layers[index] = edited;
            on_change.emit(config);
        }
    };
    let testid = format!("layer-{index}-{key}");
    let locked = props.locked;
    match setting.value {
        SettingValue::Count(value) => {
            let onchange = Callback::from(move |event: Event| {
                let input: HtmlInputElement = event.target_unchecked_into();
                if let Ok(value) = input.value().trim().parse::<usize>() {
                    change(SettingValue::Count(value));
                }
            });
            html! {
                <label class="layer-field">{key}
                    <input type="number" min="0" value={value.to_string()} disabled={locked}
                        data-testid={testid} {onchange} />
                </label>
            }
        }
        SettingValue::Rate(rate) => {
            let onchange = Callback::from(move |event: Event| {
                let input: HtmlInputElement = event.target_unchecked_into();
                if let Ok(value) = input.value().trim().parse::<f32>() {
                    change(SettingValue::Rate(value));
                }
            });
            html! {
                <label class="layer-field">{key}
                    <input type="number" step="0.05" min="0" max="0.95" value={rate.to_string()} disabled={locked}
                        data-testid={testid} {onchange} />
                </label>
            }
        }
        SettingValue::Switch(on) => {
            let onchange = Callback::from(move |event: Event| {
                let input: HtmlInputElement = event.target_unchecked_into();
                change(SettingValue::Switch(input.checked()));
            });
            html! {
                <label class="layer-field">
                    <input type="checkbox" checked={on} disabled={locked} data-testid={testid} {onchange} />
                    {key.replace('_', " ")}
                </label>
            }
        }
        SettingValue::Activation(current) => {
            let onchange = Callback::from(move |event: Event| {
                let select: HtmlSelectElement = event.target_unchecked_into();
                if let Some(activation) = Activation::from_key(&select.value()) {
                    change(SettingValue::Activation(activation));
                }
            });
            html! {
                <select disabled={locked} {onchange} data-testid={testid} aria-label="activation">
                    { for Activation::ALL.iter().map(|a| html! {
                        <option value={a.key()} selected={*a == current}>{a.title()}</option>
                    }) }
                </select>
            }
        }
    }
}

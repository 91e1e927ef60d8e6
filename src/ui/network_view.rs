//! The network diagram: input features, hidden layers and outputs as heatmap thumbnails joined
//! by their edges (`network_edges`). Edges and neurons can be picked to edit their weight or
//! bias, or dragged up and down to change it live; hovering one shows its value.

use super::app::{Msg, Selection};
use super::heatmap::{Heatmap, HeatmapSource};
use super::network_edges::{EdgeCanvas, EdgePath, EdgeTargets};
use super::network_pointer::{Drag, PointerHandlers, snapshot_value, target_attribute};
use super::shared::Shared;
use crate::data::Feature;
use crate::engine::{Activation, Described};
use crate::playground::colors;
use crate::playground::config::{MAX_HIDDEN_LAYERS, MAX_NEURONS};
use crate::playground::{PlaygroundConfig, Snapshot};
use gloo::events::EventListener;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

const NODE: f64 = 40.0;
const ROW: f64 = 50.0;
const TOP: f64 = 8.0;
/// Width of the diagram before its column has been measured (what the column has at the
/// page's design width).
const FIRST_WIDTH: f64 = 540.0;
/// The narrowest and widest the diagram is drawn, whatever room its column has.
const LEAST_WIDTH: f64 = 300.0;
const MOST_WIDTH: f64 = 760.0;
/// The least distance between layers: room for a header's two 24-pixel buttons and their gap
/// (52 pixels) and one more between neighbours.
const LEAST_GAP: f64 = 53.0;
/// Room the column keeps beside the diagram: its padding (12 + 12), the diagram's left margin
/// for the feature labels (40), and a few pixels for the output neuron's outline.
const BESIDE_DIAGRAM: f64 = 24.0 + 40.0 + 4.0;

#[derive(Properties, PartialEq)]
pub struct NetworkViewProps {
    pub config: PlaygroundConfig,
    pub snapshot: Shared<Snapshot>,
    pub selection: Option<Selection>,
    pub send: Callback<Msg>,
}

#[component]
pub fn NetworkView(props: &NetworkViewProps) -> Html {
    let drag: Rc<RefCell<Option<Drag>>> = use_mut_ref(|| None);
    let config = &props.config;
    let snapshot = &props.snapshot;
    let sizes = &snapshot.layer_sizes;
    let column_ref = use_node_ref();
    let fitted_width = use_fitted_width(&column_ref, sizes.len() >= 2);
    let layout = Layout::new(sizes, &config.features, fitted_width);
    let paths = use_memo(
        (
            sizes.clone(),
            layout.width.to_bits(),
            config.features.clone(),
        ),
        |_| Shared::new(layout.edge_paths()),
    );
    let hovered = use_state_eq(|| None::<Selection>);
    let hovered_neuron: Rc<RefCell<Option<(usize, usize)>>> = use_mut_ref(|| None);
    if sizes.len() < 2 {
        return html! { <section class="column network-column" ref={column_ref} /> };
    }
    let columns = sizes.len();
    let (width, gap, height) = (layout.width, layout.gap, layout.height);
    let column_x = |layer: usize| layout.column_x(layer);
    let node_y = |layer: usize, neuron: usize| layout.node_y(layer, neuron);

    let value_of = |selection: Selection| snapshot_value(snapshot, selection);
    let pointer = PointerHandlers {
        drag: drag.clone(),
        hovered: hovered.clone(),
        hovered_neuron,
        snapshot: snapshot.clone(),
        send: props.send.clone(),
    };

    let mut nodes = Vec::new();
    for (row, feature) in Feature::ALL.into_iter().enumerate() {
        let index = config.features.iter().position(|f| *f == feature);
        let onclick = {
            let config = config.clone();
            props.send.reform(move |_| {
                let mut config = config.clone();
                if index.is_some() {
                    config.features.retain(|f| *f != feature);
                } else {
                    config.features.push(feature);
                }
                Msg::Configure(Box::new(config))
            })
        };
        let style = format!(
            "left:{}px;top:{}px",
            column_x(0),
            TOP + 40.0 + row as f64 * ROW
        );
        nodes.push(html! {
            <button type="button" class={classes!("node", "input", index.is_some().then_some("active"))} {style}
                data-neuron={index.map(|neuron| format!("0 {neuron}"))}
                data-testid={format!("feature-{}", feature.key())} {onclick}
                aria-pressed={if index.is_some() { "true" } else { "false" }}
                aria-label={format!("Input {}", feature.label())}
                title={if index.is_some() { "Click to switch this input off" } else { "Click to switch this input on" }}>
                if let Some(neuron) = index {
                    <Heatmap snapshot={snapshot.clone()} source={HeatmapSource::Neuron { layer: 0, neuron }} />
                }
                <span class="feature-label">{feature.label()}</span>
            </button>
        });
    }
    for (layer, &size) in sizes.iter().enumerate().skip(1) {
        for neuron in 0..size {
            let target = Selection::Bias {
                layer: layer - 1,
                neuron,
            };
            let bias = snapshot.biases[layer - 1][neuron];
            let selected = props.selection == Some(target);
            let style = format!("left:{}px;top:{}px", column_x(layer), node_y(layer, neuron));
            nodes.push(html! {
                <div class={classes!("node", (layer == columns - 1).then_some("output"), selected.then_some("selected"))} {style}
                    data-testid={format!("neuron-{layer}-{neuron}")}
                    data-target={target_attribute(target)} data-neuron={format!("{layer} {neuron}")}
                    title="Drag up or down to change the bias, click to edit it.">
                    <Heatmap snapshot={snapshot.clone()} source={HeatmapSource::Neuron { layer, neuron }} />
                    <span class="bias" style={format!("background:{}", colors::css(bias.clamp(-1.0, 1.0)))} />
                    if let Some(twin) = snapshot.twins.get(layer).and_then(|t| t.get(neuron)).copied().flatten() {
                        <span class="twin" data-testid={format!("twin-{layer}-{neuron}")}
                            title={format!("Identical to neuron {} of this layer: same weights in, same gradient, so they never become different (symmetry).", twin + 1)}>{"="}</span>
                    }
                </div>
            });
        }
    }
    // Always in the page, hidden when nothing is hovered: an element that came and went among
    // the neurons made the diagram's children be matched again, which lost a touch begun on
    // an edge.
    let hover_card = match *hovered {
        Some(target) => {
            let (x, y) = match target {
                Selection::Weight { layer, from, to } => paths
                    .iter()
                    .find(|path| (path.layer, path.from, path.to) == (layer, from, to))
                    .map_or((0.0, 0.0), EdgePath::middle),
                Selection::Bias { layer, neuron } => (
                    column_x(layer + 1) + NODE / 2.0,
                    node_y(layer + 1, neuron) + NODE,
                ),
            };
            let what = match target {
                Selection::Weight { .. } => "Weight",
                Selection::Bias { .. } => "Bias",
            };
            let text = format!("{what} {:.3}", value_of(target));
            (format!("left:{x:.0}px;top:{y:.0}px"), text, false)
        }
        None => (String::new(), String::new(), true),
    };
    let hover_card = html! {
        <div class={classes!("hover-card", hover_card.2.then_some("hidden"))} data-testid="hover-card"
            style={hover_card.0} aria-hidden="true">{hover_card.1}</div>
    };

    let layer_headers = (0..config.hidden_layers.len()).map(|layer| {
        // As wide as the gap between columns (the label wraps, the menu narrows), so that
        // neighbouring layers' controls never overlap.
        let header_width = (gap - 6.0).min(88.0);
        let style = format!(
            "left:{}px;width:{header_width:.0}px",
            column_x(layer + 1) + NODE / 2.0
        );
        html! { <div class="layer-header" {style}>{layer_header(config, layer, &props.send)}</div> }
    });

    html! {
        <section class="column network-column" ref={column_ref}>
            <div class="network-top">
                <button class="small" data-testid="add-layer" disabled={config.hidden_layers.len() >= MAX_HIDDEN_LAYERS}
                    onclick={configure(config, &props.send, |c| { c.hidden_layers.push(2); })}>{"+"}</button>
                <button class="small" data-testid="remove-layer" disabled={config.hidden_layers.is_empty()}
                    onclick={configure(config, &props.send, |c| { c.hidden_layers.pop(); })}>{"−"}</button>
                <span class="layer-count"><span data-testid="layer-count">{config.hidden_layers.len()}</span>{" hidden layers"}</span>
            </div>
            {inspector(props.selection, config, snapshot, &props.send)}
            <div class="network" style={format!("width:{width}px;height:{height}px")}
                tabindex="0" role="group" data-testid="network-diagram"
                aria-label="Network diagram: left and right arrows pick a weight or bias, up and down change it (with Shift in small steps), Enter types a value, Escape lets go"
                onkeydown={keyboard(sizes, props.selection, &value_of, &props.send)}
                onpointerdown={pointer.start_drag()} onpointermove={pointer.move_drag()}
                onpointerup={pointer.end_drag()} onpointercancel={pointer.end_drag()}
                onpointerover={pointer.over()} onpointerleave={pointer.leave()}
                onfocus={
                    let (send, selection) = (props.send.clone(), props.selection);
                    let first = Selection::Weight { layer: 0, from: 0, to: 0 };
                    Callback::from(move |_: FocusEvent| if selection.is_none() { send.emit(Msg::Select(Some(first))) })
                }>
                <EdgeCanvas paths={paths.as_ref().clone()} snapshot={snapshot.clone()} selection={props.selection} {width} {height} />
                <EdgeTargets paths={paths.as_ref().clone()} {width} {height} />
                { for layer_headers }
                {hover_card}
                { for nodes }
            </div>
            if let Some(collapsed) = &snapshot.collapsed {
                {collapsed_view(collapsed, config)}
            }
        </section>
    }
}

/// Where the diagram puts its columns, neurons and edges, in pixels.
struct Layout<'a> {
    sizes: &'a [usize],
    features: &'a [Feature],
    width: f64,
    /// From one column's left to the next one's.
    gap: f64,
    height: f64,
}

impl<'a> Layout<'a> {
    fn new(sizes: &'a [usize], features: &'a [Feature], fitted_width: f64) -> Layout<'a> {
        let columns = sizes.len().max(2);
        // However narrow the column, layers stay far enough apart for their headers' buttons
        // and menus; a diagram wider than its column scrolls within it (phone.css).
        let width = fitted_width.max(NODE + (columns - 1) as f64 * LEAST_GAP);
        let tallest = sizes
            .iter()
            .skip(1)
            .copied()
            .chain([Feature::ALL.len()])
            .max()
            .unwrap_or(1);
        Layout {
            sizes,
            features,
            width,
            gap: (width - NODE) / (columns - 1) as f64,
            height: TOP + 40.0 + tallest as f64 * ROW,
        }
    }

    fn column_x(&self, layer: usize) -> f64 {
        layer as f64 * self.gap
    }

    /// The top of a neuron; input neuron i is drawn on the row of its feature in the full list
    /// of features.
    fn node_y(&self, layer: usize, neuron: usize) -> f64 {
        let row = match layer {
            0 => self
                .features
                .get(neuron)
                .and_then(|feature| Feature::ALL.iter().position(|f| f == feature))
                .unwrap_or(neuron),
            _ => neuron,
        };
        TOP + 40.0 + row as f64 * ROW
    }

    fn edge_paths(&self) -> Vec<EdgePath> {
        let mut paths = Vec::new();
        for (layer, pair) in self.sizes.windows(2).enumerate() {
            for from in 0..pair[0] {
                for to in 0..pair[1] {
                    paths.push(EdgePath {
                        layer,
                        from,
                        to,
                        start: (
                            self.column_x(layer) + NODE,
                            self.node_y(layer, from) + NODE / 2.0,
                        ),
                        end: (
                            self.column_x(layer + 1),
                            self.node_y(layer + 1, to) + NODE / 2.0,
                        ),
                    });
                }
            }
        }
        paths
    }
}

/// The width the diagram takes in the column `column` (once `shown`): as much as the column
/// has, measured when the diagram appears and whenever the window is resized.
#[hook]
fn use_fitted_width(column: &NodeRef, shown: bool) -> f64 {
    let width = use_state_eq(|| FIRST_WIDTH);
    let (column, setter) = (column.clone(), width.setter());
    use_effect_with(shown, move |_| {
        let measure = move || {
            if let Some(element) = column.cast::<Element>() {
                setter.set(diagram_width(element.client_width() as f64));
            }
        };
        measure();
        let listener = EventListener::new(&gloo::utils::window(), "resize", move |_| measure());
        move || drop(listener)
    });
    *width
}

/// The diagram's width in a column `column_width` pixels wide inside its border.
fn diagram_width(column_width: f64) -> f64 {
    (column_width - BESIDE_DIAGRAM).clamp(LEAST_WIDTH, MOST_WIDTH)
}

/// The neuron count and activation controls above hidden layer `layer`.
fn layer_header(config: &PlaygroundConfig, layer: usize, send: &Callback<Msg>) -> Html {
    let neurons = config.hidden_layers[layer];
    let onchange = {
        let config = config.clone();
        send.reform(move |event: Event| {
            let mut config = config.clone();
            let name = event.target_unchecked_into::<HtmlSelectElement>().value();
            if let Some(activation) = Activation::from_key(&name) {
                config.activations[layer] = activation;
            }
            Msg::Configure(Box::new(config))
        })
    };
    html! {
        <>
            <div class="neuron-buttons">
                <button class="small" data-testid={format!("add-neuron-{layer}")} disabled={neurons >= MAX_NEURONS}
                    onclick={configure(config, send, move |c| c.hidden_layers[layer] += 1)}>{"+"}</button>
                <button class="small" data-testid={format!("remove-neuron-{layer}")} disabled={neurons <= 1}
                    onclick={configure(config, send, move |c| c.hidden_layers[layer] -= 1)}>{"−"}</button>
            </div>
            <div class="neuron-count"><span data-testid={format!("neuron-count-{layer}")}>{neurons}</span>{" neurons"}</div>
            <select data-testid={format!("activation-{layer}")} {onchange}
                title={config.activations[layer].title()}>
                { for Activation::ALL.into_iter().map(|a| html! {
                    <option value={a.key()} selected={config.activations[layer] == a}>{a.title()}</option>
                }) }
            </select>
        </>
    }
}

/// The editor of the picked weight or bias: a number field and a slider.
fn inspector(
    selection: Option<Selection>,
    config: &PlaygroundConfig,
    snapshot: &Snapshot,
    send: &Callback<Msg>,
) -> Html {
    let Some(target) = selection else {
        return html! { <div class="inspector hint">{"Click an edge or a neuron to edit its weight or bias; drag it up or down to change it live."}</div> };
    };
    let name = |layer: usize, neuron: usize| {
        crate::playground::session::neuron_name(config, &snapshot.layer_sizes, layer, neuron)
    };
    let (label, value) = match target {
        Selection::Weight { layer, from, to } => (
            format!("Weight {} → {}", name(layer, from), name(layer + 1, to)),
            snapshot.weight(layer, from, to),
        ),
        Selection::Bias { layer, neuron } => (
            format!("Bias of {}", name(layer + 1, neuron)),
            snapshot.biases[layer][neuron],
        ),
    };
    // The number field commits on change (Enter or leaving it) so that typing "0." is not
    // rewritten mid-word; the slider follows the pointer.
    let parse =
        |input: HtmlInputElement| input.value().parse::<f32>().ok().filter(|v| v.is_finite());
    let number = {
        let send = send.clone();
        Callback::from(move |event: Event| {
            if let Some(value) = parse(event.target_unchecked_into()) {
                send.emit(Msg::SetParameter(target, value));
            }
        })
    };
    let slider = {
        let send = send.clone();
        Callback::from(move |event: InputEvent| {
            if let Some(value) = parse(event.target_unchecked_into()) {
                send.emit(Msg::SetParameter(target, value));
            }
        })
    };
    html! {
        <div class="inspector">
            <span>{label.clone()}</span>
            <span class="visually-hidden" aria-live="polite" data-testid="inspector-announcement">{format!("{label}: {value:.3}")}</span>
            <input type="number" step="0.1" data-testid="weight-input" value={format!("{value:.3}")} onchange={number}
                aria-label={label.clone()} />
            <input type="range" min="-5" max="5" step="0.01" value={value.to_string()} oninput={slider}
                aria-label={format!("{label}, as a slider")} />
            <button class="small" aria-label="Stop editing" onclick={send.reform(|_| Msg::Select(None))}>{"×"}</button>
        </div>
    }
}

/// Every weight and bias in the order the keyboard walks them: for each neuron of each layer
/// after the inputs, the weights into it, then its bias.
fn targets(sizes: &[usize]) -> Vec<Selection> {
    let mut all = Vec::new();
    for layer in 0..sizes.len() - 1 {
        for to in 0..sizes[layer + 1] {
            all.extend((0..sizes[layer]).map(|from| Selection::Weight { layer, from, to }));
            all.push(Selection::Bias { layer, neuron: to });
        }
    }
    all
}

/// Weight and bias steps of the arrow keys, without and with Shift.
const KEY_STEP: f32 = 0.1;
const FINE_KEY_STEP: f32 = 0.01;

/// The diagram's keys: ← → pick the previous or next weight or bias (Home and End the first
/// and last), ↑ ↓ change it, Enter moves to the inspector's number field, Escape lets go.
fn keyboard(
    sizes: &[usize],
    selection: Option<Selection>,
    value_of: &dyn Fn(Selection) -> f32,
    send: &Callback<Msg>,
) -> Callback<KeyboardEvent> {
    // The walk's list is made on a key press, not on every frame the diagram is drawn.
    let sizes = sizes.to_vec();
    let value = selection.map(value_of);
    let send = send.clone();
    Callback::from(move |event: KeyboardEvent| {
        let all = targets(&sizes);
        let index = selection.and_then(|s| all.iter().position(|t| *t == s));
        let pick = |index: usize| Msg::Select(Some(all[index]));
        let step = if event.shift_key() {
            FINE_KEY_STEP
        } else {
            KEY_STEP
        };
        let message = match (event.key().as_str(), index, selection.zip(value)) {
            ("ArrowRight", Some(i), _) => pick((i + 1) % all.len()),
            ("ArrowLeft", Some(i), _) => pick((i + all.len() - 1) % all.len()),
            ("ArrowRight" | "ArrowLeft" | "Home", None, _) | ("Home", Some(_), _) => pick(0),
            ("End", _, _) => pick(all.len() - 1),
            ("ArrowUp", _, Some((target, v))) => Msg::SetParameter(target, v + step),
            ("ArrowDown", _, Some((target, v))) => Msg::SetParameter(target, v - step),
            ("Escape", Some(_), _) => Msg::Select(None),
            ("Enter", Some(_), _) => {
                event.prevent_default();
                if let Some(Ok(field)) = gloo::utils::document()
                    .query_selector("[data-testid=weight-input]")
                    .ok()
                    .flatten()
                    .map(|e| e.dyn_into::<HtmlInputElement>())
                {
                    let _ = field.focus();
                    field.select();
                }
                return;
            }
            _ => return,
        };
        event.prevent_default();
        send.emit(message);
    })
}

/// The single layer a stack of linear layers amounts to: x · (W₁ W₂ …) + b.
fn collapsed_view(
    collapsed: &crate::playground::session::CollapsedLayer,
    config: &PlaygroundConfig,
) -> Html {
    let cell = |value: f32| html! { <td>{format!("{value:.3}")}</td> };
    html! {
        <div class="collapsed" data-testid="collapsed-layer">
            <p>{"Every hidden layer is linear, so the whole network is one linear layer: x · (W₁ · W₂ · …) + b. The product matrix:"}</p>
            <table>
                { for collapsed.weights.iter().enumerate().map(|(i, row)| html! {
                    <tr>
                        <th>{config.features.get(i).map_or("?", |f| f.label())}</th>
                        { for row.iter().copied().map(cell) }
                    </tr>
                }) }
                <tr class="bias-row"><th>{"b"}</th>{ for collapsed.biases.iter().copied().map(cell) }</tr>
            </table>
            <p class="hint">{"Its decision boundary is a straight line, however many linear layers are stacked: a non-linear activation is what lets depth help."}</p>
        </div>
    }
}

/// A click handler that applies `change` to a copy of the configuration.
fn configure(
    config: &PlaygroundConfig,
    send: &Callback<Msg>,
    change: impl Fn(&mut PlaygroundConfig) + 'static,
) -> Callback<MouseEvent> {
    let config = config.clone();
    send.reform(move |_| {
        let mut config = config.clone();
        change(&mut config);
        Msg::Configure(Box::new(config))
    })
}

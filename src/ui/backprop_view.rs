//! The backprop stepper page: one training iteration on one example, a step at a time, with the
//! current step lit on the diagram and its formula written out with the engine's numbers.

use super::announcer::Announcer;
use super::app::Msg;
use super::shared::Shared;
use crate::playground::backprop::{self, Focus, Phase, Step, StepKind, Trace, number};
use crate::playground::colors;
use gloo::events::EventListener;
use gloo::timers::callback::Interval;
use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;
use yew::prelude::*;

const WIDTH: f64 = 640.0;
const ROW: f64 = 64.0;
const RADIUS: f64 = 20.0;
const TOP: f64 = 30.0;
/// Above this many neurons the stepper starts in its layer-by-layer mode.
const LARGE_NETWORK: usize = 12;

#[derive(Properties, PartialEq)]
pub struct BackpropViewProps {
    pub trace: Shared<Trace>,
    /// The mini-batch around the traced example, when the batch view is on.
    pub batch: Option<Shared<Vec<Trace>>>,
    /// Which training example is traced, and how many there are.
    pub example: usize,
    pub example_count: usize,
    /// The link gave its own example instead of a training point.
    pub custom_example: bool,
    /// Names of the neurons, layer by layer (inputs first).
    pub names: Shared<Vec<Vec<String>>>,
    pub send: Callback<Msg>,
}

#[component]
pub fn BackpropView(props: &BackpropViewProps) -> Html {
    let trace = &props.trace;
    let neuron_count: usize = trace.neurons.iter().map(Vec::len).sum();
    let layer_by_layer = use_state(|| neuron_count > LARGE_NETWORK);
    let steps = {
        let by_layer = *layer_by_layer;
        use_memo((props.trace.clone(), by_layer), move |(trace, by_layer)| {
            if *by_layer {
                backprop::by_layer(&trace.steps)
            } else {
                trace.steps.clone()
            }
        })
    };
    let last_step = steps.len().saturating_sub(1);
    let current = use_state(|| 0_usize);
    let playing = use_state(|| false);
    let index = (*current).min(last_step);

    // Arrow keys move through the steps.
    {
        let current = current.clone();
        use_effect_with(last_step, move |&last_step| {
            let listener = EventListener::new(&gloo::utils::document(), "keydown", move |event| {
                let Some(key) = event.dyn_ref::<KeyboardEvent>().map(KeyboardEvent::key) else {
                    return;
                };
                match key.as_str() {
                    "ArrowRight" | "ArrowDown" => current.set((*current + 1).min(last_step)),
                    "ArrowLeft" | "ArrowUp" => current.set(current.saturating_sub(1)),
                    _ => {}
                }
            });
            move || drop(listener)
        });
    }
    // Play advances a step every 700 ms until the last.
    {
        let current = current.clone();
        let playing_handle = playing.clone();
        use_effect_with(
            (*playing, index, last_step),
            move |&(playing, index, last_step)| {
                let interval = (playing && index < last_step)
                    .then(|| Interval::new(700, move || current.set((index + 1).min(last_step))));
                if playing && index >= last_step {
                    playing_handle.set(false);
                }
                move || drop(interval)
            },
        );
    }

    let go = |target: usize| {
        let current = current.clone();
        Callback::from(move |_: MouseEvent| current.set(target))
    };
    let jumps = Phase::ALL.into_iter().filter_map(|phase| {
        let first = steps.iter().position(|step| step.phase == phase)?;
        let here = steps.get(index).is_some_and(|s| s.phase == phase);
        Some(html! {
            <button class={classes!("phase", here.then_some("current"))}
                data-testid={format!("jump-{}", phase.title().to_lowercase())} onclick={go(first)}>{phase.title()}</button>
        })
    });
    let step = &steps[index];
    // A click on a neuron opens its own steps in the current phase (the detail of a layer).
    let detail = {
        let trace = props.trace.clone();
        let (layer_by_layer, current) = (layer_by_layer.clone(), current.clone());
        let phase = step.phase;
        Callback::from(move |(layer, neuron): (usize, usize)| {
            let about = |focus: Focus| focus.neuron() == Some((layer, neuron));
            let found = trace
                .steps
                .iter()
                .position(|s| s.phase == phase && about(s.focus));
            if let Some(found) = found.or_else(|| trace.steps.iter().position(|s| about(s.focus))) {
                layer_by_layer.set(false);
                current.set(found);
            }
        })
    };
    let example_buttons = {
        let count = props.example_count.max(1);
        let previous = (props.example + count - 1) % count;
        let next = (props.example + 1) % count;
        let reset = current.clone();
        let pick = move |example: usize| {
            let reset = reset.clone();
            props.send.reform(move |_: MouseEvent| {
                reset.set(0);
                Msg::TraceExample(example)
            })
        };
        html! {
            <div class="example-picker">
                if props.custom_example {
                    <span data-testid="example">{"The lesson's example"}</span>
                } else {
                    <button class="small" data-testid="example-previous" onclick={pick(previous)}>{"◀"}</button>
                    <span data-testid="example">{format!("Example {} of {}", props.example + 1, count)}</span>
                    <button class="small" data-testid="example-next" onclick={pick(next)}>{"▶"}</button>
                }
                <span class="hint">{format!("inputs ({}) · target ({})",
                    trace.inputs.iter().map(|v| number(*v)).collect::<Vec<_>>().join(", "),
                    trace.targets.iter().map(|v| number(*v)).collect::<Vec<_>>().join(", "))}</span>
            </div>
        }
    };
    let toggle_play = {
        let playing = playing.clone();
        Callback::from(move |_: MouseEvent| playing.set(!*playing))
    };
    let apply = {
        let reset = current.clone();
        props.send.reform(move |_: MouseEvent| {
            reset.set(0);
            Msg::ApplyTracedUpdate
        })
    };
    html! {
        <section class="page backprop">
            <div class="backprop-bar">
                {example_buttons}
                <div class="phases">{ for jumps }</div>
                <div class="step-buttons">
                    <button data-testid="step-previous" onclick={go(index.saturating_sub(1))} disabled={index == 0}>{"← Previous"}</button>
                    <button data-testid="step-play" onclick={toggle_play}>{ if *playing { "Pause" } else { "Play" } }</button>
                    <button data-testid="step-next" onclick={go((index + 1).min(last_step))} disabled={index == last_step}>{"Next →"}</button>
                    <span data-testid="step-index">{format!("Step {} of {}", index + 1, steps.len())}</span>
                    <Announcer test_id="step-announcement" text={format!(
                        "Step {} of {}: {}, {:.4}", index + 1, steps.len(), step.title, step.value)} />
                </div>
            </div>
            <div class="backprop-body">
                {diagram(trace, &steps, index, &props.names, &detail)}
                <div class="step-panel">
                    {step_card(step)}
                    <label class="toggle">
                        <input type="checkbox" data-testid="by-layer" checked={*layer_by_layer}
                            onchange={{
                                let layer_by_layer = layer_by_layer.clone();
                                let current = current.clone();
                                Callback::from(move |event: Event| {
                                    current.set(0);
                                    layer_by_layer.set(event.target_unchecked_into::<web_sys::HtmlInputElement>().checked());
                                })
                            }} />
                        {"Step a whole layer at a time"}
                    </label>
                    <label class={classes!("toggle", props.custom_example.then_some("hidden"))}>
                        <input type="checkbox" data-testid="batch-view" checked={props.batch.is_some()}
                            onchange={props.send.reform(|event: Event| Msg::ShowBatch(
                                event.target_unchecked_into::<web_sys::HtmlInputElement>().checked()))} />
                        {"Mini-batch view: per-example gradients and their mean"}
                    </label>
                    if let Some(batch) = &props.batch {
                        {batch_table(batch, step, &props.names)}
                    }
                    if index == last_step {
                        <button class="apply" data-testid="apply-update" onclick={apply}>{"Apply this update to the network"}</button>
                    }
                    <p class="hint">{"Keyboard: ← and → move through the steps. The update shown is plain gradient descent with the playground's learning rate."}</p>
                    <ol class="step-list" tabindex="0" aria-label="Every step of the pass">
                        { for steps.iter().enumerate().map(|(i, s)| html! {
                            <li class={classes!(phase_class(s.phase), (i == index).then_some("current"))}
                                data-testid={format!("step-item-{i}")} onclick={go(i)}>{&s.title}</li>
                        }) }
                    </ol>
                </div>
            </div>
        </section>
    }
}

/// For a gradient or update step: each example's gradients of the weights into the step's
/// neuron, and their mean (what a mini-batch step follows).
fn batch_table(batch: &[Trace], step: &Step, names: &[Vec<String>]) -> Html {
    let Focus::Incoming { layer, neuron } = step.focus else {
        return html! { <p class="hint">{"Go to a gradient or update step to compare the examples of the mini-batch."}</p> };
    };
    if !matches!(step.phase, Phase::Backward | Phase::Update) || batch.is_empty() {
        return html! { <p class="hint">{"Go to a gradient or update step to compare the examples of the mini-batch."}</p> };
    }
    let model_layer = layer - 1;
    let outputs = batch[0].neurons[model_layer].len();
    let inputs = batch[0].weight_gradients[model_layer].len() / outputs;
    let gradients = |trace: &Trace| -> Vec<f32> {
        let mut row: Vec<f32> = (0..inputs)
            .map(|i| trace.weight_gradients[model_layer][i * outputs + neuron])
            .collect();
        row.push(trace.bias_gradients[model_layer][neuron]);
        row
    };
    let rows: Vec<Vec<f32>> = batch.iter().map(gradients).collect();
    let mean: Vec<f32> = (0..=inputs)
        .map(|k| rows.iter().map(|row| row[k]).sum::<f32>() / rows.len() as f32)
        .collect();
    let source = |i: usize| {
        names
            .get(layer - 1)
            .and_then(|n| n.get(i))
            .cloned()
            .unwrap_or_default()
    };
    html! {
        <table class="batch-table" data-testid="batch-table">
            <tr>
                <th>{"example"}</th>
                { for (0..inputs).map(|i| html! { <th>{format!("∂L/∂w({})", source(i))}</th> }) }
                <th>{"∂L/∂b"}</th>
            </tr>
            { for rows.iter().enumerate().map(|(e, row)| html! {
                <tr><td>{format!("#{}", e + 1)}</td>{ for row.iter().map(|g| html! { <td>{number(*g)}</td> }) }</tr>
            }) }
            <tr class="mean-row"><td>{"mean"}</td>{ for mean.iter().map(|g| html! { <td>{number(*g)}</td> }) }</tr>
        </table>
    }
}

fn phase_class(phase: Phase) -> &'static str {
    match phase {
        Phase::Forward => "forward",
        Phase::Loss => "loss",
        Phase::Backward => "backward",
        Phase::Update => "update",
    }
}

fn step_card(step: &Step) -> Html {
    html! {
        <div class={classes!("step-card", phase_class(step.phase))} data-testid="step-card">
            <div class="step-phase">{step.phase.title()}</div>
            <h3 data-testid="step-title">{&step.title}</h3>
            <div class="formula">{&step.formula}</div>
            <div class="equations" data-testid="step-equations">
                { for step.substituted.iter().map(|line| html! { <div>{line}</div> }) }
            </div>
        </div>
    }
}

/// How far the iteration has got at step `index`: which values exist yet.
struct Progress {
    /// Neurons whose output is computed: (layer, neuron) with layer ≥ 1.
    forward_done: Vec<(usize, usize)>,
    /// Neurons whose δ is computed.
    backward_done: Vec<(usize, usize)>,
    loss_done: bool,
}

fn progress(steps: &[Step], sizes: &[usize], index: usize) -> Progress {
    let mut progress = Progress {
        forward_done: Vec::new(),
        backward_done: Vec::new(),
        loss_done: false,
    };
    for step in &steps[..=index] {
        let neurons: Vec<(usize, usize)> = match step.focus {
            Focus::Incoming { layer, neuron } | Focus::Neuron { layer, neuron } => {
                vec![(layer, neuron)]
            }
            Focus::Layer { layer } => (0..sizes[layer]).map(|n| (layer, n)).collect(),
            _ => Vec::new(),
        };
        match step.kind {
            StepKind::Activation => progress.forward_done.extend(neurons),
            StepKind::Loss => progress.loss_done = true,
            StepKind::Delta => progress.backward_done.extend(neurons),
            _ => {}
        }
    }
    progress
}

/// The network as circles and lines, with the values computed so far and the step's focus lit.
/// `on_neuron` receives the neuron clicked, (layer, neuron) with the inputs as layer 0.
fn diagram(
    trace: &Trace,
    steps: &[Step],
    index: usize,
    names: &[Vec<String>],
    on_neuron: &Callback<(usize, usize)>,
) -> Html {
    let sizes: Vec<usize> = std::iter::once(trace.inputs.len())
        .chain(trace.neurons.iter().map(Vec::len))
        .collect();
    let columns = sizes.len() + 1; // the loss gets a column of its own
    let gap = (WIDTH - 2.0 * RADIUS - 40.0) / (columns - 1) as f64;
    let x_of = |layer: usize| RADIUS + 10.0 + layer as f64 * gap;
    let tallest = sizes.iter().copied().max().unwrap_or(1);
    let y_of = |layer: usize, neuron: usize| {
        let offset = (tallest - sizes[layer]) as f64 * ROW / 2.0;
        TOP + RADIUS + offset + neuron as f64 * ROW
    };
    let height = TOP + tallest as f64 * ROW + 20.0;
    let step = &steps[index];
    let done = progress(steps, &sizes, index);
    let lit_neuron = |layer: usize, neuron: usize| match step.focus {
        Focus::Layer { layer: l } => l == layer,
        focus => focus.neuron() == Some((layer, neuron)),
    };
    let lit_edge = |layer: usize, from: usize, to: usize| match step.focus {
        Focus::Incoming { layer: l, neuron } => l == layer + 1 && neuron == to,
        Focus::Outgoing { layer: l, neuron } => l == layer && neuron == from,
        Focus::Layer { layer: l } => {
            l == layer + 1
                && matches!(
                    step.kind,
                    StepKind::WeightedSum | StepKind::ParameterGradients | StepKind::Update
                )
        }
        _ => false,
    };

    let mut edges = Vec::new();
    for layer in 0..sizes.len() - 1 {
        for from in 0..sizes[layer] {
            for to in 0..sizes[layer + 1] {
                let lit = lit_edge(layer, from, to);
                let k = from * sizes[layer + 1] + to;
                let (x1, y1, x2, y2) = (
                    x_of(layer) + RADIUS,
                    y_of(layer, from),
                    x_of(layer + 1) - RADIUS,
                    y_of(layer + 1, to),
                );
                let whole_layer = matches!(step.focus, Focus::Layer { .. });
                let label = match (lit && !whole_layer, step.phase) {
                    (false, _) => None,
                    (true, Phase::Forward) => {
                        Some(format!("w = {}", number(trace.weights[layer][k])))
                    }
                    (true, Phase::Update) => {
                        Some(format!("w → {}", number(trace.new_weights[layer][k])))
                    }
                    (true, _) => Some(format!(
                        "∂L/∂w = {}",
                        number(trace.weight_gradients[layer][k])
                    )),
                };
                edges.push(html! {
                    <g class={classes!("bp-edge", lit.then_some("lit"))}>
                        <line x1={x1.to_string()} y1={y1.to_string()} x2={x2.to_string()} y2={y2.to_string()} />
                        if let Some(label) = label {
                            <text x={((x1 + x2) / 2.0).to_string()} y={((y1 + y2) / 2.0 - 4.0).to_string()} class="edge-label">{label}</text>
                        }
                    </g>
                });
            }
        }
    }
    let mut nodes = Vec::new();
    for (layer, &size) in sizes.iter().enumerate() {
        for neuron in 0..size {
            let (x, y) = (x_of(layer), y_of(layer, neuron));
            let computed = layer == 0 || done.forward_done.contains(&(layer, neuron));
            let value = if layer == 0 {
                trace.inputs[neuron]
            } else {
                trace.neurons[layer - 1][neuron].output
            };
            let delta = (layer > 0 && done.backward_done.contains(&(layer, neuron)))
                .then(|| trace.neurons[layer - 1][neuron].delta);
            let fill = if computed {
                colors::css(value.clamp(-1.0, 1.0))
            } else {
                "#ffffff".to_string()
            };
            let name = names
                .get(layer)
                .and_then(|n| n.get(neuron))
                .cloned()
                .unwrap_or_default();
            nodes.push(html! {
                <g class={classes!("bp-node", lit_neuron(layer, neuron).then_some("lit"))} data-testid={format!("bp-node-{layer}-{neuron}")}
                    onclick={on_neuron.reform(move |_: MouseEvent| (layer, neuron))}>
                    <circle cx={x.to_string()} cy={y.to_string()} r={RADIUS.to_string()} fill={fill} />
                    <text x={x.to_string()} y={(y + 4.0).to_string()} class="node-value">{ if computed { number(value) } else { String::new() } }</text>
                    <text x={x.to_string()} y={(y - RADIUS - 4.0).to_string()} class="node-name">{name}</text>
                    if let Some(delta) = delta {
                        <text x={x.to_string()} y={(y + RADIUS + 13.0).to_string()} class="node-delta">{format!("δ {}", number(delta))}</text>
                    }
                </g>
            });
        }
    }
    let loss_x = x_of(sizes.len());
    let loss_y = y_of(sizes.len() - 1, 0);
    let loss_lit = step.focus == Focus::Loss;
    html! {
        <svg class="bp-diagram" width={WIDTH.to_string()} height={height.to_string()}
            viewBox={format!("0 0 {WIDTH} {height}")} data-testid="bp-diagram">
            { for edges }
            { for nodes }
            <g class={classes!("bp-node", "loss", loss_lit.then_some("lit"))}>
                <rect x={(loss_x - RADIUS).to_string()} y={(loss_y - RADIUS).to_string()} width={(2.0 * RADIUS).to_string()} height={(2.0 * RADIUS).to_string()} />
                <text x={loss_x.to_string()} y={(loss_y + 4.0).to_string()} class="node-value">{ if done.loss_done { number(trace.loss) } else { "L".to_string() } }</text>
                <text x={loss_x.to_string()} y={(loss_y - RADIUS - 4.0).to_string()} class="node-name">{"loss"}</text>
            </g>
        </svg>
    }
}

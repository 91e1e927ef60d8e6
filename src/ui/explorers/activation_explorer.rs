//! The activation explorer: `f` and `f'` of the activations the learner ticks, an x to move with
//! the numbers at that point, where the gradient vanishes, and softmax with a temperature.

use std::cell::RefCell;
use std::rc::Rc;

use crate::engine::{Activation, Described};
use crate::playground::activation_curves::{
    CurvePoint, VANISHING_SLOPE, X_RANGE, argmax, evaluate, pick_x, sample_curve,
    softmax_with_temperature, vanishing_intervals,
};
use crate::playground::page::ACTIVATIONS_INTRODUCTION;
use crate::ui::chart_ink::{color_of, ink};
use plotters::coord::ReverseCoordTranslate;
use plotters::coord::types::RangedCoordf32;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use web_sys::{HtmlCanvasElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Where a chart's data went on its canvas, kept to turn a pointer position back into an x.
type PlotFrame = Cartesian2d<RangedCoordf32, RangedCoordf32>;

const SHOWN_AT_FIRST: [Activation; 3] = [Activation::Sigmoid, Activation::Tanh, Activation::Relu];
const SAMPLES_PER_CURVE: usize = 481;
const VANISHING_FILL: RGBAColor = RGBAColor(208, 75, 42, 0.12);
const VANISHING_INK: RGBColor = color_of(ink::DARK_RED);

/// Each activation's colour, the same on both charts, the legend and the table.
fn colour(activation: Activation) -> RGBColor {
    match activation {
        Activation::Linear => color_of(ink::GREY),
        Activation::Sigmoid => color_of(ink::BLUE),
        Activation::Tanh => color_of(ink::ORANGE),
        Activation::Relu => color_of(ink::GREEN),
        Activation::LeakyRelu => color_of(ink::PURPLE),
        Activation::Gelu => color_of(ink::CRIMSON),
    }
}

fn css_colour(activation: Activation) -> String {
    let RGBColor(r, g, b) = colour(activation);
    format!("rgb({r},{g},{b})")
}

/// Why the learner should care about this activation's shape.
fn lesson(activation: Activation) -> &'static str {
    match activation {
        Activation::Linear => {
            "Slope 1 everywhere: the gradient never vanishes, but a stack of linear layers is \
             still one linear map (W·W' is just another matrix)."
        }
        Activation::Sigmoid => {
            "Squashes any number into (0, 1). Its slope is at most 0.25 (at x = 0), so each \
             sigmoid layer shrinks the gradient at least fourfold; far from 0 it saturates and \
             the gradient all but disappears."
        }
        Activation::Tanh => {
            "Squashes into (−1, 1) and is centred on 0, with slope 1 at x = 0; but like the \
             sigmoid it saturates, and even sooner."
        }
        Activation::Relu => {
            "Slope 1 for every x > 0: no saturation on the right, which is why deep nets train \
             with it. Slope 0 for x < 0: a neuron whose input stays negative gets no gradient \
             at all (a \"dead\" ReLU)."
        }
        Activation::LeakyRelu => {
            "Like ReLU, but keeps a small slope (0.01) for x < 0, so a neuron pushed to the left \
             can still learn its way back."
        }
        Activation::Gelu => {
            "x·Φ(x) weighs x by the probability that a standard normal variable is below it: \
             ReLU-like far from 0, smooth near 0, with a small dip below zero (used in \
             transformers)."
        }
    }
}

#[component]
pub fn ActivationExplorer() -> Html {
    let shown = use_state(|| SHOWN_AT_FIRST.to_vec());
    let focus = use_state(|| Activation::Sigmoid);
    let x = use_state(|| 0.0f32);

    let drawn: Vec<Activation> = Activation::ALL
        .into_iter()
        .filter(|a| shown.contains(a) || *a == *focus)
        .collect();
    let on_pick = {
        let x = x.clone();
        Callback::from(move |requested: f32| x.set(pick_x(requested)))
    };
    let on_slider = on_pick.reform(|event: InputEvent| {
        let input: HtmlInputElement = event.target_unchecked_into();
        input.value().parse().unwrap_or(0.0)
    });
    let on_focus = {
        let (focus, shown) = (focus.clone(), shown.clone());
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            if let Some(activation) = Activation::from_key(&select.value()) {
                if !shown.contains(&activation) {
                    shown.set([shown.as_slice(), &[activation]].concat());
                }
                focus.set(activation);
            }
        })
    };
    let toggle = |activation: Activation| {
        let shown = shown.clone();
        Callback::from(move |_: Event| {
            let mut next: Vec<Activation> =
                shown.iter().copied().filter(|a| *a != activation).collect();
            if next.len() == shown.len() {
                next.push(activation);
            }
            shown.set(next);
        })
    };

    let at_x = evaluate(*focus, *x);
    let words = focus.describe();
    let (formula, derivative_formula) = (words.formula, focus.derivative_formula());
    html! {
        <section class="page explorer activation-explorer">
            <h2>{ACTIVATIONS_INTRODUCTION.heading}</h2>
            <p class="explorer-lead">{ACTIVATIONS_INTRODUCTION.lead}</p>
            <div class="activation-layout">
                <aside class="activation-side">
                    <div class="activation-ticks">
                        { for Activation::ALL.into_iter().map(|activation| html! {
                            <label class="activation-tick" data-testid={format!("show-{}", activation.key())}>
                                <input type="checkbox" checked={drawn.contains(&activation)} onchange={toggle(activation)} />
                                <span class="swatch" style={format!("background:{}", css_colour(activation))}></span>
                                {activation.title()}
                            </label>
                        }) }
                    </div>
                    <div class="control">
                        <label for="activation-choice">{"Look closely at"}</label>
                        <select id="activation-choice" data-testid="activation-choice" onchange={on_focus}>
                            { for Activation::ALL.into_iter().map(|activation| html! {
                                <option value={activation.key()} selected={activation == *focus}>{activation.title()}</option>
                            }) }
                        </select>
                    </div>
                    <div class="formula-card">
                        <div class="formula">{formula}</div>
                        <div class="formula">{derivative_formula}</div>
                        <p class="hint">{lesson(*focus)}</p>
                        <p class="vanishing-note">{vanishing_sentence(*focus)}</p>
                    </div>
                </aside>
                <div class="activation-main">
                    <div class="activation-charts">
                        <ActivationChart drawn={drawn.clone()} focus={*focus} x={*x} curve={Curve::Value} on_pick={on_pick.clone()} />
                        <ActivationChart drawn={drawn.clone()} focus={*focus} x={*x} curve={Curve::Slope} on_pick={on_pick} />
                    </div>
                    <div class="x-picker">
                        <label for="activation-x">{"Move x"}</label>
                        <input id="activation-x" type="range" min={X_RANGE.0.to_string()} max={X_RANGE.1.to_string()} step="0.01"
                            value={x.to_string()} data-testid="activation-x" oninput={on_slider} />
                        <span class="readout">{"x = "}<b data-testid="activation-x-value">{format!("{:.2}", *x)}</b></span>
                        <span class="readout">{format!("{}(x) = ", words.short)}<b data-testid="activation-value">{format!("{:.4}", at_x.value)}</b></span>
                        <span class="readout">{format!("{}'(x) = ", words.short)}<b data-testid="activation-derivative">{format!("{:.4}", at_x.slope)}</b></span>
                    </div>
                    <p class="hint">{"Drag on either chart or move the slider. Solid lines are f, dashed lines are f'; the shaded band is where the focused activation's f' < 0.05."}</p>
                    <table class="at-x-table">
                        <tr><th><span class="visually-hidden">{"activation"}</span></th><th>{format!("f({:.2})", *x)}</th><th>{format!("f'({:.2})", *x)}</th></tr>
                        { for drawn.iter().map(|&activation| {
                            let CurvePoint { value, slope, .. } = evaluate(activation, *x);
                            html! {
                                <tr class={classes!((activation == *focus).then_some("focused"))}>
                                    <td><span class="swatch" style={format!("background:{}", css_colour(activation))}></span>{activation.title()}</td>
                                    <td>{format!("{value:.4}")}</td>
                                    <td>{format!("{slope:.4}")}</td>
                                </tr>
                            }
                        }) }
                    </table>
                </div>
            </div>
            <SoftmaxTemperature />
        </section>
    }
}

/// "f' < 0.05 for x in [-6.00, -2.89] and [2.89, 6.00]", from the engine's slope.
fn vanishing_sentence(activation: Activation) -> String {
    let intervals = vanishing_intervals(activation, X_RANGE.0, X_RANGE.1, VANISHING_SLOPE);
    if intervals.is_empty() {
        return format!(
            "f' never drops below {VANISHING_SLOPE} here: the gradient does not vanish."
        );
    }
    let spans: Vec<String> = intervals
        .iter()
        .map(|(from, to)| format!("[{from:.2}, {to:.2}]"))
        .collect();
    format!(
        "Gradients vanish where f'(x) < {VANISHING_SLOPE}: x in {} (shaded).",
        spans.join(" and ")
    )
}

/// Which of the two charts: the function or its derivative.
#[derive(Clone, Copy, PartialEq)]
enum Curve {
    Value,
    Slope,
}

#[derive(Properties, PartialEq)]
struct ActivationChartProps {
    drawn: Vec<Activation>,
    focus: Activation,
    x: f32,
    curve: Curve,
    on_pick: Callback<f32>,
}

#[component]
fn ActivationChart(props: &ActivationChartProps) -> Html {
    let canvas = use_node_ref();
    let frame: Rc<RefCell<Option<PlotFrame>>> = use_mut_ref(|| None);
    {
        let (canvas, frame) = (canvas.clone(), frame.clone());
        let inputs = (props.drawn.clone(), props.focus, props.x, props.curve);
        use_effect_with(inputs, move |(drawn, focus, x, curve)| {
            if let Some(canvas) = canvas.cast::<HtmlCanvasElement>() {
                *frame.borrow_mut() = draw_activation_chart(canvas, drawn, *focus, *x, *curve);
            }
        });
    }
    let pick = {
        let on_pick = props.on_pick.clone();
        move |event: &PointerEvent| {
            let canvas: HtmlCanvasElement = event.target_unchecked_into();
            let pixel_x = crate::ui::pointer::canvas_pixel(&canvas, event).0 as i32;
            if let Some(frame) = frame.borrow().as_ref() {
                let columns = frame.get_x_axis_pixel_range();
                let rows = frame.get_y_axis_pixel_range();
                let pixel = (
                    pixel_x.clamp(columns.start, columns.end - 1),
                    (rows.start + rows.end) / 2,
                );
                if let Some((x, _)) = frame.reverse_translate(pixel) {
                    on_pick.emit(x);
                }
            }
        }
    };
    let onpointerdown = {
        let pick = pick.clone();
        Callback::from(move |event: PointerEvent| {
            let canvas: HtmlCanvasElement = event.target_unchecked_into();
            let _ = canvas.set_pointer_capture(event.pointer_id());
            pick(&event);
        })
    };
    let onpointermove = Callback::from(move |event: PointerEvent| {
        if event.buttons() & 1 == 1 {
            pick(&event);
        }
    });
    let test_id = match props.curve {
        Curve::Value => "activation-chart",
        Curve::Slope => "derivative-chart",
    };
    html! {
        <canvas ref={canvas} class="activation-chart" width="500" height="330" data-testid={test_id}
            {onpointerdown} {onpointermove} />
    }
}

fn draw_activation_chart(
    canvas: HtmlCanvasElement,
    drawn: &[Activation],
    focus: Activation,
    x: f32,
    curve: Curve,
) -> Option<PlotFrame> {
    let root = CanvasBackend::with_canvas_object(canvas)?.into_drawing_area();
    root.fill(&WHITE).ok()?;
    let (from, to) = X_RANGE;
    let read = |point: &CurvePoint| match curve {
        Curve::Value => point.value,
        Curve::Slope => point.slope,
    };
    let curves: Vec<(Activation, Vec<CurvePoint>)> = drawn
        .iter()
        .map(|&a| (a, sample_curve(a, from, to, SAMPLES_PER_CURVE)))
        .collect();
    // Always show at least [-1, 1] (or [0, 1] for slopes) so that flat curves still read as flat.
    let (floor, ceiling) = match curve {
        Curve::Value => (-1.0f32, 1.0f32),
        Curve::Slope => (0.0, 1.0),
    };
    let (low, high) = curves
        .iter()
        .flat_map(|(_, points)| points.iter().map(read))
        .fold((floor, ceiling), |(low, high), v| (low.min(v), high.max(v)));
    // Headroom above the curves for the "gradients vanish" labels.
    let pad = (high - low) * 0.06;
    let (low, high) = (low - pad, high + 2.5 * pad);
    let title = match curve {
        Curve::Value => "f(x)",
        Curve::Slope => "f'(x)  (dashed)",
    };
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .caption(title, ("sans-serif", 15))
        .x_label_area_size(28)
        .y_label_area_size(40)
        .build_cartesian_2d(from..to, low..high)
        .ok()?;
    chart
        .configure_mesh()
        .x_labels(13)
        .y_labels(8)
        .light_line_style(RGBColor(243, 243, 243))
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .ok()?;

    let bands = vanishing_intervals(focus, from, to, VANISHING_SLOPE);
    chart
        .draw_series(
            bands
                .iter()
                .map(|&(a, b)| Rectangle::new([(a, low), (b, high)], VANISHING_FILL.filled())),
        )
        .ok()?;
    let band_label = TextStyle::from(("sans-serif", 11).into_font())
        .color(&VANISHING_INK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    chart
        .draw_series(bands.iter().filter(|(a, b)| b - a > 1.5).map(|&(a, b)| {
            Text::new(
                "gradients vanish",
                ((a + b) / 2.0, high - pad * 0.3),
                band_label.clone(),
            )
        }))
        .ok()?;

    let axis = BLACK.mix(0.45).stroke_width(1);
    chart
        .draw_series(LineSeries::new([(from, 0.0), (to, 0.0)], axis))
        .ok()?;
    chart
        .draw_series(LineSeries::new([(0.0, low), (0.0, high)], axis))
        .ok()?;
    if curve == Curve::Slope {
        let threshold = VANISHING_INK.mix(0.7).stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new(
                [(from, VANISHING_SLOPE), (to, VANISHING_SLOPE)],
                3,
                3,
                threshold,
            ))
            .ok()?;
    }

    // The focused activation last, so it sits on top.
    let mut order: Vec<&(Activation, Vec<CurvePoint>)> = curves.iter().collect();
    order.sort_by_key(|(a, _)| *a == focus);
    for (activation, points) in order {
        let width = if *activation == focus { 3 } else { 2 };
        let style = colour(*activation).stroke_width(width);
        let line = points.iter().map(|p| (p.x, read(p)));
        match curve {
            Curve::Value => chart.draw_series(LineSeries::new(line, style)).ok()?,
            Curve::Slope => chart
                .draw_series(DashedLineSeries::new(line, 7, 4, style))
                .ok()?,
        };
    }

    let marker = RGBColor(24, 61, 78).mix(0.6).stroke_width(1);
    chart
        .draw_series(LineSeries::new([(x, low), (x, high)], marker))
        .ok()?;
    chart
        .draw_series(drawn.iter().map(|&activation| {
            let point = evaluate(activation, x);
            Circle::new((x, read(&point)), 5, colour(activation).filled())
        }))
        .ok()?;
    let frame = chart.as_coord_spec().clone();
    root.present().ok()?;
    Some(frame)
}

/// Softmax of editable logits divided by a temperature, drawn as bars.
#[component]
fn SoftmaxTemperature() -> Html {
    let logits = use_state(|| vec![2.0f32, 1.0, 0.1, -1.0]);
    let temperature = use_state(|| 1.0f32);
    let probabilities = softmax_with_temperature(&logits, *temperature);
    let largest = argmax(&logits);
    let on_logit = |index: usize| {
        let logits = logits.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Ok(value) = input.value().parse::<f32>() {
                let mut next = (*logits).clone();
                next[index] = value;
                logits.set(next);
            }
        })
    };
    let on_temperature = {
        let temperature = temperature.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Ok(value) = input.value().parse::<f32>() {
                temperature.set(value);
            }
        })
    };
    let labels: Vec<String> = (1..=logits.len()).map(|j| format!("class {j}")).collect();
    html! {
        <div class="softmax-temperature">
            <h3>{"Softmax with a temperature"}</h3>
            <p class="explorer-lead">
                {"The output layer turns its logits z into probabilities: softmax(z / T)ⱼ = e^(zⱼ/T) / Σₖ e^(zₖ/T). \
                  Every probability is positive and they sum to 1. T = 1 is the ordinary softmax used before cross-entropy."}
            </p>
            <div class="softmax-layout">
                <div class="softmax-inputs">
                    { for logits.iter().enumerate().map(|(j, z)| html! {
                        <label class="logit">{format!("z{} ", j + 1)}
                            <input type="number" step="0.1" value={z.to_string()} data-testid={format!("logit-{j}")} oninput={on_logit(j)} />
                        </label>
                    }) }
                    <label class="logit">{"T "}
                        <input type="range" min="0.05" max="5" step="0.05" value={temperature.to_string()}
                            data-testid="temperature" oninput={on_temperature} />
                        <b data-testid="temperature-value">{format!("{:.2}", *temperature)}</b>
                    </label>
                </div>
                <ProbabilityBars labels={labels} probabilities={probabilities} highlight={largest} test_id="softmax-probabilities" />
                <p class="hint softmax-note">
                    {format!("The largest logit is class {}. ", largest.map_or(0, |j| j + 1))}
                    {"As T → 0 the gaps between the zⱼ/T grow without bound and all the probability goes to the largest logit: \
                      softmax becomes argmax, a one-hot vector. As T grows the zⱼ/T shrink towards 0 and the probabilities \
                      flatten towards uniform (1/4 each). Slide T and watch."}
                </p>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ProbabilityBarsProps {
    pub labels: Vec<String>,
    pub probabilities: Vec<f32>,
    /// The bar to draw in the accent colour (the argmax, or the target class).
    #[prop_or_default]
    pub highlight: Option<usize>,
    pub test_id: AttrValue,
}

/// Horizontal bars of probabilities, each with its value to 4 decimals.
#[component]
pub fn ProbabilityBars(props: &ProbabilityBarsProps) -> Html {
    html! {
        <div class="probability-bars" data-testid={props.test_id.clone()}>
            { for props.labels.iter().zip(&props.probabilities).enumerate().map(|(j, (label, p))| html! {
                <div class={classes!("probability-row", (props.highlight == Some(j)).then_some("highlight"))}>
                    <span class="probability-label">{label}</span>
                    <span class="probability-track"><span class="probability-fill" style={format!("width:{:.2}%", p * 100.0)}></span></span>
                    <span class="probability-value">{format!("{p:.4}")}</span>
                </div>
            }) }
        </div>
    }
}

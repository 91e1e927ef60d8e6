//! The loss explorer: MSE, MAE and RMSE of predictions the learner drags, the cross-entropy of a
//! 3-class example with every number substituted, and the course's table of cross-entropies.

use std::cell::RefCell;
use std::rc::Rc;

use super::activation_explorer::ProbabilityBars;
use crate::playground::loss_examples::{
    COURSE_TABLE, COURSE_TABLE_CLASS, PointError, ProblemTwoFeatures, course_table_example,
    cross_entropy_example, largest_error, point_errors, problem_two_logits, regression_losses,
};
use crate::playground::page::LOSSES_INTRODUCTION;
use crate::ui::chart_ink::{color_of, ink};
use plotters::coord::ReverseCoordTranslate;
use plotters::coord::types::RangedCoordf32;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::{HtmlCanvasElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

const TARGETS: [f32; 5] = [1.0, 2.5, 2.0, 3.5, 3.0];
const FIRST_PREDICTIONS: [f32; 5] = [1.5, 2.0, 2.5, 3.0, 3.5];
/// How far "make an outlier" moves the last prediction away from its target.
const OUTLIER_OFFSET: f32 = 4.0;
/// The range a prediction can be dragged over.
const PREDICTION_RANGE: (f32, f32) = (-1.0, 8.0);
const TARGET_INK: RGBColor = color_of(ink::DARK);
const PREDICTION_INK: RGBColor = color_of(ink::BLUE);
const ERROR_INK: RGBColor = color_of(ink::RED);

type PlotFrame = Cartesian2d<RangedCoordf32, RangedCoordf32>;

#[component]
pub fn LossExplorer() -> Html {
    html! {
        <section class="page explorer loss-explorer">
            <h2>{LOSSES_INTRODUCTION.heading}</h2>
            <p class="explorer-lead">{LOSSES_INTRODUCTION.lead}</p>
            <RegressionLosses />
            <ClassificationLoss />
            <CourseTable />
        </section>
    }
}

/// Reads a number input; `None` while what is typed is not (yet) a number.
fn typed_number(event: &InputEvent) -> Option<f32> {
    let input: HtmlInputElement = event.target_unchecked_into();
    input.value().parse().ok().filter(|v: &f32| v.is_finite())
}

#[component]
fn RegressionLosses() -> Html {
    let predictions = use_state(|| FIRST_PREDICTIONS.to_vec());
    let losses = regression_losses(&predictions, &TARGETS);
    let errors = point_errors(&predictions, &TARGETS);
    let set_prediction = {
        let predictions = predictions.clone();
        Callback::from(move |(index, value): (usize, f32)| {
            let mut next = (*predictions).clone();
            next[index] = value.clamp(PREDICTION_RANGE.0, PREDICTION_RANGE.1);
            predictions.set(next);
        })
    };
    let make_outlier = {
        let set_prediction = set_prediction.clone();
        let last = TARGETS.len() - 1;
        Callback::from(move |_: MouseEvent| {
            set_prediction.emit((last, TARGETS[last] + OUTLIER_OFFSET))
        })
    };
    let reset = {
        let predictions = predictions.clone();
        Callback::from(move |_: MouseEvent| predictions.set(FIRST_PREDICTIONS.to_vec()))
    };
    let terms = |term: fn(&PointError) -> f64| {
        errors
            .iter()
            .map(|e| format!("{:.2}", term(e)))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let count = TARGETS.len();
    html! {
        <div class="loss-part">
            <h3>{"Regression: MSE, MAE and RMSE"}</h3>
            <p class="explorer-lead">{"Five targets y (hollow) and the network's predictions ŷ (blue). Drag a blue point up or down, \
                or use the sliders. The red bars are the errors ŷ − y."}</p>
            <div class="regression-layout">
                <RegressionChart predictions={(*predictions).clone()} on_drag={set_prediction.clone()} />
                <div class="regression-side">
                    <table class="point-table" data-testid="regression-table">
                        <tr><th>{"point"}</th><th>{"y"}</th><th>{"ŷ"}</th><th><span class="visually-hidden">{"slider for ŷ"}</span></th><th>{"ŷ − y"}</th><th>{"|ŷ − y|"}</th><th>{"(ŷ − y)²"}</th></tr>
                        { for errors.iter().enumerate().map(|(i, e)| {
                            let on_slide = set_prediction.reform(move |event: InputEvent| (i, typed_number(&event).unwrap_or(0.0)));
                            html! {
                                <tr>
                                    <td>{i + 1}</td>
                                    <td>{format!("{:.2}", TARGETS[i])}</td>
                                    <td>{format!("{:.2}", predictions[i])}</td>
                                    <td><input type="range" min={PREDICTION_RANGE.0.to_string()} max={PREDICTION_RANGE.1.to_string()} step="0.05"
                                        value={predictions[i].to_string()} data-testid={format!("prediction-{i}")} oninput={on_slide}
                                        aria-label={format!("Prediction of point {}", i + 1)} /></td>
                                    <td>{format!("{:+.2}", e.error)}</td>
                                    <td>{share_cell(e.absolute, e.share_of_absolute)}</td>
                                    <td>{share_cell(e.squared, e.share_of_squared)}</td>
                                </tr>
                            }
                        }) }
                    </table>
                    <div class="loss-readouts">
                        <div class="formula">{format!("MAE = ({}) / {count} = ", terms(|e| e.absolute))}<b data-testid="mae">{format!("{:.4}", losses.mean_absolute_error)}</b></div>
                        <div class="formula">{format!("MSE = ({}) / {count} = ", terms(|e| e.squared))}<b data-testid="mse">{format!("{:.4}", losses.mean_squared_error)}</b></div>
                        <div class="formula">{format!("RMSE = √MSE = √{:.4} = ", losses.mean_squared_error)}<b data-testid="rmse">{format!("{:.4}", losses.root_mean_squared_error)}</b></div>
                    </div>
                    <div class="button-row">
                        <button class="explorer-button" data-testid="make-outlier" onclick={make_outlier}>{"Make point 5 an outlier"}</button>
                        <button class="explorer-button" data-testid="reset-predictions" onclick={reset}>{"Reset"}</button>
                    </div>
                    <p class="hint outlier-note" data-testid="outlier-note">{outlier_sentence(&errors)}</p>
                </div>
            </div>
        </div>
    }
}

/// A loss term with a bar for its share of the sum.
fn share_cell(term: f64, share: f64) -> Html {
    html! {
        <span class="share-cell" title={format!("{:.1}% of the sum", share * 100.0)}>
            <span class="share-track"><span class="share-fill" style={format!("width:{:.1}%", share * 100.0)}></span></span>
            {format!("{term:.2}")}
        </span>
    }
}

fn outlier_sentence(errors: &[PointError]) -> String {
    let Some(worst) = largest_error(errors) else {
        return "Every prediction is exact: all three losses are 0.".to_string();
    };
    let e = &errors[worst];
    if (e.share_of_squared - e.share_of_absolute).abs() < 0.005 {
        return format!(
            "All errors have the same size, so each point makes up {:.0}% of both sums. Make one of them an \
             outlier and compare how MSE and MAE react.",
            e.share_of_absolute * 100.0
        );
    }
    format!(
        "Point {} has the largest error (ŷ − y = {:+.2}). It makes up {:.0}% of the sum in MAE but {:.0}% of the \
         sum in MSE: squaring punishes one big error far more than many small ones, so training with MSE chases \
         outliers while MAE barely notices them. RMSE = √MSE is back in the units of y and is never below MAE; \
         the more uneven the errors, the larger the gap.",
        worst + 1,
        e.error,
        e.share_of_absolute * 100.0,
        e.share_of_squared * 100.0
    )
}

#[derive(Properties, PartialEq)]
struct RegressionChartProps {
    predictions: Vec<f32>,
    on_drag: Callback<(usize, f32)>,
}

/// Targets and predictions on a plotters chart; dragging moves the nearest prediction.
#[component]
fn RegressionChart(props: &RegressionChartProps) -> Html {
    let canvas = use_node_ref();
    let frame: Rc<RefCell<Option<PlotFrame>>> = use_mut_ref(|| None);
    let dragged: Rc<RefCell<Option<usize>>> = use_mut_ref(|| None);
    {
        let (canvas, frame) = (canvas.clone(), frame.clone());
        use_effect_with(props.predictions.clone(), move |predictions| {
            if let Some(canvas) = canvas.cast::<HtmlCanvasElement>() {
                *frame.borrow_mut() = draw_regression_chart(canvas, predictions);
            }
        });
    }
    // The point under the pointer, in data coordinates.
    let locate = move |event: &PointerEvent| -> Option<(f32, f32)> {
        let canvas: HtmlCanvasElement = event.target_unchecked_into();
        let (x, y) = crate::ui::pointer::canvas_pixel(&canvas, event);
        let pixel = (x as i32, y as i32);
        let frame = frame.borrow();
        let frame = frame.as_ref()?;
        let (columns, rows) = (
            frame.get_x_axis_pixel_range(),
            frame.get_y_axis_pixel_range(),
        );
        let clamp =
            |p: i32, r: std::ops::Range<i32>| p.clamp(r.start.min(r.end), r.start.max(r.end) - 1);
        frame.reverse_translate((clamp(pixel.0, columns), clamp(pixel.1, rows)))
    };
    let onpointerdown = {
        let (locate, dragged, on_drag) = (locate.clone(), dragged.clone(), props.on_drag.clone());
        Callback::from(move |event: PointerEvent| {
            let canvas: HtmlCanvasElement = event.target_unchecked_into();
            let _ = canvas.set_pointer_capture(event.pointer_id());
            if let Some((x, y)) = locate(&event) {
                let index = (x.round() as usize).clamp(1, TARGETS.len()) - 1;
                *dragged.borrow_mut() = Some(index);
                on_drag.emit((index, snap(y)));
            }
        })
    };
    let onpointermove = {
        let (dragged, on_drag) = (dragged.clone(), props.on_drag.clone());
        Callback::from(move |event: PointerEvent| {
            let index = *dragged.borrow();
            if let (Some(index), Some((_, y))) = (index, locate(&event)) {
                on_drag.emit((index, snap(y)));
            }
        })
    };
    let onpointerup = Callback::from(move |_: PointerEvent| *dragged.borrow_mut() = None);
    html! {
        <canvas ref={canvas} class="regression-chart" width="440" height="330" data-testid="regression-chart"
            {onpointerdown} {onpointermove} onpointerup={onpointerup.clone()} onpointercancel={onpointerup} />
    }
}

/// Dragged predictions move in steps of 0.05, like the sliders.
fn snap(y: f32) -> f32 {
    (y * 20.0).round() / 20.0
}

fn draw_regression_chart(canvas: HtmlCanvasElement, predictions: &[f32]) -> Option<PlotFrame> {
    let root = CanvasBackend::with_canvas_object(canvas)?.into_drawing_area();
    root.fill(&WHITE).ok()?;
    let (low, high) = PREDICTION_RANGE;
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(36)
        .build_cartesian_2d(0.5f32..TARGETS.len() as f32 + 0.5, low..high)
        .ok()?;
    chart
        .configure_mesh()
        .x_labels(TARGETS.len())
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_desc("point")
        .y_labels(10)
        .light_line_style(RGBColor(243, 243, 243))
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .ok()?;
    let points = || {
        TARGETS
            .iter()
            .zip(predictions)
            .enumerate()
            .map(|(i, (&y, &p))| ((i + 1) as f32, y, p))
    };
    for (x, y, p) in points() {
        chart
            .draw_series(LineSeries::new([(x, y), (x, p)], ERROR_INK.stroke_width(3)))
            .ok()?;
    }
    chart
        .draw_series(points().map(|(x, y, _)| Circle::new((x, y), 7, TARGET_INK.stroke_width(2))))
        .ok()?;
    chart
        .draw_series(points().map(|(x, _, p)| Circle::new((x, p), 7, PREDICTION_INK.filled())))
        .ok()?;
    let frame = chart.as_coord_spec().clone();
    root.present().ok()?;
    Some(frame)
}

#[component]
fn ClassificationLoss() -> Html {
    let logits = use_state(|| vec![2.0f32, 1.0, 0.1]);
    let target = use_state(|| 0usize);
    let example = cross_entropy_example(&logits, *target);
    let on_logit = |index: usize| {
        let logits = logits.clone();
        Callback::from(move |event: InputEvent| {
            if let Some(value) = typed_number(&event) {
                let mut next = (*logits).clone();
                next[index] = value;
                logits.set(next);
            }
        })
    };
    let on_target = {
        let target = target.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            if let Ok(class) = select.value().parse() {
                target.set(class);
            }
        })
    };
    let list = |values: &[f32], decimals: usize| {
        values
            .iter()
            .map(|v| format!("{v:.decimals$}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let terms = example
        .target
        .iter()
        .zip(&example.probabilities)
        .map(|(p, q)| format!("{p:.0} · log {q:.4}"))
        .collect::<Vec<_>>()
        .join(" + ");
    let labels: Vec<String> = (0..logits.len()).map(|j| format!("class {j}")).collect();
    html! {
        <div class="loss-part">
            <h3>{"Classification: softmax and cross-entropy"}</h3>
            <p class="explorer-lead">{"A 3-class classifier outputs logits z. Softmax turns them into probabilities q; \
                the correct class is one-hot encoded as p. Cross-entropy H(p, q) = −Σ p(x) log q(x) (natural log) keeps only \
                the correct class's term, so the loss is −log q(correct class)."}</p>
            <div class="classification-layout">
                <div class="softmax-inputs">
                    { for logits.iter().enumerate().map(|(j, z)| html! {
                        <label class="logit">{format!("z{j} ")}
                            <input type="number" step="0.1" value={z.to_string()} data-testid={format!("class-logit-{j}")} oninput={on_logit(j)} />
                        </label>
                    }) }
                    <label class="logit">{"correct class "}
                        <select data-testid="target-class" onchange={on_target}>
                            { for (0..logits.len()).map(|j| html! { <option value={j.to_string()} selected={j == *target}>{j}</option> }) }
                        </select>
                    </label>
                </div>
                <ProbabilityBars labels={labels} probabilities={example.probabilities.clone()} highlight={Some(*target)} test_id="class-probabilities" />
                <div class="cross-entropy-steps">
                    <div class="formula">{format!("p = one-hot({}) = [{}]", *target, list(&example.target, 0))}</div>
                    <div class="formula">{format!("q = softmax({}) = [{}]", list(&logits, 2), list(&example.probabilities, 4))}</div>
                    <div class="formula">{format!("H(p, q) = −({terms})")}</div>
                    <div class="formula">{format!("= −log {:.4} = ", example.probabilities[*target])}<b data-testid="cross-entropy">{format!("{:.4}", example.loss)}</b></div>
                    <p class="hint">{"Raise the correct class's logit and the loss falls towards 0; let another class win and it grows without bound."}</p>
                </div>
            </div>
        </div>
    }
}

#[component]
fn CourseTable() -> Html {
    let rows = use_state(|| COURSE_TABLE.to_vec());
    let edit = |row: usize, set: fn(&mut ProblemTwoFeatures, f32)| {
        let rows = rows.clone();
        Callback::from(move |event: InputEvent| {
            if let Some(value) = typed_number(&event) {
                let mut next = (*rows).clone();
                set(&mut next[row], value);
                rows.set(next);
            }
        })
    };
    let reset = {
        let rows = rows.clone();
        Callback::from(move |_: MouseEvent| rows.set(COURSE_TABLE.to_vec()))
    };
    let feature_input = |row: usize,
                         name: &str,
                         value: f32,
                         set: fn(&mut ProblemTwoFeatures, f32)| {
        html! {
            <td><input type="number" step="0.1" value={value.to_string()} data-testid={format!("course-{name}-{row}")} oninput={edit(row, set)}
                aria-label={format!("{name} of example {}", row + 1)} /></td>
        }
    };
    html! {
        <div class="loss-part">
            <h3>{"The course's table: cross-entropy for problem 2"}</h3>
            <p class="explorer-lead">{"Problem 2: choose class c = 0 when f1 > f2 + f3. The weights c1 = f1, c2 = f2 + f3 \
                (W = [[1, 0], [0, 1], [0, 1]]) solve it. Every row below is of class 0; its loss is −log softmax(c1, c2)₀, computed \
                live by the engine. Edit a feature and watch the loss move."}</p>
            <table class="course-table" data-testid="course-table">
                <tr><th>{"class c"}</th><th>{"f1"}</th><th>{"f2"}</th><th>{"f3"}</th><th>{"c1 = f1"}</th><th>{"c2 = f2 + f3"}</th>
                    <th>{"q(c = 0)"}</th><th>{"cross entropy"}</th></tr>
                { for rows.iter().enumerate().map(|(row, &features)| {
                    let [c1, c2] = problem_two_logits(features);
                    let example = course_table_example(features);
                    html! {
                        <tr>
                            <td>{COURSE_TABLE_CLASS}</td>
                            {feature_input(row, "f1", features.f1, |f, v| f.f1 = v)}
                            {feature_input(row, "f2", features.f2, |f, v| f.f2 = v)}
                            {feature_input(row, "f3", features.f3, |f, v| f.f3 = v)}
                            <td>{format!("{c1:.2}")}</td>
                            <td>{format!("{c2:.2}")}</td>
                            <td>{format!("{:.4}", example.probabilities[COURSE_TABLE_CLASS])}</td>
                            <td class="course-loss" data-testid={format!("course-loss-{row}")}>{format!("{:.4}", example.loss)}</td>
                        </tr>
                    }
                }) }
            </table>
            <button class="explorer-button" data-testid="course-reset" onclick={reset}>{"Back to the course's numbers"}</button>
            <p class="hint course-note">{"As the course says: the first rows are more difficult to classify because f1 is only a \
                little more than f2 + f3, so their loss is larger. The last rows are easier because f1 is a lot more than \
                f2 + f3: the classifier fares better, hence the cross-entropy is lower. Make f1 smaller than f2 + f3 and the \
                example is misclassified: the loss climbs above log 2 ≈ 0.6931."}</p>
        </div>
    }
}

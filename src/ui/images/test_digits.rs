//! A grid of test digits with the model's prediction under each, mistakes outlined in red;
//! the confusion matrix's selected cell narrows it to those digits. Clicking one inspects it.

use std::cell::RefCell;
use std::collections::HashMap;

use super::super::shared::Shared;
use super::value_image::{Scale, ValueImage};
use crate::data::digits::{DigitSet, SIDE};
use crate::playground::images::training::TestReport;
use yew::prelude::*;

/// Digits shown at most.
const SHOWN: usize = 48;

#[derive(Properties, PartialEq)]
pub struct TestDigitsProps {
    pub digits: Shared<DigitSet>,
    /// Indices into `digits` of the test digits, in the report's order.
    pub test: Shared<Vec<usize>>,
    pub report: Shared<TestReport>,
    /// `(truth, predicted)`: only those digits.
    pub filter: Option<(usize, usize)>,
    pub errors_only: bool,
    /// Called with a position in `test`.
    pub on_inspect: Callback<usize>,
    pub inspected: Option<usize>,
}

#[component]
pub fn TestDigits(props: &TestDigitsProps) -> Html {
    // Each digit's image is made once per data set and kept: the page re-renders on every
    // progress report (4 a second), and a new image would repaint its canvas each time.
    let images = use_memo((props.digits.clone(), props.test.clone()), |_| {
        RefCell::new(HashMap::<usize, Shared<Vec<f32>>>::new())
    });
    let image = |index: usize| {
        images
            .borrow_mut()
            .entry(index)
            .or_insert_with(|| Shared::new(props.digits.image_f32(index)))
            .clone()
    };
    let report = &props.report;
    let positions = (0..props.test.len().min(report.predicted.len())).filter(|&position| {
        let truth = usize::from(props.digits.labels[props.test[position]]);
        let predicted = usize::from(report.predicted[position]);
        match props.filter {
            Some(cell) => cell == (truth, predicted),
            None => !props.errors_only || truth != predicted,
        }
    });
    let tiles = positions.take(SHOWN).map(|position| {
        let index = props.test[position];
        let truth = props.digits.labels[index];
        let predicted = report.predicted[position];
        let wrong = truth != predicted;
        let on_inspect = props.on_inspect.clone();
        let inspected = props.inspected == Some(position);
        let confidence = report.confidence[position] * 100.0;
        html! {
            <button type="button" class={classes!("test-digit", wrong.then_some("wrong"), inspected.then_some("inspected"))}
                data-testid="test-digit" data-truth={truth.to_string()} data-predicted={predicted.to_string()}
                aria-pressed={inspected.to_string()}
                aria-label={format!("a {truth}, predicted {predicted}{} ({confidence:.0}% sure): inspect it", if wrong { ", wrong" } else { "" })}
                onclick={Callback::from(move |_| on_inspect.emit(position))}
                title={format!("true {truth}, predicted {predicted} ({confidence:.0}% sure); click to inspect")}>
                <ValueImage values={image(index)} width={SIDE} height={SIDE} scale={Scale::Grey} />
                <span class="test-digit-caption" aria-hidden="true">{predicted}
                    if wrong { <span class="truth">{format!(" ({truth})")}</span> }
                </span>
            </button>
        }
    }).collect::<Html>();
    html! {
        <div class="test-digits" data-testid="test-digits">{tiles}</div>
    }
}

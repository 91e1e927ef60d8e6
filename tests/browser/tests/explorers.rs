//! End-to-end tests of the activation and loss explorers (`#page=activations`, `#page=losses`):
//! the numbers they print come from the engine and match the course.

use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page, selector};
use serde_json::Value;

/// Time for the page to reflect an edit.
const SETTLE: Duration = Duration::from_secs(10);

/// The app open at `hash`, once `ready` (a `data-testid`) is drawn.
async fn explorer(hash: &str, ready: &str) -> Page {
    let page = Page::launch().await;
    page.open(&format!("/{hash}")).await;
    page.wait_for(ready, LOAD_TIMEOUT).await;
    page
}

/// Moves a range slider (or sets any input) like a user dragging it: sets the value, fires `input`.
async fn slide_to(page: &Page, test_id: &str, value: &str) {
    page.execute_with(
        "const e = document.querySelector(arguments[0]); e.value = arguments[1];\
         e.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![
            Value::String(selector(test_id)),
            Value::String(value.to_string()),
        ],
    )
    .await;
}

/// Scrolls the element to the middle of the viewport (for screenshots of the lower sections).
async fn scroll_to(page: &Page, test_id: &str) {
    page.execute_with(
        "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });",
        vec![Value::String(selector(test_id))],
    )
    .await;
}

/// Waits until the element's text reads `expected`.
async fn reads(page: &Page, test_id: &str, expected: &str) {
    page.wait_until(
        &format!("{test_id} reads {expected}"),
        SETTLE,
        async || page.text(test_id).await,
        |text| text == expected,
    )
    .await;
}

#[tokio::test]
async fn activation_explorer_reads_sigmoid_slope_a_quarter_at_zero() {
    let page = explorer("#page=activations", "activation-derivative").await;
    page.select("activation-choice", "sigmoid").await;
    slide_to(&page, "activation-x", "0").await;
    reads(&page, "activation-x-value", "0.00").await;
    reads(&page, "activation-value", "0.5000").await;
    assert_eq!(page.number("activation-derivative").await, 0.25);
    page.screenshot("activation_explorer_sigmoid_at_zero").await;

    // σ'(2) = σ(2)(1 − σ(2)) = 0.1050; tanh'(2) = 1 − tanh²(2) = 0.0707.
    let chart_before = page.canvas_data_url("derivative-chart").await;
    slide_to(&page, "activation-x", "2").await;
    reads(&page, "activation-derivative", "0.1050").await;
    page.wait_until(
        "the derivative chart moves its marker",
        SETTLE,
        async || page.canvas_data_url("derivative-chart").await,
        |chart| *chart != chart_before,
    )
    .await;
    page.select("activation-choice", "tanh").await;
    reads(&page, "activation-derivative", "0.0707").await;
    page.select("activation-choice", "gelu").await;
    // GELU(2) = 2 Φ(2) = 1.9545 (PyTorch's F.gelu).
    reads(&page, "activation-value", "1.9545").await;
    page.screenshot("activation_explorer_gelu_at_two").await;
}

#[tokio::test]
async fn softmax_temperature_tends_to_argmax() {
    let page = explorer("#page=activations", "softmax-probabilities").await;
    let probabilities = page.text("softmax-probabilities").await;
    // softmax(2, 1, 0.1, −1).
    for expected in ["0.6381", "0.2347", "0.0954", "0.0318"] {
        assert!(
            probabilities.contains(expected),
            "{expected} missing from {probabilities:?}"
        );
    }
    slide_to(&page, "temperature", "0.05").await;
    page.wait_until(
        "softmax at T = 0.05 is one-hot on the largest logit",
        SETTLE,
        async || page.text("softmax-probabilities").await,
        |text| text.contains("1.0000") && text.contains("0.0000"),
    )
    .await;
    scroll_to(&page, "softmax-probabilities").await;
    page.screenshot("softmax_temperature_near_zero").await;
}

#[tokio::test]
async fn loss_explorer_reproduces_the_course_table() {
    let page = explorer("#page=losses", "course-table").await;
    let table = page.text("course-table").await;
    for expected in ["0.6444", "0.2873", "0.1155", "0.0022"] {
        assert!(
            table.contains(expected),
            "{expected} missing from {table:?}"
        );
    }
    scroll_to(&page, "course-table").await;
    page.screenshot("loss_explorer_course_table").await;

    // Row 1 with f1 = 5 is row 2 of the course.
    page.type_into("course-f1-0", "5").await;
    reads(&page, "course-loss-0", "0.2873").await;
    page.click("course-reset").await;
    reads(&page, "course-loss-0", "0.6444").await;
}

#[tokio::test]
async fn an_outlier_moves_mse_far_more_than_mae() {
    let page = explorer("#page=losses", "mse").await;
    // Five errors of ±0.5.
    reads(&page, "mae", "0.5000").await;
    reads(&page, "mse", "0.2500").await;
    reads(&page, "rmse", "0.5000").await;

    // Errors 0.5 × 4 and 4: MAE = 6/5, MSE = (4 × 0.25 + 16)/5, RMSE = √3.4.
    page.click("make-outlier").await;
    reads(&page, "mae", "1.2000").await;
    reads(&page, "mse", "3.4000").await;
    reads(&page, "rmse", "1.8439").await;

    // The cross-entropy of the 3-class example is −log q(target).
    reads(&page, "cross-entropy", "0.4170").await;
    page.select("target-class", "2").await;
    reads(&page, "cross-entropy", "2.3170").await;
    scroll_to(&page, "cross-entropy").await;
    page.screenshot("loss_explorer_outlier_and_cross_entropy")
        .await;
}

#[tokio::test]
async fn dragging_on_the_charts_moves_x_and_a_prediction() {
    let page = explorer("#page=activations", "activation-chart").await;
    reads(&page, "activation-x-value", "0.00").await;
    // From the middle of the f(x) chart 120 px to the right: x moves to about +3.
    page.drag("activation-chart", 120.0, 0.0).await;
    page.wait_until(
        "x moves right after dragging on the chart",
        SETTLE,
        async || page.number("activation-x-value").await,
        |x| *x > 1.0,
    )
    .await;

    page.open("/#page=losses").await;
    page.wait_for("regression-chart", LOAD_TIMEOUT).await;
    let mse_before = page.text("mse").await;
    // Grab the middle point (point 3) and pull it 80 px upwards, away from its target.
    page.drag("regression-chart", 0.0, -80.0).await;
    page.wait_until(
        "MSE changes after dragging a prediction",
        SETTLE,
        async || page.text("mse").await,
        |mse| *mse != mse_before,
    )
    .await;
    page.screenshot("loss_explorer_dragged_prediction").await;
}

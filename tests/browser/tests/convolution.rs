//! The convolution page (`#page=convolution`) in the real page: the course's four 2×2 kernels
//! on [[10, 3], [6, 7]], one step of the window with its products, a combination that does not
//! fit, and the course's average pooling, with a screenshot of each.

use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page};

/// Time for the page to reflect a click or an edit.
const SETTLE: Duration = Duration::from_secs(10);

async fn open_convolution() -> Page {
    let page = Page::launch().await;
    page.open("/#page=convolution").await;
    page.wait_for("convolution-page", LOAD_TIMEOUT).await;
    page
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
async fn four_2x2_kernels_on_10_3_6_7_give_17_9_13_13() {
    let page = open_convolution().await;
    page.click("conv-preset-course-four-kernels").await;
    reads(
        &page,
        "conv-formula",
        "n_out = (n_in + 2p − k)/s + 1 = (2 + 2·0 − 2)/1 + 1 = 1",
    )
    .await;
    page.click("conv-finish").await;
    reads(&page, "conv-out-0-0", "17").await;
    reads(&page, "conv-out-1-0-0", "9").await;
    reads(&page, "conv-out-2-0-0", "13").await;
    reads(&page, "conv-out-3-0-0", "13").await;
    page.screenshot("convolution_four_kernels").await;
}

#[tokio::test]
async fn one_step_writes_out_the_first_window_and_fills_the_first_cell() {
    let page = open_convolution().await;
    reads(
        &page,
        "conv-formula",
        "n_out = (n_in + 2p − k)/s + 1 = (5 + 2·0 − 3)/1 + 1 = 3",
    )
    .await;
    reads(&page, "conv-out-0-0", "").await;
    page.click("conv-step").await;
    reads(&page, "conv-out-0-0", "4").await;
    reads(&page, "conv-out-0-1", "").await;
    let products = page.text("conv-products").await;
    assert!(
        products.contains("1×1 + 1×0 + 1×1") && products.contains("sum 4 + bias 0 = 4"),
        "{products}"
    );
    // A screen reader hears the cell just computed.
    page.wait_until(
        "the first cell announced",
        LOAD_TIMEOUT,
        async || page.text("conv-announcement").await,
        |said| said.starts_with("output channel 0, cell (0, 0) = 4; 1 of "),
    )
    .await;
    page.screenshot("convolution_first_step").await;

    // Padding 1: the first window hangs over the grey zeros.
    page.select("conv-padding", "1").await;
    reads(
        &page,
        "conv-formula",
        "n_out = (n_in + 2p − k)/s + 1 = (5 + 2·1 − 3)/1 + 1 = 5",
    )
    .await;
    page.click("conv-step").await;
    reads(&page, "conv-out-0-0", "2").await;
    assert!(page.text("conv-products").await.contains("0×1 + 0×0 + 0×1"));
}

#[tokio::test]
async fn a_kernel_that_does_not_fit_is_refused_with_the_formula() {
    let page = open_convolution().await;
    page.select("conv-kernel-size", "4").await;
    page.select("conv-stride", "2").await;
    page.wait_for("conv-error", SETTLE).await;
    let error = page.text("conv-error").await;
    assert!(
        error.contains("(5 + 0 - 4)/2 + 1") && error.contains("not a whole number"),
        "{error}"
    );
    assert!(
        page.text("conv-formula")
            .await
            .ends_with("= 1.5 is not a whole number")
    );
    page.screenshot("convolution_does_not_fit").await;
    page.select("conv-stride", "1").await;
    page.wait_until(
        "the error goes away",
        SETTLE,
        async || page.exists("conv-error").await,
        |shown| !shown,
    )
    .await;
}

#[tokio::test]
async fn the_course_pooling_example_averages_to_3_25_and_maxes_to_4() {
    let page = open_convolution().await;
    page.click("pool-preset-average").await;
    page.click("pool-step").await;
    reads(&page, "pool-out-0-0", "3.25").await;
    reads(
        &page,
        "pool-working",
        "Output cell (0, 0): (4 + 3 + 2 + 4)/4 = 3.25",
    )
    .await;
    page.click("pool-finish").await;
    reads(&page, "pool-out-0-1", "2.25").await;
    reads(&page, "pool-out-1-0", "2").await;
    reads(&page, "pool-out-1-1", "1").await;
    page.execute("document.querySelector('[data-testid=\"pooling-section\"]').scrollIntoView();")
        .await;
    page.screenshot("pooling_average").await;

    page.click("pool-preset-max").await;
    page.click("pool-step").await;
    page.click("pool-step").await;
    reads(&page, "pool-out-0-1", "3").await;
    // The window (0, 2)–(1, 3) holds 1, 3, 3, 2: the first 3, top right, is the max.
    let marked = page
        .execute(
            "return document.querySelector('[data-testid=\"pool-input-0-3\"]')\
                .parentElement.classList.contains('max-cell');",
        )
        .await;
    assert_eq!(marked, serde_json::Value::Bool(true));
    page.screenshot("pooling_max").await;
}

#[tokio::test]
async fn backward_accumulates_dl_dk_and_routes_pooling_gradients() {
    let page = open_convolution().await;
    page.click("conv-backward").await;
    page.wait_for("conv-grad-kernel", SETTLE).await;
    reads(&page, "conv-dk-0-0", "0").await;
    page.click("conv-step").await;
    // dL/dout = 1 on the first window [[1, 1, 1], [0, 1, 1], [0, 0, 1]].
    reads(&page, "conv-dk-0-0", "1").await;
    reads(&page, "conv-dk-1-0", "0").await;
    let products = page.text("conv-grad-products").await;
    assert!(
        products.contains("1×1 = 1, 1×1 = 1, 1×1 = 1 | 1×0 = 0")
            && products.contains("dL/db0 += 1 → 1"),
        "{products}"
    );
    page.click("conv-finish").await;
    // Σ of the nine windows' top-left inputs, and nine cells for the bias.
    reads(&page, "conv-dk-0-0", "6").await;
    reads(&page, "conv-db-0", "dL/db = 9").await;
    page.wait_for("conv-grad-check", SETTLE).await;
    assert!(
        page.text("conv-grad-check")
            .await
            .contains("engine's dL/dK")
    );
    page.screenshot("convolution_backward").await;

    page.click("pool-preset-max").await;
    page.click("pool-step").await;
    reads(&page, "pool-dx-0-0", "1").await;
    reads(&page, "pool-dx-1-1", "0").await;
    page.click("pool-finish").await;
    reads(&page, "pool-dx-0-3", "1").await;
    reads(&page, "pool-dx-2-1", "1").await;
    reads(&page, "pool-dx-0-1", "0").await;
    page.click("pool-preset-average").await;
    page.click("pool-finish").await;
    for (r, c) in [(0, 0), (1, 2), (3, 3)] {
        reads(&page, &format!("pool-dx-{r}-{c}"), "0.25").await;
    }
    page.wait_for("pool-grad-check", SETTLE).await;
    page.execute("document.querySelector('[data-testid=\"pooling-section\"]').scrollIntoView();")
        .await;
    page.screenshot("pooling_backward").await;
}

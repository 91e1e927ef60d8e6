//! End-to-end tests of the optimizer race page (`#page=optimizers`) in headless Chromium.
//!
//! Run one at a time (`--test-threads=1`), after `cargo xtask build`.

use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page};

const SETTLE: Duration = Duration::from_secs(10);
const OPTIMIZERS: [&str; 5] = ["sgd", "momentum", "adagrad", "rmsprop", "adam"];

/// The race page, once its wasm has loaded and the plot is drawn.
async fn race_page() -> Page {
    let page = Page::launch().await;
    page.open("/#page=optimizers").await;
    page.wait_for("race-step", LOAD_TIMEOUT).await;
    page.wait_for("race-plot", LOAD_TIMEOUT).await;
    page
}

async fn loss_of(page: &Page, optimizer: &str) -> f64 {
    page.number(&format!("race-loss-{optimizer}")).await
}

#[tokio::test]
async fn ten_steps_move_every_optimizer_downhill() {
    let page = race_page().await;
    assert_eq!(page.integer("race-steps").await, 0);
    let start_loss = loss_of(&page, "sgd").await;
    let plot_before = page.canvas_data_url("race-plot").await;

    for _ in 0..10 {
        page.click("race-step").await;
    }
    page.wait_until(
        "race-steps reads 10",
        SETTLE,
        async || page.integer("race-steps").await,
        |steps| *steps == 10,
    )
    .await;
    for optimizer in OPTIMIZERS {
        let loss = loss_of(&page, optimizer).await;
        assert!(
            loss.is_finite() && loss < start_loss,
            "{optimizer}: loss {loss} after 10 steps, {start_loss} at the start"
        );
    }
    assert_ne!(
        page.canvas_data_url("race-plot").await,
        plot_before,
        "the paths were not drawn"
    );
    page.screenshot("optimizer_race_ten_steps").await;

    page.click("race-reset").await;
    page.wait_until(
        "race-steps reads 0 after reset",
        SETTLE,
        async || page.integer("race-steps").await,
        |steps| *steps == 0,
    )
    .await;
    assert_eq!(loss_of(&page, "adam").await, start_loss);
}

#[tokio::test]
async fn playing_races_adam_to_the_bowls_minimum() {
    let page = race_page().await;
    page.click("race-play").await;
    page.wait_until(
        "Adam reaches the minimum while playing",
        Duration::from_secs(30),
        async || page.text("race-status-adam").await,
        |status| status.contains("minimum"),
    )
    .await;
    page.screenshot("optimizer_race_playing").await;
    page.click("race-play").await;
    let paused_at = page.integer("race-steps").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        page.integer("race-steps").await,
        paused_at,
        "the race kept running after pause"
    );
    // Adam hovers around the minimum once there; far below the start's 10.025 is enough.
    let adam = loss_of(&page, "adam").await;
    assert!(adam < 0.1, "Adam's loss {adam} after reaching the minimum");
}

#[tokio::test]
async fn the_course_example_gives_the_slides_numbers() {
    let page = race_page().await;
    page.select("race-surface", "course").await;
    page.click("race-course-example").await;
    page.wait_until(
        "SGD's loss reads 7 at x = 2",
        SETTLE,
        async || page.text("race-loss-sgd").await,
        |loss| loss == "7.0000",
    )
    .await;
    page.click("race-step").await;
    page.wait_until(
        "SGD's loss reads 6.8416 after one step at rate 0.01",
        SETTLE,
        async || page.text("race-loss-sgd").await,
        |loss| loss == "6.8416",
    )
    .await;
    page.screenshot("optimizer_race_course_example").await;
}

#[tokio::test]
async fn a_huge_rate_marks_sgd_diverged_and_a_click_restarts_the_race() {
    let page = race_page().await;
    page.select("race-surface", "himmelblau").await;
    page.select("race-learning-rate-sgd", "10").await;
    for _ in 0..5 {
        page.click("race-step").await;
    }
    page.wait_until(
        "SGD is marked diverged",
        SETTLE,
        async || page.text("race-status-sgd").await,
        |status| status == "diverged",
    )
    .await;
    assert!(
        loss_of(&page, "adam").await.is_finite(),
        "Adam should run on beside a diverged SGD"
    );
    page.screenshot("optimizer_race_sgd_diverged").await;

    // The plot's centre is (0, 0) on Himmelblau's view, where the loss is 17.0.
    page.press("race-plot").await;
    page.wait_until(
        "race-steps reads 0 after choosing a start",
        SETTLE,
        async || page.integer("race-steps").await,
        |steps| *steps == 0,
    )
    .await;
    for optimizer in OPTIMIZERS {
        let loss = loss_of(&page, optimizer).await;
        assert!(
            (loss - 17.0).abs() < 0.5,
            "{optimizer}: loss {loss} at the clicked start, expected about 17"
        );
    }
    assert_eq!(page.text("race-status-sgd").await, "");
}

//! The backprop stepper in the real page: it walks one training iteration step by step and its
//! last step applies the update to the network.

use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page};

const SETTLE: Duration = Duration::from_secs(10);

async fn stepper(hash: &str) -> Page {
    let page = Page::launch().await;
    page.open(hash).await;
    page.wait_for("step-card", LOAD_TIMEOUT).await;
    page
}

#[tokio::test]
async fn the_stepper_walks_forward_loss_backward_and_update() {
    let page = stepper("/#page=backprop&layers=3,2").await;
    assert_eq!(page.text("step-index").await, "Step 1 of 41");
    let first = page.text("step-equations").await;
    assert!(first.starts_with("a = "), "{first}");

    page.click("step-next").await;
    page.wait_until(
        "the second step is an activation",
        SETTLE,
        async || page.text("step-title").await,
        |t| t.starts_with("Activation of H1.1"),
    )
    .await;

    page.click("jump-loss").await;
    let loss = page.text("step-equations").await;
    assert!(loss.starts_with("L = "), "{loss}");

    page.click("jump-backward").await;
    let title = page.text("step-title").await;
    assert!(title.contains("Gradient of the loss"), "{title}");
    page.screenshot("backprop_backward_step").await;

    page.click("jump-update").await;
    let update = page.text("step-equations").await;
    assert!(update.contains("←"), "{update}");
}

#[tokio::test]
async fn applying_the_update_changes_the_network_and_starts_again() {
    let page = stepper("/#page=backprop&layers=2").await;
    let last = page.text("step-index").await;
    let total: usize = last.rsplit(' ').next().unwrap().parse().unwrap();
    page.click(&format!("step-item-{}", total - 1)).await;
    page.wait_for("apply-update", SETTLE).await;
    page.click("jump-forward").await;
    let before = page.text("step-equations").await;
    page.click(&format!("step-item-{}", total - 1)).await;
    page.click("apply-update").await;
    page.wait_until(
        "the first step shows the new weights",
        SETTLE,
        async || page.text("step-equations").await,
        |now| now.starts_with("a = ") && *now != before,
    )
    .await;
    page.screenshot("backprop_after_update").await;
}

#[tokio::test]
async fn arrow_keys_move_through_the_steps() {
    let page = stepper("/#page=backprop&layers=2").await;
    page.execute("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight'}));")
        .await;
    page.wait_until(
        "the arrow moved one step",
        SETTLE,
        async || page.text("step-index").await,
        |t| t.starts_with("Step 2 of"),
    )
    .await;
    page.execute("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowLeft'}));")
        .await;
    page.wait_until(
        "back at the first step",
        SETTLE,
        async || page.text("step-index").await,
        |t| t.starts_with("Step 1 of"),
    )
    .await;
}

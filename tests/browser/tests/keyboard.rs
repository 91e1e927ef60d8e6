//! The product without a mouse: Tab reaches each control with a visible focus ring, and the
//! keyboard alone trains XOR, changes a weight in the network diagram, steps through
//! backpropagation, trains LeNet-5 and draws a digit. No test here sends a pointer event.

use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page, first_number, keys};

/// The value the inspector announces for the picked weight or bias ("Weight …: 0.123").
async fn announced_value(page: &Page) -> f64 {
    let text = page.text("inspector-announcement").await;
    let value = text.rsplit(": ").next().unwrap_or_default();
    value
        .parse()
        .unwrap_or_else(|_| panic!("no value in the announcement {text:?}"))
}

#[tokio::test]
async fn xor_trains_and_a_weight_changes_from_the_keyboard() {
    let page = Page::launch().await;
    page.open("/#dataset=xor&learningRate=0.1").await;
    page.wait_for("play", LOAD_TIMEOUT).await;

    // Play and pause with the keyboard.
    page.tab_to("play").await;
    assert!(page.focus_is_visible().await, "Play shows no focus ring");
    page.press_keys(keys::ENTER).await;
    page.wait_until(
        "XOR's test loss under 0.2",
        Duration::from_secs(60),
        async || page.number("loss-test").await,
        |loss| *loss < 0.2,
    )
    .await;
    page.press_keys(keys::ENTER).await;

    // The diagram: focusing it picks the first weight; arrows change and move.
    page.tab_to("network-diagram").await;
    assert!(
        page.focus_is_visible().await,
        "the diagram shows no focus ring"
    );
    let first = page.text("inspector-announcement").await;
    assert!(first.starts_with("Weight"), "{first}");
    let before = announced_value(&page).await;
    for _ in 0..3 {
        page.press_keys(keys::UP).await;
    }
    let after = announced_value(&page).await;
    assert!(
        (after - before - 0.3).abs() < 0.002,
        "three ↑ should add 0.3: {before} → {after}"
    );
    page.press_keys(&format!("{}{}", keys::SHIFT, keys::DOWN))
        .await;
    let fine = announced_value(&page).await;
    assert!(
        (after - fine - 0.01).abs() < 0.002,
        "Shift+↓: {after} → {fine}"
    );
    page.press_keys(keys::RIGHT).await;
    page.screenshot("keyboard-network-diagram").await;
    let next = page.text("inspector-announcement").await;
    assert_ne!(next, first, "→ did not move to the next weight");
    // Enter moves into the number field; a typed value is taken.
    page.press_keys(keys::ENTER).await;
    assert_eq!(page.focused().await, "weight-input");
    page.press_keys(&format!("1.5{}", keys::ENTER)).await;
    page.wait_until(
        "the typed weight",
        LOAD_TIMEOUT,
        async || announced_value(&page).await,
        |value| (*value - 1.5).abs() < 1e-6,
    )
    .await;
}

#[tokio::test]
async fn backprop_steps_from_the_keyboard() {
    let page = Page::launch().await;
    page.open("/#page=backprop").await;
    page.wait_for("step-next", LOAD_TIMEOUT).await;
    page.tab_to("step-next").await;
    assert!(page.focus_is_visible().await, "Next shows no focus ring");
    for _ in 0..3 {
        page.press_keys(keys::ENTER).await;
    }
    let shown = page.text("step-index").await;
    assert!(shown.starts_with("Step 4 of"), "{shown}");
}

#[tokio::test]
async fn lenet_trains_from_the_keyboard() {
    let page = Page::launch().await;
    page.open("/#page=images").await;
    page.wait_for("images-train", LOAD_TIMEOUT).await;
    page.wait_until_enabled("images-train", Duration::from_secs(60))
        .await;
    page.tab_to("images-train").await;
    assert!(page.focus_is_visible().await, "Train shows no focus ring");
    page.press_keys(keys::SPACE).await;
    let accuracy = page
        .wait_until(
            "a test accuracy above 80%",
            Duration::from_secs(240),
            async || first_number(&page.text("test-accuracy").await).unwrap_or(0.0),
            |accuracy| *accuracy > 80.0,
        )
        .await;
    eprintln!("LeNet-5 trained from the keyboard to {accuracy}%");

    // The confusion matrix is one tab stop; the arrows move between its cells and Enter shows a
    // cell's digits.
    page.tab_to("confusion-0-0").await;
    assert!(page.focus_is_visible().await, "a cell shows no focus ring");
    page.press_keys(&format!("{}{}", keys::RIGHT, keys::DOWN))
        .await;
    assert_eq!(page.focused().await, "confusion-1-1");
    page.press_keys(&format!("{}{}", keys::UP, keys::ENTER))
        .await;
    assert_eq!(page.focused().await, "confusion-0-1");
    let pressed = page
        .execute("return document.querySelector('[data-testid=confusion-0-1] button').getAttribute('aria-pressed');")
        .await;
    assert_eq!(pressed, "true", "Enter did not select the cell");
    page.press_keys(keys::ENTER).await;
    // A whole row and column takes one Tab: the next stop is past the matrix.
    page.press_keys(keys::TAB).await;
    assert!(
        !page.focused().await.starts_with("confusion-"),
        "Tab stayed in the matrix"
    );

    // A test digit is inspected, then put on the draw pad to change by hand.
    page.tab_to("test-digit").await;
    assert!(
        page.focus_is_visible().await,
        "a test digit shows no focus ring"
    );
    page.press_keys(keys::ENTER).await;
    assert!(page.text("layer-view").await.contains("Test digit"));
    page.tab_to("draw-over").await;
    page.press_keys(keys::ENTER).await;
    page.wait_for("probabilities", LOAD_TIMEOUT).await;
    assert!(page.text("layer-view").await.contains("Your digit"));

    // A digit drawn with the keyboard's pen (a vertical stroke: a one) is classified.
    page.tab_back_to("draw-clear").await;
    page.press_keys(keys::ENTER).await;
    page.tab_to("draw-pad").await;
    assert!(page.focus_is_visible().await, "the pad shows no focus ring");
    page.press_keys(&format!("{}{}", keys::UP, keys::UP)).await;
    for _ in 0..6 {
        page.press_keys(&format!("{}{}", keys::SHIFT, keys::DOWN))
            .await;
    }
    page.wait_for("probabilities", LOAD_TIMEOUT).await;
    assert!(page.text("layer-view").await.contains("Your digit"));
    // Delete erases the cell under the pen, and the digit is read again: what the network sees
    // changes (its probabilities may not, when it is sure at four decimals either way).
    let before = page.canvas_data_url("draw-preview").await;
    page.press_keys(keys::DELETE).await;
    page.wait_until(
        "the digit the network sees after an erasure",
        LOAD_TIMEOUT,
        async || page.canvas_data_url("draw-preview").await,
        |after| *after != before,
    )
    .await;
}

#[tokio::test]
async fn the_optimizer_race_starts_where_the_keyboard_puts_it() {
    let page = Page::launch().await;
    page.open("/#page=optimizers").await;
    page.wait_for("race-plot", LOAD_TIMEOUT).await;
    let name = async || {
        page.execute(
            "return document.querySelector('[data-testid=race-plot]').getAttribute('aria-label');",
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    };
    page.tab_to("race-plot").await;
    assert!(
        page.focus_is_visible().await,
        "the plot shows no focus ring"
    );
    let before = name().await;
    page.press_keys(&format!("{}{}", keys::RIGHT, keys::UP))
        .await;
    let after = name().await;
    assert_ne!(before, after, "the arrows did not move the start");
    let x_of = |label: &str| first_number(label.split("x = ").nth(1).unwrap_or_default());
    assert!(
        x_of(&after) > x_of(&before),
        "→ should move the start right: {before} / {after}"
    );
}

#[tokio::test]
async fn the_model_builder_reorders_layers_from_the_keyboard() {
    let page = Page::launch().await;
    page.open("/#page=images").await;
    page.wait_for("layer-1", LOAD_TIMEOUT).await;
    let kind = async |index: usize| {
        page.execute_with(
            "return document.querySelector(`[data-testid=layer-${arguments[0]}] .layer-kind`).textContent;",
            vec![serde_json::Value::from(index)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    };
    let (first, second) = (kind(0).await, kind(1).await);
    assert_ne!(first, second, "LeNet-5's first two layers differ");
    page.tab_to("layer-0-down").await;
    assert!(page.focus_is_visible().await, "↓ shows no focus ring");
    page.press_keys(keys::ENTER).await;
    page.wait_until(
        "the first layer moved down",
        LOAD_TIMEOUT,
        async || (kind(0).await, kind(1).await),
        |order| *order == (second.clone(), first.clone()),
    )
    .await;
}

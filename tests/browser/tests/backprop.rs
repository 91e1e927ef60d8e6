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

#[tokio::test]
async fn the_course_lesson_shows_the_worked_numbers() {
    // The widely published 2-2-1 sigmoid example: output 0.7514, error 0.2748, dE/dw5 0.0822.
    let page = stepper(
        "/#page=backprop&layers=2&activations=sigmoid&features=x,y&loss=half-se&dataset=xor\
         &parameters=0.15,0.25,0.2,0.3,0.35,0.35,0.4,0.45,0.6&example=0.05,0.1&exampleLabel=0.01\
         &learningRate=0.5&lesson=course-backprop",
    )
    .await;
    assert!(page.exists("lesson-panel").await);
    assert_eq!(
        page.text("step-equations").await,
        "a = 0.1500·0.0500 + 0.2000·0.1000 + 0.3500 = 0.3775"
    );
    page.click("jump-loss").await;
    let loss = page.text("step-equations").await;
    assert!(loss.ends_with("= 0.2748"), "{loss}");
    page.click("jump-backward").await;
    // ∂J/∂A2 = A2 - Y, then σ'(Z2), then δ, then the gradients of the weights into the output.
    let first_backward = page.text("step-equations").await;
    assert!(first_backward.ends_with("= 0.7414"), "{first_backward}");
    for _ in 0..3 {
        page.click("step-next").await;
    }
    let gradients = page.text("step-equations").await;
    assert!(gradients.contains("= 0.0822"), "{gradients}");
    page.screenshot("backprop_course_lesson").await;
}

#[tokio::test]
async fn the_batch_view_lists_each_example_and_the_mean() {
    let page = stepper("/#page=backprop&layers=2&batchSize=4").await;
    page.click("jump-backward").await;
    page.click("batch-view").await;
    // The first backward step (δ of a fused output) has no weights; the next one does.
    page.click("step-next").await;
    page.wait_for("batch-table", SETTLE).await;
    page.click("jump-update").await;
    let table = page.text("batch-table").await;
    assert!(table.contains("#4") && table.contains("mean"), "{table}");
    assert!(!table.contains("#5"), "{table}");
    page.screenshot("backprop_batch_view").await;
}

#[tokio::test]
async fn a_large_network_is_stepped_a_layer_at_a_time() {
    let page = stepper("/#page=backprop&layers=8,8").await;
    // Forward 2 x 3 layers, the loss, backward 2 + 4 + 4, updates 3.
    assert_eq!(page.text("step-index").await, "Step 1 of 20");
    assert_eq!(page.text("step-title").await, "Weighted sums of layer 1");
    page.screenshot("backprop_by_layer").await;
    page.click("by-layer").await;
    page.wait_until(
        "neuron by neuron",
        SETTLE,
        async || page.text("step-index").await,
        |t| t == "Step 1 of 118",
    )
    .await;
}

#[tokio::test]
async fn clicking_a_neuron_opens_its_own_steps() {
    let page = stepper("/#page=backprop&layers=8,8").await;
    page.click("bp-node-2-3").await;
    page.wait_until(
        "the neuron's own step",
        SETTLE,
        async || page.text("step-title").await,
        |t| t == "Weighted sum of H2.4",
    )
    .await;
}

#[tokio::test]
async fn every_step_of_the_course_lesson_shows_the_engines_numbers() {
    // The native engine traces the same lesson; the page must show exactly its steps.
    use neural_playground::playground::{Session, from_hash, lessons};
    let lesson = lessons::find("course-backprop").unwrap();
    let (config, _) = from_hash(&lesson.link());
    let trace = Session::new(config).unwrap().backprop_trace(0).unwrap();

    let page = stepper(&format!("/{}", lesson.link())).await;
    let total = trace.steps.len();
    assert_eq!(page.text("step-index").await, format!("Step 1 of {total}"));
    for (index, step) in trace.steps.iter().enumerate() {
        let expected = format!("Step {} of {total}", index + 1);
        page.wait_until(
            "the step counter",
            SETTLE,
            async || page.text("step-index").await,
            |t| *t == expected,
        )
        .await;
        assert_eq!(
            page.text("step-title").await,
            step.title,
            "step {}",
            index + 1
        );
        assert_eq!(
            page.text("step-equations").await,
            // One <div> per equation; the text read back has no separators.
            step.substituted.concat(),
            "step {} ({})",
            index + 1,
            step.title
        );
        if index + 1 < total {
            page.click("step-next").await;
        }
    }
}

/// Backpropagation through time: the course-sized RNN over "1 0 1" walked from the keyboard,
/// every step's title and numbers exactly those the engine computes natively for the same
/// network; the diagram lights the step's place; an LSTM walks too, and bad bits are refused.
#[tokio::test]
async fn the_bptt_stepper_walks_a_whole_iteration_with_the_engines_numbers() {
    use neural_playground::playground::backprop::time_steps::{
        course_example, example, time_steps,
    };
    let page = stepper("/#page=backprop").await;
    page.wait_for("bptt", LOAD_TIMEOUT).await;
    for (cell, bits) in [("rnn", [1.0, 0.0, 1.0]), ("lstm", [1.0, 1.0, 0.0])] {
        if cell != "rnn" {
            page.select("bptt-cell", cell).await;
            page.type_into("bptt-bits", "1 1 0").await;
        }
        let expected = time_steps(&course_example(cell, &bits).unwrap());
        assert_eq!(
            page.text("bptt-index").await,
            format!("Step 1 of {}", expected.len())
        );
        for (index, step) in expected.iter().enumerate() {
            if index > 0 {
                page.keys("bptt-walk", "\u{E014}").await;
            }
            let title = page.text("bptt-step-title").await;
            assert_eq!(title, step.title, "{cell}, step {}", index + 1);
            let equations = page.text("bptt-step-equations").await;
            for line in &step.substituted {
                assert!(
                    equations.contains(line.as_str()),
                    "{cell}, step {}: {line} in {equations}",
                    index + 1
                );
            }
            if index == 4 && cell == "rnn" {
                page.screenshot("bptt_rnn_output").await;
            }
        }
        assert!(page.text("bptt-step-title").await.starts_with("Update"));
        // The first backward step of the last time step lights h_3.
        page.click("bptt-jump-backward").await;
        page.keys("bptt-walk", "\u{E014}").await;
        assert!(page.has_class("bptt-h-2", "lit").await, "{cell}");
        page.execute("document.getElementById('bptt-title').scrollIntoView();")
            .await;
        page.screenshot(&format!("bptt_{cell}_backward")).await;
        page.keys("bptt-walk", "\u{E011}").await;
    }
    // A larger GRU, stepped unit by unit with the engine's initial weights: its update is the
    // engine's.
    page.select("bptt-cell", "gru").await;
    page.type_into("bptt-units", "5").await;
    let expected = time_steps(&example("gru", 5, &[1.0, 1.0, 0.0]).unwrap());
    page.wait_until(
        "five units",
        SETTLE,
        async || page.text("bptt-hint").await,
        |hint| hint.contains("of 5 units"),
    )
    .await;
    assert_eq!(
        page.text("bptt-step-equations")
            .await
            .matches("unit ")
            .count(),
        5
    );
    page.keys("bptt-walk", "\u{E010}").await;
    let update = page.text("bptt-step-equations").await;
    let last = expected.last().unwrap();
    assert!(update.contains(&last.substituted[0]), "{update}");
    // The dense stepper above did not move with the arrow keys pressed here.
    assert_eq!(page.text("step-index").await.split(' ').nth(1), Some("1"));
    page.type_into("bptt-bits", "1 2").await;
    let refusal = page.text("bptt-error").await;
    assert!(refusal.contains("`2` is not a bit"), "{refusal}");
}

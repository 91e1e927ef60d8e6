//! The engine switch in a real browser: with WebGPU (headless Chromium's SwiftShader adapter,
//! `--enable-unsafe-webgpu`) the GPU passes its self-test, trains XOR and hands the network over
//! to the CPU mid-run, an image network and an MLP train on it in the Images page's worker, an
//! LSTM in the Sequences page's, and when the device is lost mid-run the CPU goes on from the last synced
//! weights and says so; without the flag there is no adapter, the badge says so, and the CPU
//! trains as always.
//!
//! Run them one at a time (`--test-threads=1`): SwiftShader and the CPU engine share the cores.

use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page, epoch_of};

/// Chromium exposes WebGPU on SwiftShader (software) with this flag; without it
/// `requestAdapter()` answers null.
const WEBGPU: &[&str] = &["--enable-unsafe-webgpu"];

/// Time for the GPU search and self-test (shader compilation on SwiftShader included).
const GPU_READY: Duration = Duration::from_secs(90);
/// Time for XOR's test loss to fall below 0.1.
const TRAINING: Duration = Duration::from_secs(180);
const SETTLE: Duration = Duration::from_secs(10);

async fn playground_at(path_and_hash: &str, chrome_args: &[&str]) -> Page {
    let page = Page::launch_with_args(chrome_args).await;
    page.open(path_and_hash).await;
    page.wait_for("play", LOAD_TIMEOUT).await;
    page
}

async fn playground_on_xor(chrome_args: &[&str]) -> Page {
    let page = playground_at("/", chrome_args).await;
    page.click("dataset-xor").await;
    page.wait_until(
        "dataset-xor is selected",
        SETTLE,
        async || page.has_class("dataset-xor", "selected").await,
        |selected| *selected,
    )
    .await;
    page
}

/// The badge's tooltip: why this engine.
async fn badge_title(page: &Page) -> String {
    let title = page
        .execute("return document.querySelector('[data-testid=\"backend\"]').getAttribute('title') || '';")
        .await;
    title.as_str().unwrap_or_default().to_string()
}

/// Waits for the GPU to pass its self-test (the switch appears then).
async fn wait_for_the_gpu(page: &Page) {
    if !page.appears("backend-switch", GPU_READY).await {
        page.screenshot("webgpu_no_switch").await;
        panic!(
            "the GPU never passed its self-test; the badge says: {}",
            badge_title(page).await
        );
    }
}

/// Waits for the GPU to pass its self-test and picks it.
async fn choose_the_gpu(page: &Page) {
    wait_for_the_gpu(page).await;
    page.select("backend-switch", "gpu").await;
    wait_for_badge(page, "WebGPU").await;
}

async fn wait_for_badge(page: &Page, expected: &str) {
    page.wait_until(
        &format!("the backend badge reads {expected}"),
        SETTLE,
        async || page.text("backend").await,
        |text| text.starts_with(expected),
    )
    .await;
}

async fn test_loss_below(page: &Page, limit: f64) -> f64 {
    page.wait_until(
        &format!("the test loss is below {limit}"),
        TRAINING,
        async || page.number("loss-test").await,
        |loss| *loss < limit,
    )
    .await
}

#[tokio::test]
async fn webgpu_trains_xor_and_hands_the_network_to_the_cpu() {
    let page = playground_on_xor(WEBGPU).await;
    wait_for_the_gpu(&page).await;
    // The CPU stays the default; the menu names the adapter.
    wait_for_badge(&page, "CPU").await;
    let gpu_option = page
        .execute(
            "return document.querySelector('[data-testid=\"backend-switch\"] option[value=\"gpu\"]').textContent;",
        )
        .await;
    let gpu_option = gpu_option.as_str().unwrap_or_default().to_string();
    assert!(gpu_option.starts_with("WebGPU"), "{gpu_option}");

    page.select("backend-switch", "gpu").await;
    wait_for_badge(&page, "WebGPU").await;
    let title = badge_title(&page).await;
    assert!(title.contains("self-test"), "{title}");
    let initial_loss = page.number("loss-test").await;
    let epoch_before = page.integer("epoch").await;

    page.click("play").await;
    let loss_on_gpu = test_loss_below(&page, 0.1).await;
    let epoch_on_gpu = page.integer("epoch").await;
    assert!(
        epoch_on_gpu > epoch_before,
        "epoch went from {epoch_before} to {epoch_on_gpu} on the GPU"
    );
    page.screenshot("webgpu_trains_xor").await;
    // The decision boundary and the thumbnails came from the GPU with the weights.
    let grid_engine = "return document.querySelector('[data-grid-engine]').dataset.gridEngine;";
    assert_eq!(
        page.execute(grid_engine).await,
        serde_json::Value::from("gpu")
    );

    // Mid-run, back to the CPU: it goes on from the GPU's weights, not from the start.
    page.select("backend-switch", "cpu").await;
    wait_for_badge(&page, "CPU").await;
    let epoch_at_switch = page.integer("epoch").await;
    page.wait_until(
        "the CPU trains 20 more epochs",
        TRAINING,
        async || page.integer("epoch").await,
        |epoch| *epoch >= epoch_at_switch + 20,
    )
    .await;
    let loss_on_cpu = page.number("loss-test").await;
    assert!(
        loss_on_cpu < 0.1 && loss_on_cpu < initial_loss / 2.0,
        "the test loss went from {loss_on_gpu} on the GPU to {loss_on_cpu} on the CPU \
         (it started at {initial_loss})"
    );
    page.screenshot("webgpu_then_cpu").await;
    assert_eq!(
        page.execute(grid_engine).await,
        serde_json::Value::from("cpu")
    );
    let message = page.text("message").await;
    assert!(message.is_empty(), "unexpected message: {message}");
}

#[tokio::test]
async fn a_lost_gpu_device_hands_training_to_the_cpu_from_the_last_synced_weights() {
    let page = playground_on_xor(WEBGPU).await;
    choose_the_gpu(&page).await;
    page.click("play").await;
    page.wait_until(
        "a few epochs on the GPU",
        TRAINING,
        async || page.integer("epoch").await,
        |epoch| *epoch >= 40,
    )
    .await;
    let lost = page
        .execute("return window.wasmBindings.debug_lose_gpu_device();")
        .await;
    assert_eq!(lost, serde_json::Value::Bool(true), "no device to lose");
    let message = page
        .wait_until(
            "the banner says the GPU stopped",
            TRAINING,
            async || page.text("message").await,
            |message| message.contains("The GPU stopped"),
        )
        .await;
    assert!(message.contains("on the CPU"), "{message}");
    wait_for_badge(&page, "CPU").await;
    let title = badge_title(&page).await;
    assert!(title.contains("failed during training"), "{title}");
    // Training goes on, on the CPU, from weights that had already learnt something.
    let epoch_at_loss = page.integer("epoch").await;
    assert!(
        epoch_at_loss >= 40,
        "the epoch count went back to {epoch_at_loss}"
    );
    page.wait_until(
        "the CPU trains on",
        TRAINING,
        async || page.integer("epoch").await,
        |epoch| *epoch >= epoch_at_loss + 20,
    )
    .await;
    let loss = page.number("loss-test").await;
    assert!(loss.is_finite(), "test loss {loss} after the fallback");
    test_loss_below(&page, 0.1).await;
    page.screenshot("webgpu_device_lost").await;
}

#[tokio::test]
async fn an_image_network_trains_on_webgpu_in_the_worker() {
    // A small convolutional network, one epoch, on the GPU: all of it from the link.
    trains_on_webgpu_in_the_worker("conv4k3p1-relu,max2,flat,dense10", "images_webgpu").await;
}

/// An MLP whose first layer (64x784 by 784x256) takes the wide matmul tile, split along k, and
/// whose weight gradient (784x64 by 64x256) takes it unsplit: the page's path through
/// `shaders/matmul_wide.wgsl` on a real WebGPU adapter.
#[tokio::test]
async fn an_mlp_trains_on_webgpu_in_the_worker() {
    trains_on_webgpu_in_the_worker("flat,dense256-relu,dense10", "images_webgpu_mlp").await;
}

/// Waits until the training card offers the worker's WebGPU adapter, checks it is the chosen
/// engine (from the link), and waits until the button `train_id` can start a run.
async fn ready_on_the_workers_gpu(page: &Page, train_id: &str) {
    page.wait_until(
        "the worker's GPU can be chosen",
        GPU_READY,
        async || {
            page.execute(
                "const option = document.querySelector('[data-testid=images-backend] option[value=gpu]');
                 return option ? option.disabled === false && option.textContent : false;",
            )
            .await
        },
        |text| text.as_str().is_some_and(|text| text.starts_with("WebGPU")),
    )
    .await;
    assert_eq!(page.value("images-backend").await, "gpu");
    let enabled = format!("return !document.querySelector('[data-testid={train_id}]').disabled;");
    page.wait_until(
        "the Train button is enabled",
        GPU_READY,
        async || page.execute(&enabled).await,
        |enabled| enabled == &serde_json::Value::Bool(true),
    )
    .await;
}

/// Opens the Images page on `model`, chooses the worker's GPU, trains one epoch and expects over
/// 80% test accuracy and no message; saves a screenshot as `screenshot`.
async fn trains_on_webgpu_in_the_worker(model: &str, screenshot: &str) {
    let page = Page::launch_with_args(WEBGPU).await;
    page.open(&format!(
        "/#page=images&imageModel={model}&imageEpochs=1&imageBackend=gpu"
    ))
    .await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    ready_on_the_workers_gpu(&page, "images-train").await;
    page.click("images-train").await;
    let accuracy = page
        .wait_until(
            "test accuracy above 80% on the GPU",
            TRAINING,
            async || page.number("test-accuracy").await,
            |accuracy| *accuracy > 80.0,
        )
        .await;
    eprintln!("{model}: test accuracy on the GPU: {accuracy}%");
    let speed = page.text("examples-per-second").await;
    eprintln!("speed on SwiftShader: {speed}");
    page.screenshot(screenshot).await;
    let message = page.text("images-message").await;
    assert!(message.is_empty(), "unexpected message: {message}");
}

/// A run on the worker's GPU, paused and kept, comes back after a reload with its optimiser's
/// moments (read back from the GPU with its weights): no notice that its optimiser starts
/// afresh, and it trains on.
#[tokio::test]
async fn a_run_on_webgpu_comes_back_with_its_optimiser() {
    let page = Page::launch_with_args(WEBGPU).await;
    page.open("/#page=images&imageModel=flat,dense32-relu,dense10&imageEpochs=20&imageBackend=gpu")
        .await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    ready_on_the_workers_gpu(&page, "images-train").await;
    page.click("images-train").await;
    page.wait_until(
        "a tested epoch on the GPU",
        TRAINING,
        async || page.text("images-epoch").await,
        |text| epoch_of(text) >= 1.2,
    )
    .await;
    page.click("images-train").await;
    page.wait_until(
        "the paused run is kept",
        TRAINING,
        async || page.text("images-save-status").await,
        |text| text.contains("Kept in this browser at"),
    )
    .await;
    // Kept after the pause: wait one more save.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let hash = page.execute("return location.hash").await;
    page.open(&format!("/{}", hash.as_str().expect("a hash")))
        .await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    page.wait_until(
        "the kept run is back",
        GPU_READY,
        async || page.text("images-work-notice").await,
        |text| text.contains("Welcome back"),
    )
    .await;
    // Read back from the GPU at the pause: kept where it stopped, past the last test.
    let kept_epoch = epoch_of(&page.text("images-epoch").await);
    assert!(kept_epoch >= 1.2, "kept at epoch {kept_epoch}");
    let message = page.text("images-message").await;
    assert!(!message.contains("optimiser"), "{message}");
    ready_on_the_workers_gpu(&page, "images-train").await;
    page.click("images-train").await;
    page.wait_until(
        "training goes on on the GPU",
        TRAINING,
        async || page.text("images-epoch").await,
        |text| epoch_of(text) > kept_epoch + 0.05,
    )
    .await;
    let message = page.text("images-message").await;
    assert!(!message.contains("optimiser"), "{message}");
    page.screenshot("webgpu_run_restored").await;
}

#[tokio::test]
async fn without_webgpu_the_cpu_trains_and_the_badge_says_why() {
    let page = playground_on_xor(&[]).await;
    let title = page
        .wait_until(
            "the badge says why the CPU trains",
            GPU_READY,
            async || badge_title(&page).await,
            |title| title.contains("WebGPU"),
        )
        .await;
    assert!(
        title.contains("no WebGPU adapter") || title.contains("has no WebGPU"),
        "{title}"
    );
    assert_eq!(page.text("backend").await, "CPU");
    assert!(
        !page.exists("backend-switch").await,
        "a switch to a GPU that is not there"
    );

    let epoch_before = page.integer("epoch").await;
    page.click("play").await;
    test_loss_below(&page, 0.1).await;
    assert!(page.integer("epoch").await > epoch_before);
    page.screenshot("cpu_without_webgpu").await;
}

#[tokio::test]
async fn a_diverging_gpu_run_pauses_and_keeps_the_last_good_weights() {
    // As in playground.rs: linear regression at a learning rate of 10 blows up within a few
    // dozen steps.
    let page = playground_at(
        "/#problem=regression&dataset=reg-plane&layers=4,4&activations=linear,linear\
         &learningRate=10",
        WEBGPU,
    )
    .await;
    choose_the_gpu(&page).await;
    page.click("play").await;
    let message = page
        .wait_until(
            "the message explains that the loss diverged",
            TRAINING,
            async || page.text("message").await,
            |message| message.contains("diverged"),
        )
        .await;
    assert!(message.starts_with("Training paused"), "{message}");
    page.wait_until(
        "training paused by itself",
        SETTLE,
        async || page.text("play").await,
        |text| text.contains("Play"),
    )
    .await;
    let loss = page.number("loss-train").await;
    assert!(
        loss.is_finite(),
        "the weights shown are not the last good ones: loss {loss}"
    );
    page.screenshot("webgpu_divergence_pauses").await;
}

/// The Sequences page's default LSTM on the worker's WebGPU (SwiftShader here): the recurrent
/// layers' steps replayed by the GPU trainer, to the same accuracy the CPU reaches.
#[tokio::test]
async fn a_recurrent_network_trains_on_webgpu_in_the_worker() {
    let page = Page::launch_with_args(WEBGPU).await;
    page.open("/#page=sequences&seqBackend=gpu&seqEpochs=15&seqCount=1000")
        .await;
    page.wait_for("sequences-page", LOAD_TIMEOUT).await;
    ready_on_the_workers_gpu(&page, "train").await;
    page.click("train").await;
    let accuracy = page
        .wait_until(
            "bit counting above 95% on the GPU",
            TRAINING,
            async || page.number("seq-accuracy").await,
            |accuracy| *accuracy > 95.0,
        )
        .await;
    eprintln!("LSTM bit counting on the GPU: {accuracy}%");
    page.screenshot("sequences_webgpu").await;
    let message = page.text("seq-message").await;
    assert!(message.is_empty(), "unexpected message: {message}");
}

/// An encoder-decoder with dot-product attention on the worker's WebGPU (SwiftShader here): the
/// embeddings, both cells, the attention and greedy decoding replayed by the GPU trainer, and
/// reversal learned as on the CPU.
#[tokio::test]
async fn an_encoder_decoder_trains_on_webgpu_in_the_worker() {
    let page = Page::launch_with_args(WEBGPU).await;
    page.open("/#page=seq2seq&s2sBackend=gpu&s2sLongest=4&s2sHidden=32&s2sCount=2000&s2sEpochs=10")
        .await;
    page.wait_for("seq2seq-page", LOAD_TIMEOUT).await;
    ready_on_the_workers_gpu(&page, "s2s-train").await;
    page.click("s2s-train").await;
    let answers = page
        .wait_until(
            "reversal above 90% on the GPU",
            TRAINING,
            async || page.number("s2s-answers").await,
            |answers| *answers > 90.0,
        )
        .await;
    eprintln!("encoder-decoder reversal on the GPU: {answers}% of the answers");
    page.screenshot("seq2seq_webgpu").await;
    let message = page.text("s2s-message").await;
    assert!(message.is_empty(), "unexpected message: {message}");
}

//! The Images page (`#page=images`) in the real page: the npm digits load, LeNet-5 trains in
//! the worker while the page keeps drawing frames, a drawn digit gets probabilities, the model
//! builder refuses a layer that does not fit, and IDX files are read or refused with the reason;
//! where workers are forbidden, training runs on the page and says so.

use std::path::PathBuf;
use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page, idx_pair};
use serde_json::Value;

/// Time for the 1.6 MB of digits to load and the worker to start.
const READY: Duration = Duration::from_secs(60);

async fn open_images() -> Page {
    let page = Page::launch().await;
    page.open("/#page=images").await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    page.wait_until(
        "the digits are loaded",
        READY,
        async || page.text("digits-source").await,
        |text| text.contains("10000 digits"),
    )
    .await;
    page
}

/// Waits until the Train button can be pressed (digits in the worker).
async fn ready_to_train(page: &Page) {
    page.wait_until(
        "the Train button is enabled",
        READY,
        async || {
            page.execute("return !document.querySelector('[data-testid=images-train]').disabled;")
                .await
        },
        |enabled| enabled == &Value::Bool(true),
    )
    .await;
}

/// Frames the page drew in `milliseconds` (requestAnimationFrame callbacks).
async fn frames_in(page: &Page, milliseconds: u64) -> u64 {
    page.execute(&format!(
        "return await new Promise(done => {{ let n = 0; const end = performance.now() + {milliseconds};
           const tick = t => {{ n++; if (t < end) requestAnimationFrame(tick); else done(n); }};
           requestAnimationFrame(tick); }});"
    ))
    .await
    .as_u64()
    .expect("a frame count")
}

#[tokio::test]
async fn lenet5_trains_in_a_worker_past_90_percent_and_the_page_keeps_drawing() {
    let page = open_images().await;
    assert_eq!(
        page.text("digits-split").await,
        "9000 to train on, 1000 held out to test"
    );
    ready_to_train(&page).await;
    page.click("images-train").await;
    // Training runs in the worker: the main thread keeps drawing frames meanwhile.
    page.wait_for("train-progress", LOAD_TIMEOUT).await;
    let frames = frames_in(&page, 2000).await;
    eprintln!("frames drawn in 2 s while training: {frames}");
    assert!(frames >= 30, "only {frames} frames in 2 s while training");
    let accuracy = page
        .wait_until(
            "test accuracy above 90%",
            Duration::from_secs(240),
            async || page.number("test-accuracy").await,
            |accuracy| *accuracy > 90.0,
        )
        .await;
    eprintln!("test accuracy reached: {accuracy}%");
    assert!(page.exists("confusion-matrix").await);
    assert!(page.exists("test-digit").await);
    // Progress comes 4 times a second and re-renders the page, but the test digits' pictures
    // do not change: their canvases must not be painted again (48 of them, each time).
    let repaints = page
        .execute(
            "const paint = CanvasRenderingContext2D.prototype.putImageData;
             let count = 0;
             CanvasRenderingContext2D.prototype.putImageData = function (...args) {
               if (this.canvas.closest('[data-testid=test-digits]')) count++;
               return paint.apply(this, args);
             };
             await new Promise(done => setTimeout(done, 1500));
             CanvasRenderingContext2D.prototype.putImageData = paint;
             return count;",
        )
        .await;
    assert_eq!(
        repaints,
        Value::from(0),
        "test digits repainted while training"
    );
    page.screenshot("images_training").await;
    // Any layer's weights: LeNet-5's C3 shows 16 rows of 6 kernels, F5 120 neurons (32 shown)
    // as mosaics of its 16 input maps.
    let filter_images = "return [...document.querySelectorAll('[data-testid=filter-rows] canvas')]
         .map(c => c.width + 'x' + c.height);";
    assert_eq!(
        page.execute(filter_images).await.as_array().map(Vec::len),
        Some(6)
    );
    page.select("filters-layer", "2").await;
    let kernels = page
        .wait_until(
            "C3's kernels",
            LOAD_TIMEOUT,
            async || page.execute(filter_images).await,
            |sizes| sizes.as_array().is_some_and(|s| s.len() == 96),
        )
        .await;
    assert!(
        kernels.as_array().unwrap().iter().all(|s| s == "5x5"),
        "{kernels}"
    );
    page.select("filters-layer", "5").await;
    let neurons = page
        .wait_until(
            "F5's neurons",
            LOAD_TIMEOUT,
            async || page.execute(filter_images).await,
            |sizes| sizes.as_array().is_some_and(|s| s.len() == 32),
        )
        .await;
    assert!(
        neurons.as_array().unwrap().iter().all(|s| s == "20x20"),
        "{neurons}"
    );
    page.execute(
        "document.querySelector('[data-testid=layer-filters]').scrollIntoView(); return 0;",
    )
    .await;
    page.screenshot("images_layer_weights").await;
    page.click("images-train").await; // Pause
    page.wait_until(
        "the button offers to resume",
        LOAD_TIMEOUT,
        async || page.text("images-train").await,
        |text| text == "Resume",
    )
    .await;
}

/// A copy of the built app whose page forbids workers (`worker-src 'none'`), as a strict host
/// might. The page's compressed copies stay behind: the server would send them instead.
fn app_without_workers() -> PathBuf {
    let copy = browser_tests::copy_of_app("no-workers", |name| name.starts_with("index.html."));
    let index = copy.join("index.html");
    let html = std::fs::read_to_string(&index).expect("read index.html");
    let policy = r#"<head><meta http-equiv="Content-Security-Policy" content="worker-src 'none'">"#;
    assert!(html.contains("<head>"), "index.html has a <head>");
    std::fs::write(&index, html.replacen("<head>", policy, 1)).expect("write index.html");
    copy
}

#[tokio::test]
async fn without_workers_training_runs_on_the_page_and_says_so() {
    let page = Page::launch_serving(app_without_workers(), &[]).await;
    page.open("/#page=images").await;
    page.wait_until(
        "the page says training runs on the page",
        READY,
        async || page.text("images-message").await,
        |text| text.contains("could not start a training worker"),
    )
    .await;
    ready_to_train(&page).await;
    page.click("images-train").await;
    page.wait_for("train-progress", LOAD_TIMEOUT).await;
    let frames = frames_in(&page, 2000).await;
    eprintln!("frames drawn in 2 s while training on the page: {frames}");
    assert!(
        frames >= 20,
        "only {frames} frames in 2 s while training on the page"
    );
    let accuracy = page
        .wait_until(
            "test accuracy above 80% without a worker",
            Duration::from_secs(240),
            async || page.number("test-accuracy").await,
            |accuracy| *accuracy > 80.0,
        )
        .await;
    eprintln!("test accuracy reached on the page: {accuracy}%");
}

#[tokio::test]
async fn a_drawn_stroke_is_classified_with_probabilities_that_sum_to_one() {
    let page = open_images().await;
    page.drag("draw-pad", 0.0, 120.0).await;
    page.wait_for("probabilities", LOAD_TIMEOUT).await;
    let sum = page
        .execute(
            "return [...document.querySelectorAll('[data-testid^=probability-]')]
                .reduce((s, e) => s + parseFloat(e.dataset.value), 0);",
        )
        .await
        .as_f64()
        .expect("a sum");
    assert!((sum - 1.0).abs() < 0.01, "probabilities sum to {sum}");
    assert!(page.text("layer-view").await.contains("Your digit"));
    page.screenshot("images_drawn").await;
    page.click("draw-clear").await;
}

#[tokio::test]
async fn a_kernel_too_large_for_its_input_is_refused_with_the_formula() {
    let page = open_images().await;
    // Layer 3 of LeNet-5 (C3) works on 14x14 maps: a 17x17 kernel cannot fit.
    page.type_into("layer-2-kernel", "17").await;
    let error = page
        .wait_until(
            "the builder refuses the kernel",
            LOAD_TIMEOUT,
            async || page.text("model-error").await,
            |text| text.contains("layer 3"),
        )
        .await;
    assert!(error.contains("14"), "{error}");
    assert!(
        page.text("layer-2")
            .await
            .contains("larger than the padded input")
    );
    ready_to_train(&page).await;
    page.click("images-train").await;
    page.wait_until(
        "the page says why it cannot train",
        LOAD_TIMEOUT,
        async || page.text("images-message").await,
        |text| text.contains("cannot train"),
    )
    .await;
    // Back to a preset: shapes and parameter count come back.
    page.select("model-preset", "mlp").await;
    page.wait_until(
        "the MLP's parameter count",
        LOAD_TIMEOUT,
        async || page.text("model-parameters").await,
        |text| text.starts_with("669706"),
    )
    .await;
    // Dropout and batch normalisation go in before the output layer; dropout learns nothing,
    // batch normalisation learns a scale and a shift per feature (512 of each).
    page.select("add-layer-kind", "dropout").await;
    page.click("add-layer").await;
    page.wait_for("layer-3-rate", LOAD_TIMEOUT).await;
    assert!(page.text("model-parameters").await.starts_with("669706"));
    page.select("add-layer-kind", "batch_norm").await;
    page.click("add-layer").await;
    page.wait_until(
        "the batch normalisation's parameters",
        LOAD_TIMEOUT,
        async || page.text("model-parameters").await,
        |text| text.starts_with("670730"),
    )
    .await;
    assert_eq!(page.text("layer-4-shape").await, "512");
}

#[tokio::test]
async fn the_network_and_its_training_settings_travel_in_the_link() {
    let page = Page::launch().await;
    page.open(
        "/#page=images&imageModel=conv4k3p1-relu,max2,flat,dense10&imageEpochs=3&imageRate=0.005",
    )
    .await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    // 4 kernels of 3x3 and 4 biases, then 4·14·14 = 784 features into 10 neurons.
    page.wait_until(
        "the link's network in the builder",
        LOAD_TIMEOUT,
        async || page.text("model-parameters").await,
        |text| text.starts_with("7890"),
    )
    .await;
    assert_eq!(page.value("epochs").await, "3");
    assert_eq!(page.value("learning-rate").await, "0.005");
    // A change goes back into the link, next to what was there.
    page.type_into("batch-size", "32").await;
    let hash = page
        .wait_until(
            "the batch size in the URL",
            LOAD_TIMEOUT,
            async || page.execute("return location.hash;").await,
            |hash| hash.as_str().is_some_and(|h| h.contains("imageBatch=32")),
        )
        .await;
    let hash = hash.as_str().unwrap_or_default();
    assert!(
        hash.contains("imageModel=conv4k3p1-relu,max2,flat,dense10"),
        "{hash}"
    );
    assert!(hash.contains("imageEpochs=3"), "{hash}");
    // A layer the link cannot describe is refused by name; the default network stays.
    page.open("/#page=images&imageModel=conv4k3-sparkle,flat,dense10&imageEpochs=2")
        .await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    page.wait_until(
        "the banner names the bad field",
        LOAD_TIMEOUT,
        async || page.text("message").await,
        |text| text.contains("imageModel"),
    )
    .await;
    assert!(page.text("model-parameters").await.starts_with("61706"));
    assert_eq!(page.value("epochs").await, "2");
}

#[tokio::test]
async fn idx_files_replace_the_digits_and_a_truncated_file_is_refused() {
    let page = open_images().await;
    page.upload("idx-files", &idx_pair("bad", 30, 100)).await;
    let message = page
        .wait_until(
            "a refusal",
            LOAD_TIMEOUT,
            async || page.text("images-message").await,
            |text| text.contains("refused"),
        )
        .await;
    assert!(message.contains("header promises"), "{message}");
    page.upload("idx-files", &idx_pair("good", 50, 0)).await;
    page.wait_until(
        "the new digits",
        LOAD_TIMEOUT,
        async || page.text("digits-source").await,
        |text| text.contains("bars-images-idx3-ubyte: 50 digits"),
    )
    .await;
    assert_eq!(
        page.text("digits-split").await,
        "45 to train on, 5 held out to test"
    );
    // The refusal of the bad pair is gone once a good pair is read.
    assert!(!page.text("images-message").await.contains("refused"));
    page.screenshot("images_idx_loaded").await;
}

#[tokio::test]
async fn idx_files_dropped_on_the_page_are_read() {
    let page = open_images().await;
    page.execute(
        "const n = 20;
         const images = new Uint8Array(16 + n * 784), labels = new Uint8Array(8 + n);
         const head = new DataView(images.buffer), labelHead = new DataView(labels.buffer);
         head.setUint32(0, 0x803); head.setUint32(4, n); head.setUint32(8, 28); head.setUint32(12, 28);
         labelHead.setUint32(0, 0x801); labelHead.setUint32(4, n);
         for (let i = 0; i < n; i++) {
           labels[8 + i] = i % 10;
           for (let p = 0; p < 784; p++) images[16 + i * 784 + p] = p % 28 == 4 + 2 * (i % 10) ? 255 : 0;
         }
         const files = new DataTransfer();
         files.items.add(new File([images], 'dropped-images-idx3-ubyte'));
         files.items.add(new File([labels], 'dropped-labels-idx1-ubyte'));
         document.querySelector('[data-testid=drop-zone]').dispatchEvent(
           new DragEvent('drop', { dataTransfer: files, bubbles: true, cancelable: true }));
         return null;",
    )
    .await;
    page.wait_until(
        "the dropped digits",
        LOAD_TIMEOUT,
        async || page.text("digits-source").await,
        |text| text.contains("dropped-images-idx3-ubyte: 20 digits"),
    )
    .await;
    // One file alone is refused with what to do.
    page.execute(
        "const files = new DataTransfer();
         files.items.add(new File([new Uint8Array(8)], 'lonely-labels-idx1-ubyte'));
         document.querySelector('[data-testid=drop-zone]').dispatchEvent(
           new DragEvent('drop', { dataTransfer: files, bubbles: true, cancelable: true }));
         return null;",
    )
    .await;
    page.wait_until(
        "a request for both files",
        LOAD_TIMEOUT,
        async || page.text("images-message").await,
        |text| text.contains("two files"),
    )
    .await;
}

/// The Images page's network saved as a model file (the bytes the page hands the browser)
/// opens in a fresh browser with its settings; a Sequences page's file is refused there in
/// words.
#[tokio::test]
async fn a_model_file_carries_the_network_and_its_settings_to_a_fresh_page() {
    let saved = Page::launch().await;
    saved
        .open("/#page=images&imageModel=conv4k3p1-relu,max2,flat,dense10&imageRate=0.005")
        .await;
    saved.wait_for("images-page", LOAD_TIMEOUT).await;
    saved.keep_downloads().await;
    saved.click("images-model-download").await;
    let status = saved.text("images-model-status").await;
    assert!(
        status.starts_with("Saved images-model.safetensors: 7890 parameters"),
        "{status}"
    );
    let bytes = saved.download(0).await;
    let dir = std::env::temp_dir().join(format!("np-images-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("small.safetensors");
    std::fs::write(&file, &bytes).unwrap();
    // A file of the Sequences page, as that page writes it.
    use neural_playground::playground::model_files::page_file;
    use neural_playground::playground::sequences::SequenceSettings;
    let sequences = SequenceSettings::default();
    let other = dir.join("sequences.safetensors");
    let network = sequences.model().init().unwrap();
    std::fs::write(&other, page_file(&network, &sequences).unwrap()).unwrap();

    let fresh = open_images().await;
    fresh.upload("images-model-file", &[other]).await;
    let refused = fresh
        .wait_until(
            "the refusal",
            LOAD_TIMEOUT,
            async || fresh.text("images-model-status").await,
            |text| text.contains("was not opened"),
        )
        .await;
    assert!(
        refused.contains("no set-up of the Images page"),
        "{refused}"
    );
    fresh.upload("images-model-file", &[file]).await;
    fresh
        .wait_until(
            "the opened model",
            LOAD_TIMEOUT,
            async || fresh.text("images-model-status").await,
            |text| text.starts_with("Opened small.safetensors: 7890 parameters"),
        )
        .await;
    assert!(fresh.text("model-parameters").await.starts_with("7890"));
    assert_eq!(fresh.value("learning-rate").await, "0.005");
    fresh
        .execute("document.querySelector('[data-testid=images-model-status]').scrollIntoView({block: 'center'});")
        .await;
    fresh.screenshot("images_model_opened").await;
}

/// Export to PyTorch: the script for the page's LeNet-5 reads the digits from MNIST's IDX files
/// and shifts them as the page does; the zip holds the script, the weights and the four files.
#[tokio::test]
async fn the_network_exports_to_pytorch_with_its_digits() {
    let page = Page::launch().await;
    page.open("/#page=images").await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    ready_to_train(&page).await;
    page.keys("images-pytorch-show", "\u{E007}").await;
    let script = page.text("images-pytorch-script").await;
    for expected in [
        "Convolution(1, 6, 5, 1, 2, nn.ReLU())",
        "def read_idx(name):",
        "shifted(inputs[batch], 2)",
        "make_schedule(",
    ] {
        assert!(script.contains(expected), "{expected} is not in\n{script}");
    }
    page.keep_downloads().await;
    page.click("images-pytorch-download").await;
    let status = page.text("images-pytorch-status").await;
    assert!(status.starts_with("Saved images-pytorch.zip"), "{status}");
    let zip = page.download(0).await;
    for name in [
        "train.py",
        "model.safetensors",
        "train-images-idx3-ubyte",
        "test-labels-idx1-ubyte",
    ] {
        let path = format!("images-pytorch/{name}");
        let found = zip
            .windows(path.len())
            .any(|window| window == path.as_bytes());
        assert!(found, "{path} is not in the zip");
    }
    page.execute("document.querySelector('[data-testid=images-pytorch-script]').scrollIntoView({block: 'center'});")
        .await;
    page.screenshot("images_pytorch_export").await;
}

/// LeNet-5 is too large to travel in a link: the page says so and points to the file.
#[tokio::test]
async fn a_model_too_large_for_a_link_is_refused_with_its_size() {
    let page = Page::launch().await;
    page.open("/#page=images").await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    page.click("images-model-link").await;
    let status = page.text("images-model-status").await;
    assert!(
        status.contains("too large for a link") && status.contains("download the model file"),
        "{status}"
    );
    let hash = page.execute("return location.hash;").await;
    assert!(!hash.as_str().unwrap().contains("model="), "{hash}");
}

//! End-to-end tests of the built app in headless Chromium (`cargo xtask test` builds and runs them).
//!
//! Each test starts its own browser; run them one at a time (`--test-threads=1`): the app trains
//! on the CPU and the timings below assume it has a core to itself.

use std::fmt::Debug;
use std::time::Duration;

use browser_tests::{LOAD_TIMEOUT, Page};

/// Time for the page to reflect an action (a click, a weight edit, a parsed hash).
const SETTLE: Duration = Duration::from_secs(10);

/// The app open at `path_and_hash`, once its wasm has loaded and the controls are drawn.
async fn playground(path_and_hash: &str) -> Page {
    playground_with_args(path_and_hash, &[]).await
}

async fn playground_with_args(path_and_hash: &str, chrome_args: &[&str]) -> Page {
    let page = Page::launch_with_args(chrome_args).await;
    page.open(path_and_hash).await;
    page.wait_for("play", LOAD_TIMEOUT).await;
    page
}

/// Waits until `probe` reads `expected`, and fails with the last value read if it never does.
async fn settles_to<T: PartialEq + Debug>(
    page: &Page,
    what: &str,
    expected: T,
    probe: impl AsyncFnMut() -> T,
) {
    let description = format!("{what} is {expected:?}");
    page.wait_until(&description, SETTLE, probe, |value| *value == expected)
        .await;
}

/// Drags edge 0-1-0 60 px upwards (its weight grows by 1.2) and waits until the output
/// heatmap differs from `before`.
async fn dragging_an_edge_changes_the_heatmap(page: &Page, before: String) {
    page.drag("edge-0-1-0", 0.0, -60.0).await;
    page.wait_until(
        "the heatmap changes after dragging edge 0-1-0",
        SETTLE,
        async || page.canvas_data_url("output-heatmap").await,
        |heatmap| *heatmap != before,
    )
    .await;
}

/// Whether the play button offers to play, i.e. training is paused ("Play", not "Pause").
async fn is_paused(page: &Page) -> bool {
    page.text("play").await.to_lowercase().contains("play")
}

#[tokio::test]
async fn xor_trains_to_low_test_loss() {
    let page = playground("/").await;
    page.click("dataset-xor").await;
    settles_to(&page, "dataset-xor selected", true, async || {
        page.has_class("dataset-xor", "selected").await
    })
    .await;
    let epoch_before = page.integer("epoch").await;

    page.click("play").await;
    page.wait_until(
        "the test loss is below 0.05",
        Duration::from_secs(60),
        async || page.number("loss-test").await,
        |loss| *loss < 0.05,
    )
    .await;

    let epoch_after = page.integer("epoch").await;
    assert!(
        epoch_after > epoch_before,
        "epoch went from {epoch_before} to {epoch_after} while training"
    );
    page.screenshot("xor_trains_to_low_test_loss").await;
}

#[tokio::test]
async fn step_advances_one_epoch() {
    let page = playground("/").await;
    let before = page.integer("epoch").await;

    page.click("step").await;
    settles_to(&page, "epoch after one step", before + 1, async || {
        page.integer("epoch").await
    })
    .await;
    // A step is one epoch, not the start of training: the count must stay put.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(page.integer("epoch").await, before + 1, "epoch kept moving");
    assert!(is_paused(&page).await, "step started training");

    page.click("reset").await;
    settles_to(&page, "epoch after reset", 0, async || {
        page.integer("epoch").await
    })
    .await;
    page.screenshot("step_advances_one_epoch").await;
}

#[tokio::test]
async fn dragging_a_weight_changes_the_output() {
    let page = playground("/").await;
    let loss_before = page.text("loss-train").await;
    let heatmap_before = page.canvas_data_url("output-heatmap").await;

    // The editor opens on hover; if this app opens it on click, click too.
    page.hover("edge-0-0-0").await;
    if !page.appears("weight-input", Duration::from_secs(2)).await {
        page.press("edge-0-0-0").await;
    }
    page.wait_for("weight-input", SETTLE).await;
    page.type_into("weight-input", "5").await;
    page.wait_until(
        "the training loss changes after setting weight 0-0-0 to 5",
        SETTLE,
        async || page.text("loss-train").await,
        |loss| *loss != loss_before,
    )
    .await;
    let heatmap_edited = page
        .wait_until(
            "the heatmap changes after setting weight 0-0-0 to 5",
            SETTLE,
            async || page.canvas_data_url("output-heatmap").await,
            |heatmap| *heatmap != heatmap_before,
        )
        .await;

    dragging_an_edge_changes_the_heatmap(&page, heatmap_edited).await;
    page.screenshot("dragging_a_weight_changes_the_output")
        .await;
}

#[tokio::test]
async fn url_hash_restores_the_configuration() {
    let page =
        playground("/#dataset=circle&layers=3,2&activations=relu,relu&learningRate=0.1").await;

    settles_to(&page, "dataset-circle selected", true, async || {
        page.has_class("dataset-circle", "selected").await
    })
    .await;
    assert!(
        !page.has_class("dataset-xor", "selected").await,
        "dataset-xor is still selected beside dataset-circle"
    );
    settles_to(&page, "layer-count", 2, async || {
        page.integer("layer-count").await
    })
    .await;
    settles_to(&page, "neuron-count-0", 3, async || {
        page.integer("neuron-count-0").await
    })
    .await;
    settles_to(&page, "neuron-count-1", 2, async || {
        page.integer("neuron-count-1").await
    })
    .await;
    settles_to(&page, "activation-0", "relu".to_string(), async || {
        page.value("activation-0").await
    })
    .await;
    let learning_rate = page.value("learning-rate").await;
    let parsed: f64 = learning_rate
        .parse()
        .unwrap_or_else(|_| panic!("learning-rate value {learning_rate:?} is not a number"));
    assert!(
        (parsed - 0.1).abs() < 1e-9,
        "learning rate is {parsed}, not 0.1"
    );
    page.screenshot("url_hash_restores_the_configuration").await;
}

#[tokio::test]
async fn malformed_hash_falls_back_and_says_which_field() {
    let page = playground("/#learningRate=banana&layers=4,2").await;

    page.wait_until(
        "the message names the malformed field learningRate",
        SETTLE,
        async || page.text("message").await,
        |message| message.contains("learningRate"),
    )
    .await;
    // The good fields still apply, and the bad one has a usable default.
    settles_to(&page, "neuron-count-0", 4, async || {
        page.integer("neuron-count-0").await
    })
    .await;
    let learning_rate = page.value("learning-rate").await;
    assert!(
        learning_rate.parse::<f64>().is_ok_and(|rate| rate > 0.0),
        "learning-rate fell back to {learning_rate:?}, not to a positive number"
    );
    page.screenshot("malformed_hash_falls_back_and_says_which_field")
        .await;
}

#[tokio::test]
async fn diverging_training_pauses_with_a_reason() {
    // Linear regression with a learning rate of 10 on inputs of size ~6 blows up within
    // a few dozen steps, whatever the initial weights.
    let page = playground(
        "/#problem=regression&dataset=reg-plane&layers=4,4&activations=linear,linear\
         &learningRate=10",
    )
    .await;

    assert!(
        !page.text("message").await.to_lowercase().contains("loss"),
        "the page spoke of the loss before any training"
    );
    page.click("play").await;
    page.wait_until(
        "the message explains that the loss diverged",
        Duration::from_secs(30),
        async || page.text("message").await,
        |message| message.to_lowercase().contains("loss"),
    )
    .await;
    settles_to(&page, "training paused by itself", true, async || {
        is_paused(&page).await
    })
    .await;
    // It may diverge inside the first epoch, so the counter can still read 0.
    let epoch = page.integer("epoch").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        page.integer("epoch").await,
        epoch,
        "training went on after pausing"
    );
    page.screenshot("diverging_training_pauses_with_a_reason")
        .await;
}

#[tokio::test]
async fn page_loads_without_webgpu_on_the_cpu_engine() {
    // Without --enable-unsafe-webgpu, headless Chromium has no WebGPU adapter.
    let page = playground("/").await;
    settles_to(&page, "backend", "CPU".to_string(), async || {
        page.text("backend").await
    })
    .await;
    page.screenshot("page_loads_without_webgpu_on_the_cpu_engine")
        .await;
}

#[tokio::test]
async fn clicking_the_plot_adds_a_training_point() {
    let page = playground("/").await;
    let counts = async || page.text("point-counts").await;
    let before = counts().await;
    assert!(before.starts_with("250 training"), "{before}");
    page.click("plot").await;
    settles_to(
        &page,
        "the training points",
        "251 training points · 250 test points".to_string(),
        counts,
    )
    .await;
    page.screenshot("clicking_the_plot_adds_a_training_point")
        .await;
}

#[tokio::test]
async fn switching_an_input_on_wires_it_into_the_network() {
    let page = playground("/#features=x,y&layers=3").await;
    assert!(!page.exists("edge-0-2-0").await, "X1² is off at first");
    page.click("feature-xSquared").await;
    page.wait_until(
        "an edge leaves the new input",
        SETTLE,
        async || page.exists("edge-0-2-0").await,
        |exists| *exists,
    )
    .await;
    assert!(page.has_class("feature-xSquared", "active").await);
    page.screenshot("switching_an_input_on_wires_it_into_the_network")
        .await;
}

/// The largest network (8 hidden layers of 8) at the design width, 1280 pixels: the diagram
/// fits its card (the output neuron inside its right edge); on a 1024-pixel window, where the
/// page reflows at full size, the card scrolls to the output neuron instead of the page. At
/// both, neighbouring layers' activation menus do not overlap.
#[tokio::test]
async fn the_largest_network_fits_its_card() {
    for width in [1280, 1024] {
        let size = format!("--window-size={width},800");
        let page = playground_with_args("/#layers=8,8,8,8,8,8,8,8", &[&size]).await;
        page.wait_for("neuron-9-0", LOAD_TIMEOUT).await;
        let layout = page
            .execute(
                "const box = (el) => el.getBoundingClientRect();
                 const card = box(document.querySelector('.network-column'));
                 const output = box(document.querySelector('[data-testid=neuron-9-0]'));
                 const menus = [...Array(8).keys()].map(
                     (l) => box(document.querySelector(`[data-testid=activation-${l}]`)));
                 const overlaps = menus.slice(1).filter((m, l) => m.left < menus[l].right).length;
                 const column = document.querySelector('.network-column');
                 const scrolls = column.scrollWidth > column.clientWidth;
                 const page = document.documentElement;
                 return [card.right, output.right, overlaps, menus[0].width, scrolls,
                         page.scrollWidth - page.clientWidth];",
            )
            .await;
        let number = |index: usize| layout[index].as_f64().unwrap_or(f64::NAN);
        let (card_right, output_right) = (number(0), number(1));
        if width == 1280 {
            assert!(
                output_right <= card_right,
                "{width} px: the output neuron sticks out of the network card: {layout}"
            );
        } else {
            assert_eq!(
                layout[4], true,
                "{width} px: the card does not scroll: {layout}"
            );
        }
        assert_eq!(
            number(5),
            0.0,
            "{width} px: the page scrolls sideways: {layout}"
        );
        assert_eq!(
            number(2),
            0.0,
            "{width} px: activation menus overlap: {layout}"
        );
        assert!(
            number(3) > 30.0,
            "{width} px: the menus are too narrow: {layout}"
        );
        page.screenshot(&format!("the_largest_network_fits_its_card_{width}"))
            .await;
    }
}

/// Every page fits a 1280-pixel window (a small laptop), the width the page is designed for:
/// nothing scrolls sideways or is cut off at the right.
#[tokio::test]
async fn every_page_fits_a_1280_pixel_window() {
    let page = playground_with_args("/", &["--window-size=1280,900"]).await;
    let mut too_wide = Vec::new();
    for key in [
        "playground",
        "lessons",
        "backprop",
        "activations",
        "losses",
        "optimizers",
        "words",
        "one-weight",
        "convolution",
        "images",
        "sequences",
        "seq2seq",
    ] {
        let nav = format!("nav-{key}");
        page.click(&nav).await;
        settles_to(&page, &format!("{key} shown"), true, async || {
            page.has_class(&nav, "current").await
        })
        .await;
        let widths = page
            .execute(
                "const root = document.documentElement;
                 return [root.scrollWidth, root.clientWidth];",
            )
            .await;
        let (scroll, client) = (
            widths[0].as_f64().unwrap_or(f64::NAN),
            widths[1].as_f64().unwrap_or(f64::NAN),
        );
        if scroll > client + 1.0 {
            too_wide.push(format!("{key}: {scroll} px in a {client} px window"));
        }
    }
    assert!(
        too_wide.is_empty(),
        "pages wider than the window: {too_wide:?}"
    );
}

/// A projector's 1024x768: the page reflows to fit its width at full size (no sideways
/// scrolling, no zoom, the output plot in view), and clicking the plot and dragging an edge
/// land where they should.
#[tokio::test]
async fn a_1024_pixel_window_shows_the_whole_playground() {
    let page = playground_with_args("/", &["--window-size=1024,768"]).await;
    let layout = page
        .execute(
            "const root = document.documentElement;
             const plot = document.querySelector('[data-testid=plot]').getBoundingClientRect();
             return [root.scrollWidth, root.clientWidth, plot.right, document.body.style.zoom];",
        )
        .await;
    let number = |index: usize| layout[index].as_f64().unwrap_or(f64::NAN);
    let (scroll_width, client_width, plot_right) = (number(0), number(1), number(2));
    assert!(
        scroll_width <= client_width + 1.0,
        "the page scrolls sideways: {layout}"
    );
    assert!(plot_right <= client_width, "the plot is cut off: {layout}");
    assert_eq!(layout[3], "", "the page is zoomed: {layout}");

    page.click("plot").await;
    settles_to(
        &page,
        "the training points",
        "251 training points · 250 test points".to_string(),
        async || page.text("point-counts").await,
    )
    .await;
    let heatmap_before = page.canvas_data_url("output-heatmap").await;
    dragging_an_edge_changes_the_heatmap(&page, heatmap_before).await;
    page.screenshot("a_1024_pixel_window_shows_the_whole_playground")
        .await;
}

/// The playground's network after a few steps, saved as a model file (the bytes the page
/// hands the browser), opens in a fresh browser: the same data set and the same test loss.
#[tokio::test]
async fn a_model_file_carries_the_playground_network_to_a_fresh_page() {
    let saved = Page::launch().await;
    saved.open("/#dataset=xor").await;
    saved.wait_for("step", LOAD_TIMEOUT).await;
    for _ in 0..5 {
        saved.click("step").await;
    }
    let loss = saved.text("loss-test").await;
    saved.keep_downloads().await;
    saved.click("playground-model-download").await;
    let status = saved.text("playground-model-status").await;
    assert!(
        status.starts_with("Saved playground-model.safetensors"),
        "{status}"
    );
    let bytes = saved.download(0).await;
    let dir = std::env::temp_dir().join(format!("np-playground-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("xor.safetensors");
    std::fs::write(&file, &bytes).unwrap();

    let fresh = Page::launch().await;
    fresh.open("/").await;
    fresh.wait_for("step", LOAD_TIMEOUT).await;
    fresh.upload("playground-model-file", &[file]).await;
    fresh
        .wait_until(
            "the opened model",
            LOAD_TIMEOUT,
            async || fresh.text("playground-model-status").await,
            |text| text.starts_with("Opened xor.safetensors"),
        )
        .await;
    assert_eq!(fresh.text("loss-test").await, loss);
    let hash = fresh.execute("return location.hash;").await;
    assert!(hash.as_str().unwrap().contains("dataset=xor"), "{hash}");
    fresh
        .execute("document.querySelector('[data-testid=playground-model-status]').scrollIntoView({block: 'center'});")
        .await;
    fresh.screenshot("playground_model_opened").await;
}

/// Export to PyTorch from the keyboard: the panel shows the script the page writes for its
/// network (its layers, its loss, its features), and the download is one zip of the script, the
/// weights it loads and the data it reads. (`tests/pytorch_export.rs` runs such a script under
/// PyTorch.)
#[tokio::test]
async fn the_network_exports_to_a_pytorch_script_shown_before_it_is_downloaded() {
    let page = Page::launch().await;
    page.open("/#dataset=circle&features=x,y,xSquared").await;
    page.wait_for("step", LOAD_TIMEOUT).await;
    page.click("step").await;
    // WebDriver's E007 is Enter: the button works from the keyboard.
    page.keys("playground-pytorch-show", "\u{e007}").await;
    page.wait_for("playground-pytorch-script", LOAD_TIMEOUT)
        .await;
    let script = page.text("playground-pytorch-script").await;
    for expected in [
        "def build_network():",
        "Dense(3, 4, nn.Tanh())",
        "x1 * x1",
        "load_state_dict(load_file(HERE / \"model.safetensors\"), strict=True)",
    ] {
        assert!(script.contains(expected), "{expected} is not in\n{script}");
    }
    page.keep_downloads().await;
    page.keys("playground-pytorch-download", "\u{e007}").await;
    let status = page.text("playground-pytorch-status").await;
    assert!(
        status.starts_with("Saved playground-pytorch.zip"),
        "{status}"
    );
    let zip = page.download(0).await;
    assert_eq!(&zip[..2], b"PK", "a zip archive");
    for name in ["train.py", "model.safetensors", "data.csv"] {
        let path = format!("playground-pytorch/{name}");
        let found = zip
            .windows(path.len())
            .any(|window| window == path.as_bytes());
        assert!(found, "{path} is not in the zip");
    }
    page.execute("document.querySelector('[data-testid=playground-pytorch-script]').scrollIntoView({block: 'center'});")
        .await;
    page.screenshot("playground_pytorch_export").await;
    page.resize(390, 844).await;
    page.execute("document.querySelector('[data-testid=playground-pytorch-script]').scrollIntoView({block: 'center'});")
        .await;
    page.screenshot("playground_pytorch_export_phone").await;
    page.click("playground-pytorch-hide").await;
    assert!(!page.exists("playground-pytorch-script").await);
}

/// Your own data: the points download as CSV, a CSV of one's own opens as the data set (a
/// regression when its labels are values), and a broken file is refused with its line and
/// reason while the points stay.
#[tokio::test]
async fn points_go_out_and_come_in_as_csv() {
    let page = Page::launch().await;
    page.open("/#dataset=xor").await;
    page.wait_for("step", LOAD_TIMEOUT).await;
    page.keep_downloads().await;
    page.click("playground-points-download").await;
    let status = page.text("playground-points-status").await;
    assert!(
        status.starts_with("Saved playground-points.csv: 250 training and 250 test points"),
        "{status}"
    );
    let csv = String::from_utf8(page.download(0).await).unwrap();
    assert!(
        csv.starts_with("split,x1,x2,label\ntrain,"),
        "{}",
        &csv[..60]
    );
    assert_eq!(csv.lines().count(), 501);

    let dir = std::env::temp_dir().join(format!("np-points-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A plane tilted along x1: a regression, split by the page (no split column).
    let mut rows = String::from("x1,x2,label\n");
    for i in 0..120 {
        let (x, y) = ((i % 12) as f32 - 5.5, (i / 12) as f32 - 4.5);
        rows.push_str(&format!("{x},{y},{}\n", x / 6.0));
    }
    let tilted = dir.join("tilted.csv");
    std::fs::write(&tilted, rows).unwrap();
    page.upload("playground-points-file", &[tilted]).await;
    page.wait_until(
        "the opened points",
        LOAD_TIMEOUT,
        async || page.text("playground-points-status").await,
        |text| text.starts_with("Opened tilted.csv"),
    )
    .await;
    let status = page.text("playground-points-status").await;
    assert!(
        status.contains("60 training and 60 test points, a regression"),
        "{status}"
    );
    let hash = page.execute("return location.hash;").await;
    assert!(
        hash.as_str().unwrap().contains("problem=regression"),
        "{hash}"
    );
    for _ in 0..20 {
        page.click("step").await;
    }
    let loss = page.number("loss-test").await;
    assert!(loss < 0.2, "a tilted plane is learned: test loss {loss}");

    let broken = dir.join("broken.csv");
    std::fs::write(&broken, "x1,x2,label\n1,2,0\n3,four,1\n").unwrap();
    page.upload("playground-points-file", &[broken]).await;
    page.wait_until(
        "the refusal",
        LOAD_TIMEOUT,
        async || page.text("playground-points-status").await,
        |text| text.starts_with("broken.csv was not opened"),
    )
    .await;
    let status = page.text("playground-points-status").await;
    assert!(
        status.contains("line 3: x2 is \"four\", not a number")
            && status.ends_with("The points are kept."),
        "{status}"
    );
    assert_eq!(
        page.number("loss-test").await,
        loss,
        "the points and the network are kept"
    );
    page.execute("document.querySelector('[data-testid=playground-points-status]').scrollIntoView({block: 'center'});")
        .await;
    page.screenshot("playground_points_csv").await;

    // The data column says where the points come from, and picks no data set; a pick
    // generates one again, even the file's stand-in (a plane, for a regression).
    assert!(page.text("data-file").await.contains("tilted.csv"));
    assert!(
        page.text("points-label")
            .await
            .contains("120 (from tilted.csv)")
    );
    assert!(!page.has_class("dataset-reg-plane", "selected").await);
    page.click("dataset-reg-plane").await;
    settles_to(&page, "the plane generated again", true, async || {
        page.has_class("dataset-reg-plane", "selected").await
    })
    .await;
    assert!(!page.exists("data-file").await);
    assert!(page.text("points-label").await.contains("Points: 500"));
    let _ = std::fs::remove_dir_all(dir);
}

/// The largest network and data set the controls allow (as `cargo xtask bench`'s
/// `largest_network_*` figures): eight hidden layers of sixteen, every input, 1800 training
/// points in batches of one.
const LARGEST: &str = "/#dataset=spiral&points=2000&trainFraction=0.9&batchSize=1\
    &features=x,y,xSquared,ySquared,xTimesY,sinX,sinY&layers=16,16,16,16,16,16,16,16";

/// A frame trains within a time budget, so an epoch too long for one frame is trained in
/// slices over several while the page goes on drawing: more frames than epochs, where one
/// epoch per frame made one frame per epoch. The weights, the boundary and the edges change
/// as it trains.
#[tokio::test]
async fn the_largest_network_trains_in_slices_over_several_frames() {
    let page = playground(LARGEST).await;
    page.wait_for("edge-0-6-0", LOAD_TIMEOUT).await;
    let edges_before = page.canvas_data_url("edge-canvas").await;
    let boundary_before = page.canvas_data_url("output-heatmap").await;
    page.click("play").await;
    let count = "const done = arguments[arguments.length - 1];
        const epoch = () => Number(document.querySelector('[data-testid=epoch]').textContent.replace(/\\D/g, ''));
        const first = epoch();
        let frames = 0;
        const start = performance.now();
        const frame = (now) => {
            frames += 1;
            if (now - start < 3000) requestAnimationFrame(frame);
            else done({ frames, epochs: epoch() - first });
        };
        requestAnimationFrame(frame);";
    let counted = page.execute_async(count, vec![]).await;
    page.click("play").await;
    let (frames, epochs) = (
        counted["frames"].as_u64().expect("frames"),
        counted["epochs"].as_u64().expect("epochs"),
    );
    assert!(
        epochs >= 1,
        "no epoch ended in 3 s of training ({frames} frames)"
    );
    assert!(
        frames >= 2 * epochs,
        "{frames} frames drawn for {epochs} epochs: the epochs were not sliced"
    );
    assert_ne!(
        page.canvas_data_url("output-heatmap").await,
        boundary_before
    );
    assert_ne!(page.canvas_data_url("edge-canvas").await, edges_before);
    page.screenshot("largest_network_training").await;
}

/// Hovering an edge or a neuron shows its weight or bias beside it, the value the inspector
/// then edits.
#[tokio::test]
async fn hovering_shows_the_weight_or_bias() {
    let page = playground("/").await;
    page.wait_for("edge-0-1-0", LOAD_TIMEOUT).await;
    for (target, kind) in [("edge-0-1-0", "Weight"), ("neuron-1-0", "Bias")] {
        page.hover(target).await;
        let card = page.text("hover-card").await;
        let value = card
            .strip_prefix(&format!("{kind} "))
            .unwrap_or_else(|| panic!("the card over {target} reads {card:?}"));
        page.press(target).await;
        settles_to(
            &page,
            "the inspector's value",
            value.to_string(),
            async || page.value("weight-input").await,
        )
        .await;
    }
    page.screenshot("hover_card").await;
}

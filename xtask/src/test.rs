//! `cargo xtask test`: every check the project has, in the order a failure is cheapest to see.

use std::process::Command;

use crate::build;
use crate::command::{Result, cargo, run};
use crate::setup;

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
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(&mut native_tests()?)?;
    build::release()?;
    run(cargo().args([
        "test",
        "--package",
        "browser-tests",
        "--",
        "--test-threads=1",
    ]))
}

/// `cargo xtask test [native|browser]`.
pub fn run_group(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        None | Some("all") => run_all(),
        Some("native") => run(&mut native_tests()?),
        Some("browser") => {
            setup::for_tests()?;
            build::release()?;
            run(cargo().args([
                "test",
                "--package",
                "browser-tests",
                "--",
                "--test-threads=1",
            ]))
        }
        Some(other) => Err(format!(
            "unknown test group `{other}` (all, native, browser)"
        )),
    }
}

/// `cargo test` of every native crate, with wgpu pointed at lavapipe (software Vulkan) where it is
/// installed, so that `tests/gpu_parity.rs` runs, and fails rather than skips, without a GPU.
fn native_tests() -> Result<Command> {
    let mut command = cargo();
    command.args(["test", "--workspace", "--exclude", "browser-tests"]);
    let lavapipe = setup::lavapipe_icd();
    if lavapipe.exists() && std::env::var_os("VK_DRIVER_FILES").is_none() {
        command
            .env("VK_DRIVER_FILES", &lavapipe)
            .env("WGPU_BACKEND", "vulkan");
    }
    setup::private_runtime_dir(&mut command)?;
    Ok(command)
}

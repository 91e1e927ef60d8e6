//! `cargo xtask test`: every check the project has, in the order a failure is cheapest to see.

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
    run(cargo().args(["test", "--workspace", "--exclude", "browser-tests"]))?;
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
        Some("native") => run(cargo().args(["test", "--workspace", "--exclude", "browser-tests"])),
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

//! `cargo xtask bench quick`: every measuring program of ours in its quick mode (a few runs a
//! figure, no reference), then a check that each figure of the report was printed and read, so
//! that a benchmark that stops producing a figure fails `cargo xtask test`. It measures nothing
//! worth keeping and writes nothing to `docs/`; the table it prints shows that every row can be
//! filled.
//!
//! References are not run: PyTorch, TensorFlow.js and cuBLAS figures are left out of the check,
//! as is a figure that its program declined with a `# <key>: not measured` line (the 4096³
//! product on a software GPU).

use super::{Figure, Measurements, Reference, Row, bench_paired, figures};
use crate::build;
use crate::command::{Result, cargo};
use crate::setup;
use std::process::Command;

/// Keys of references that other programs than ours measure.
const OUTSIDE_REFERENCES: [&str; 3] = ["pytorch_", "tfjs_", "cublas_"];

pub fn run() -> Result {
    setup::for_tests()?;
    if !build::dist_dir().join("index.html").exists() {
        build::release()?;
    }
    let measurements = measure()?;
    let missing = missing_keys(&figures(), &measurements);
    println!("\nname | ours | reference | ratio (quick runs: not a measurement)");
    for figure in &figures() {
        println!("{}", Row::new(figure, &measurements).line);
    }
    if !missing.is_empty() {
        return Err(format!(
            "bench quick: no figure was read for {} (see the programs' output above)",
            missing.join(", ")
        ));
    }
    // `bench load`'s Lighthouse run, on one page.
    crate::bench_load::run(true)?;
    println!(
        "# bench quick: all {} figures were printed and read",
        figures().len()
    );
    Ok(())
}

/// Our programs in their quick modes: the native engine, the native MLP step as the paired
/// rounds run it, the browser (the built app in headless Chromium) both ways, and the GPU's.
fn measure() -> Result<Measurements> {
    let mut measurements = Measurements::default();
    let mut native = cargo();
    native.args(["bench", "--quiet", "--bench", "engine", "--", "quick"]);
    measurements.collect("native engine (quick)", &mut native);

    let mut browser = browser_bench();
    browser.arg("--quick");
    measurements.collect("browser (quick)", &mut browser);

    // The paired rounds' programs: the figure each prints stands for the paired median.
    let mut native_step = cargo();
    native_step.args([
        "bench", "--quiet", "--bench", "engine", "--", "mlp-step", "quick",
    ]);
    let mut browser_step = browser_bench();
    browser_step.args(["--mlp-step-only", "--quick"]);
    for (figure, mut command) in [
        (bench_paired::NATIVE, native_step),
        (bench_paired::WASM, browser_step),
    ] {
        let mut alone = Measurements::default();
        alone.collect(&format!("{} (quick)", figure.measured), &mut command);
        if let Some(&value) = alone.values.get(figure.measured) {
            measurements.values.insert(figure.ours.to_string(), value);
        }
        measurements.notes.extend(alone.notes);
    }

    let mut gpu = cargo();
    gpu.args(["bench", "--quiet", "--bench", "gpu", "--", "--quick"]);
    if std::env::var_os("WGPU_BACKEND").is_none() {
        gpu.env("WGPU_BACKEND", "vulkan");
    }
    let lavapipe = setup::lavapipe_icd();
    if lavapipe.exists() && std::env::var_os("VK_DRIVER_FILES").is_none() {
        gpu.env("VK_DRIVER_FILES", &lavapipe);
    }
    setup::private_runtime_dir(&mut gpu)?;
    measurements.collect("GPU (quick)", &mut gpu);
    for note in &measurements.notes {
        println!("# {note}");
    }
    Ok(measurements)
}

/// `browser_bench` in the profile the browser tests already built (it only drives Chromium:
/// the code it times is `dist/`'s, or `$PLAYGROUND_DIST`'s, built in release).
fn browser_bench() -> Command {
    let mut command = cargo();
    command.args([
        "run",
        "--quiet",
        "--package",
        "browser-tests",
        "--bin",
        "browser_bench",
        "--",
    ]);
    command
}

/// The keys of our figures, and of the references our own programs measure, that no program
/// printed, but for those a program said it did not measure.
fn missing_keys(figures: &[Figure], measurements: &Measurements) -> Vec<String> {
    let declined = |key: &str| {
        let said = format!("{key}: not measured");
        measurements
            .notes
            .iter()
            .any(|note| note.starts_with(&said))
    };
    let mut missing: Vec<String> = Vec::new();
    for figure in figures {
        let reference = match figure.reference {
            Reference::Measured { key, .. }
                if !OUTSIDE_REFERENCES
                    .iter()
                    .any(|outside| key.starts_with(outside)) =>
            {
                Some(key)
            }
            _ => None,
        };
        for key in std::iter::once(figure.ours).chain(reference) {
            let read = measurements.values.get(key).is_some_and(|v| v.is_finite());
            if !read && !declined(key) && !missing.iter().any(|seen| seen == key) {
                missing.push(key.to_string());
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(lines: &str) -> Measurements {
        let mut measurements = Measurements::default();
        measurements.take(lines);
        measurements
    }

    #[test]
    fn a_figure_nobody_printed_is_missing_and_references_of_others_are_not_asked_for() {
        let figures = figures();
        let mut all: String = figures
            .iter()
            .map(|figure| format!("{} 1.5\n", figure.ours))
            .collect();
        all.push_str("gemm_64x784x512_gflops_reference 30\n");
        all.push_str("gemm_784x64x512_gflops_reference 30\n");
        all.push_str("gemm_1024_gflops_reference 30\n");
        all.push_str("gemm_64x784x512_wasm_gflops_reference 9\n");
        all.push_str("wasm_multiply_add_peak_gflops 14\n");
        assert_eq!(missing_keys(&figures, &printed(&all)), Vec::<String>::new());

        let without_grid = all.replace("grid_wasm_ms 1.5\n", "");
        assert_eq!(
            missing_keys(&figures, &printed(&without_grid)),
            vec!["grid_wasm_ms"]
        );
        let unreadable = all.replace("lenet_step_native_ms 1.5", "lenet_step_native_ms NaN");
        assert_eq!(
            missing_keys(&figures, &printed(&unreadable)),
            vec!["lenet_step_native_ms"]
        );
    }

    #[test]
    fn a_figure_its_program_declined_is_not_missing() {
        let figures = figures();
        let all: String = figures
            .iter()
            .filter(|figure| figure.ours != "gemm_4096_gpu_gflops")
            .map(|figure| format!("{} 1.5\n", figure.ours))
            .collect();
        let missing = missing_keys(&figures, &printed(&all));
        assert!(missing.contains(&"gemm_4096_gpu_gflops".to_string()));
        let declined = format!(
            "{all}# gemm_4096_gpu_gflops: not measured: one product would take about 900 s\n"
        );
        let missing = missing_keys(&figures, &printed(&declined));
        assert!(!missing.contains(&"gemm_4096_gpu_gflops".to_string()));
    }
}

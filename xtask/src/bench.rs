//! `cargo xtask bench [all|native|browser]`: performance figures beside their references.
//!
//! The measuring programs (`benches/engine.rs`, `tests/browser/src/bin/browser_bench.rs`,
//! `bench/pytorch_mlp.py`, and `bench/tfjs_mlp.html` inside the browser benchmark) each print
//! `key value` lines in milliseconds and `# ` lines of context. This module runs them, sets each
//! figure beside its reference and prints one `name | ours | reference | ratio` line per figure
//! (ratio = ours / reference), then writes the same table to `docs/benchmarks.md`.

use crate::bench_references::{pytorch_command, pytorch_python, tfjs_page};
use crate::build;
use crate::command::{Result, cargo, output, root};
use crate::setup;
use std::collections::HashMap;
use std::process::{Command, Stdio};

/// Where a figure's reference comes from.
enum Reference {
    /// Measured by a program under the key; if it could not be, the STACK.md figure (and what
    /// it is of), if there is one.
    Measured {
        key: &'static str,
        what: &'static str,
        stack_figure: Option<(f64, &'static str)>,
    },
    /// A fixed number, e.g. a time budget.
    Fixed { value: f64, what: &'static str },
}

/// What a figure must achieve.
enum Target {
    None,
    OursBelow(f64),
    RatioAtMost(f64),
}

struct Figure {
    /// Printed name, with the unit.
    name: &'static str,
    /// Measured by the native benchmark (otherwise in the browser).
    native: bool,
    /// Key of our measurement.
    ours: &'static str,
    reference: Reference,
    target: Target,
}

const PYTORCH: &str = "PyTorch CPU, 1 thread, eager";

const MATRIXMULTIPLY: &str =
    "matrixmultiply 0.3 (the crate our GEMM replaced), 1 thread; in GFLOP/s, so above 1 is faster";

/// A GEMM figure in GFLOP/s: ours under `key`, matrixmultiply's under `key_reference`.
fn gemm(name: &'static str, key: &'static str, reference: &'static str) -> Figure {
    Figure {
        name,
        native: !key.contains("wasm"),
        ours: key,
        reference: Reference::Measured {
            key: reference,
            what: MATRIXMULTIPLY,
            stack_figure: None,
        },
        target: Target::None,
    }
}

fn figures() -> [Figure; 9] {
    [
        Figure {
            name: "grid_100x100_2-8-8-1_tanh_ms",
            native: false,
            ours: "grid_wasm_ms",
            reference: Reference::Measured {
                key: "tfjs_grid_ms",
                what: "tfjs-backend-wasm 4.22, same 2-8-8-1 net, in the same Chromium",
                stack_figure: Some((12.0, "tfjs-backend-wasm on a 2-16-16-2 tanh net")),
            },
            target: Target::OursBelow(0.5),
        },
        Figure {
            name: "spiral_frame_p95_ms",
            native: false,
            ours: "spiral_frame_p95_ms",
            reference: Reference::Fixed {
                value: 8.0,
                what: "the 8 ms frame budget, not a measurement (500 training points per frame)",
            },
            target: Target::OursBelow(8.0),
        },
        Figure {
            name: "mlp_step_native_ms",
            native: true,
            ours: "mlp_step_native_ms",
            reference: Reference::Measured {
                key: "pytorch_mlp_step_ms",
                what: PYTORCH,
                stack_figure: None,
            },
            target: Target::None,
        },
        Figure {
            name: "mlp_step_wasm_ms",
            native: false,
            ours: "mlp_step_wasm_ms",
            reference: Reference::Measured {
                key: "pytorch_mlp_step_ms",
                what: PYTORCH,
                stack_figure: None,
            },
            target: Target::RatioAtMost(1.5),
        },
        Figure {
            name: "mlp_step_wasm_ms_vs_tfjs_wasm",
            native: false,
            ours: "mlp_step_wasm_ms",
            reference: Reference::Measured {
                key: "tfjs_mlp_step_ms",
                what: "tfjs-backend-wasm 4.22, 1 thread, in the same Chromium",
                stack_figure: Some((210.0, "tfjs-backend-wasm 4.22, 1 thread")),
            },
            target: Target::RatioAtMost(1.0 / 15.0),
        },
        gemm(
            "gemm_64x784x512_gflops",
            "gemm_64x784x512_gflops",
            "gemm_64x784x512_gflops_reference",
        ),
        gemm(
            "gemm_784x64x512_gflops",
            "gemm_784x64x512_gflops",
            "gemm_784x64x512_gflops_reference",
        ),
        gemm(
            "gemm_1024_gflops",
            "gemm_1024_gflops",
            "gemm_1024_gflops_reference",
        ),
        gemm(
            "gemm_64x784x512_wasm_gflops",
            "gemm_64x784x512_wasm_gflops",
            "gemm_64x784x512_wasm_gflops_reference",
        ),
    ]
}

impl Figure {
    /// Whether this figure shows the measurement `key`, as ours or as its reference.
    fn uses(&self, key: &str) -> bool {
        let reference = match self.reference {
            Reference::Measured { key, .. } => Some(key),
            Reference::Fixed { .. } => None,
        };
        self.ours == key || reference == Some(key)
    }
}

/// Which figures a group measures.
#[derive(Clone, Copy, PartialEq)]
enum Group {
    All,
    Native,
    Browser,
}

/// Figures by key, and the context lines the programs printed.
#[derive(Default)]
struct Measurements {
    values: HashMap<String, f64>,
    notes: Vec<String>,
}

impl Measurements {
    /// Runs a measuring program and keeps what it printed, even if it then failed.
    fn collect(&mut self, what: &str, command: &mut Command) {
        eprintln!("\n== {what}");
        let result = command
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output();
        let output = match result {
            Ok(output) => output,
            Err(error) => return self.notes.push(format!("{what}: cannot start ({error})")),
        };
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            if let Some(note) = line.strip_prefix("# ") {
                self.notes.push(note.to_string());
            } else if let Some((key, value)) = line.split_once(' ')
                && let Ok(value) = value.trim().parse::<f64>()
            {
                self.values.insert(key.to_string(), value);
            }
        }
        if !output.status.success() {
            self.notes
                .push(format!("{what} failed ({}); see its output", output.status));
        }
    }
}

pub fn run(args: &[String]) -> Result {
    let group = match args.first().map(String::as_str) {
        None | Some("all") => Group::All,
        Some("native") => Group::Native,
        Some("browser") => Group::Browser,
        Some(other) => {
            return Err(format!(
                "unknown bench group `{other}` (all, native, browser)"
            ));
        }
    };
    let measurements = measure(group)?;
    report(group, measurements)
}

/// Runs the programs that `group` needs: PyTorch always, then ours natively or in Chromium.
fn measure(group: Group) -> Result<Measurements> {
    let mut measurements = Measurements::default();
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let minute = load.split_whitespace().next().unwrap_or("?");
        measurements.notes.push(format!(
            "load average (1 min) before the run: {minute}; other work on the machine slows every figure"
        ));
    }
    match pytorch_python() {
        Ok(python) => measurements.collect("PyTorch reference", &mut pytorch_command(&python)),
        Err(reason) => measurements
            .notes
            .push(format!("PyTorch reference n/a: {reason}")),
    }
    if group != Group::Browser {
        measurements.collect(
            "native engine",
            cargo().args(["bench", "--quiet", "--bench", "engine"]),
        );
    }
    if group != Group::Native {
        setup::for_tests()?;
        build::release()?;
        let page = tfjs_page();
        let mut browser_bench = cargo();
        browser_bench.args([
            "run",
            "--quiet",
            "--release",
            "--package",
            "browser-tests",
            "--bin",
            "browser_bench",
        ]);
        match &page {
            Ok(dir) => {
                browser_bench.arg("--").arg("--tfjs-page").arg(dir);
            }
            Err(reason) => measurements
                .notes
                .push(format!("TensorFlow.js reference not measured: {reason}")),
        }
        measurements.collect("browser (headless Chromium)", &mut browser_bench);
        if let Ok(dir) = page {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    Ok(measurements)
}

/// Prints the table and the notes, and writes them to `docs/benchmarks.md`.
fn report(group: Group, measurements: Measurements) -> Result {
    let figures: Vec<Figure> = figures()
        .into_iter()
        .filter(|figure| match group {
            Group::All => true,
            Group::Native => figure.native,
            Group::Browser => !figure.native,
        })
        .collect();
    let rows: Vec<Row> = figures
        .iter()
        .map(|figure| Row::new(figure, &measurements))
        .collect();
    println!("\nname | ours | reference | ratio");
    for row in &rows {
        println!("{}", row.line);
    }
    let mut notes: Vec<String> = rows.iter().map(|row| row.note.clone()).collect();
    notes.extend(measurements.notes);
    let mut unused: Vec<String> = measurements
        .values
        .iter()
        .filter(|(key, _)| !figures.iter().any(|figure| figure.uses(key)))
        .map(|(key, value)| format!("{key} {}", number(Some(*value))))
        .collect();
    if !unused.is_empty() {
        unused.sort();
        notes.push(format!("also measured: {}", unused.join(", ")));
    }
    for note in &notes {
        println!("# {note}");
    }
    write_report(group, &rows, &notes)
}

/// One figure's line of the table and its note (reference and target).
struct Row {
    line: String,
    note: String,
}

impl Row {
    fn new(figure: &Figure, measurements: &Measurements) -> Row {
        let ours = measurements.values.get(figure.ours).copied();
        let (reference, source) = match figure.reference {
            Reference::Fixed { value, what } => (Some(value), what.to_string()),
            Reference::Measured {
                key,
                what,
                stack_figure,
            } => match (measurements.values.get(key), stack_figure) {
                (Some(&value), _) => (Some(value), format!("{what}, measured")),
                (None, Some((value, stack_what))) => (
                    Some(value),
                    format!("{stack_what} (STACK.md figure, not measured)"),
                ),
                (None, None) => (None, format!("{what}: n/a, not measured")),
            },
        };
        let ratio = ours
            .zip(reference)
            .map(|(ours, reference)| ours / reference);
        let line = format!(
            "{} | {} | {} | {}",
            figure.name,
            number(ours),
            number(reference),
            number(ratio)
        );
        let verdict = |met: Option<bool>| match met {
            Some(true) => "met",
            Some(false) => "NOT met",
            None => "unknown",
        };
        let target = match figure.target {
            Target::None => String::new(),
            Target::OursBelow(limit) => format!(
                "; target under {limit} ms: {}",
                verdict(ours.map(|ours| ours < limit))
            ),
            Target::RatioAtMost(limit) => format!(
                "; target ratio at most {}: {}",
                number(Some(limit)),
                verdict(ratio.map(|ratio| ratio <= limit))
            ),
        };
        Row {
            line,
            note: format!("{}: reference {source}{target}", figure.name),
        }
    }
}

/// Three significant figures or so; `n/a` when missing.
fn number(value: Option<f64>) -> String {
    match value {
        None => "n/a".to_string(),
        Some(value) if value.abs() >= 100.0 => format!("{value:.0}"),
        Some(value) if value.abs() >= 10.0 => format!("{value:.1}"),
        Some(value) if value.abs() >= 1.0 => format!("{value:.2}"),
        Some(value) => format!("{value:.3}"),
    }
}

/// The heading of the section `cargo xtask mnist` figures live under; a bench run keeps it.
const KEPT_SECTION: &str = "\n## MNIST";

/// Overwrites `docs/benchmarks.md` with this run's table, keeping the MNIST section.
fn write_report(group: Group, rows: &[Row], notes: &[String]) -> Result {
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%d"])).unwrap_or_default();
    let lscpu = output(&mut Command::new("lscpu")).unwrap_or_default();
    let field = |name: &str| {
        lscpu
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map_or("unknown".to_string(), |value| value.trim().to_string())
    };
    let group = match group {
        Group::All => "all",
        Group::Native => "native",
        Group::Browser => "browser",
    };
    let mut report = format!(
        "# Benchmarks\n\n\
         Written by `cargo xtask bench {group}` on {}, {} ({} CPUs). Times in milliseconds \
         (medians unless the name says otherwise); ratio = ours / reference, below 1 is faster.\n\
         Our engine runs on one thread, natively or as wasm (SIMD128) in headless Chromium.\n\n\
         | name | ours | reference | ratio |\n|---|---|---|---|\n",
        date.trim(),
        field("Model name:"),
        field("CPU(s):"),
    );
    for row in rows {
        report.push_str(&format!("| {} |\n", row.line));
    }
    report.push_str("\n## Notes\n\n");
    for note in notes {
        report.push_str(&format!("- {note}\n"));
    }
    let path = root().join("docs/benchmarks.md");
    let previous = std::fs::read_to_string(&path).unwrap_or_default();
    if let Some(start) = previous.find(KEPT_SECTION) {
        report.push_str(&previous[start..]);
    }
    std::fs::write(&path, report)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    eprintln!("\nWrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(values: &[(&str, f64)]) -> Measurements {
        Measurements {
            values: values.iter().map(|&(k, v)| (k.to_string(), v)).collect(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_measured_reference_gives_the_ratio() {
        let [grid, ..] = figures();
        let row = Row::new(
            &grid,
            &measured(&[("grid_wasm_ms", 0.3), ("tfjs_grid_ms", 3.0)]),
        );
        assert_eq!(
            row.line,
            "grid_100x100_2-8-8-1_tanh_ms | 0.300 | 3.00 | 0.100"
        );
        assert!(
            row.note.contains("measured; target under 0.5 ms: met"),
            "{}",
            row.note
        );
    }

    #[test]
    fn a_missing_reference_falls_back_to_stack_or_reads_n_a() {
        let [grid, _, native, ..] = figures();
        let row = Row::new(&grid, &measured(&[("grid_wasm_ms", 0.6)]));
        assert_eq!(
            row.line,
            "grid_100x100_2-8-8-1_tanh_ms | 0.600 | 12.0 | 0.050"
        );
        assert!(
            row.note.contains("STACK.md figure, not measured"),
            "{}",
            row.note
        );
        let row = Row::new(&native, &measured(&[("mlp_step_native_ms", 4.0)]));
        assert_eq!(row.line, "mlp_step_native_ms | 4.00 | n/a | n/a");
    }
}

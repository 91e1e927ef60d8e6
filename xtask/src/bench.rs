//! `cargo xtask bench [all|native|browser|mnist]`: performance figures beside their references.
//!
//! The measuring programs (`benches/engine.rs`, `tests/browser/src/bin/browser_bench.rs`,
//! `bench/pytorch_mlp.py` and `bench/pytorch_lenet.py` (sharing `bench/pytorch_timing.py`),
//! and `bench/tfjs_mlp.html` and `bench/tfjs_lenet.html` inside the browser benchmark) each print `key value` lines in
//! milliseconds (seconds where the key says so) and `# ` lines of context. This module runs them,
//! sets each figure beside its reference and prints one `name | ours | reference | ratio` line
//! per figure (ratio = ours / reference), then writes the same table to `docs/benchmarks.md`:
//! `all`, `native` and `browser` rewrite its top table, `mnist` only its "MNIST speed" section.

use crate::bench_references::{
    PYTORCH_LENET, PYTORCH_MLP, pytorch_command, pytorch_python, tfjs_page,
};
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
    /// Ours below this many of the unit (e.g. `(8.0, "ms")`).
    OursBelow(f64, &'static str),
    RatioAtMost(f64),
}

struct Figure {
    /// Printed name, with the unit.
    name: &'static str,
    /// Measured by the native benchmark (otherwise in the browser).
    native: bool,
    /// One of the MNIST figures (`cargo xtask bench mnist`).
    mnist: bool,
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
        mnist: false,
        ours: key,
        reference: Reference::Measured {
            key: reference,
            what: MATRIXMULTIPLY,
            stack_figure: None,
        },
        target: Target::None,
    }
}

const PYTORCH_LENET_STEP: Reference = Reference::Measured {
    key: "pytorch_lenet_step_ms",
    what: PYTORCH,
    stack_figure: Some((22.0, "PyTorch 1 thread, LeNet-5, batch 64")),
};

fn figures() -> [Figure; 13] {
    [
        Figure {
            name: "grid_100x100_2-8-8-1_tanh_ms",
            native: false,
            mnist: false,
            ours: "grid_wasm_ms",
            reference: Reference::Measured {
                key: "tfjs_grid_ms",
                what: "tfjs-backend-wasm 4.22, same 2-8-8-1 net, in the same Chromium",
                stack_figure: Some((12.0, "tfjs-backend-wasm on a 2-16-16-2 tanh net")),
            },
            target: Target::OursBelow(0.5, "ms"),
        },
        Figure {
            name: "spiral_frame_p95_ms",
            native: false,
            mnist: false,
            ours: "spiral_frame_p95_ms",
            reference: Reference::Fixed {
                value: 8.0,
                what: "the 8 ms frame budget, not a measurement (500 training points per frame)",
            },
            target: Target::OursBelow(8.0, "ms"),
        },
        Figure {
            name: "mlp_step_native_ms",
            native: true,
            mnist: false,
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
            mnist: false,
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
            mnist: false,
            ours: "mlp_step_wasm_ms",
            reference: Reference::Measured {
                key: "tfjs_mlp_step_ms",
                what: "tfjs-backend-wasm 4.22, 1 thread, in the same Chromium",
                stack_figure: Some((210.0, "tfjs-backend-wasm 4.22, 1 thread")),
            },
            target: Target::RatioAtMost(1.0 / 15.0),
        },
        Figure {
            name: "lenet_step_native_ms",
            native: true,
            mnist: true,
            ours: "lenet_step_native_ms",
            reference: PYTORCH_LENET_STEP,
            target: Target::RatioAtMost(1.0),
        },
        Figure {
            name: "lenet_step_wasm_ms",
            native: false,
            mnist: true,
            ours: "lenet_step_wasm_ms",
            reference: PYTORCH_LENET_STEP,
            target: Target::RatioAtMost(1.0),
        },
        Figure {
            name: "lenet_step_wasm_ms_vs_tfjs_cpu",
            native: false,
            mnist: true,
            ours: "lenet_step_wasm_ms",
            reference: Reference::Measured {
                key: "tfjs_cpu_lenet_step_ms",
                what: "tfjs-backend-cpu 4.22, in the same Chromium (tfjs-backend-wasm cannot \
                       train a CNN)",
                stack_figure: Some((2230.0, "tfjs-backend-cpu on LeNet-5")),
            },
            target: Target::None,
        },
        Figure {
            name: "lenet_seconds_to_97",
            native: false,
            mnist: true,
            ours: "lenet_seconds_to_97",
            reference: Reference::Fixed {
                value: 60.0,
                what: "the issue's 60 s budget, not a measurement (the Images page's default \
                       LeNet-5 run, seconds from the click on Train to 97% test accuracy)",
            },
            target: Target::OursBelow(60.0, "s"),
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
    Mnist,
}

impl Group {
    fn includes(self, figure: &Figure) -> bool {
        match self {
            Group::All => true,
            Group::Native => figure.native,
            Group::Browser => !figure.native,
            Group::Mnist => figure.mnist,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Group::All => "all",
            Group::Native => "native",
            Group::Browser => "browser",
            Group::Mnist => "mnist",
        }
    }
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
        Some("mnist") => Group::Mnist,
        Some(other) => {
            return Err(format!(
                "unknown bench group `{other}` (all, native, browser, mnist)"
            ));
        }
    };
    let measurements = measure(group)?;
    report(group, measurements)
}

/// Runs the programs that `group` needs: PyTorch always, then ours natively or in Chromium
/// (both for `mnist`, which measures only the LeNet-5 figures).
fn measure(group: Group) -> Result<Measurements> {
    let mnist_only = group == Group::Mnist;
    let mut measurements = Measurements::default();
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let minute = load.split_whitespace().next().unwrap_or("?");
        measurements.notes.push(format!(
            "load average (1 min) before the run: {minute}; other work on the machine slows every figure"
        ));
    }
    let scripts: &[&str] = match mnist_only {
        true => &[PYTORCH_LENET],
        false => &[PYTORCH_MLP, PYTORCH_LENET],
    };
    match pytorch_python() {
        Ok(python) => {
            for script in scripts {
                let what = format!("PyTorch reference ({script})");
                measurements.collect(&what, &mut pytorch_command(&python, script));
            }
        }
        Err(reason) => measurements
            .notes
            .push(format!("PyTorch reference n/a: {reason}")),
    }
    if group != Group::Browser {
        let mut native = cargo();
        native.args(["bench", "--quiet", "--bench", "engine"]);
        if mnist_only {
            native.args(["--", "mnist"]);
        }
        measurements.collect("native engine", &mut native);
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
            "--",
        ]);
        if mnist_only {
            browser_bench.arg("--mnist-only");
        }
        match &page {
            Ok(dir) => {
                browser_bench.arg("--tfjs-page").arg(dir);
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
        .filter(|figure| group.includes(figure))
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
            Target::OursBelow(limit, unit) => format!(
                "; target under {limit} {unit}: {}",
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

/// Where a run that rewrites the top table stops: everything from the first MNIST heading on
/// (the "MNIST speed" section of `cargo xtask bench mnist`, then the accuracy figures of
/// `cargo xtask mnist` under "## MNIST") is kept as it was.
const KEPT_SECTION: &str = "\n## MNIST";
/// The section `cargo xtask bench mnist` writes, and the hand-written one it goes before.
const MNIST_SPEED_HEADING: &str = "## MNIST speed";
const MNIST_ACCURACY_HEADING: &str = "\n## MNIST\n";

/// Writes this run's table to `docs/benchmarks.md`: the top table for `all`, `native` and
/// `browser` (keeping the MNIST sections), the "MNIST speed" section alone for `mnist`.
fn write_report(group: Group, rows: &[Row], notes: &[String]) -> Result {
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%d"])).unwrap_or_default();
    let lscpu = output(&mut Command::new("lscpu")).unwrap_or_default();
    let field = |name: &str| {
        lscpu
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map_or("unknown".to_string(), |value| value.trim().to_string())
    };
    let written_by = format!(
        "Written by `cargo xtask bench {}` on {}, {} ({} CPUs).",
        group.name(),
        date.trim(),
        field("Model name:"),
        field("CPU(s):"),
    );
    let mut table = "| name | ours | reference | ratio |\n|---|---|---|---|\n".to_string();
    for row in rows {
        table.push_str(&format!("| {} |\n", row.line));
    }
    let note_list: String = notes.iter().map(|note| format!("- {note}\n")).collect();
    let path = root().join("docs/benchmarks.md");
    let previous = std::fs::read_to_string(&path).unwrap_or_default();
    let report = if group == Group::Mnist {
        let section = format!(
            "{MNIST_SPEED_HEADING}\n\n{written_by} Times in milliseconds (medians) unless the \
             name says seconds; ratio = ours / reference, below 1 is faster. Our engine runs on \
             one thread, natively or as wasm (SIMD128) in headless Chromium.\n\n\
             {table}\n### Notes\n\n{note_list}"
        );
        with_mnist_speed_section(&previous, &section)
    } else {
        let mut report = format!(
            "# Benchmarks\n\n{written_by} Times in milliseconds (medians unless the name says \
             otherwise); ratio = ours / reference, below 1 is faster.\n\
             Our engine runs on one thread, natively or as wasm (SIMD128) in headless Chromium.\n\n\
             {table}\n## Notes\n\n{note_list}"
        );
        if let Some(start) = previous.find(KEPT_SECTION) {
            report.push_str(&previous[start..]);
        }
        report
    };
    std::fs::write(&path, report)
        .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    eprintln!("\nWrote {}", path.display());
    Ok(())
}

/// `previous` with its "MNIST speed" section replaced by `section`, or with `section` added
/// before the MNIST accuracy section (at the end if there is none); the rest is untouched.
fn with_mnist_speed_section(previous: &str, section: &str) -> String {
    let heading = format!("\n{MNIST_SPEED_HEADING}");
    let (before, after) = match previous.find(&heading) {
        Some(start) => {
            let body = start + heading.len();
            let end = previous[body..]
                .find("\n## ")
                .map_or(previous.len(), |next| body + next);
            (&previous[..start], &previous[end..])
        }
        None => match previous.find(MNIST_ACCURACY_HEADING) {
            Some(start) => (&previous[..start], &previous[start..]),
            None => (previous.trim_end(), "\n"),
        },
    };
    let before = match before.trim_end() {
        "" => "# Benchmarks",
        text => text,
    };
    format!("{before}\n\n{section}{after}")
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

    #[test]
    fn the_mnist_speed_section_is_added_then_replaced_and_the_rest_kept() {
        let previous = "# Benchmarks\n\n| top |\n\n## Notes\n\n- a\n\n## MNIST\n\nhand-made\n";
        let first = with_mnist_speed_section(previous, "## MNIST speed\n\nv1\n");
        assert_eq!(
            first,
            "# Benchmarks\n\n| top |\n\n## Notes\n\n- a\n\n## MNIST speed\n\nv1\n\n\
             ## MNIST\n\nhand-made\n"
        );
        let second = with_mnist_speed_section(&first, "## MNIST speed\n\nv2\n### Notes\n");
        assert_eq!(
            second,
            "# Benchmarks\n\n| top |\n\n## Notes\n\n- a\n\n## MNIST speed\n\nv2\n### Notes\n\n\
             ## MNIST\n\nhand-made\n"
        );
        assert_eq!(
            with_mnist_speed_section("", "## MNIST speed\n\nv1\n"),
            "# Benchmarks\n\n## MNIST speed\n\nv1\n\n"
        );
    }

    #[test]
    fn the_mnist_group_holds_the_lenet_figures_of_both_sides() {
        let names: Vec<&str> = figures()
            .iter()
            .filter(|figure| Group::Mnist.includes(figure))
            .map(|figure| figure.name)
            .collect();
        assert_eq!(
            names,
            [
                "lenet_step_native_ms",
                "lenet_step_wasm_ms",
                "lenet_step_wasm_ms_vs_tfjs_cpu",
                "lenet_seconds_to_97"
            ]
        );
    }
}

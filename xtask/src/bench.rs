//! `cargo xtask bench [all|native|browser|mnist|seq|gpu|quick]`: performance figures beside
//! their references (`quick`: see [`quick`]).
//!
//! The measuring programs (`benches/engine.rs`, `benches/gpu.rs`,
//! `tests/browser/src/bin/browser_bench.rs`, `bench/pytorch_mlp.py`, `bench/pytorch_lenet.py`,
//! `bench/pytorch_gpu.py` and `bench/pytorch_recurrent.py` (sharing `bench/pytorch_timing.py`),
//! and `bench/tfjs_mlp.html`, `bench/tfjs_lenet.html` and `bench/tfjs_recurrent.html` inside the
//! browser benchmark) each print `key value` lines in
//! milliseconds (seconds or GFLOP/s where the key says so) and `# ` lines of context. This module
//! runs them, sets each figure beside its reference and prints one
//! `name | ours | reference | ratio` line per figure (ratio = ours / reference), then writes the
//! same table to `docs/benchmarks.md` (`bench_report`): `all`, `native` and `browser` rewrite its
//! top table, `mnist`, `seq` and `gpu` only their own section ("MNIST speed", "Sequence speed",
//! "GPU speed"). `all` leaves
//! the GPU figures out: without a GPU (lavapipe, software Vulkan) they take minutes and mean
//! little. `gpu --from FILE...` reads the saved outputs of `bench/pytorch_gpu.py` and
//! `benches/gpu.rs` instead of running them: a GPU machine without Rust runs the compiled
//! benchmark and the script, and this one writes the report (docs/gpu.md says how).

mod quick;

use crate::bench_paired::{self, PairedFigure, Rounds};
use crate::bench_references::{
    PYTORCH_GPU, PYTORCH_LENET, PYTORCH_MLP, PYTORCH_RECURRENT, pytorch_command, pytorch_python,
    tfjs_page,
};
use crate::bench_report::{
    self, GPU_SPEED_HEADING, MNIST_SPEED_HEADING, Report, SEQUENCE_SPEED_HEADING,
};
use crate::build;
use crate::command::{Result, cargo, root};
use crate::setup;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

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
    /// The smallest of the measurements under `keys` (e.g. one library's backends, to compare
    /// with its fastest here), of `what`.
    Fastest {
        keys: [&'static str; 2],
        what: &'static str,
    },
}

impl Reference {
    /// The keys of the measurements it reads.
    fn keys(&self) -> Vec<&'static str> {
        match *self {
            Reference::Measured { key, .. } => vec![key],
            Reference::Fixed { .. } => Vec::new(),
            Reference::Fastest { keys, .. } => keys.to_vec(),
        }
    }
}

/// What a figure must achieve.
enum Target {
    None,
    /// Ours below this many of the unit (e.g. `(8.0, "ms")`).
    OursBelow(f64, &'static str),
    RatioAtMost(f64),
    /// For figures where more is better (GFLOP/s).
    RatioAtLeast(f64),
}

/// The program that measures our side of a figure.
#[derive(Clone, Copy, PartialEq)]
enum Program {
    /// `benches/engine.rs`, natively on the CPU.
    Native,
    /// `browser_bench`, as wasm in headless Chromium.
    Browser,
    /// `benches/gpu.rs`, through wgpu on the default adapter.
    Gpu,
}

struct Figure {
    /// Printed name, with the unit.
    name: &'static str,
    program: Program,
    /// One of the MNIST figures (`cargo xtask bench mnist`).
    mnist: bool,
    /// One of the recurrent networks' figures (`cargo xtask bench seq`).
    seq: bool,
    /// Key of our measurement.
    ours: &'static str,
    reference: Reference,
    target: Target,
}

const PYTORCH: &str = "PyTorch CPU, 1 thread, eager";

const MATRIXMULTIPLY: &str =
    "matrixmultiply 0.3 (the crate our GEMM replaced), 1 thread; in GFLOP/s, so above 1 is faster";

/// An MLP step figure of ours (key = name) beside PyTorch's MLP step.
fn beside_pytorch_mlp(name: &'static str, program: Program, target: Target) -> Figure {
    Figure {
        name,
        program,
        mnist: false,
        seq: false,
        ours: name,
        reference: Reference::Measured {
            key: "pytorch_mlp_step_ms",
            what: PYTORCH,
            stack_figure: None,
        },
        target,
    }
}

/// An MLP step figure of ours measured in paired rounds, beside PyTorch's step in the same
/// rounds.
fn paired(figure: PairedFigure, program: Program, target: Target) -> Figure {
    Figure {
        name: figure.ours,
        program,
        mnist: false,
        seq: false,
        ours: figure.ours,
        reference: Reference::Measured {
            key: figure.reference,
            what: "PyTorch CPU, 1 thread, eager, in the same rounds (medians)",
            stack_figure: None,
        },
        target,
    }
}

/// A GEMM figure in GFLOP/s: ours under `key`, matrixmultiply's under `key_reference`.
fn gemm(name: &'static str, key: &'static str, reference: &'static str) -> Figure {
    Figure {
        name,
        program: match key.contains("wasm") {
            true => Program::Browser,
            false => Program::Native,
        },
        mnist: false,
        seq: false,
        ours: key,
        reference: Reference::Measured {
            key: reference,
            what: MATRIXMULTIPLY,
            stack_figure: None,
        },
        target: Target::None,
    }
}

const CUBLAS: &str = "cuBLAS SGEMM through PyTorch CUDA, TF32 off, on the same machine's GPU; in \
                      GFLOP/s, so above 1 is faster";

const PYTORCH_CUDA: &str = "PyTorch CUDA, eager, TF32 off, on the same machine's GPU";

/// A GEMM figure of our WGSL kernel in GFLOP/s beside cuBLAS's under `reference`.
fn gpu_gemm(name: &'static str, reference: &'static str, target: Target) -> Figure {
    Figure {
        name,
        program: Program::Gpu,
        mnist: false,
        seq: false,
        ours: name,
        reference: Reference::Measured {
            key: reference,
            what: CUBLAS,
            stack_figure: None,
        },
        target,
    }
}

/// A training step on the GPU in milliseconds beside PyTorch CUDA's under `reference`.
fn gpu_step(name: &'static str, reference: &'static str, target: Target) -> Figure {
    Figure {
        name,
        program: Program::Gpu,
        mnist: false,
        seq: false,
        ours: name,
        reference: Reference::Measured {
            key: reference,
            what: PYTORCH_CUDA,
            stack_figure: None,
        },
        target,
    }
}

const PYTORCH_LENET_STEP: Reference = Reference::Measured {
    key: "pytorch_lenet_step_ms",
    what: PYTORCH,
    stack_figure: Some((22.0, "PyTorch 1 thread, LeNet-5, batch 64")),
};

/// A recurrent training step of ours, natively or as wasm in Chromium (`_wasm_` in the name),
/// beside PyTorch's same step (`bench/pytorch_recurrent.py`); the targets: natively no
/// slower, as wasm at most 1.5 times as slow.
fn recurrent(name: &'static str, reference: &'static str) -> Figure {
    let (program, ratio) = match name.contains("_wasm_") {
        true => (Program::Browser, 1.5),
        false => (Program::Native, 1.0),
    };
    Figure {
        name,
        program,
        mnist: false,
        seq: true,
        ours: name,
        reference: Reference::Measured {
            key: reference,
            what: PYTORCH,
            stack_figure: None,
        },
        target: Target::RatioAtMost(ratio),
    }
}

/// Our wasm recurrent step (key `ours`) beside TensorFlow.js's same step on the faster of its
/// wasm and cpu backends (`bench/tfjs_recurrent.html`); the target: at least 30 times
/// faster.
fn recurrent_vs_tfjs(
    name: &'static str,
    ours: &'static str,
    [wasm, cpu]: [&'static str; 2],
) -> Figure {
    Figure {
        name,
        program: Program::Browser,
        mnist: false,
        seq: true,
        ours,
        reference: Reference::Fastest {
            keys: [wasm, cpu],
            what: "TensorFlow.js 4.22's recurrent layers in the same Chromium, its faster \
                   backend (wasm, 1 thread, or cpu)",
        },
        target: Target::RatioAtMost(1.0 / 30.0),
    }
}

/// Epochs a second of the largest network when each frame trained one whole epoch (before
/// the frame budget), measured with `largest_network_epochs_per_s`'s link and count.
const LARGEST_NETWORK_EPOCHS_BEFORE: f64 = 5.0;

fn figures() -> [Figure; 50] {
    [
        Figure {
            name: "grid_100x100_2-8-8-1_tanh_ms",
            program: Program::Browser,
            mnist: false,
            seq: false,
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
            program: Program::Browser,
            mnist: false,
            seq: false,
            ours: "spiral_frame_p95_ms",
            reference: Reference::Fixed {
                value: 8.0,
                what: "the 8 ms frame budget, not a measurement (500 training points per frame)",
            },
            target: Target::OursBelow(8.0, "ms"),
        },
        // The largest network and data set the controls allow (`browser_bench`'s LARGEST):
        // the page's frame rate while it trains, the app's work per frame, and epochs a second
        // beside one epoch per frame as the page trained before frames had a budget.
        Figure {
            name: "largest_network_fps",
            program: Program::Browser,
            mnist: false,
            seq: false,
            ours: "largest_network_fps",
            reference: Reference::Fixed {
                value: 55.0,
                what: "the issue's least frame rate while training, not a measurement",
            },
            target: Target::RatioAtLeast(1.0),
        },
        Figure {
            name: "largest_network_frame_p95_ms",
            program: Program::Browser,
            mnist: false,
            seq: false,
            ours: "largest_network_frame_p95_ms",
            reference: Reference::Fixed {
                value: 16.7,
                what: "a 60 Hz display's frame, not a measurement",
            },
            target: Target::OursBelow(16.7, "ms"),
        },
        Figure {
            name: "largest_network_epochs_per_s",
            program: Program::Browser,
            mnist: false,
            seq: false,
            ours: "largest_network_epochs_per_s",
            reference: Reference::Fixed {
                value: LARGEST_NETWORK_EPOCHS_BEFORE,
                what: "one epoch per frame, before frames had a budget: measured once on this \
                       machine (2 cores) with the same link, at 5 frames a second",
            },
            target: Target::RatioAtLeast(0.8),
        },
        beside_pytorch_mlp("mlp_step_native_ms", Program::Native, Target::None),
        // The targets, on the paired rounds (`bench_paired`): PyTorch's step and ours
        // back to back, so that the ratio does not move with this shared machine's speed.
        paired(
            bench_paired::NATIVE,
            Program::Native,
            Target::RatioAtMost(0.75),
        ),
        // The native ceiling: the step's products at the speed of the AVX2+FMA multiply-add
        // alone, beside the same PyTorch step.
        beside_pytorch_mlp("mlp_step_native_floor_ms", Program::Native, Target::None),
        beside_pytorch_mlp("mlp_step_wasm_ms", Program::Browser, Target::None),
        paired(
            bench_paired::WASM,
            Program::Browser,
            Target::RatioAtMost(1.5),
        ),
        beside_pytorch_mlp("mlp_step_wasm_simd128_ms", Program::Browser, Target::None),
        // The ceiling: the step's products at the speed of the microkernel's multiply-add
        // alone (no load, no packing, nothing else), beside the same PyTorch step.
        beside_pytorch_mlp("mlp_step_wasm_floor_ms", Program::Browser, Target::None),
        Figure {
            name: "gemm_64x784x512_wasm_vs_multiply_add_peak",
            program: Program::Browser,
            mnist: false,
            seq: false,
            ours: "gemm_64x784x512_wasm_gflops",
            reference: Reference::Measured {
                key: "wasm_multiply_add_peak_gflops",
                what: "the microkernel's multiply-add alone on independent registers, same page",
                stack_figure: None,
            },
            target: Target::None,
        },
        Figure {
            // Ours as the median of the paired rounds (seven fresh pages), so that one slow
            // spell of this shared machine does not decide the comparison.
            name: "mlp_step_wasm_paired_ms_vs_tfjs_wasm",
            program: Program::Browser,
            mnist: false,
            seq: false,
            ours: "mlp_step_wasm_paired_ms",
            reference: Reference::Measured {
                key: "tfjs_mlp_step_ms",
                what: "tfjs-backend-wasm 4.22, 1 thread, in the same Chromium",
                stack_figure: Some((210.0, "tfjs-backend-wasm 4.22, 1 thread")),
            },
            target: Target::RatioAtMost(1.0 / 15.0),
        },
        Figure {
            name: "lenet_step_native_ms",
            program: Program::Native,
            mnist: true,
            seq: false,
            ours: "lenet_step_native_ms",
            reference: PYTORCH_LENET_STEP,
            target: Target::RatioAtMost(1.0),
        },
        Figure {
            name: "lenet_step_wasm_ms",
            program: Program::Browser,
            mnist: true,
            seq: false,
            ours: "lenet_step_wasm_ms",
            reference: PYTORCH_LENET_STEP,
            target: Target::RatioAtMost(1.0),
        },
        Figure {
            name: "lenet_step_wasm_ms_vs_tfjs_cpu",
            program: Program::Browser,
            mnist: true,
            seq: false,
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
            program: Program::Browser,
            mnist: true,
            seq: false,
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
        recurrent("rnn_20x64_step_native_ms", "pytorch_rnn_20x64_step_ms"),
        recurrent("lstm_20x64_step_native_ms", "pytorch_lstm_20x64_step_ms"),
        recurrent("gru_20x64_step_native_ms", "pytorch_gru_20x64_step_ms"),
        recurrent("rnn_50x128_step_native_ms", "pytorch_rnn_50x128_step_ms"),
        recurrent("lstm_50x128_step_native_ms", "pytorch_lstm_50x128_step_ms"),
        recurrent("gru_50x128_step_native_ms", "pytorch_gru_50x128_step_ms"),
        recurrent("rnn_20x64_step_wasm_ms", "pytorch_rnn_20x64_step_ms"),
        recurrent("lstm_20x64_step_wasm_ms", "pytorch_lstm_20x64_step_ms"),
        recurrent("gru_20x64_step_wasm_ms", "pytorch_gru_20x64_step_ms"),
        recurrent("rnn_50x128_step_wasm_ms", "pytorch_rnn_50x128_step_ms"),
        recurrent("lstm_50x128_step_wasm_ms", "pytorch_lstm_50x128_step_ms"),
        recurrent("gru_50x128_step_wasm_ms", "pytorch_gru_50x128_step_ms"),
        recurrent_vs_tfjs(
            "rnn_20x64_step_wasm_ms_vs_tfjs",
            "rnn_20x64_step_wasm_ms",
            ["tfjs_rnn_20x64_step_wasm_ms", "tfjs_rnn_20x64_step_cpu_ms"],
        ),
        recurrent_vs_tfjs(
            "lstm_20x64_step_wasm_ms_vs_tfjs",
            "lstm_20x64_step_wasm_ms",
            [
                "tfjs_lstm_20x64_step_wasm_ms",
                "tfjs_lstm_20x64_step_cpu_ms",
            ],
        ),
        recurrent_vs_tfjs(
            "gru_20x64_step_wasm_ms_vs_tfjs",
            "gru_20x64_step_wasm_ms",
            ["tfjs_gru_20x64_step_wasm_ms", "tfjs_gru_20x64_step_cpu_ms"],
        ),
        recurrent_vs_tfjs(
            "rnn_50x128_step_wasm_ms_vs_tfjs",
            "rnn_50x128_step_wasm_ms",
            [
                "tfjs_rnn_50x128_step_wasm_ms",
                "tfjs_rnn_50x128_step_cpu_ms",
            ],
        ),
        recurrent_vs_tfjs(
            "lstm_50x128_step_wasm_ms_vs_tfjs",
            "lstm_50x128_step_wasm_ms",
            [
                "tfjs_lstm_50x128_step_wasm_ms",
                "tfjs_lstm_50x128_step_cpu_ms",
            ],
        ),
        recurrent_vs_tfjs(
            "gru_50x128_step_wasm_ms_vs_tfjs",
            "gru_50x128_step_wasm_ms",
            [
                "tfjs_gru_50x128_step_wasm_ms",
                "tfjs_gru_50x128_step_cpu_ms",
            ],
        ),
        Figure {
            name: "seq_seconds_to_99",
            program: Program::Browser,
            mnist: false,
            seq: true,
            ours: "seq_seconds_to_99",
            reference: Reference::Fixed {
                value: 10.0,
                what: "the issue's 10 s budget, not a measurement (the Sequences page's default \
                       run, seconds from the click on Train to 99% test accuracy)",
            },
            target: Target::OursBelow(10.0, "s"),
        },
        recurrent(
            "seq2seq_10x128_step_native_ms",
            "pytorch_seq2seq_10x128_step_ms",
        ),
        recurrent(
            "seq2seq_10x128_step_wasm_ms",
            "pytorch_seq2seq_10x128_step_ms",
        ),
        Figure {
            name: "seq2seq_seconds_to_99",
            program: Program::Browser,
            mnist: false,
            seq: true,
            ours: "seq2seq_seconds_to_99",
            reference: Reference::Fixed {
                value: 10.0,
                what: "the Sequences page's 10 s budget, for scale, not a measurement (the \
                       Seq2seq page's default run, reversal of 1 to 8 digits, seconds from the \
                       click on Train to 99% of the held-out answers right)",
            },
            target: Target::None,
        },
        gpu_gemm(
            "gemm_64x784x512_gpu_gflops",
            "cublas_gemm_64x784x512_gflops",
            Target::None,
        ),
        gpu_gemm(
            "gemm_784x64x512_gpu_gflops",
            "cublas_gemm_784x64x512_gflops",
            Target::None,
        ),
        gpu_gemm(
            "gemm_1024_gpu_gflops",
            "cublas_gemm_1024_gflops",
            Target::None,
        ),
        // The issue's: at least half of cuBLAS at 4096^3, and a step no slower than PyTorch's.
        gpu_gemm(
            "gemm_4096_gpu_gflops",
            "cublas_gemm_4096_gflops",
            Target::RatioAtLeast(0.5),
        ),
        gpu_step(
            "mlp_step_gpu_ms",
            "pytorch_cuda_mlp_step_ms",
            Target::RatioAtMost(1.0),
        ),
        gpu_step(
            "lenet_step_gpu_ms",
            "pytorch_cuda_lenet_step_ms",
            Target::None,
        ),
    ]
}

impl Figure {
    /// Whether this figure shows the measurement `key`, as ours or as its reference.
    fn uses(&self, key: &str) -> bool {
        self.ours == key || self.reference.keys().contains(&key)
    }
}

/// Which figures a group measures.
#[derive(Clone, Copy, PartialEq)]
enum Group {
    All,
    Native,
    Browser,
    Mnist,
    Seq,
    Gpu,
}

impl Group {
    fn includes(self, figure: &Figure) -> bool {
        match self {
            Group::All => figure.program != Program::Gpu,
            Group::Native => figure.program == Program::Native,
            Group::Browser => figure.program == Program::Browser,
            Group::Mnist => figure.mnist,
            Group::Seq => figure.seq,
            Group::Gpu => figure.program == Program::Gpu,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Group::All => "all",
            Group::Native => "native",
            Group::Browser => "browser",
            Group::Mnist => "mnist",
            Group::Seq => "seq",
            Group::Gpu => "gpu",
        }
    }

    /// The section of `docs/benchmarks.md` the group writes; `None` for the top table.
    fn section(self) -> Option<&'static str> {
        match self {
            Group::All | Group::Native | Group::Browser => None,
            Group::Mnist => Some(MNIST_SPEED_HEADING),
            Group::Seq => Some(SEQUENCE_SPEED_HEADING),
            Group::Gpu => Some(GPU_SPEED_HEADING),
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
    /// Takes the mean of each figure measured here and in `again` (a second run of the same
    /// program, `minutes` later), with a note giving both; figures only one run has are kept
    /// as they are, and the second run's context lines (the same as the first's) are dropped
    /// but for failures.
    fn average_with(&mut self, again: Measurements, later: &str) {
        let mut keys: Vec<_> = again.values.keys().cloned().collect();
        keys.sort();
        for key in keys {
            let after = again.values[&key];
            match self.values.get(&key).copied() {
                Some(before) => {
                    self.values.insert(key.clone(), (before + after) / 2.0);
                    self.notes.push(format!(
                        "{key}: {} before our figures and {} after them ({later}); the table \
                         uses their mean",
                        number(Some(before)),
                        number(Some(after))
                    ));
                }
                None => {
                    self.values.insert(key, after);
                }
            }
        }
        let failures = again
            .notes
            .into_iter()
            .filter(|note| note.contains("failed"));
        self.notes.extend(failures);
    }

    /// Keeps the figures (`key value` lines) and context (`# ` lines) a measuring program printed.
    fn take(&mut self, printed: &str) {
        for line in printed.lines() {
            if let Some(note) = line.strip_prefix("# ") {
                self.notes.push(note.to_string());
            } else if let Some((key, value)) = line.split_once(' ')
                && let Ok(value) = value.trim().parse::<f64>()
            {
                self.values.insert(key.to_string(), value);
            }
        }
    }

    /// What `files` hold, each the saved output of a measuring program, read in order: a figure
    /// that two files hold (a reference measured before and after ours) gets their mean.
    fn from_files(files: &[String]) -> Result<Measurements> {
        let mut measurements = Measurements::default();
        for file in files {
            let printed = std::fs::read_to_string(file)
                .map_err(|error| format!("cannot read the saved output {file}: {error}"))?;
            let mut read = Measurements::default();
            read.take(&printed);
            if read.values.is_empty() {
                return Err(format!("{file} holds no figures (`name value` lines)"));
            }
            // Context lines once each (a script run twice says the same things twice).
            for note in std::mem::take(&mut read.notes) {
                if !measurements.notes.contains(&note) {
                    measurements.notes.push(note);
                }
            }
            measurements.average_with(read, "read from the saved outputs");
        }
        measurements.notes.insert(
            0,
            format!(
                "measured elsewhere and read from the programs' saved outputs ({})",
                files.join(", ")
            ),
        );
        Ok(measurements)
    }

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
        self.take(&String::from_utf8_lossy(&output.stdout));
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
        Some("seq") => Group::Seq,
        Some("gpu") => Group::Gpu,
        Some("quick") if args.len() == 1 => return quick::run(),
        Some("load") if args.len() == 1 => return crate::bench_load::run(false),
        Some("quick") => return Err("`bench quick` takes no other argument".to_string()),
        Some(other) => {
            return Err(format!(
                "unknown bench group `{other}` (all, native, browser, mnist, seq, gpu, load, quick)"
            ));
        }
    };
    let (measurements, measured_elsewhere) = match args.get(1..).unwrap_or_default() {
        [flag, files @ ..] if flag == "--from" && group == Group::Gpu && !files.is_empty() => {
            (Measurements::from_files(files)?, true)
        }
        [] => (measure(group)?, false),
        other => {
            return Err(format!(
                "unexpected arguments {other:?} (only `gpu --from FILE...` takes more: the saved \
                 outputs of bench/pytorch_gpu.py and benches/gpu.rs, measured on a GPU machine)"
            ));
        }
    };
    report(group, measurements, measured_elsewhere)
}

/// Runs the programs that `group` needs: PyTorch always (on CUDA for `gpu`), then ours natively,
/// in Chromium (both for `mnist`, which measures only the LeNet-5 figures, and for `seq`, only
/// the recurrent ones) or on the GPU.
fn measure(group: Group) -> Result<Measurements> {
    let mnist_only = group == Group::Mnist;
    let mut measurements = Measurements::default();
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let minute = load.split_whitespace().next().unwrap_or("?");
        measurements.notes.push(format!(
            "load average (1 min) before the run: {minute}; other work on the machine slows every figure"
        ));
    }
    let scripts: &[&str] = match group {
        Group::Mnist => &[PYTORCH_LENET],
        Group::Gpu => &[PYTORCH_GPU],
        Group::Seq => &[PYTORCH_RECURRENT],
        Group::All | Group::Native => &[PYTORCH_MLP, PYTORCH_LENET, PYTORCH_RECURRENT],
        Group::Browser => &[PYTORCH_MLP, PYTORCH_LENET, PYTORCH_RECURRENT],
    };
    let python = pytorch_python();
    match &python {
        Ok(python) => {
            for script in scripts {
                let what = format!("PyTorch reference ({script})");
                measurements.collect(&what, &mut pytorch_command(python, script));
            }
        }
        Err(reason) => measurements
            .notes
            .push(format!("PyTorch reference n/a: {reason}")),
    }
    let before_ours = Instant::now();
    if group == Group::Gpu {
        let mut gpu = cargo();
        gpu.args(["bench", "--quiet", "--bench", "gpu"]);
        // Vulkan, as the issue asks, on whichever driver the machine has: a GPU's where there
        // is one (wgpu prefers it), lavapipe otherwise.
        if std::env::var_os("WGPU_BACKEND").is_none() {
            gpu.env("WGPU_BACKEND", "vulkan");
        }
        setup::private_runtime_dir(&mut gpu)?;
        measurements.collect("GPU (wgpu, Vulkan)", &mut gpu);
    }
    if matches!(
        group,
        Group::All | Group::Native | Group::Mnist | Group::Seq
    ) {
        let mut native = cargo();
        native.args(["bench", "--quiet", "--bench", "engine"]);
        if mnist_only {
            native.args(["--", "mnist"]);
        }
        if group == Group::Seq {
            native.args(["--", "seq"]);
        }
        measurements.collect("native engine", &mut native);
    }
    if matches!(
        group,
        Group::All | Group::Browser | Group::Mnist | Group::Seq
    ) {
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
        if group == Group::Seq {
            browser_bench.arg("--seq-only");
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
    if let Ok(python) = &python {
        let sides: &[PairedSide] = match group {
            Group::All => &[
                (bench_paired::NATIVE, native_mlp_step),
                (bench_paired::WASM, browser_mlp_step),
            ],
            Group::Native => &[(bench_paired::NATIVE, native_mlp_step)],
            Group::Browser => &[(bench_paired::WASM, browser_mlp_step)],
            Group::Mnist | Group::Seq | Group::Gpu => &[],
        };
        if !sides.is_empty() {
            paired_rounds(python, sides, &mut measurements);
        }
    }
    // The CPU references once more, so that a slow spell of this shared machine during either
    // measurement moves the reference by half as much.
    if let (Ok(python), false) = (&python, group == Group::Gpu) {
        let minutes = before_ours.elapsed().as_secs_f64() / 60.0;
        for script in scripts {
            let mut again = Measurements::default();
            let what = format!("PyTorch reference again ({script})");
            again.collect(&what, &mut pytorch_command(python, script));
            measurements.average_with(again, &format!("{minutes:.0} min later"));
        }
    }
    Ok(measurements)
}

/// One of our figures measured in paired rounds, and the command that measures it.
type PairedSide = (PairedFigure, fn() -> Command);

/// `bench_paired::ROUNDS` rounds of PyTorch's MLP step, then each of `sides` (our figure and
/// the command measuring it); each side's medians go into `measurements` with a note.
fn paired_rounds(python: &PathBuf, sides: &[PairedSide], measurements: &mut Measurements) {
    let mut rounds: Vec<Rounds> = sides.iter().map(|_| Rounds::default()).collect();
    for round in 1..=bench_paired::ROUNDS {
        let mut reference = Measurements::default();
        let what = format!("paired round {round}: PyTorch's MLP step");
        reference.collect(&what, &mut pytorch_command(python, PYTORCH_MLP));
        let Some(&pytorch) = reference.values.get("pytorch_mlp_step_ms") else {
            measurements
                .notes
                .push(format!("{what} failed; round left out"));
            continue;
        };
        for ((figure, command), rounds) in sides.iter().zip(&mut rounds) {
            let mut ours = Measurements::default();
            let what = format!("paired round {round}: {}", figure.measured);
            ours.collect(&what, &mut command());
            match ours.values.get(figure.measured) {
                Some(&value) => rounds.pairs.push((value, pytorch)),
                None => measurements.notes.push(format!("{what} failed; left out")),
            }
        }
    }
    for ((figure, _), rounds) in sides.iter().zip(&rounds) {
        if let Some((ours, reference)) = rounds.medians() {
            measurements.values.insert(figure.ours.to_string(), ours);
            measurements
                .values
                .insert(figure.reference.to_string(), reference);
            measurements.notes.push(rounds.note(figure));
        }
    }
}

/// Our native MLP step alone (`benches/engine.rs mlp-step`).
fn native_mlp_step() -> Command {
    let mut command = cargo();
    command.args(["bench", "--quiet", "--bench", "engine", "--", "mlp-step"]);
    command
}

/// Our wasm MLP step alone, in a fresh headless Chromium (`browser_bench --mlp-step-only`).
fn browser_mlp_step() -> Command {
    let mut command = cargo();
    command.args([
        "run",
        "--quiet",
        "--release",
        "--package",
        "browser-tests",
        "--bin",
        "browser_bench",
        "--",
        "--mlp-step-only",
    ]);
    command
}

/// Prints the table and the notes, and writes them to `docs/benchmarks.md`.
fn report(group: Group, mut measurements: Measurements, measured_elsewhere: bool) -> Result {
    let software_adapter = measurements.values.remove(SOFTWARE_ADAPTER) == Some(1.0);
    let figures: Vec<Figure> = figures()
        .into_iter()
        .filter(|figure| group.includes(figure))
        .collect();
    let introduction = match group {
        Group::All | Group::Native | Group::Browser => CPU_INTRODUCTION.to_string(),
        Group::Mnist => MNIST_INTRODUCTION.to_string(),
        Group::Seq => SEQUENCE_INTRODUCTION.to_string(),
        Group::Gpu => gpu_introduction(&figures, &measurements, software_adapter),
    };
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
    bench_report::write(&Report {
        group: group.name(),
        section: group.section(),
        introduction: &introduction,
        lines: rows.iter().map(|row| row.line.as_str()).collect(),
        notes: &notes,
        measured_elsewhere,
    })
}

/// Not a figure: `1` when the GPU benchmark ran on a software adapter (device type Cpu).
const SOFTWARE_ADAPTER: &str = "gpu_adapter_is_software";

/// What the top table and the MNIST section say after the line saying who wrote them.
const CPU_INTRODUCTION: &str = "Times in milliseconds (medians unless the name says \
    otherwise); ratio = ours / reference, below 1 is faster.\nOur engine runs on one thread, \
    natively or as wasm in headless Chromium: the relaxed-SIMD build the page loads there \
    (mlp_step_wasm_simd128_ms: the SIMD128 build other browsers load).";
const SEQUENCE_INTRODUCTION: &str = "Times in milliseconds (medians) unless the name says \
    seconds; ratio = ours / reference, below 1 is faster. One training step of a recurrent \
    network on the course's bit counting (batch 64 of random bit sequences, one cell of `hidden` \
    values, a dense layer on its last state, softmax cross-entropy, Adam), \
    `{cell}_{length}x{hidden}`, ours on one thread natively and as wasm in headless Chromium \
    (the relaxed-SIMD build the page loads there), beside PyTorch CPU on one thread \
    (`bench/pytorch_recurrent.py`) and, `_vs_tfjs`, beside the faster of TensorFlow.js 4.22's \
    wasm and cpu backends training `tf.layers.simpleRNN`, `lstm` or `gru` in the same Chromium \
    (`bench/tfjs_recurrent.html`; both backends' figures are in the notes). The issue's targets: \
    natively no slower than PyTorch, as wasm at most 1.5 times PyTorch's time and at least 30 \
    times faster than TensorFlow.js, and the Sequences page's default run at 99% test accuracy \
    within 10 s of the click on Train. `seq2seq_10x128`: one training step of the Seq2seq \
    page's encoder-decoder (reversing 64 random digit sequences of 10; LSTM encoder and decoder \
    of 128 over embeddings of 16, dot-product attention, teacher forcing, Adam) beside the same \
    network in PyTorch (nn.LSTM, nn.LSTMCell, the attention written out), with the same \
    targets; `seq2seq_seconds_to_99`: the Seq2seq page's default run (reversal of 1 to 8 \
    digits) from the click on Train to 99% of the held-out answers right. On a shared machine (the load average is in the notes) \
    the figures move by tens of per cent from run to run; PyTorch's are measured before and \
    after ours and averaged. The cells are unrolled onto the tape one time step after the \
    other; an LSTM step's gates, cell state and state are one op each (`engine::ops::lstm`), \
    the RNN's and the GRU's are the engine's general ops. The GRUs differ: ours and TensorFlow.js's apply the reset \
    gate to the state before its product with the weights (tfjs 4.22 refuses `resetAfter`), \
    PyTorch's after it; tfjs's gates use the logistic sigmoid here, as ours and PyTorch's do.";

const MNIST_INTRODUCTION: &str = "Times in milliseconds (medians) unless the name says seconds; \
    ratio = ours / reference, below 1 is faster. Our engine runs on one thread, natively or as \
    wasm in headless Chromium (the relaxed-SIMD build the page loads there).";

/// What the GPU section says after the line saying who wrote it: what is compared, the adapter,
/// and, in bold, when the figures are not a GPU's or no target could be checked.
fn gpu_introduction(figures: &[Figure], measurements: &Measurements, software: bool) -> String {
    let mut text = "Our WGSL kernels through wgpu, natively on Vulkan (`benches/gpu.rs`), beside \
        cuBLAS and PyTorch CUDA on the same machine (`bench/pytorch_gpu.py`). GEMM in GFLOP/s \
        (ratio above 1 is faster), training steps (batch 64) in milliseconds (ratio below 1 is \
        faster); ratio = ours / reference. The issue's targets: at least 50% of cuBLAS SGEMM at \
        4096³ (TF32 off), and an MLP 784-512-512-10 training step no slower than PyTorch CUDA \
        eager."
        .to_string();
    let adapter = measurements
        .notes
        .iter()
        .find_map(|note| note.strip_prefix("adapter: "));
    if let Some(adapter) = adapter {
        text.push_str(&format!(" Adapter: {adapter}."));
    }
    if software {
        text.push_str(
            "\n\n**These are software-Vulkan figures, not a GPU's**: the adapter is a software \
             one that runs the shaders on this machine's CPU. They show that the benchmark runs \
             and the kernels compute the right thing, not how fast a GPU would be.",
        );
    }
    let references_measured = figures.iter().any(|figure| {
        figure
            .reference
            .keys()
            .iter()
            .any(|key| measurements.values.contains_key(*key))
    });
    if !references_measured {
        text.push_str(
            "\n\n**No reference was measured** (no CUDA device for PyTorch here: see the notes), \
             so no target is checked: the targets need a machine with an NVIDIA GPU and CUDA, \
             where `cargo xtask bench gpu` measures both sides.",
        );
    }
    text
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
            Reference::Fastest { keys, what } => fastest(&keys, what, measurements),
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
            Target::RatioAtLeast(limit) => format!(
                "; target ratio at least {}: {}",
                number(Some(limit)),
                verdict(ratio.map(|ratio| ratio >= limit))
            ),
        };
        Row {
            line,
            note: format!("{}: reference {source}{target}", figure.name),
        }
    }
}

/// The smallest measurement under `keys`, and what it is: which key, beside the others.
fn fastest(keys: &[&str], what: &str, measurements: &Measurements) -> (Option<f64>, String) {
    let value = |key: &&str| measurements.values.get(*key).copied();
    let Some(fastest) = keys
        .iter()
        .filter(|key| value(key).is_some())
        .min_by(|a, b| value(a).unwrap().total_cmp(&value(b).unwrap()))
    else {
        return (None, format!("{what}: n/a, not measured"));
    };
    let others: Vec<String> = keys
        .iter()
        .filter(|key| *key != fastest)
        .map(|key| format!("{key} {}", number(value(key))))
        .collect();
    (
        value(fastest),
        format!("{what}, measured: {fastest} (beside {})", others.join(", ")),
    )
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
    fn a_reference_measured_twice_counts_as_the_mean_of_both() {
        let mut first = measured(&[("pytorch_mlp_step_ms", 4.0), ("mlp_step_wasm_ms", 6.0)]);
        let mut again = measured(&[("pytorch_mlp_step_ms", 5.0), ("pytorch_new", 1.0)]);
        again.notes.push("PyTorch 2.15.0, 1 thread".to_string());
        again
            .notes
            .push("PyTorch reference again failed (exit 1)".to_string());
        first.average_with(again, "4 min later");
        assert_eq!(first.values["pytorch_mlp_step_ms"], 4.5);
        assert_eq!(first.values["mlp_step_wasm_ms"], 6.0);
        assert_eq!(first.values["pytorch_new"], 1.0);
        assert_eq!(
            first.notes,
            [
                "pytorch_mlp_step_ms: 4.00 before our figures and 5.00 after them (4 min later); \
                 the table uses their mean",
                "PyTorch reference again failed (exit 1)",
            ]
        );
    }

    #[test]
    fn saved_outputs_from_a_gpu_machine_are_read_as_if_measured_here() {
        let dir = std::env::temp_dir().join(format!("np-bench-from-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path.to_string_lossy().into_owned()
        };
        let before = file(
            "before.txt",
            "# PyTorch on a GPU\npytorch_cuda_mlp_step_ms 1.0\n",
        );
        let ours = file(
            "ours.txt",
            "# adapter: Vulkan (a GPU)\nmlp_step_gpu_ms 0.5\n",
        );
        let after = file(
            "after.txt",
            "# PyTorch on a GPU\npytorch_cuda_mlp_step_ms 1.5\n",
        );
        let read = Measurements::from_files(&[before.clone(), ours, after]).unwrap();
        assert_eq!(read.values["pytorch_cuda_mlp_step_ms"], 1.25);
        assert_eq!(read.values["mlp_step_gpu_ms"], 0.5);
        let said = |text: &str| read.notes.iter().filter(|n| n.contains(text)).count();
        assert_eq!(said("PyTorch on a GPU"), 1);
        assert_eq!(said("adapter: Vulkan (a GPU)"), 1);
        assert_eq!(said("measured elsewhere"), 1);

        let empty = file("empty.txt", "GPU benchmark failed: no adapter\n");
        let refused = Measurements::from_files(&[before, empty]).err().unwrap();
        assert!(refused.contains("holds no figures"), "{refused}");
        let missing = dir.join("missing.txt").to_string_lossy().into_owned();
        assert!(Measurements::from_files(&[missing]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
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
        let figures = figures();
        let named = |name: &str| figures.iter().find(|figure| figure.name == name).unwrap();
        let (grid, native) = (
            named("grid_100x100_2-8-8-1_tanh_ms"),
            named("mlp_step_native_ms"),
        );
        let row = Row::new(grid, &measured(&[("grid_wasm_ms", 0.6)]));
        assert_eq!(
            row.line,
            "grid_100x100_2-8-8-1_tanh_ms | 0.600 | 12.0 | 0.050"
        );
        assert!(
            row.note.contains("STACK.md figure, not measured"),
            "{}",
            row.note
        );
        let row = Row::new(native, &measured(&[("mlp_step_native_ms", 4.0)]));
        assert_eq!(row.line, "mlp_step_native_ms | 4.00 | n/a | n/a");
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

    #[test]
    fn the_seq_group_holds_each_cell_at_each_size_beside_pytorchs_same_step() {
        let seq: Vec<Figure> = figures()
            .into_iter()
            .filter(|figure| Group::Seq.includes(figure))
            .collect();
        let mut cases = Vec::new();
        for length_hidden in ["20x64", "50x128"] {
            for cell in ["rnn", "lstm", "gru"] {
                cases.push(format!("{cell}_{length_hidden}"));
            }
        }
        let named = |suffix: &str| -> Vec<String> {
            cases.iter().map(|case| format!("{case}{suffix}")).collect()
        };
        let names: Vec<&str> = seq.iter().map(|figure| figure.name).collect();
        let mut expected = named("_step_native_ms");
        expected.extend(named("_step_wasm_ms"));
        expected.extend(named("_step_wasm_ms_vs_tfjs"));
        expected.push("seq_seconds_to_99".to_string());
        expected.extend(
            [
                "seq2seq_10x128_step_native_ms",
                "seq2seq_10x128_step_wasm_ms",
                "seq2seq_seconds_to_99",
            ]
            .map(String::from),
        );
        assert_eq!(names, expected);
        for figure in &seq[..12] {
            let Reference::Measured { key, .. } = figure.reference else {
                panic!("{} has no measured reference", figure.name);
            };
            let (case, program, ratio) = match figure.name.strip_suffix("_step_native_ms") {
                Some(case) => (case, Program::Native, 1.0),
                None => (
                    figure.name.trim_end_matches("_step_wasm_ms"),
                    Program::Browser,
                    1.5,
                ),
            };
            assert_eq!(key, format!("pytorch_{case}_step_ms"));
            assert!(figure.program == program && figure.ours == figure.name);
            assert!(matches!(figure.target, Target::RatioAtMost(r) if r == ratio));
            assert!(Group::All.includes(figure));
        }
        for figure in &seq[12..18] {
            let case = figure.name.trim_end_matches("_step_wasm_ms_vs_tfjs");
            assert_eq!(figure.ours, format!("{case}_step_wasm_ms"));
            let Reference::Fastest { keys, .. } = figure.reference else {
                panic!("{} is not beside tfjs's fastest backend", figure.name);
            };
            assert_eq!(
                keys,
                [
                    format!("tfjs_{case}_step_wasm_ms"),
                    format!("tfjs_{case}_step_cpu_ms")
                ]
            );
            assert!(matches!(figure.target, Target::RatioAtMost(r) if r * 30.0 == 1.0));
        }
        let seconds = &seq[18];
        assert!(matches!(seconds.reference, Reference::Fixed { value, .. } if value == 10.0));
        assert!(matches!(seconds.target, Target::OursBelow(limit, "s") if limit == 10.0));
        assert!(
            seq[12..19]
                .iter()
                .all(|figure| Group::Browser.includes(figure))
        );
        // The encoder-decoder's step beside PyTorch's same network, natively and as wasm, and
        // the Seq2seq page's run to 99%, with no target of its own.
        for (figure, program, ratio) in [
            (&seq[19], Program::Native, 1.0),
            (&seq[20], Program::Browser, 1.5),
        ] {
            let Reference::Measured { key, .. } = figure.reference else {
                panic!("{} has no measured reference", figure.name);
            };
            assert_eq!(key, "pytorch_seq2seq_10x128_step_ms");
            assert!(figure.program == program && figure.ours == figure.name);
            assert!(matches!(figure.target, Target::RatioAtMost(r) if r == ratio));
        }
        assert!(matches!(seq[21].reference, Reference::Fixed { .. }));
        assert!(matches!(seq[21].target, Target::None));
        assert!(Group::Browser.includes(&seq[21]));
    }

    #[test]
    fn ours_beside_tfjs_takes_its_fastest_measured_backend() {
        let lstm = figures()
            .into_iter()
            .find(|figure| figure.name == "lstm_20x64_step_wasm_ms_vs_tfjs")
            .unwrap();
        let both = measured(&[
            ("lstm_20x64_step_wasm_ms", 3.0),
            ("tfjs_lstm_20x64_step_wasm_ms", 96.0),
            ("tfjs_lstm_20x64_step_cpu_ms", 311.0),
        ]);
        let row = Row::new(&lstm, &both);
        assert_eq!(
            row.line,
            "lstm_20x64_step_wasm_ms_vs_tfjs | 3.00 | 96.0 | 0.031"
        );
        assert!(
            row.note.contains(
                "measured: tfjs_lstm_20x64_step_wasm_ms (beside tfjs_lstm_20x64_step_cpu_ms 311)"
            ) && row.note.ends_with("target ratio at most 0.033: met"),
            "{}",
            row.note
        );
        let cpu_faster = measured(&[
            ("lstm_20x64_step_wasm_ms", 4.0),
            ("tfjs_lstm_20x64_step_wasm_ms", 96.0),
            ("tfjs_lstm_20x64_step_cpu_ms", 80.0),
        ]);
        let row = Row::new(&lstm, &cpu_faster);
        assert_eq!(
            row.line,
            "lstm_20x64_step_wasm_ms_vs_tfjs | 4.00 | 80.0 | 0.050"
        );
        assert!(row.note.ends_with("NOT met"), "{}", row.note);
        let cpu_left_out = measured(&[
            ("lstm_20x64_step_wasm_ms", 4.0),
            ("tfjs_lstm_20x64_step_wasm_ms", 160.0),
        ]);
        let row = Row::new(&lstm, &cpu_left_out);
        assert_eq!(
            row.line,
            "lstm_20x64_step_wasm_ms_vs_tfjs | 4.00 | 160 | 0.025"
        );
        assert!(
            row.note
                .contains("(beside tfjs_lstm_20x64_step_cpu_ms n/a)"),
            "{}",
            row.note
        );
        let row = Row::new(&lstm, &measured(&[("lstm_20x64_step_wasm_ms", 4.0)]));
        assert_eq!(
            row.line,
            "lstm_20x64_step_wasm_ms_vs_tfjs | 4.00 | n/a | n/a"
        );
        assert!(
            lstm.uses("tfjs_lstm_20x64_step_cpu_ms") && lstm.uses("tfjs_lstm_20x64_step_wasm_ms")
        );
    }

    #[test]
    fn a_gpu_target_is_checked_only_against_a_measured_reference() {
        let gemm_4096 = figures()
            .into_iter()
            .find(|figure| figure.name == "gemm_4096_gpu_gflops")
            .unwrap();
        let row = Row::new(&gemm_4096, &measured(&[("gemm_4096_gpu_gflops", 0.09)]));
        assert_eq!(row.line, "gemm_4096_gpu_gflops | 0.090 | n/a | n/a");
        assert!(
            row.note
                .ends_with("n/a, not measured; target ratio at least 0.500: unknown"),
            "{}",
            row.note
        );
        let on_a_gpu = measured(&[
            ("gemm_4096_gpu_gflops", 30_000.0),
            ("cublas_gemm_4096_gflops", 50_000.0),
        ]);
        let row = Row::new(&gemm_4096, &on_a_gpu);
        assert_eq!(row.line, "gemm_4096_gpu_gflops | 30000 | 50000 | 0.600");
        assert!(
            row.note
                .ends_with("measured; target ratio at least 0.500: met"),
            "{}",
            row.note
        );
    }

    #[test]
    fn the_gpu_group_holds_the_gpu_figures_and_all_leaves_them_out() {
        let names = |group: Group| -> Vec<&str> {
            figures()
                .iter()
                .filter(|figure| group.includes(figure))
                .map(|figure| figure.name)
                .collect()
        };
        assert_eq!(
            names(Group::Gpu),
            [
                "gemm_64x784x512_gpu_gflops",
                "gemm_784x64x512_gpu_gflops",
                "gemm_1024_gpu_gflops",
                "gemm_4096_gpu_gflops",
                "mlp_step_gpu_ms",
                "lenet_step_gpu_ms"
            ]
        );
        assert!(names(Group::All).iter().all(|name| !name.contains("gpu")));
        assert_eq!(names(Group::All).len(), figures().len() - 6);
    }

    #[test]
    fn the_gpu_section_says_when_its_figures_are_not_a_gpus() {
        let gpu: Vec<Figure> = figures()
            .into_iter()
            .filter(|figure| Group::Gpu.includes(figure))
            .collect();
        let mut lavapipe = measured(&[("gemm_1024_gpu_gflops", 0.09)]);
        lavapipe
            .notes
            .push("adapter: Vulkan (llvmpipe)".to_string());
        let text = gpu_introduction(&gpu, &lavapipe, true);
        assert!(text.contains(" Adapter: Vulkan (llvmpipe)."), "{text}");
        assert!(
            text.contains("software-Vulkan figures, not a GPU's"),
            "{text}"
        );
        assert!(text.contains("No reference was measured"), "{text}");
        let on_a_gpu = measured(&[
            ("gemm_1024_gpu_gflops", 9_000.0),
            ("cublas_gemm_1024_gflops", 20_000.0),
        ]);
        let text = gpu_introduction(&gpu, &on_a_gpu, false);
        assert!(
            !text.contains("not a GPU's") && !text.contains("No reference"),
            "{text}"
        );
    }
}

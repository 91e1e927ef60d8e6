//! Shared by the GPU kernel parity suites, native (`tests/gpu_*_parity.rs`, on lavapipe) and in
//! the browser (`tests/web_gpu_parity.rs`, WebGPU in headless Chromium): the case tables and their
//! runners (`kernel_cases`, `conv_cases`, `norm_cases`, `sequence_cases`), opening the device (a missing adapter
//! fails the suite, it never skips), the engine side of a case (forward, then backward of
//! `sum(y * r)`), the error measure and the table of results.
//!
//! The runners are `async` because the browser cannot block on a readback; natively the suites
//! wait on them with `pollster`.

// Each suite uses the helpers it needs.
#![allow(dead_code)]

pub mod conv_cases;
pub mod kernel_cases;
pub mod norm_cases;
pub mod sequence_cases;
pub mod training_table;

use neural_playground::engine::{NodeId, ParamId, ParamRole, Params, SeededRng, Tape, Tensor};
use neural_playground::gpu::{GpuContext, GpuError, GpuTensor};

/// Every compared value must be this close to the CPU engine's, relative to the largest of them.
pub const TOLERANCE: f64 = 1e-4;

/// What to do when there is no adapter, where the suite runs.
#[cfg(not(target_arch = "wasm32"))]
const NO_ADAPTER_HINT: &str =
    "install mesa-vulkan-drivers (cargo xtask setup does) or run on a machine with a GPU";
#[cfg(target_arch = "wasm32")]
const NO_ADAPTER_HINT: &str = "start Chromium with --enable-unsafe-webgpu (webdriver.json, which \
                               `cargo xtask test` passes to wasm-bindgen-test-runner)";

/// The default adapter (lavapipe natively, SwiftShader in headless Chromium), or a panic saying
/// how to get one.
pub async fn request_context() -> GpuContext {
    GpuContext::new().await.unwrap_or_else(|error| match error {
        GpuError::NoAdapter(reason) => {
            panic!("no GPU adapter: {NO_ADAPTER_HINT}\nwgpu: {reason}")
        }
        other => panic!("{other}"),
    })
}

/// [`request_context`], waiting for the answer (native only).
#[cfg(not(target_arch = "wasm32"))]
pub fn open_context() -> GpuContext {
    pollster::block_on(request_context())
}

/// Prints a line of a suite's table: on stderr natively (shown with `-- --nocapture`), on the
/// console in the browser (which wasm-bindgen-test-runner shows with `--nocapture` or on failure).
pub fn say(line: &str) {
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{line}");
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::console_log!("{line}");
}

/// The table of a suite: one line per case with its errors, the worst error seen, and a panic at
/// the end listing every case over [`TOLERANCE`].
pub struct Report {
    title: String,
    failures: Vec<String>,
    worst: Option<(f64, String)>,
}

impl Report {
    /// Prints the title, the adapter (a `Cpu` device type is a software one: lavapipe,
    /// SwiftShader) and the column heads.
    pub fn new(title: &str, context: &GpuContext, columns: &[&str]) -> Report {
        let device_type = context.adapter_info().device_type;
        say(&format!(
            "{title} on {} (device type {device_type:?})",
            context.description()
        ));
        let heads: Vec<String> = columns
            .iter()
            .map(|column| format!("{column:>9}"))
            .collect();
        say(&format!("{:>4}  {}  case", "", heads.join(" ")));
        Report {
            title: title.to_string(),
            failures: Vec::new(),
            worst: None,
        }
    }

    /// Records a case's errors, or the GPU error that stopped it.
    pub fn case(&mut self, name: String, outcome: Result<Vec<f64>, GpuError>) {
        let errors = match outcome {
            Ok(errors) => errors,
            Err(error) => {
                say(&format!("FAIL  {error}  {name}"));
                self.failures.push(format!("{name}: {error}"));
                return;
            }
        };
        let ok = errors.iter().all(|&error| error < TOLERANCE);
        let shown: Vec<String> = errors.iter().map(|e| format!("{e:>9.2e}")).collect();
        let verdict = if ok { "ok" } else { "FAIL" };
        say(&format!("{verdict:>4}  {}  {name}", shown.join(" ")));
        if !ok {
            self.failures.push(format!("{name}: {}", shown.join(" ")));
        }
        let case_worst = errors.iter().copied().fold(0.0, f64::max);
        if self
            .worst
            .as_ref()
            .is_none_or(|(worst, _)| case_worst > *worst)
        {
            self.worst = Some((case_worst, name));
        }
    }

    /// Prints the worst error and panics if any case failed.
    pub fn finish(self) {
        if let Some((worst, name)) = &self.worst {
            say(&format!("{}: worst error {worst:.2e} ({name})", self.title));
        }
        assert!(
            self.failures.is_empty(),
            "{}: {} cases differ from the CPU engine by more than {TOLERANCE}:\n{}",
            self.title,
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// The device and one kernel family: upload, zeros and readback in one place.
pub struct Gpu<K> {
    pub context: GpuContext,
    pub kernels: K,
}

impl<K> Gpu<K> {
    pub fn upload(&self, tensor: &Tensor) -> GpuTensor {
        GpuTensor::upload(&self.context, tensor)
    }

    pub fn zeros(&self, shape: &[usize]) -> GpuTensor {
        GpuTensor::zeros(&self.context, shape)
    }

    pub async fn read(&self, tensor: &GpuTensor) -> Result<Tensor, GpuError> {
        tensor.read(&self.context).await
    }
}

/// A parameter node holding `value` (so the tape computes its gradient).
pub fn parameter(tape: &mut Tape, params: &mut Params, value: &Tensor) -> (ParamId, NodeId) {
    let id = params.add(value.clone(), ParamRole::Other);
    (id, tape.parameter(params, id).unwrap())
}

/// Runs forward and backward of `sum(y * r)` for a random `r`, and returns `r` (the gradient
/// of that sum with respect to `y`).
pub fn weighted_sum_backward(
    tape: &mut Tape,
    params: &mut Params,
    y: NodeId,
    rng: &mut SeededRng,
) -> Tensor {
    let shape = tape.node(y).value().shape().to_vec();
    let r = random(rng, &shape, -1.0, 1.0);
    let r_node = tape.input(&shape);
    let product = tape.mul(y, r_node).unwrap();
    let total = tape.sum(product).unwrap();
    tape.set_input(r_node, &r).unwrap();
    tape.forward(params).unwrap();
    tape.backward(total, params).unwrap();
    r
}

pub fn random(rng: &mut SeededRng, shape: &[usize], low: f32, high: f32) -> Tensor {
    let count = shape.iter().product();
    let data = (0..count).map(|_| rng.uniform_range(low, high)).collect();
    Tensor::from_vec(shape, data).unwrap()
}

pub fn plus(a: &Tensor, b: &Tensor) -> Tensor {
    let sum = a.data().iter().zip(b.data()).map(|(x, y)| x + y).collect();
    Tensor::from_vec(a.shape(), sum).unwrap()
}

/// `max |got - expected| / max |expected|` (infinite when the GPU produced a non-finite value).
pub fn compare(got: &Tensor, expected: &Tensor) -> f64 {
    assert_eq!(got.shape(), expected.shape(), "read back the wrong shape");
    if got.data().iter().any(|v| !v.is_finite()) {
        return f64::INFINITY;
    }
    difference(got.data(), expected.data())
}

/// `max |got - expected| / max |expected|` of two lists of the same length.
pub fn difference(got: &[f32], expected: &[f32]) -> f64 {
    assert_eq!(
        got.len(),
        expected.len(),
        "compared lists of different lengths"
    );
    let worst = got
        .iter()
        .zip(expected)
        .map(|(&g, &e)| (f64::from(g) - f64::from(e)).abs())
        .fold(0.0, f64::max);
    let scale = expected
        .iter()
        .map(|&e| f64::from(e).abs())
        .fold(0.0, f64::max);
    worst / scale.max(f64::MIN_POSITIVE)
}

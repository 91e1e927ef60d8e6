//! The table the whole-training suites print (`tests/gpu_training.rs` for dense models,
//! `tests/gpu_sequential_training.rs` for image networks): one row per case with its worst
//! differences from the CPU trainer, and one failure naming every case over a tolerance; and
//! the check that ends each case, predictions from the CPU's weights loaded into the trainer.

/// Largest relative difference of a loss.
pub const LOSS_TOLERANCE: f64 = 1e-3;
/// Largest difference of a final weight, relative to the largest CPU weight.
pub const WEIGHT_TOLERANCE: f64 = 1e-3;
/// Largest difference of a prediction from the same weights, relative to the largest one.
pub const PREDICT_TOLERANCE: f64 = 1e-4;

/// How one case's GPU run compared with the CPU's.
pub struct Outcome {
    pub loss: f64,
    pub weights: f64,
    pub predict: f64,
    /// The CPU's first and last loss, to see that the case trained.
    pub first_loss: f32,
    pub last_loss: f32,
}

impl Outcome {
    fn within_tolerances(&self) -> bool {
        self.loss < LOSS_TOLERANCE
            && self.weights < WEIGHT_TOLERANCE
            && self.predict < PREDICT_TOLERANCE
    }
}

/// Runs `run` on every case, prints the table under `title`, and panics naming the cases that
/// differ by more than the tolerances.
pub fn check<C>(
    title: &str,
    cases: &[C],
    name_of: impl Fn(&C) -> &'static str,
    mut run: impl FnMut(usize, &C) -> Outcome,
) {
    eprintln!("{title}");
    eprintln!(
        "{:<50} {:>9} {:>9} {:>9}  loss first -> last",
        "case", "loss", "weights", "predict"
    );
    let mut failures = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let name = name_of(case);
        let outcome = run(index, case);
        let ok = outcome.within_tolerances();
        eprintln!(
            "{:<50} {:>9.2e} {:>9.2e} {:>9.2e}  {:.4} -> {:.4} {}",
            name,
            outcome.loss,
            outcome.weights,
            outcome.predict,
            outcome.first_loss,
            outcome.last_loss,
            if ok { "ok" } else { "FAIL" }
        );
        if !ok {
            failures.push(name);
        }
    }
    assert!(
        failures.is_empty(),
        "GPU training differs from the CPU trainer (tolerances: loss {LOSS_TOLERANCE}, weights \
         {WEIGHT_TOLERANCE}, predict {PREDICT_TOLERANCE}): {failures:?}"
    );
}

/// Loads the CPU trainer's `model` into `gpu` (a checkpoint put back), checks that it comes back
/// bit for bit, and returns how far the GPU's predictions on `inputs` are from the CPU's
/// evaluation tape. Native only: it waits on the GPU's readbacks.
#[cfg(not(target_arch = "wasm32"))]
pub fn predictions_from_the_cpu_weights(
    gpu: &mut neural_playground::gpu::GpuTrainer<neural_playground::engine::Sequential>,
    model: &neural_playground::engine::Sequential,
    inputs: &neural_playground::engine::Tensor,
    case: &str,
) -> f64 {
    gpu.load_model(model).unwrap();
    let mut recorded = model
        .record(inputs.shape()[0], model.output_transform(), None)
        .unwrap();
    recorded.tape.set_input(recorded.input, inputs).unwrap();
    recorded.tape.forward(model.params()).unwrap();
    let expected = recorded.tape.value(recorded.prediction);
    let predicted = gpu.predict_blocking(inputs).unwrap();
    assert_eq!(predicted.shape(), expected.shape());
    let round_trip = gpu.read_model_blocking().unwrap();
    assert_eq!(
        round_trip.params().to_flat(),
        model.params().to_flat(),
        "{case}: load_model then read_model changed the parameters"
    );
    super::difference(predicted.data(), expected.data())
}

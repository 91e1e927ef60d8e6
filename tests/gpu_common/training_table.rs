//! The table the whole-training suites print (`tests/gpu_training.rs` for dense models,
//! `tests/gpu_sequential_training.rs` for image networks): one row per case with its worst
//! differences from the CPU trainer, and one failure naming every case over a tolerance.

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

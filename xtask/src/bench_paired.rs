//! Paired rounds for the MLP step's targets: PyTorch's step, then ours, measured back to back,
//! several rounds in a row. This machine is shared and its speed drifts by 20-40% within
//! minutes; a pair is measured within seconds, so a slow spell slows both of its sides, and the
//! figures are the medians over the rounds.

/// Rounds of PyTorch's step followed by ours.
pub const ROUNDS: usize = 7;

/// One of our MLP step figures, measured in rounds beside PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairedFigure {
    /// Key our measuring program prints (e.g. `mlp_step_wasm_ms`).
    pub measured: &'static str,
    /// Key of our median over the rounds.
    pub ours: &'static str,
    /// Key of PyTorch's median over the same rounds.
    pub reference: &'static str,
}

pub const NATIVE: PairedFigure = PairedFigure {
    measured: "mlp_step_native_ms",
    ours: "mlp_step_native_paired_ms",
    reference: "pytorch_mlp_step_paired_native_ms",
};

pub const WASM: PairedFigure = PairedFigure {
    measured: "mlp_step_wasm_ms",
    ours: "mlp_step_wasm_paired_ms",
    reference: "pytorch_mlp_step_paired_wasm_ms",
};

/// Each round's (ours, PyTorch's) milliseconds for one figure.
#[derive(Debug, Default)]
pub struct Rounds {
    pub pairs: Vec<(f64, f64)>,
}

impl Rounds {
    /// Our median and PyTorch's, or `None` if no round measured both.
    pub fn medians(&self) -> Option<(f64, f64)> {
        let ours: Vec<f64> = self.pairs.iter().map(|pair| pair.0).collect();
        let reference: Vec<f64> = self.pairs.iter().map(|pair| pair.1).collect();
        Some((median(&ours)?, median(&reference)?))
    }

    /// What the rounds measured, for the notes.
    pub fn note(&self, figure: &PairedFigure) -> String {
        let rounds: Vec<String> = self
            .pairs
            .iter()
            .map(|(ours, reference)| {
                format!(
                    "{ours:.2} vs {reference:.2} ({:.2})",
                    ours / reference.max(f64::MIN_POSITIVE)
                )
            })
            .collect();
        format!(
            "{}: {} rounds of PyTorch's step then ours, back to back (ours vs PyTorch's ms, \
             ratio): {}; the table gives the medians",
            figure.ours,
            rounds.len(),
            rounds.join(", ")
        )
    }
}

/// The middle value (the mean of the two middle ones for an even count); `None` when empty.
fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[middle]),
        _ => Some((sorted[middle - 1] + sorted[middle]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_medians_are_taken_on_each_side_over_the_rounds() {
        let rounds = Rounds {
            pairs: vec![(5.0, 4.0), (9.0, 7.0), (5.5, 3.5)],
        };
        assert_eq!(rounds.medians(), Some((5.5, 4.0)));
        let even = Rounds {
            pairs: vec![(5.0, 4.0), (7.0, 3.0)],
        };
        assert_eq!(even.medians(), Some((6.0, 3.5)));
        assert_eq!(Rounds::default().medians(), None);
    }

    #[test]
    fn the_note_lists_every_round_with_its_ratio() {
        let rounds = Rounds {
            pairs: vec![(5.0, 4.0), (3.0, 2.0)],
        };
        let note = rounds.note(&WASM);
        assert!(
            note.starts_with("mlp_step_wasm_paired_ms: 2 rounds"),
            "{note}"
        );
        assert!(
            note.contains("5.00 vs 4.00 (1.25), 3.00 vs 2.00 (1.50)"),
            "{note}"
        );
    }
}

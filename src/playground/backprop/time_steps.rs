//! Backpropagation through time written out: a [`TimeTrace`] cut into the steps a learner walks
//! (each gate of each time step forward, the output and the loss, then each time step backward
//! from the last, then the update), every step with its formula and the numbers substituted, and
//! what it lights on the unrolled diagram. Also the course-sized example: a 2-unit RNN counting
//! the ones of 3 bits, with round weights a learner can follow by hand.

use super::Phase;
use super::step_writer::number;
use super::through_time::{TimeTrace, factors_at, gate_names, trace_through_time};
use crate::engine::{
    Activation, Cell, EngineError, LayerConfig, Loss, Sequential, SequentialConfig,
};

/// One step of the walk.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeStep {
    pub phase: Phase,
    /// The time step it is about (0-based), `None` for the output, the loss and the update.
    pub time: Option<usize>,
    /// What it lights: "x", "h", "C", a gate's name, "y", "L" or "W".
    pub part: &'static str,
    pub title: String,
    /// The rule in symbols.
    pub formula: String,
    /// The rule with the numbers, one line per unit (or value).
    pub substituted: Vec<String>,
}

/// Most values written out one by one; beyond, a vector is summarised.
const MOST_LISTED: usize = 12;

fn list(values: &[f32]) -> String {
    let shown: Vec<String> = values
        .iter()
        .take(MOST_LISTED)
        .map(|&v| number(v))
        .collect();
    match values.len() > MOST_LISTED {
        true => format!("[{}, … {} values]", shown.join(", "), values.len()),
        false => format!("[{}]", shown.join(", ")),
    }
}

/// The activation that gives gate `name`.
fn squash(cell: Cell, name: &str) -> &'static str {
    match (cell, name) {
        (Cell::Rnn(Activation::Relu), _) => "relu",
        (Cell::Rnn(Activation::Sigmoid), _) => "σ",
        (_, "h" | "C~" | "h~") => "tanh",
        _ => "σ",
    }
}

/// Every step of `trace`, forward, loss, backward (last time step first), update.
pub fn time_steps(trace: &TimeTrace) -> Vec<TimeStep> {
    let mut steps = Vec::new();
    let (cell, h) = (trace.cell, trace.hidden);
    let units = |line: &dyn Fn(usize) -> String| -> Vec<String> {
        (0..h.min(MOST_LISTED))
            .map(|j| format!("unit {}: {}", j + 1, line(j)))
            .collect()
    };
    let zeros = vec![0.0; h];
    for (t, now) in trace.forward.iter().enumerate() {
        let n = t + 1;
        let previous = t.checked_sub(1).map_or(&zeros, |p| &trace.forward[p].state);
        for &name in gate_names(cell) {
            let (Some(sum), Some(value)) = (now.sum(name), now.values(name)) else {
                continue;
            };
            let read = match (cell, name) {
                (Cell::Gru, "h~") => format!("[r_{n}⊙h_{t}, x_{n}]"),
                _ => format!("[h_{t}, x_{n}]"),
            };
            let f = squash(cell, name);
            let symbol = if name == "h" {
                format!("h_{n}")
            } else {
                format!("{name}_{n}")
            };
            steps.push(TimeStep {
                phase: Phase::Forward,
                time: Some(t),
                part: name,
                title: format!("Step {n}: {}", gate_title(name)),
                formula: format!("{symbol} = {f}(s), s = {read} · W_{name} + b_{name}"),
                substituted: units(&|j| format!("{f}({}) = {}", number(sum[j]), number(value[j]))),
            });
        }
        if let Some(c) = &now.cell {
            let previous_cell = t.checked_sub(1).and_then(|p| trace.forward[p].cell.clone());
            let previous_cell = previous_cell.unwrap_or_else(|| zeros.clone());
            let f = now.values("f").unwrap_or(&zeros);
            let i = now.values("i").unwrap_or(&zeros);
            let candidate = now.values("C~").unwrap_or(&zeros);
            let o = now.values("o").unwrap_or(&zeros);
            steps.push(TimeStep {
                phase: Phase::Forward,
                time: Some(t),
                part: "C",
                title: format!("Step {n}: the cell state and the state"),
                formula: format!("C_{n} = f_{n}⊙C_{t} + i_{n}⊙C~_{n}; h_{n} = o_{n}⊙tanh(C_{n})"),
                substituted: units(&|j| {
                    format!(
                        "C = {}·{} + {}·{} = {}; h = {}·tanh({}) = {}",
                        number(f[j]),
                        number(previous_cell[j]),
                        number(i[j]),
                        number(candidate[j]),
                        number(c[j]),
                        number(o[j]),
                        number(c[j]),
                        number(now.state[j])
                    )
                }),
            });
        } else if cell == Cell::Gru {
            let z = now.values("z").unwrap_or(&zeros);
            let candidate = now.values("h~").unwrap_or(&zeros);
            steps.push(TimeStep {
                phase: Phase::Forward,
                time: Some(t),
                part: "h",
                title: format!("Step {n}: the new state"),
                formula: format!("h_{n} = (1 − z_{n})⊙h_{t} + z_{n}⊙h~_{n}"),
                substituted: units(&|j| {
                    format!(
                        "(1 − {})·{} + {}·{} = {}",
                        number(z[j]),
                        number(previous[j]),
                        number(z[j]),
                        number(candidate[j]),
                        number(now.state[j])
                    )
                }),
            });
        }
    }
    let last = trace.forward.len();
    let outputs = trace.logits.len();
    steps.push(TimeStep {
        phase: Phase::Loss,
        time: None,
        part: "y",
        title: "The output".to_string(),
        formula: format!("y = h_{last} · V + c"),
        substituted: (0..outputs.min(MOST_LISTED))
            .map(|k| format!("y_{} = {}", k + 1, number(trace.logits[k])))
            .collect(),
    });
    steps.push(TimeStep {
        phase: Phase::Loss,
        time: None,
        part: "L",
        title: "The loss".to_string(),
        formula: format!(
            "L(prediction {}, target {})",
            list(&trace.prediction),
            list(&trace.targets)
        ),
        substituted: vec![format!("L = {}", number(trace.loss))],
    });
    steps.push(TimeStep {
        phase: Phase::Backward,
        time: None,
        part: "y",
        title: "Backward: the output's δ and its weights' gradients".to_string(),
        formula: format!("δ_y = ∂L/∂y; ∂L/∂V = h_{last}ᵀ δ_y; ∂L/∂c = δ_y"),
        substituted: vec![
            format!("δ_y = {}", list(&trace.output_delta)),
            format!("∂L/∂V = {}", list(&trace.output_weight_gradient)),
            format!("∂L/∂c = {}", list(&trace.output_bias_gradient)),
        ],
    });
    let mut accumulated = vec![0.0; trace.bias.len()];
    let mut accumulated_weights = vec![0.0; trace.weights.len()];
    for t in (0..last).rev() {
        let n = t + 1;
        let back = &trace.backward[t];
        let arriving = match n == last {
            true => format!("∂L/∂h_{n} = δ_y · Vᵀ (only the last state reaches the output)"),
            false => format!("∂L/∂h_{n} = from step {} (the next step read h_{n})", n + 1),
        };
        steps.push(TimeStep {
            phase: Phase::Backward,
            time: Some(t),
            part: "h",
            title: format!("Step {n} backward: what reaches h_{n}"),
            formula: arriving,
            substituted: units(&|j| {
                format!(
                    "{} + {} = {}",
                    number(back.from_output[j]),
                    number(back.from_next[j]),
                    number(back.state[j])
                )
            }),
        });
        if let (Some(total), Some(carried)) = (&back.cell, &back.cell_from_next) {
            steps.push(TimeStep {
                phase: Phase::Backward,
                time: Some(t),
                part: "C",
                title: format!("Step {n} backward: what reaches C_{n}"),
                formula: format!(
                    "∂L/∂C_{n} = ∂L/∂h_{n}⊙o_{n}⊙(1 − tanh²C_{n}) + ∂L/∂C_{}⊙f_{}",
                    n + 1,
                    n + 1
                ),
                substituted: units(&|j| {
                    format!(
                        "{} + {} = {}",
                        number(total[j] - carried[j]),
                        number(carried[j]),
                        number(total[j])
                    )
                }),
            });
        }
        let factors = factors_at(trace, t);
        for ((name, delta), (_, upstream, local)) in back.deltas.iter().zip(&factors) {
            steps.push(TimeStep {
                phase: Phase::Backward,
                time: Some(t),
                part: name,
                title: format!("Step {n} backward: δ of {}", gate_title(name)),
                formula: format!(
                    "{} (∂L/∂g times the local derivative g′(s))",
                    local_rule(cell, name, n)
                ),
                substituted: units(&|j| {
                    format!(
                        "δ = {} · {} = {}",
                        number(upstream[j]),
                        number(local[j]),
                        number(delta[j])
                    )
                }),
            });
        }
        accumulated
            .iter_mut()
            .zip(&back.bias)
            .for_each(|(a, b)| *a += b);
        accumulated_weights
            .iter_mut()
            .zip(&back.weights)
            .for_each(|(a, w)| *a += w);
        steps.push(TimeStep {
            phase: Phase::Backward,
            time: Some(t),
            part: "W",
            title: format!("Step {n} backward: its share of ∂L/∂W and ∂L/∂b"),
            formula: format!(
                "ΔW_{n} = [h_{t}, x_{n}]ᵀ δ_{n}; Δb_{n} = δ_{n}; the shares add up over the steps"
            ),
            substituted: vec![
                format!("ΔW_{n} = {}", list(&back.weights)),
                format!("Δb_{n} = {}", list(&back.bias)),
                format!(
                    "∂L/∂W so far (steps {n} to {last}) = {}",
                    list(&accumulated_weights)
                ),
                format!(
                    "∂L/∂b so far (steps {n} to {last}) = {}",
                    list(&accumulated)
                ),
            ],
        });
    }
    let (new_weights, new_bias) = trace.updated();
    let rate = number(trace.learning_rate);
    steps.push(TimeStep {
        phase: Phase::Update,
        time: None,
        part: "W",
        title: "Update: one gradient descent step".to_string(),
        formula: format!("W ← W − η Σ_t ΔW_t, b ← b − η Σ_t Δb_t (η = {rate})"),
        substituted: vec![
            format!("∂L/∂W = {}", list(&trace.weight_gradient)),
            format!("W = {} → {}", list(&trace.weights), list(&new_weights)),
            format!("b = {} → {}", list(&trace.bias), list(&new_bias)),
        ],
    });
    steps
}

/// What a gate is called in a step's title.
fn gate_title(name: &str) -> String {
    match name {
        "h" => "the state h".to_string(),
        "f" => "the forget gate f".to_string(),
        "i" => "the input gate i".to_string(),
        "o" => "the output gate o".to_string(),
        "C~" => "the candidate C~".to_string(),
        "z" => "the update gate z".to_string(),
        "r" => "the reset gate r".to_string(),
        "h~" => "the candidate h~".to_string(),
        other => other.to_string(),
    }
}

/// A gate's `δ` as the chain rule writes it at time step `n`.
fn local_rule(cell: Cell, name: &str, n: usize) -> String {
    let p = n - 1;
    match (cell, name) {
        (Cell::Rnn(_), _) => format!("δ_{n} = ∂L/∂h_{n} ⊙ tanh′(s) = ∂L/∂h_{n} ⊙ (1 − h_{n}²)"),
        (_, "f") => format!("δ_f = ∂L/∂C_{n} ⊙ C_{p} ⊙ f(1 − f)"),
        (_, "i") => format!("δ_i = ∂L/∂C_{n} ⊙ C~_{n} ⊙ i(1 − i)"),
        (_, "o") => format!("δ_o = ∂L/∂h_{n} ⊙ tanh(C_{n}) ⊙ o(1 − o)"),
        (_, "C~") => format!("δ_C~ = ∂L/∂C_{n} ⊙ i_{n} ⊙ (1 − C~²)"),
        (_, "z") => format!("δ_z = ∂L/∂h_{n} ⊙ (h~_{n} − h_{p}) ⊙ z(1 − z)"),
        (_, "h~") => format!("δ_h~ = ∂L/∂h_{n} ⊙ z_{n} ⊙ (1 − h~²)"),
        (_, "r") => format!("δ_r = (δ_h~ · W_h~ᵀ) ⊙ h_{p} ⊙ r(1 − r)"),
        _ => String::new(),
    }
}

/// The cells the stepper offers, by key.
pub const CELLS: [(&str, &str); 3] = [("rnn", "RNN (tanh)"), ("lstm", "LSTM"), ("gru", "GRU")];

/// Most units the stepper offers.
pub const MOST_UNITS: usize = 8;

/// The course-sized example: [`example`] with 2 units and its round weights.
pub fn course_example(cell: &str, bits: &[f32]) -> Result<TimeTrace, EngineError> {
    example(cell, 2, bits)
}

/// A `cell` of `units` reading `bits` (one a step) and one output trained towards the number
/// of ones under half the squared error, learning rate 0.1. With 2 units the weights are round
/// numbers (the RNN's: `W = [[0.5, −0.3], [0.2, 0.4], [1, 0.5]]` for the rows `h_1, h_2, x`,
/// `b = [0, 0.1]`, `V = [1, 0.5]ᵀ`, `c = 0`; the other cells repeat the pattern over their
/// gates, each a little smaller), so that a learner can follow them by hand; otherwise they are
/// the engine's own initial weights (seed 1).
pub fn example(cell: &str, units: usize, bits: &[f32]) -> Result<TimeTrace, EngineError> {
    if bits.is_empty() {
        return Err(EngineError::InvalidConfig(
            "type at least one bit".to_string(),
        ));
    }
    if !(1..=MOST_UNITS).contains(&units) {
        return Err(EngineError::InvalidConfig(format!(
            "1 to {MOST_UNITS} units, not {units}"
        )));
    }
    let layer = LayerConfig::first_of_kind(cell)
        .and_then(|layer| layer.with_setting(crate::engine::Setting::count("hidden", units)))
        .ok_or_else(|| EngineError::InvalidConfig(format!("no recurrent cell `{cell}`")))?;
    let config = SequentialConfig::new(
        &[bits.len(), 1],
        vec![layer, LayerConfig::dense(1, Activation::Linear)],
    );
    let mut network: Sequential = config.init()?;
    if units == 2 {
        let gates = layer
            .recurrent_cell()
            .map_or(1, |(cell, _, _)| cell.gates());
        let block = [[0.5, -0.3], [0.2, 0.4], [1.0, 0.5]];
        let weights: Vec<f32> = block
            .iter()
            .flat_map(|row| {
                (0..gates).flat_map(move |g| row.iter().map(move |w| w * (1.0 - 0.2 * g as f32)))
            })
            .collect();
        let bias: Vec<f32> = (0..gates).flat_map(|_| [0.0, 0.1]).collect();
        let flat: Vec<f32> = weights
            .into_iter()
            .chain(bias)
            .chain([1.0, 0.5, 0.0])
            .collect();
        network.params_mut().load_flat(&flat)?;
    }
    let ones = bits.iter().filter(|&&bit| bit > 0.5).count() as f32;
    trace_through_time(&network, Loss::HalfSquaredError, bits, &[ones], 0.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_course_example_can_be_checked_by_hand() {
        let trace = course_example("rnn", &[1.0, 0.0, 1.0]).unwrap();
        // h_1 = tanh(x_1 · [1, 0.5] + [0, 0.1]) = tanh([1, 0.6]).
        let h1 = &trace.forward[0].state;
        assert!((h1[0] - 1f32.tanh()).abs() < 1e-6 && (h1[1] - 0.6f32.tanh()).abs() < 1e-6);
        // h_2 = tanh(h_1 · [[0.5, −0.3], [0.2, 0.4]] + 0 · [1, 0.5] + [0, 0.1]).
        let s2 = [0.5 * h1[0] + 0.2 * h1[1], -0.3 * h1[0] + 0.4 * h1[1] + 0.1];
        let h2 = &trace.forward[1].state;
        assert!((h2[0] - s2[0].tanh()).abs() < 1e-6 && (h2[1] - s2[1].tanh()).abs() < 1e-6);
        // y = h_3 · [1, 0.5]; L = ½(y − 2)²; δ_y = y − 2.
        let h3 = &trace.forward[2].state;
        let y = h3[0] + 0.5 * h3[1];
        assert!((trace.logits[0] - y).abs() < 1e-6);
        assert!((trace.loss - 0.5 * (y - 2.0).powi(2)).abs() < 1e-5);
        assert!((trace.output_delta[0] - (y - 2.0)).abs() < 1e-5);
    }

    #[test]
    fn the_walk_visits_every_time_step_both_ways_and_ends_with_the_update() {
        for (cell, _) in CELLS {
            let trace = course_example(cell, &[1.0, 0.0, 1.0]).unwrap();
            let steps = time_steps(&trace);
            let forward: Vec<usize> = steps
                .iter()
                .filter(|s| s.phase == Phase::Forward)
                .filter_map(|s| s.time)
                .collect();
            assert_eq!(forward.first(), Some(&0), "{cell}");
            assert_eq!(forward.last(), Some(&2), "{cell}");
            let backward: Vec<usize> = steps
                .iter()
                .filter(|s| s.phase == Phase::Backward)
                .filter_map(|s| s.time)
                .collect();
            assert_eq!(
                backward.first(),
                Some(&2),
                "{cell}: backward starts at the last step"
            );
            assert_eq!(backward.last(), Some(&0), "{cell}");
            let update = steps.last().unwrap();
            assert_eq!(update.phase, Phase::Update);
            // What the steps' shares add up to by the first step is the tape's ∂L/∂W.
            let first_share = steps
                .iter()
                .rfind(|s| s.part == "W" && s.time == Some(0))
                .unwrap();
            let tape = format!("(steps 1 to 3) = [{}", number(trace.weight_gradient[0]));
            assert!(
                first_share.substituted[2].contains(&tape),
                "{cell}: {first_share:?}"
            );
            // The update's ∂L/∂W is the tape's.
            assert!(
                update.substituted[0].contains(&number(trace.weight_gradient[0])),
                "{cell}"
            );
            assert!(steps.iter().all(|s| !s.substituted.is_empty()), "{cell}");
            // Each δ is written as its two factors, whose product it is.
            for t in 0..3 {
                let factors = factors_at(&trace, t);
                let deltas = &trace.backward[t].deltas;
                assert_eq!(factors.len(), deltas.len(), "{cell} at {t}");
                for ((name, upstream, local), (same, delta)) in factors.iter().zip(deltas) {
                    assert_eq!(name, same);
                    for j in 0..2 {
                        assert!(
                            (upstream[j] * local[j] - delta[j]).abs() < 1e-6,
                            "{cell} δ_{name}"
                        );
                    }
                }
            }
        }
        assert!(course_example("rnn", &[]).is_err());
        assert!(example("gru", 9, &[1.0]).is_err());
        // A larger network walks unit by unit: one line per unit.
        let larger = time_steps(&example("gru", 5, &[1.0, 0.0]).unwrap());
        assert_eq!(larger[0].substituted.len(), 5);
        assert!(course_example("transformer", &[1.0]).is_err());
    }
}

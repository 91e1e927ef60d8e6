//! Backpropagation through time, number by number: one training iteration of a recurrent cell
//! (RNN, LSTM or GRU) and a dense output layer on one sequence. Forward, every step's weighted
//! sums, gates and states are read from the engine's tape; backward, every step's `∂L/∂h_t` (and
//! an LSTM's `∂L/∂C_t`) is split into what arrives from the output and from step t + 1, each
//! gate's `δ` is worked out from its local derivative, and each step's contribution to `∂L/∂W`
//! is `[h_{t-1}, x_t]ᵀ δ_t`: the tape's own gradients are their sums, which the tests check.

use crate::engine::{Cell, EngineError, LayerConfig, Loss, Mode, Sequential, Tensor};
use crate::playground::sequences::StepValues;

/// Vectors by name: each gate's, or each weighted sum's `δ` by what its activation gives.
pub type Named = Vec<(&'static str, Vec<f32>)>;

/// What flows back into one time step, and what the step passes on.
#[derive(Clone, Debug, PartialEq)]
pub struct StepGradients {
    /// `∂L/∂h_t` in all.
    pub state: Vec<f32>,
    /// The part of it from the output layer (the last step only).
    pub from_output: Vec<f32>,
    /// The part of it from step t + 1 (none at the last step).
    pub from_next: Vec<f32>,
    /// An LSTM's `∂L/∂C_t` in all, and the part of it from `C_{t+1}`.
    pub cell: Option<Vec<f32>>,
    pub cell_from_next: Option<Vec<f32>>,
    /// `δ = ∂L/∂s` of each weighted sum, by the name of what its activation gives ("h" for an
    /// RNN; "f", "i", "o", "C~"; "z", "r", "h~"), worked out from the local derivatives.
    pub deltas: Named,
    /// This step's share of `∂L/∂W` (`[hidden + features, columns]`, the state's rows first)
    /// and of `∂L/∂b`.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

/// One iteration of a recurrent network on one sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeTrace {
    pub cell: Cell,
    pub hidden: usize,
    pub features: usize,
    /// The cell's weights `W` (`[hidden + features, columns]`) and bias before the update.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    /// The output layer's `V` (`[hidden, outputs]`) and `c`.
    pub output_weights: Vec<f32>,
    pub output_bias: Vec<f32>,
    /// Every step forward.
    pub forward: Vec<StepValues>,
    /// The output layer's weighted sums `y = h_T V + c`, and its prediction (probabilities
    /// under a cross-entropy loss).
    pub logits: Vec<f32>,
    pub prediction: Vec<f32>,
    pub targets: Vec<f32>,
    pub loss: f32,
    /// `∂L/∂y`.
    pub output_delta: Vec<f32>,
    /// Every step backward, in time order (the backward pass visits them last to first).
    pub backward: Vec<StepGradients>,
    /// The tape's gradients: `∂L/∂W` and `∂L/∂b` summed over the steps, `∂L/∂V`, `∂L/∂c`.
    pub weight_gradient: Vec<f32>,
    pub bias_gradient: Vec<f32>,
    pub output_weight_gradient: Vec<f32>,
    pub output_bias_gradient: Vec<f32>,
    pub learning_rate: f32,
    /// What the tape itself holds at each step: `∂L/∂h_t` and each weighted sum's `δ` (what
    /// the worked-out [`StepGradients`] must equal).
    pub on_tape: Vec<(Vec<f32>, Named)>,
}

impl TimeTrace {
    /// Columns of `W`: `hidden` for each gate.
    pub fn columns(&self) -> usize {
        self.cell.gates() * self.hidden
    }

    /// `W − η ∂L/∂W` and `b − η ∂L/∂b` (plain gradient descent).
    pub fn updated(&self) -> (Vec<f32>, Vec<f32>) {
        let step = |values: &[f32], gradients: &[f32]| -> Vec<f32> {
            values
                .iter()
                .zip(gradients)
                .map(|(v, g)| v - self.learning_rate * g)
                .collect()
        };
        (
            step(&self.weights, &self.weight_gradient),
            step(&self.bias, &self.bias_gradient),
        )
    }
}

/// The first column of gate `name` in the cell's `W`.
pub fn gate_column(cell: Cell, name: &str, hidden: usize) -> usize {
    let index = match (cell, name) {
        (Cell::Lstm, "f") => 0,
        (Cell::Lstm, "i") => 1,
        (Cell::Lstm, "o") => 2,
        (Cell::Lstm, "C~") => 3,
        (Cell::Gru, "r") => 1,
        (Cell::Gru, "h~") => 2,
        _ => 0,
    };
    index * hidden
}

/// The gates of a cell in `W`'s column order.
pub fn gate_names(cell: Cell) -> &'static [&'static str] {
    match cell {
        Cell::Rnn(_) => &["h"],
        Cell::Lstm => &["f", "i", "o", "C~"],
        Cell::Gru => &["z", "r", "h~"],
    }
}

/// Runs one iteration of `network` (one recurrent layer giving its last state, then a dense
/// layer) on `sequence` (`steps · features` values) against `targets`, and reads it back.
pub fn trace_through_time(
    network: &Sequential,
    loss: Loss,
    sequence: &[f32],
    targets: &[f32],
    learning_rate: f32,
) -> Result<TimeTrace, EngineError> {
    let config = network.config();
    let (cell, hidden) = match config.layers.as_slice() {
        [recurrent, LayerConfig::Dense(_)] => match recurrent.recurrent_cell() {
            Some((cell, hidden, false)) => (cell, hidden),
            _ => return Err(not_traceable()),
        },
        _ => return Err(not_traceable()),
    };
    let [steps, features] = config.input[..] else {
        return Err(not_traceable());
    };
    let mut recorded =
        network.record_for(Mode::Training, 1, loss.output_activation(), Some(loss))?;
    let input = Tensor::from_vec(&[1, steps, features], sequence.to_vec())?;
    let target_node = recorded.target.expect("recorded with a loss");
    let target = Tensor::from_vec(&[1, targets.len()], targets.to_vec())?;
    recorded.tape.set_input(recorded.input, &input)?;
    recorded.tape.set_input(target_node, &target)?;
    let mut params = network.params().clone();
    params.zero_grads();
    recorded.tape.forward(&params)?;
    let loss_node = recorded.loss.expect("recorded with a loss");
    recorded.tape.backward(loss_node, &mut params)?;
    let tape = &recorded.tape;
    let ids: Vec<_> = params.ids().collect();
    let [w, b, v, c] = ids[..] else {
        return Err(not_traceable());
    };
    let read = |id| params.value(id).data().to_vec();
    let gradient = |id| params.grad(id).data().to_vec();
    let layer = recorded
        .recurrent_layers()
        .next()
        .expect("one recurrent layer");
    let forward = crate::playground::sequences::unrolled::read_steps(tape, layer);
    let gradient_columns = |columns: &crate::engine::Columns| {
        let grad = tape.grad(columns.node).data();
        grad[columns.start..columns.start + columns.width].to_vec()
    };
    let on_tape = layer
        .steps
        .iter()
        .map(|step| {
            let sums = step.gates.iter().map(|gate| (gate.name, &gate.sum));
            let sums = sums.chain(step.state_sum.as_ref().map(|sum| ("h", sum)));
            (
                tape.grad(step.state).data().to_vec(),
                sums.map(|(name, sum)| (name, gradient_columns(sum)))
                    .collect(),
            )
        })
        .collect();
    let dense = recorded.dense_layers().next().expect("one dense layer");
    let output_delta = tape.grad(dense.pre_activation).data().to_vec();
    let mut trace = TimeTrace {
        cell,
        hidden,
        features,
        weights: read(w),
        bias: read(b),
        output_weights: read(v),
        output_bias: read(c),
        logits: tape.value(dense.pre_activation).data().to_vec(),
        prediction: tape.value(recorded.prediction).data().to_vec(),
        targets: targets.to_vec(),
        loss: recorded.loss_value(),
        output_delta,
        backward: Vec::new(),
        weight_gradient: gradient(w),
        bias_gradient: gradient(b),
        output_weight_gradient: gradient(v),
        output_bias_gradient: gradient(c),
        learning_rate,
        forward,
        on_tape,
    };
    trace.backward = backward_through_time(&trace);
    Ok(trace)
}

fn not_traceable() -> EngineError {
    EngineError::InvalidConfig(
        "the stepper through time takes one RNN, LSTM or GRU giving its last state, then a \
         dense layer"
            .to_string(),
    )
}

/// `row · Mᵀ` for `M` of `rows × columns` (row-major), restricted to `M`'s columns
/// `from..from + row.len()` and its rows `0..out`: what a weighted sum's `δ` sends back along
/// the weights to the values it read.
fn back_along(matrix: &[f32], columns: usize, from: usize, delta: &[f32], out: usize) -> Vec<f32> {
    (0..out)
        .map(|r| {
            delta
                .iter()
                .enumerate()
                .map(|(j, d)| d * matrix[r * columns + from + j])
                .sum()
        })
        .collect()
}

/// Every step's gradients, worked out from the forward values, the output's `δ` and the
/// weights, last step first (returned in time order).
fn backward_through_time(trace: &TimeTrace) -> Vec<StepGradients> {
    let (h, cell) = (trace.hidden, trace.cell);
    let columns = trace.columns();
    let outputs = trace.output_delta.len();
    let steps = trace.forward.len();
    let zeros = vec![0.0; h];
    let mut backward: Vec<StepGradients> = Vec::with_capacity(steps);
    for t in (0..steps).rev() {
        let now = &trace.forward[t];
        let previous_state = t.checked_sub(1).map_or(&zeros, |p| &trace.forward[p].state);
        let from_output = match t + 1 == steps {
            true => back_along(&trace.output_weights, outputs, 0, &trace.output_delta, h),
            false => zeros.clone(),
        };
        // What step t + 1 sends back to h_t (and C_t).
        let next = backward.last();
        let mut from_next = zeros.clone();
        let mut cell_from_next = None;
        if let (Some(next), Some(later)) = (next, trace.forward.get(t + 1)) {
            for (name, delta) in &next.deltas {
                let start = gate_column(cell, name, h);
                let mut sent = back_along(&trace.weights, columns, start, delta, h);
                if cell == Cell::Gru && *name == "h~" {
                    // The candidate read r ⊙ h_t.
                    let reset = later.values("r").unwrap_or(&zeros);
                    sent.iter_mut().zip(reset).for_each(|(s, r)| *s *= r);
                }
                from_next.iter_mut().zip(sent).for_each(|(f, s)| *f += s);
            }
            if cell == Cell::Gru {
                let update = later.values("z").unwrap_or(&zeros);
                for ((f, d), z) in from_next.iter_mut().zip(&next.state).zip(update) {
                    *f += d * (1.0 - z);
                }
            }
            if let (Some(cell_next), Some(forget)) = (&next.cell, later.values("f")) {
                cell_from_next = Some(cell_next.iter().zip(forget).map(|(d, f)| d * f).collect());
            }
        }
        let state: Vec<f32> = from_output
            .iter()
            .zip(&from_next)
            .map(|(a, b)| a + b)
            .collect();
        let cell_from_next = match cell {
            Cell::Lstm => Some(cell_from_next.unwrap_or_else(|| zeros.clone())),
            _ => None,
        };
        // An LSTM's ∂L/∂C_t: through h_t = o ⊙ tanh(C_t), and carried from C_{t+1}.
        let cell_gradient = cell_from_next.as_ref().map(|carried| {
            let (o, c) = (
                now.values("o").unwrap_or(&zeros),
                now.cell.as_deref().unwrap_or(&zeros),
            );
            (0..h)
                .map(|j| state[j] * o[j] * (1.0 - c[j].tanh().powi(2)) + carried[j])
                .collect::<Vec<f32>>()
        });
        let factors = gate_factors(trace, t, &state, cell_gradient.as_deref());
        let deltas: Named = factors
            .iter()
            .map(|(name, upstream, local)| {
                (
                    *name,
                    upstream.iter().zip(local).map(|(u, l)| u * l).collect(),
                )
            })
            .collect();
        // This step's share of ∂L/∂W: each gate's δ times what its weighted sum read.
        let mut weights = vec![0.0; (h + trace.features) * columns];
        let mut bias = vec![0.0; columns];
        for (name, delta) in &deltas {
            let start = gate_column(cell, name, h);
            let read_state: Vec<f32> = match (cell, *name) {
                (Cell::Gru, "h~") => {
                    let reset = now.values("r").unwrap_or(&zeros);
                    previous_state
                        .iter()
                        .zip(reset)
                        .map(|(p, r)| p * r)
                        .collect()
                }
                _ => previous_state.clone(),
            };
            let read: Vec<f32> = read_state.iter().chain(&now.input).copied().collect();
            for (r, value) in read.iter().enumerate() {
                for (j, d) in delta.iter().enumerate() {
                    weights[r * columns + start + j] += value * d;
                }
            }
            for (j, d) in delta.iter().enumerate() {
                bias[start + j] += d;
            }
        }
        backward.push(StepGradients {
            state,
            from_output,
            from_next,
            cell: cell_gradient,
            cell_from_next,
            deltas,
            weights,
            bias,
        });
    }
    backward.reverse();
    backward
}

/// Each gate's two factors at step `t`, unit by unit: `∂L/∂g` (what reaches the gate's value
/// `g`) and the local derivative of its activation, `g′(s)`; the gate's `δ = ∂L/∂s` is their
/// product. From `∂L/∂h_t` (`state`) and an LSTM's whole `∂L/∂C_t`.
fn gate_factors(
    trace: &TimeTrace,
    t: usize,
    state: &[f32],
    cell_gradient: Option<&[f32]>,
) -> Vec<(&'static str, Vec<f32>, Vec<f32>)> {
    let h = trace.hidden;
    let now = &trace.forward[t];
    let zeros = vec![0.0; h];
    let get = |name: &str| now.values(name).unwrap_or(&zeros).to_vec();
    let before = |pick: fn(&StepValues) -> Option<&[f32]>| {
        t.checked_sub(1)
            .and_then(|p| pick(&trace.forward[p]))
            .map_or_else(|| zeros.clone(), <[f32]>::to_vec)
    };
    let previous_state = before(|step| Some(&step.state));
    let previous_cell = before(|step| step.cell.as_deref());
    let each = |value: &dyn Fn(usize) -> f32| (0..h).map(value).collect::<Vec<f32>>();
    let sigmoid_slope = |g: &[f32]| each(&|j| g[j] * (1.0 - g[j]));
    let tanh_slope = |g: &[f32]| each(&|j| 1.0 - g[j] * g[j]);
    let dc = cell_gradient.unwrap_or(&zeros);
    match trace.cell {
        Cell::Rnn(_) => vec![("h", state.to_vec(), tanh_slope(&now.state))],
        Cell::Lstm => {
            let (f, i, o, candidate) = (get("f"), get("i"), get("o"), get("C~"));
            let c = now.cell.clone().unwrap_or_else(|| zeros.clone());
            let mut factors = Vec::new();
            // At the first step C_0 = 0: the forget gate has nothing to act on.
            if t > 0 {
                factors.push(("f", each(&|j| dc[j] * previous_cell[j]), sigmoid_slope(&f)));
            }
            factors.extend([
                ("i", each(&|j| dc[j] * candidate[j]), sigmoid_slope(&i)),
                ("o", each(&|j| state[j] * c[j].tanh()), sigmoid_slope(&o)),
                ("C~", each(&|j| dc[j] * i[j]), tanh_slope(&candidate)),
            ]);
            factors
        }
        Cell::Gru => {
            let (z, candidate, r) = (get("z"), get("h~"), get("r"));
            let through_z = each(&|j| state[j] * (candidate[j] - previous_state[j]));
            let through_candidate = each(&|j| state[j] * z[j]);
            let candidate_slope = tanh_slope(&candidate);
            let delta_candidate = each(&|j| through_candidate[j] * candidate_slope[j]);
            // The candidate read r ⊙ h_{t-1}: what its δ sends back to r.
            let to_reset_state =
                back_along(&trace.weights, trace.columns(), 2 * h, &delta_candidate, h);
            let mut factors = vec![("z", through_z, sigmoid_slope(&z))];
            // At the first step h_0 = 0: the reset gate has nothing to reset.
            if t > 0 {
                let through_r = each(&|j| to_reset_state[j] * previous_state[j]);
                factors.push(("r", through_r, sigmoid_slope(&r)));
            }
            factors.push(("h~", through_candidate, candidate_slope));
            factors
        }
    }
}

/// Each gate's two factors at step `t` of `trace` (see [`gate_factors`]): `(name, ∂L/∂g,
/// g′(s))`, whose product is the gate's `δ`.
pub fn factors_at(trace: &TimeTrace, t: usize) -> Vec<(&'static str, Vec<f32>, Vec<f32>)> {
    let back = &trace.backward[t];
    gate_factors(trace, t, &back.state, back.cell.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Activation, SequentialConfig};

    fn network(cell: &str, hidden: usize, outputs: usize, seed: u64) -> Sequential {
        let layer = LayerConfig::first_of_kind(cell)
            .and_then(|layer| layer.with_setting(crate::engine::Setting::count("hidden", hidden)))
            .unwrap();
        let config = SequentialConfig {
            seed,
            ..SequentialConfig::new(
                &[4, 2],
                vec![layer, LayerConfig::dense(outputs, Activation::Linear)],
            )
        };
        config.init().unwrap()
    }

    fn close(what: &str, found: &[f32], expected: &[f32]) {
        assert_eq!(found.len(), expected.len(), "{what}");
        for (f, e) in found.iter().zip(expected) {
            assert!(
                (f - e).abs() <= 1e-5 + 1e-4 * e.abs(),
                "{what}: {found:?} vs {expected:?}"
            );
        }
    }

    /// Every worked-out number equals the tape's: each step's ∂L/∂h_t, each gate's δ, and
    /// the steps' shares of ∂L/∂W and ∂L/∂b add up to the tape's gradients.
    #[test]
    fn every_step_backward_equals_the_tape() {
        let sequence = [0.5, -1.0, 1.0, 0.2, -0.3, 0.8, 0.9, -0.6];
        for cell in ["rnn", "lstm", "gru"] {
            for (loss, targets) in [
                (Loss::SoftmaxCrossEntropy, vec![0.0, 1.0, 0.0]),
                (Loss::HalfSquaredError, vec![0.3, -0.2, 0.7]),
            ] {
                let model = network(cell, 3, 3, 5);
                let trace = trace_through_time(&model, loss, &sequence, &targets, 0.1).unwrap();
                assert_eq!(trace.forward.len(), 4);
                for (t, (step, (state, deltas))) in
                    trace.backward.iter().zip(&trace.on_tape).enumerate()
                {
                    close(&format!("{cell} ∂L/∂h_{t}"), &step.state, state);
                    for (name, delta) in deltas {
                        let worked = step.deltas.iter().find(|(n, _)| n == name);
                        let worked = worked
                            .map(|(_, d)| d.as_slice())
                            .unwrap_or_else(|| panic!("{cell} δ_{name} at {t}"));
                        close(&format!("{cell} δ_{name} at {t}"), worked, delta);
                    }
                }
                let summed = |pick: fn(&StepGradients) -> &Vec<f32>| -> Vec<f32> {
                    let mut total = vec![0.0; pick(&trace.backward[0]).len()];
                    for step in &trace.backward {
                        total.iter_mut().zip(pick(step)).for_each(|(t, v)| *t += v);
                    }
                    total
                };
                close(
                    &format!("{cell} ∂L/∂W"),
                    &summed(|s| &s.weights),
                    &trace.weight_gradient,
                );
                close(
                    &format!("{cell} ∂L/∂b"),
                    &summed(|s| &s.bias),
                    &trace.bias_gradient,
                );
                assert!(trace.weight_gradient.iter().any(|&g| g.abs() > 1e-4));
                // Only the last step hears from the output; the first hears from the next.
                assert!(trace.backward[3].from_next.iter().all(|&v| v == 0.0));
                assert!(trace.backward[0].from_output.iter().all(|&v| v == 0.0));
            }
        }
    }

    #[test]
    fn a_network_it_cannot_step_through_is_refused_in_words() {
        let config = SequentialConfig::new(&[2], vec![LayerConfig::dense(1, Activation::Linear)]);
        let model = config.init().unwrap();
        let error = trace_through_time(&model, Loss::HalfSquaredError, &[1.0, 2.0], &[0.0], 0.1)
            .unwrap_err()
            .to_string();
        assert!(error.contains("RNN, LSTM or GRU"), "{error}");
    }
}

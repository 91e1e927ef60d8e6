//! The dropout layer: in training, each value is zeroed with probability `rate` and the
//! survivors are scaled by `1 / (1 - rate)`, with a new mask from the trainer's seeded RNG every
//! step; at evaluation it records nothing at all, so it is exactly the identity.

use super::error::EngineError;
use super::model_tape::Mode;
use super::rng::SeededRng;
use super::tape::{NodeId, Tape};
use super::tensor::Tensor;

/// The rate must lie in `[0, 1)`: a rate of 1 would drop everything and scale by 1/0.
pub fn check_rate(rate: f32) -> Result<(), EngineError> {
    if !(0.0..1.0).contains(&rate) {
        return Err(EngineError::InvalidConfig(format!(
            "the dropout rate is the fraction of values zeroed in training: it must be at least 0 and below 1, got {rate}"
        )));
    }
    Ok(())
}

/// The tape nodes of one dropout layer of a training tape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropoutNodes {
    /// The mask input, shaped like the layer's input.
    pub mask: NodeId,
    /// `x · mask`.
    pub output: NodeId,
    /// The probability of dropping each value.
    pub rate: f32,
}

/// Records dropout of `x` for `mode`: `x · mask` in training (the nodes are returned so that
/// masks can be drawn), nothing at evaluation (the output is `x` itself).
pub fn record(
    tape: &mut Tape,
    x: NodeId,
    rate: f32,
    mode: Mode,
) -> Result<(NodeId, Option<DropoutNodes>), EngineError> {
    check_rate(rate)?;
    if mode == Mode::Evaluation {
        return Ok((x, None));
    }
    let shape = tape.recorded_shape(x).to_vec();
    let mask = tape.input(&shape);
    // Until a mask is drawn, nothing is dropped.
    tape.set_input(mask, &Tensor::full(&shape, 1.0))?;
    let output = tape.dropout(x, mask)?;
    Ok((output, Some(DropoutNodes { mask, output, rate })))
}

impl DropoutNodes {
    /// Fills the mask for a batch of `rows`: each value dropped (0) with probability `rate`,
    /// kept and scaled (`1 / (1 - rate)`) otherwise. `buffer` is reused between steps.
    pub fn draw_mask(
        &self,
        tape: &mut Tape,
        rows: usize,
        rng: &mut SeededRng,
        buffer: &mut Tensor,
    ) -> Result<(), EngineError> {
        // The recorded shape with `rows` in front, in an array so that no step allocates.
        let recorded = tape.recorded_shape(self.mask);
        let mut shape = [rows; 8];
        let rank = recorded.len().min(shape.len());
        for (side, &recorded_side) in shape[..rank].iter_mut().zip(recorded).skip(1) {
            *side = recorded_side;
        }
        buffer.resize(&shape[..rank]);
        let kept = 1.0 / (1.0 - self.rate);
        for value in buffer.data_mut() {
            *value = if rng.uniform() < self.rate { 0.0 } else { kept };
        }
        tape.set_input(self.mask, buffer)
    }
}

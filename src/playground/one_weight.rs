//! Gradient descent on a single weight x with the loss x² + 3, the course's first picture of
//! training: from x = 2 (loss 7) one step at learning rate 0.01 gives x = 1.96 (loss 6.8416).
//! Every number comes from the engine: a tape computes the loss and its gradient, SGD steps.

use crate::engine::{
    EngineError, NodeId, Optimizer, OptimizerConfig, OptimizerKind, ParamId, ParamRole, Params,
    Tape, Tensor,
};

/// Where the course starts.
pub const START_X: f32 = 2.0;
/// The learning rates offered, from the course's 0.01 to one that diverges.
pub const LEARNING_RATES: [f32; 6] = [0.01, 0.1, 0.5, 0.9, 1.0, 1.1];
pub const DEFAULT_LEARNING_RATE: f32 = 0.01;
/// Past this |x| the descent counts as diverged and stops.
pub const DIVERGENCE_LIMIT: f32 = 1e6;
/// Closer than this to 0, x reads 0.0000 in the table: the minimum is reached.
pub const CONVERGED_WITHIN: f32 = 5e-5;
/// The most iterations kept; the descent stops there (a rate of 1.0 would swing for ever).
pub const MAX_ITERATIONS: usize = 1000;

/// One row of the table: x after `index` steps, its loss and the gradient there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Iteration {
    pub index: usize,
    pub x: f32,
    pub loss: f32,
    pub gradient: f32,
}

/// Why the descent takes no more steps.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// x reached the minimum (to the table's four decimals).
    Converged,
    /// x ran off to infinity: the learning rate is too large.
    Diverged(String),
    /// `MAX_ITERATIONS` were taken.
    Limit,
}

impl Stop {
    pub fn message(&self) -> String {
        match self {
            Stop::Converged => {
                "x has reached 0, the bottom of the curve: the loss is at its minimum, 3.".into()
            }
            Stop::Diverged(reason) => reason.clone(),
            Stop::Limit => format!("Stopped after {MAX_ITERATIONS} iterations."),
        }
    }
}

/// What a learning rate does on this loss, where each step multiplies x by (1 − 2·rate).
pub fn rate_behaviour(learning_rate: f32) -> &'static str {
    let factor = 1.0 - 2.0 * learning_rate;
    if factor == 0.0 {
        "Each step multiplies x by 1 − 2·0.5 = 0: one step lands exactly on the minimum."
    } else if factor > 0.0 {
        "Each step multiplies x by 1 − 2·rate, a number between 0 and 1: x slides down one side \
         of the curve towards 0, slowly when the rate is small."
    } else if factor > -1.0 {
        "Each step overshoots the minimum: 1 − 2·rate is negative, so x jumps from side to side, \
         but by less each time, and still settles at 0."
    } else if factor == -1.0 {
        "At 1.0 each step sends x to −x: it jumps between 2 and −2 for ever and the loss never \
         falls. Too large a rate oscillates."
    } else {
        "Above 1.0 each step overshoots by more than it corrects: |x| grows by 1.2 each time and \
         the loss explodes. Too large a rate diverges."
    }
}

/// The loss x² + 3 itself, for drawing its curve.
pub fn loss_at(x: f32) -> f32 {
    x * x + 3.0
}

/// The descent: the parameter x, the tape of x² + 3 and SGD, with every iteration so far.
#[derive(Debug)]
pub struct OneWeightDescent {
    params: Params,
    x: ParamId,
    tape: Tape,
    loss: NodeId,
    sgd: Optimizer,
    learning_rate: f32,
    history: Vec<Iteration>,
    stop: Option<Stop>,
}

impl OneWeightDescent {
    /// Starts at `START_X`, with its loss and gradient computed.
    pub fn new(learning_rate: f32) -> Result<OneWeightDescent, EngineError> {
        let config = OptimizerConfig::new(OptimizerKind::Sgd, learning_rate);
        config.validate()?;
        let mut params = Params::new();
        let x = params.add(Tensor::scalar(START_X), ParamRole::Other);
        let mut tape = Tape::new();
        let x_node = tape.parameter(&params, x)?;
        let squared = tape.square(x_node)?;
        let loss = tape.add_scalar(squared, 3.0)?;
        let mut descent = OneWeightDescent {
            params,
            x,
            tape,
            loss,
            sgd: Optimizer::new(config),
            learning_rate,
            history: Vec::new(),
            stop: None,
        };
        descent.evaluate()?;
        Ok(descent)
    }

    pub fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    /// Every iteration so far, the first at x = 2.
    pub fn history(&self) -> &[Iteration] {
        &self.history
    }

    pub fn current(&self) -> Iteration {
        *self.history.last().expect("the start is recorded in new")
    }

    /// Why no more steps are taken, once that is so.
    pub fn stop(&self) -> Option<&Stop> {
        self.stop.as_ref()
    }

    /// Where the next step would take x: x − rate · gradient (what the chart's arrow shows).
    pub fn next_x(&self) -> f32 {
        let current = self.current();
        current.x - self.learning_rate * current.gradient
    }

    /// One step x ← x − rate · d(loss)/dx, then the loss and gradient at the new x. Returns the
    /// reason to stop when the descent has converged, diverged or reached `MAX_ITERATIONS`.
    pub fn step(&mut self) -> Result<Option<&Stop>, EngineError> {
        if self.stop.is_none() {
            self.sgd.step(&mut self.params);
            let x = self.params.value(self.x).data()[0];
            if !x.is_finite() || x.abs() > DIVERGENCE_LIMIT {
                self.stop = Some(Stop::Diverged(format!(
                    "Diverged: after {} steps x = {x:.3e}, and every step makes it larger. \
                     Pick a smaller learning rate and press Reset.",
                    self.history.len()
                )));
            } else {
                self.evaluate()?;
            }
        }
        Ok(self.stop.as_ref())
    }

    /// Forward and backward at the current x; records the row and decides whether to stop.
    fn evaluate(&mut self) -> Result<(), EngineError> {
        self.tape.forward(&self.params)?;
        self.tape.backward(self.loss, &mut self.params)?;
        let iteration = Iteration {
            index: self.history.len(),
            x: self.params.value(self.x).data()[0],
            loss: self.tape.value(self.loss).data()[0],
            gradient: self.params.grad(self.x).data()[0],
        };
        self.history.push(iteration);
        if !iteration.loss.is_finite() {
            self.stop = Some(Stop::Diverged(
                "Diverged: the loss is no longer a finite number.".into(),
            ));
        } else if iteration.x.abs() < CONVERGED_WITHIN {
            self.stop = Some(Stop::Converged);
        } else if self.history.len() >= MAX_ITERATIONS {
            self.stop = Some(Stop::Limit);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round4(value: f32) -> f32 {
        (value * 1e4).round() / 1e4
    }

    #[test]
    fn starts_at_x_2_with_loss_7_and_gradient_4() {
        let descent = OneWeightDescent::new(DEFAULT_LEARNING_RATE).unwrap();
        let start = descent.current();
        assert_eq!(
            (start.index, start.x, start.loss, start.gradient),
            (0, 2.0, 7.0, 4.0)
        );
    }

    #[test]
    fn one_step_at_0_01_gives_the_course_numbers() {
        let mut descent = OneWeightDescent::new(0.01).unwrap();
        assert_eq!(descent.step().unwrap(), None);
        let after = descent.current();
        assert_eq!(after.index, 1);
        assert_eq!(format!("{:.4}", after.x), "1.9600");
        assert_eq!(round4(after.loss), 6.8416);
        assert_eq!(format!("{:.4}", after.gradient), "3.9200");
    }

    #[test]
    fn the_arrow_points_where_the_step_goes_on_the_curve_the_tape_computes() {
        let mut descent = OneWeightDescent::new(0.1).unwrap();
        let predicted = descent.next_x();
        descent.step().unwrap();
        assert_eq!(descent.current().x, predicted);
        assert_eq!(descent.current().loss, loss_at(predicted));
    }

    #[test]
    fn a_few_hundred_steps_approach_0() {
        let mut descent = OneWeightDescent::new(0.01).unwrap();
        for _ in 0..300 {
            descent.step().unwrap();
        }
        assert!(descent.current().x.abs() < 0.01, "{:?}", descent.current());
        assert!(descent.current().loss < 3.0001);
    }

    #[test]
    fn a_rate_of_a_half_lands_on_the_minimum_in_one_step() {
        let mut descent = OneWeightDescent::new(0.5).unwrap();
        assert_eq!(descent.step().unwrap(), Some(&Stop::Converged));
        assert_eq!(descent.current().x, 0.0);
    }

    #[test]
    fn a_rate_of_1_swings_between_2_and_minus_2_until_the_limit() {
        let mut descent = OneWeightDescent::new(1.0).unwrap();
        descent.step().unwrap();
        assert_eq!(descent.current().x, -2.0);
        descent.step().unwrap();
        assert_eq!(descent.current().x, 2.0);
        while descent.step().unwrap().is_none() {}
        assert_eq!(descent.stop(), Some(&Stop::Limit));
        assert_eq!(descent.history().len(), MAX_ITERATIONS);
    }

    #[test]
    fn a_rate_above_1_diverges_and_stops_without_panicking() {
        let mut descent = OneWeightDescent::new(1.1).unwrap();
        let mut steps = 0;
        while descent.step().unwrap().is_none() {
            steps += 1;
            assert!(steps < MAX_ITERATIONS, "never diverged");
        }
        assert!(matches!(descent.stop(), Some(Stop::Diverged(_))));
        let rows = descent.history().len();
        // Further steps are refused, not taken.
        descent.step().unwrap();
        assert_eq!(descent.history().len(), rows);
        assert!(descent.history().iter().all(|row| row.loss.is_finite()));
    }

    #[test]
    fn a_learning_rate_of_zero_is_refused() {
        assert!(OneWeightDescent::new(0.0).is_err());
    }

    #[test]
    fn every_offered_rate_is_explained() {
        for rate in LEARNING_RATES {
            assert!(!rate_behaviour(rate).is_empty());
        }
        assert!(rate_behaviour(1.0).contains("oscillates"));
        assert!(rate_behaviour(1.1).contains("diverges"));
    }
}

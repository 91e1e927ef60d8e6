//! The optimizer race: SGD, momentum, AdaGrad, RMSprop and Adam start from one point of a
//! two-parameter loss surface and step side by side. Each racer is the engine's own
//! [`Optimizer`] updating a [`Params`] that holds the point; the race only feeds it the
//! surface's gradient and records the path.

pub mod contours;
pub mod surface;

pub use surface::{Point, Surface, View};

use crate::engine::{
    Optimizer, OptimizerConfig, OptimizerKind, ParamId, ParamRole, Params, Tensor,
};

/// The learning rates offered in the race's menus.
pub const RACE_LEARNING_RATES: [f32; 9] = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0];

/// A race stops by itself after this many steps, so that paths stay small enough to redraw.
pub const MAX_STEPS: u64 = 5000;

/// A racer this many view-widths outside the view has diverged.
const DIVERGENCE_MARGIN: f64 = 10.0;

/// One optimizer in the race.
#[derive(Clone, Debug)]
pub struct Racer {
    kind: OptimizerKind,
    optimizer: Optimizer,
    params: Params,
    position: ParamId,
    path: Vec<Point>,
    loss: f64,
    diverged: bool,
    reached_at: Option<u64>,
}

impl Racer {
    fn new(kind: OptimizerKind, learning_rate: f32, surface: Surface, start: Point) -> Racer {
        let mut params = Params::new();
        let position = params.add(Tensor::scalar(0.0), ParamRole::Weight);
        let mut racer = Racer {
            kind,
            optimizer: Optimizer::new(OptimizerConfig::new(kind, learning_rate)),
            params,
            position,
            path: Vec::new(),
            loss: 0.0,
            diverged: false,
            reached_at: None,
        };
        racer.restart(surface, start);
        racer
    }

    /// Back to `start` with the optimizer's state forgotten; the learning rate stays.
    fn restart(&mut self, surface: Surface, start: Point) {
        let value = self.params.value_mut(self.position);
        *value = Tensor::from_vec(&[2], vec![start[0] as f32, start[1] as f32])
            .expect("two values for a [2] tensor");
        self.params.zero_grads();
        self.optimizer.reset();
        let point = self.point();
        self.path.clear();
        self.path.push(point);
        self.loss = surface.loss(point);
        self.diverged = false;
        self.reached_at = None;
    }

    /// The point as the engine holds it (in f32).
    fn point(&self) -> Point {
        let data = self.params.value(self.position).data();
        [f64::from(data[0]), f64::from(data[1])]
    }

    /// One optimizer step down `surface`; a racer that has diverged stays where it left.
    fn step(&mut self, surface: Surface, step_number: u64) {
        if self.diverged {
            return;
        }
        let [gx, gy] = surface.gradient(self.point());
        self.params
            .grad_mut(self.position)
            .data_mut()
            .copy_from_slice(&[gx as f32, gy as f32]);
        self.optimizer.step(&mut self.params);
        let point = self.point();
        let loss = surface.loss(point);
        let inside = surface
            .view()
            .contains_with_margin(point, DIVERGENCE_MARGIN);
        if !(point[0].is_finite() && point[1].is_finite() && loss.is_finite() && inside) {
            self.diverged = true;
            return;
        }
        self.path.push(point);
        self.loss = loss;
        if self.reached_at.is_none() && loss - surface.lowest_loss() < surface::NEAR_MINIMUM {
            self.reached_at = Some(step_number);
        }
    }

    pub fn kind(&self) -> OptimizerKind {
        self.kind
    }

    pub fn learning_rate(&self) -> f32 {
        self.optimizer.config().learning_rate
    }

    /// Every point visited, the start first; the last is where the racer is now.
    pub fn path(&self) -> &[Point] {
        &self.path
    }

    /// The loss at the racer's last finite point.
    pub fn loss(&self) -> f64 {
        self.loss
    }

    /// Whether a step took the racer to a non-finite point or far outside the view.
    pub fn diverged(&self) -> bool {
        self.diverged
    }

    /// The step at which the loss first came within [`surface::NEAR_MINIMUM`] of the lowest.
    pub fn reached_at(&self) -> Option<u64> {
        self.reached_at
    }
}

/// Every optimizer from one start on one surface.
#[derive(Clone, Debug)]
pub struct Race {
    surface: Surface,
    start: Point,
    racers: Vec<Racer>,
    steps: u64,
}

impl Race {
    /// A race on `surface` from its suggested start at its suggested learning rate.
    pub fn new(surface: Surface) -> Race {
        Race::from(surface, surface.start(), surface.learning_rate())
    }

    pub fn from(surface: Surface, start: Point, learning_rate: f32) -> Race {
        let racers = OptimizerKind::ALL
            .into_iter()
            .map(|kind| Racer::new(kind, learning_rate, surface, start))
            .collect();
        Race {
            surface,
            start,
            racers,
            steps: 0,
        }
    }

    pub fn surface(&self) -> Surface {
        self.surface
    }

    pub fn start(&self) -> Point {
        self.start
    }

    pub fn racers(&self) -> &[Racer] {
        &self.racers
    }

    pub fn racer(&self, kind: OptimizerKind) -> Option<&Racer> {
        self.racers.iter().find(|racer| racer.kind == kind)
    }

    /// Steps taken since the start.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Whether the race has run its [`MAX_STEPS`].
    pub fn finished(&self) -> bool {
        self.steps >= MAX_STEPS
    }

    /// One step of every racer; nothing once the race is finished.
    pub fn step(&mut self) {
        if self.finished() {
            return;
        }
        self.steps += 1;
        for racer in &mut self.racers {
            racer.step(self.surface, self.steps);
        }
    }

    /// Everyone back to the start, keeping their learning rates.
    pub fn reset(&mut self) {
        self.steps = 0;
        for racer in &mut self.racers {
            racer.restart(self.surface, self.start);
        }
    }

    /// A new common start; the race begins again from there.
    pub fn set_start(&mut self, start: Point) {
        self.start = start;
        self.reset();
    }

    /// Gives every racer `learning_rate`; mid-race, their accumulated state is kept.
    pub fn set_learning_rate(&mut self, learning_rate: f32) {
        for kind in OptimizerKind::ALL {
            self.set_learning_rate_of(kind, learning_rate);
        }
    }

    /// Gives one racer its own learning rate; mid-race, its accumulated state is kept.
    pub fn set_learning_rate_of(&mut self, kind: OptimizerKind, learning_rate: f32) {
        if let Some(racer) = self.racers.iter_mut().find(|racer| racer.kind == kind) {
            let config = OptimizerConfig {
                learning_rate,
                ..*racer.optimizer.config()
            };
            if config.validate().is_ok() {
                racer.optimizer.set_config(config);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(race: &mut Race, steps: u64) {
        for _ in 0..steps {
            race.step();
        }
    }

    #[test]
    fn one_sgd_step_on_the_course_loss_matches_the_slides() {
        // x = 2, loss 2² + 3 = 7; gradient 2x = 4; x - 0.01 * 4 = 1.96; loss 1.96² + 3 = 6.8416.
        let mut race = Race::from(Surface::CourseBowl, [2.0, 0.0], 0.01);
        let sgd = race.racer(OptimizerKind::Sgd).unwrap();
        assert!((sgd.loss() - 7.0).abs() < 1e-12);
        race.step();
        let sgd = race.racer(OptimizerKind::Sgd).unwrap();
        let [x, y] = sgd.path()[1];
        assert!((x - 1.96).abs() < 1e-6, "x = {x}");
        assert_eq!(y, 0.0);
        assert!((sgd.loss() - 6.8416).abs() < 1e-5, "loss = {}", sgd.loss());
    }

    #[test]
    fn adam_and_momentum_reach_the_bowls_minimum() {
        let mut race = Race::new(Surface::ElongatedBowl);
        run(&mut race, 400);
        for kind in [OptimizerKind::Adam, OptimizerKind::Momentum] {
            let racer = race.racer(kind).unwrap();
            assert!(
                racer.reached_at().is_some() && racer.loss() < 1e-3,
                "{kind:?}: loss {} after 400 steps",
                racer.loss()
            );
        }
    }

    #[test]
    fn every_optimizer_goes_downhill_on_every_surface() {
        for surface in Surface::ALL {
            let mut race = Race::new(surface);
            let start_loss = surface.loss(race.start());
            run(&mut race, 300);
            for racer in race.racers() {
                assert!(!racer.diverged(), "{surface:?} {:?} diverged", racer.kind());
                assert!(
                    racer.loss() < start_loss,
                    "{surface:?} {:?}: loss {} from {start_loss}",
                    racer.kind(),
                    racer.loss()
                );
            }
        }
    }

    #[test]
    fn a_huge_rate_marks_sgd_diverged_without_panicking() {
        let mut race = Race::new(Surface::Himmelblau);
        race.set_learning_rate_of(OptimizerKind::Sgd, 10.0);
        run(&mut race, 200);
        let sgd = race.racer(OptimizerKind::Sgd).unwrap();
        assert!(sgd.diverged());
        assert!(sgd.loss().is_finite());
        assert!(sgd.path().iter().flatten().all(|c| c.is_finite()));
        // The others ran on at the suggested rate.
        assert!(!race.racer(OptimizerKind::Adam).unwrap().diverged());
        assert_eq!(race.steps(), 200);
    }

    #[test]
    fn reset_and_a_new_start_return_everyone_to_one_point() {
        let mut race = Race::new(Surface::Rosenbrock);
        run(&mut race, 20);
        race.set_start([0.5, -0.5]);
        assert_eq!(race.steps(), 0);
        for racer in race.racers() {
            assert_eq!(racer.path(), &[[0.5, -0.5]]);
            assert!(!racer.diverged() && racer.reached_at().is_none());
        }
        race.set_learning_rate(0.3);
        assert!(race.racers().iter().all(|r| r.learning_rate() == 0.3));
        race.set_learning_rate(-1.0);
        assert!(race.racers().iter().all(|r| r.learning_rate() == 0.3));
    }

    #[test]
    fn a_race_stops_at_its_step_limit() {
        let mut race = Race::new(Surface::CourseBowl);
        run(&mut race, MAX_STEPS + 10);
        assert_eq!(race.steps(), MAX_STEPS);
        assert!(race.finished());
        assert!(
            race.racers()
                .iter()
                .all(|r| r.path().len() as u64 <= MAX_STEPS + 1)
        );
    }
}

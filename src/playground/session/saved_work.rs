//! The playground's work as the browser keeps it between visits: the set-up, the points (also
//! those clicked in or opened from a file), the trained weights with the trainer's state, and the
//! loss curve, as one checkpoint ([`crate::engine::checkpoint`]), so that a reload trains on
//! with the very epochs the page would have run.

use serde::{Deserialize, Serialize};

use super::Session;
use crate::data::Point;
use crate::engine::checkpoint::{read_checkpoint, write_checkpoint};
use crate::playground::config::PlaygroundConfig;
use crate::playground::loss_curve::LossCurve;

/// The most points saved work may hold: more than any the page makes.
const MAX_SAVED_POINTS: usize = 20_000;

/// What the checkpoint's page JSON holds besides the weights.
#[derive(Serialize, Deserialize)]
struct PlaygroundWork {
    config: PlaygroundConfig,
    train_points: Vec<Point>,
    test_points: Vec<Point>,
    data_file: Option<String>,
    history: LossCurve,
    epochs_elsewhere: usize,
    /// When it was saved, in milliseconds since 1970 (the page's clock).
    saved_at: f64,
}

/// Saved work as opened: the session it holds and when it was saved.
pub struct OpenedWork {
    pub session: Session,
    /// Milliseconds since 1970.
    pub saved_at: f64,
}

impl Session {
    /// Everything the page shows and trains on, as bytes to keep ([`Session::open_work`]);
    /// `saved_at` is the page's clock, in milliseconds since 1970.
    pub fn save_work(&self, saved_at: f64) -> Result<Vec<u8>, String> {
        let work = PlaygroundWork {
            config: self.config.clone(),
            train_points: self.train_points.clone(),
            test_points: self.test_points.clone(),
            data_file: self.data_file.clone(),
            history: self.history.clone(),
            epochs_elsewhere: self.epochs_elsewhere,
            saved_at,
        };
        let page = serde_json::to_string(&work)
            .map_err(|error| format!("the work cannot be described: {error}"))?;
        let state = self.trainer.state();
        write_checkpoint(self.model().network(), Some(&state), &page)
    }

    /// The session [`Session::save_work`] kept, as it was; or why these bytes cannot be one.
    pub fn open_work(bytes: &[u8]) -> Result<OpenedWork, String> {
        let checkpoint = read_checkpoint(bytes)?;
        let work: PlaygroundWork = serde_json::from_str(&checkpoint.page)
            .map_err(|error| format!("the saved set-up cannot be read: {error}"))?;
        let points = work.train_points.len() + work.test_points.len();
        if points > MAX_SAVED_POINTS {
            return Err(format!(
                "the saved work holds {points} points, more than the page ever makes"
            ));
        }
        let finite = |point: &Point| {
            [point.x, point.y, point.label]
                .iter()
                .all(|v| v.is_finite())
        };
        if !work
            .train_points
            .iter()
            .chain(&work.test_points)
            .all(finite)
        {
            return Err("the saved points hold NaN or infinite values".to_string());
        }
        let history = work.history.checked()?;
        let mut session = Session::new(work.config).map_err(|error| error.to_string())?;
        if session.model().network().config() != checkpoint.network.config() {
            return Err("the saved network is not the one its set-up builds".to_string());
        }
        session.train_points = work.train_points;
        session.test_points = work.test_points;
        session.data_file = work.data_file;
        session
            .refresh_tensors()
            .map_err(|error| error.to_string())?;
        *session.trainer.model_mut().params_mut() = checkpoint.network.params().clone();
        if let Some(state) = checkpoint.trainer {
            session
                .trainer
                .resume(state)
                .map_err(|error| error.to_string())?;
        }
        session.history = history;
        session.epochs_elsewhere = work.epochs_elsewhere;
        session.evaluate().map_err(|error| error.to_string())?;
        Ok(OpenedWork {
            session,
            saved_at: work.saved_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DatasetKind;
    use crate::engine::OptimizerKind;
    use crate::engine::rng::SeededRng;

    fn spiral_with_adam() -> Session {
        let config = PlaygroundConfig {
            dataset: DatasetKind::Spiral,
            optimizer: OptimizerKind::Adam,
            ..PlaygroundConfig::default()
        };
        Session::new(config).expect("builds")
    }

    /// Trained for four epochs, a point clicked in, saved and opened: the opened session shows
    /// the same and trains on with the same epochs, bit for bit.
    #[test]
    fn opened_work_trains_on_exactly() {
        let mut session = spiral_with_adam();
        session.add_point(0.5, -0.25, 1.0).expect("adds");
        for _ in 0..4 {
            session.train_epoch().expect("trains");
        }
        let bytes = session.save_work(1.7e12).expect("saves");
        let opened = Session::open_work(&bytes).expect("opens");
        assert_eq!(opened.saved_at, 1.7e12);
        let mut resumed = opened.session;
        assert_eq!(resumed.epoch(), 4);
        assert_eq!(resumed.train_points(), session.train_points());
        assert_eq!(resumed.test_points(), session.test_points());
        assert_eq!(resumed.config(), session.config());
        let before = session.snapshot().expect("draws");
        assert_eq!(resumed.snapshot().expect("draws").history, before.history);
        for _ in 0..3 {
            session.train_epoch().expect("trains");
            resumed.train_epoch().expect("trains");
        }
        let bits = |session: &Session| -> Vec<u32> {
            session.parameters().iter().map(|v| v.to_bits()).collect()
        };
        assert_eq!(bits(&resumed), bits(&session));
        assert_eq!(
            resumed.snapshot().expect("draws").history,
            session.snapshot().expect("draws").history
        );
    }

    #[test]
    fn refuses_damaged_work_with_the_reason() {
        let mut session = spiral_with_adam();
        session.train_epoch().expect("trains");
        let bytes = session.save_work(0.0).expect("saves");
        let error = Session::open_work(&bytes[..100]).err().expect("refused");
        assert!(error.contains("cut short"), "{error}");
        let mut rng = SeededRng::new(9);
        let mut opened = 0;
        for _ in 0..1500 {
            let mut damaged = bytes.clone();
            let at = rng.below(damaged.len());
            damaged[at] = rng.next_u64() as u8;
            if let Ok(mut work) = Session::open_work(&damaged) {
                opened += 1;
                let _ = work.session.train_epoch();
            }
        }
        // Most single-byte changes fall in the weights' and moments' bytes, which stay numbers.
        assert!(opened > 0, "no damaged copy opened at all");
    }
}

//! The loss history as the chart draws it: every epoch while there are few, then an envelope
//! of a bounded number of points, kept up to date one epoch at a time. A run left playing for an
//! hour then costs each frame no more than one of a minute: the whole history, copied and drawn
//! every frame, grew the spiral's frame from 3.4 ms at epoch 500 to 4.2 ms at epoch 6000, and on
//! without end.

use serde::{Deserialize, Serialize};

use super::session::LossRecord;

/// Points the chart gets at most: two per pixel of its 340-pixel width.
pub const CHART_POINTS: usize = 680;

/// Consecutive epochs drawn as two records: the run's highest losses at its first epoch and its
/// lowest at its last, so that the line covers everything the curve reached within the run,
/// spikes included.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct Run {
    highs: LossRecord,
    lows: LossRecord,
    epochs: usize,
}

impl Run {
    fn of(record: LossRecord) -> Run {
        Run {
            highs: record,
            lows: record,
            epochs: 1,
        }
    }

    /// This run followed by `next`, as one.
    fn joined(self, next: Run) -> Run {
        Run {
            highs: LossRecord {
                epoch: self.highs.epoch,
                train: self.highs.train.max(next.highs.train),
                test: self.highs.test.max(next.highs.test),
            },
            lows: LossRecord {
                epoch: next.lows.epoch,
                train: self.lows.train.min(next.lows.train),
                test: self.lows.test.min(next.lows.test),
            },
            epochs: self.epochs + next.epochs,
        }
    }
}

/// The losses epoch by epoch, in at most `limit` points: runs of one epoch until they would not
/// fit, then runs twice as long (neighbouring runs joined), and so on. Saved work keeps it as it
/// is (serde), checked when read back ([`LossCurve::checked`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossCurve {
    runs: Vec<Run>,
    /// Epochs a run holds before the next one starts.
    run_epochs: usize,
    /// Runs kept at most: two points each and the latest record fit in `limit`.
    max_runs: usize,
    latest: Option<LossRecord>,
}

impl Default for LossCurve {
    fn default() -> Self {
        LossCurve::with_limit(CHART_POINTS)
    }
}

impl LossCurve {
    /// A curve of at most `limit` points (at least 3).
    pub fn with_limit(limit: usize) -> LossCurve {
        assert!(
            limit >= 3,
            "a curve needs room for one run and the latest record"
        );
        LossCurve {
            runs: Vec::new(),
            run_epochs: 1,
            max_runs: (limit - 1) / 2,
            latest: None,
        }
    }

    pub fn push(&mut self, record: LossRecord) {
        self.latest = Some(record);
        match self.runs.last_mut() {
            Some(last) if last.epochs < self.run_epochs => *last = last.joined(Run::of(record)),
            _ => self.runs.push(Run::of(record)),
        }
        if self.runs.len() > self.max_runs {
            self.runs = self
                .runs
                .chunks(2)
                .map(|pair| pair.iter().copied().reduce(Run::joined).expect("a chunk"))
                .collect();
            self.run_epochs *= 2;
        }
    }

    /// The curve, if it is one [`LossCurve::push`] could have built for the chart (a curve read
    /// back from saved work): else why not.
    pub fn checked(self) -> Result<LossCurve, String> {
        let fresh = LossCurve::default();
        let sound = self.max_runs == fresh.max_runs
            && self.runs.len() <= self.max_runs
            && self.run_epochs.is_power_of_two()
            && self.run_epochs <= 1 << 30
            && self
                .runs
                .iter()
                .all(|run| (1..=self.run_epochs).contains(&run.epochs));
        match sound {
            true => Ok(self),
            false => Err("the saved loss curve is not one the chart draws".to_string()),
        }
    }

    pub fn clear(&mut self) {
        self.runs.clear();
        self.run_epochs = 1;
        self.latest = None;
    }

    /// The points to draw, oldest first: every epoch while runs hold one, else each run's highs
    /// and lows; the latest record always last, as it is, so the curve ends at the current loss.
    pub fn points(&self) -> Vec<LossRecord> {
        let mut points = Vec::with_capacity(2 * self.runs.len() + 1);
        for run in &self.runs {
            match run.epochs {
                1 => points.push(run.highs),
                _ => points.extend([run.highs, run.lows]),
            }
        }
        if let (Some(latest), Some(run)) = (self.latest, self.runs.last())
            && run.epochs > 1
        {
            points.push(latest);
        }
        points
    }
}

/// A loss as saved: a number, or `null` for NaN (JSON has no NaN), read back as NaN.
pub mod loss_or_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(loss: &f32, serializer: S) -> Result<S::Ok, S::Error> {
        loss.is_finite().then_some(*loss).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f32, D::Error> {
        Ok(Option::<f32>::deserialize(deserializer)?.unwrap_or(f32::NAN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A falling curve with a spike at epoch 4321, one record per epoch from 1.
    fn record(epoch: usize) -> LossRecord {
        let loss = 1.0 / epoch as f32;
        let spike = if epoch == 4321 { 5.0 } else { 0.0 };
        LossRecord {
            epoch,
            train: loss + spike,
            test: 2.0 * loss,
        }
    }

    fn curve_of(epochs: usize, limit: usize) -> LossCurve {
        let mut curve = LossCurve::with_limit(limit);
        (1..=epochs).for_each(|epoch| curve.push(record(epoch)));
        curve
    }

    #[test]
    fn a_short_history_is_kept_whole() {
        let points = curve_of(300, CHART_POINTS).points();
        assert_eq!(points, (1..=300).map(record).collect::<Vec<_>>());
    }

    #[test]
    fn a_long_history_keeps_its_span_its_extremes_and_its_latest_loss() {
        for epochs in [1_000, 20_000, 123_457] {
            let points = curve_of(epochs, CHART_POINTS).points();
            assert!(
                points.len() <= CHART_POINTS,
                "{epochs}: {} points",
                points.len()
            );
            assert!(
                points.len() > CHART_POINTS / 2,
                "{epochs}: {} points",
                points.len()
            );
            assert_eq!(points[0].epoch, 1);
            assert_eq!(points.last(), Some(&record(epochs)));
            assert!(points.windows(2).all(|pair| pair[0].epoch <= pair[1].epoch));
            let highest =
                |loss: fn(&LossRecord) -> f32| points.iter().map(loss).fold(0.0, f32::max);
            let lowest = points.iter().map(|r| r.train).fold(f32::MAX, f32::min);
            assert_eq!(
                highest(|r| r.test),
                2.0,
                "{epochs}: the first loss is drawn"
            );
            assert_eq!(
                lowest,
                1.0 / epochs as f32,
                "{epochs}: the lowest loss is drawn"
            );
            if epochs > 4321 {
                let spike = 5.0 + 1.0 / 4321.0;
                assert_eq!(highest(|r| r.train), spike, "{epochs}: the spike is drawn");
            }
        }
    }

    #[test]
    fn a_non_finite_loss_leaves_its_runs_finite_extremes() {
        let mut curve = LossCurve::with_limit(11);
        for epoch in 1..=2_000 {
            let mut r = record(epoch);
            if epoch == 100 {
                r.test = f32::NAN;
            }
            curve.push(r);
        }
        let points = curve.points();
        assert!(points.len() <= 11, "{points:?}");
        assert!(points.iter().all(|r| r.test.is_finite()), "{points:?}");
    }

    #[test]
    fn clearing_starts_again_one_epoch_a_point() {
        let mut curve = curve_of(5_000, CHART_POINTS);
        curve.clear();
        curve.push(record(1));
        curve.push(record(2));
        assert_eq!(curve.points(), vec![record(1), record(2)]);
    }
}

//! The loss history as the chart draws it: every epoch while there are few, then an envelope
//! of a bounded number of points, so that a run left playing for an hour costs each frame no
//! more than one of a minute (the whole history, copied and drawn every frame, grew the spiral's
//! frame from 3.4 ms at epoch 500 to 4.2 ms at epoch 6000, and on without end).

use super::session::LossRecord;

/// Points the chart gets at most: two per pixel of its 340-pixel width.
pub const CHART_POINTS: usize = 680;

/// `history` as at most `limit` records (`limit` at least 3). Short histories come back whole.
/// Longer ones are cut into runs of consecutive epochs, each drawn as two records, its highest
/// losses at its first epoch and its lowest at its last: the line then covers everything the
/// curve reached within the run, spikes included (a chart pixel spans a run or more). The
/// latest record is always kept as it is, so the curve ends at the current loss.
pub fn envelope(history: &[LossRecord], limit: usize) -> Vec<LossRecord> {
    assert!(
        limit >= 3,
        "an envelope needs room for one run and the latest record"
    );
    if history.len() <= limit {
        return history.to_vec();
    }
    let (earlier, latest) = history.split_at(history.len() - 1);
    let runs = (limit - 1) / 2;
    let run_length = earlier.len().div_ceil(runs);
    let mut points = Vec::with_capacity(limit);
    for run in earlier.chunks(run_length) {
        let (first, last) = (run[0], run[run.len() - 1]);
        let highest =
            |loss: fn(&LossRecord) -> f32| run.iter().map(loss).fold(loss(&first), f32::max);
        let lowest =
            |loss: fn(&LossRecord) -> f32| run.iter().map(loss).fold(loss(&first), f32::min);
        points.push(LossRecord {
            epoch: first.epoch,
            train: highest(|r| r.train),
            test: highest(|r| r.test),
        });
        points.push(LossRecord {
            epoch: last.epoch,
            train: lowest(|r| r.train),
            test: lowest(|r| r.test),
        });
    }
    points.extend_from_slice(latest);
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize, train: f32, test: f32) -> LossRecord {
        LossRecord { epoch, train, test }
    }

    /// A falling curve with a spike at epoch 4321, one record per epoch from 1.
    fn long_history(epochs: usize) -> Vec<LossRecord> {
        (1..=epochs)
            .map(|epoch| {
                let loss = 1.0 / epoch as f32;
                let spike = if epoch == 4321 { 5.0 } else { 0.0 };
                record(epoch, loss + spike, 2.0 * loss)
            })
            .collect()
    }

    #[test]
    fn a_short_history_is_kept_whole() {
        let history = long_history(CHART_POINTS);
        assert_eq!(envelope(&history, CHART_POINTS), history);
    }

    #[test]
    fn a_long_history_keeps_its_span_its_extremes_and_its_latest_loss() {
        let history = long_history(20_000);
        let points = envelope(&history, CHART_POINTS);
        assert!(points.len() <= CHART_POINTS, "{} points", points.len());
        assert!(points.len() > CHART_POINTS - 4, "{} points", points.len());
        assert_eq!(points[0].epoch, 1);
        assert_eq!(points.last(), history.last());
        assert!(points.windows(2).all(|pair| pair[0].epoch <= pair[1].epoch));
        let most = |loss: fn(&LossRecord) -> f32| points.iter().map(loss).fold(0.0, f32::max);
        assert_eq!(most(|r| r.train), 5.0 + 1.0 / 4321.0, "the spike is drawn");
        assert_eq!(most(|r| r.test), 2.0, "the first loss is drawn");
        let least_train = points.iter().map(|r| r.train).fold(f32::MAX, f32::min);
        assert_eq!(least_train, 1.0 / 20_000.0);
    }

    #[test]
    fn runs_with_a_non_finite_loss_keep_their_finite_extremes() {
        let mut history = long_history(2_000);
        history[100].test = f32::NAN;
        let points = envelope(&history, 10);
        assert_eq!(points.len(), 9, "four runs of two, and the latest");
        assert!(points.iter().all(|r| r.test.is_finite()), "{points:?}");
    }
}

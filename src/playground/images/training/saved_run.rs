//! A training run saved as it stands and opened again: the network and the engine's state as a
//! checkpoint ([`crate::engine::checkpoint`]), and beside them the run's own place (its settings,
//! example order, position in the epoch, generator and counts) and the page's JSON, so that
//! the Images and Sequences pages come back after a reload and train on with the very batches
//! they would have drawn. A run on the GPU saves what it read back last ([`GpuSnapshot`]): the
//! network, the optimiser's moments and the place of that moment, which go on together.

use serde::{Deserialize, Serialize};

use super::{RunSettings, TrainingRun};
use crate::data::digits::DigitSet;
use crate::engine::SeededRng;
use crate::engine::checkpoint::{read_checkpoint, write_checkpoint};
use crate::engine::trainer::TrainerState;

/// Where a run stands in its epochs.
#[derive(Clone)]
pub(super) struct Place {
    order: Vec<usize>,
    position: usize,
    epoch: usize,
    steps: u64,
    examples_seen: u64,
    rng: SeededRng,
}

/// A run on the GPU as it was when its network was last read back: its place then and what its
/// engine kept besides the weights (`None` where that could not be read).
pub(super) struct GpuSnapshot {
    place: Place,
    trainer: Option<TrainerState>,
}

/// The run's place, as the checkpoint's page JSON keeps it ([`Place`]'s fields, written out:
/// serde's flatten cannot carry the generator's 128-bit state).
#[derive(Serialize, Deserialize)]
struct RunPlace {
    settings: RunSettings,
    /// How many examples the run's data held (the digits must be the same to go on).
    examples: usize,
    order: Vec<usize>,
    position: usize,
    epoch: usize,
    steps: u64,
    examples_seen: u64,
    rng: SeededRng,
    /// The page's own JSON (its curves, what it shows).
    page: String,
}

/// The settings of the run saved in `bytes` and the page's JSON, read without setting the run
/// up (the page checks them against its own before it asks the worker to go on).
pub fn saved_run_settings(bytes: &[u8]) -> Result<(RunSettings, String), String> {
    let checkpoint = read_checkpoint(bytes)?;
    let place: RunPlace = serde_json::from_str(&checkpoint.page)
        .map_err(|error| format!("the saved run cannot be read: {error}"))?;
    Ok((place.settings, place.page))
}

impl TrainingRun {
    fn place(&self) -> Place {
        Place {
            order: self.order.clone(),
            position: self.position,
            epoch: self.epoch,
            steps: self.steps,
            examples_seen: self.examples_seen,
            rng: self.rng.clone(),
        }
    }

    /// Remembers the run as it is now, with the engine's state read back from the device:
    /// called when the network has just been read back (or put on the GPU), so that a save
    /// keeps one moment's weights, moments and place.
    pub(super) async fn remember_gpu_moment(&mut self) {
        let trainer = self.engine.read_trainer_state().await.ok().flatten();
        self.gpu_snapshot = Some(GpuSnapshot {
            place: self.place(),
            trainer,
        });
    }

    /// Forgets the optimiser state of the GPU snapshot (after the optimiser was reset).
    pub(super) fn forget_gpu_moments(&mut self) {
        if let Some(snapshot) = &mut self.gpu_snapshot {
            snapshot.trainer = None;
        }
    }

    /// The run as it stands (on the GPU: as it was when its network was last read back) with
    /// the page's JSON `page`, as bytes [`TrainingRun::open_saved`] opens.
    pub fn save(&self, page: &str) -> Result<Vec<u8>, String> {
        let (place, trainer) = match (&self.gpu_snapshot, self.on_gpu()) {
            (Some(snapshot), true) => (snapshot.place.clone(), snapshot.trainer.clone()),
            _ => (self.place(), self.engine.trainer_state()),
        };
        let place = RunPlace {
            settings: self.settings.clone(),
            examples: self.data.len(),
            order: place.order,
            position: place.position,
            epoch: place.epoch,
            steps: place.steps,
            examples_seen: place.examples_seen,
            rng: place.rng,
            page: page.to_string(),
        };
        let place = serde_json::to_string(&place)
            .map_err(|error| format!("the run cannot be described: {error}"))?;
        write_checkpoint(self.model(), trainer.as_ref(), &place)
    }

    /// The run [`TrainingRun::save`] kept, on `digits` where it trained on digits (the same
    /// ones), and the page's JSON; or why it cannot go on.
    pub fn open_saved(
        bytes: &[u8],
        digits: Option<&DigitSet>,
    ) -> Result<(TrainingRun, String), String> {
        let checkpoint = read_checkpoint(bytes)?;
        let saved: RunPlace = serde_json::from_str(&checkpoint.page)
            .map_err(|error| format!("the saved run cannot be read: {error}"))?;
        let mut run = TrainingRun::from_settings(saved.settings.clone(), digits)
            .map_err(|error| format!("the saved run cannot be set up again: {error}"))?;
        if run.data.len() != saved.examples {
            return Err(format!(
                "the saved run trained on {} examples; these are {}: open the same ones to go on",
                saved.examples,
                run.data.len()
            ));
        }
        if checkpoint.network.config() != &run.settings.model {
            return Err("the saved network is not the one its settings build".to_string());
        }
        let place = saved;
        let mut order = place.order.clone();
        let mut train = run.split.train.clone();
        order.sort_unstable();
        train.sort_unstable();
        if order != train {
            return Err("the saved example order is not of the run's training examples".into());
        }
        if place.position > place.order.len() || place.epoch > run.settings.epochs {
            return Err("the saved run's place lies outside its epochs".to_string());
        }
        let params = checkpoint.network.params().clone();
        run.engine
            .load_params(&params)
            .map_err(|error| error.to_string())?;
        match checkpoint.trainer {
            Some(state) => run
                .engine
                .resume(state)
                .map_err(|error| error.to_string())?,
            None => {
                run.notice = Some(
                    "The run was saved without its optimiser's state: its weights came back, \
                     and its optimiser starts afresh."
                        .to_string(),
                )
            }
        }
        *run.host_copy.params_mut() = params.clone();
        run.checkpoint = params;
        run.order = place.order;
        run.position = place.position;
        run.epoch = place.epoch;
        run.steps = place.steps;
        run.examples_seen = place.examples_seen;
        run.rng = place.rng;
        Ok((run, place.page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The training tests' small run, for three epochs.
    fn settings() -> RunSettings {
        RunSettings {
            epochs: 3,
            ..super::super::tests::small_settings()
        }
    }

    fn bits(run: &TrainingRun) -> Vec<u32> {
        let params = run.model().params();
        params
            .ids()
            .flat_map(|id| params.value(id).data().iter().map(|v| v.to_bits()))
            .collect()
    }

    /// Saved halfway through an epoch (shuffled order, shifted digits, Adam, cosine decay) and
    /// opened: both runs take the same steps, bit for bit, to the end.
    #[test]
    fn a_run_saved_mid_epoch_goes_on_exactly() {
        let digits = DigitSet::halves(200);
        let mut run = TrainingRun::new(digits.clone(), settings()).expect("builds");
        for _ in 0..17 {
            run.step().expect("steps");
        }
        let bytes = run.save("{\"curves\":[1,2]}").expect("saves");
        let (mut opened, page) = TrainingRun::open_saved(&bytes, Some(&digits)).expect("opens");
        assert_eq!(page, "{\"curves\":[1,2]}");
        assert_eq!(opened.take_progress().steps, 17);
        run.take_progress();
        assert_eq!(bits(&opened), bits(&run));
        while !run.is_finished() {
            run.step().expect("steps");
            opened.step().expect("steps");
        }
        assert!(opened.is_finished());
        assert_eq!(bits(&opened), bits(&run));
        assert_eq!(opened.take_progress(), run.take_progress());
        assert_eq!(
            opened.evaluate().expect("tests"),
            run.evaluate().expect("tests")
        );
    }

    #[test]
    fn a_run_on_other_digits_or_damaged_is_refused() {
        let digits = DigitSet::halves(200);
        let mut run = TrainingRun::new(digits.clone(), settings()).expect("builds");
        run.step().expect("steps");
        let bytes = run.save("{}").expect("saves");
        let error = TrainingRun::open_saved(&bytes, Some(&DigitSet::halves(120)))
            .err()
            .expect("refused");
        assert!(error.contains("200 examples"), "{error}");
        let error = TrainingRun::open_saved(&bytes, None)
            .err()
            .expect("refused");
        assert!(error.contains("no digits"), "{error}");
        let error = TrainingRun::open_saved(&bytes[..bytes.len() - 9], Some(&digits))
            .err()
            .expect("refused");
        assert!(error.contains("cut short"), "{error}");
        let mut rng = SeededRng::new(4);
        for _ in 0..800 {
            let mut damaged = bytes.clone();
            let at = rng.below(damaged.len());
            damaged[at] = rng.next_u64() as u8;
            if let Ok((mut opened, _)) = TrainingRun::open_saved(&damaged, Some(&digits)) {
                for _ in 0..3 {
                    let _ = opened.step();
                }
            }
        }
    }
}

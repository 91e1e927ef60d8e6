//! One slice of a training loop on the GPU: the run leaves the loop's state while its steps are
//! submitted and their losses awaited, so that commands keep being answered meanwhile; it comes
//! back unless the run was replaced or reset in the meantime.
//!
//! How many steps a slice submits adapts to the GPU: about a tenth of a second of work, so that
//! progress, pauses and tests stay prompt on a slow adapter and the queue stays full on a fast one.

use std::rc::Rc;

use super::pacing::Beside;
use super::training_loop::{SharedLoop, now, pause_reason, schedule_slice};
use crate::playground::backend::GpuDevice;

/// The slice length aimed at, from the first submission to the loss read back.
const TARGET_MS: f64 = 100.0;
/// The most steps one slice submits.
const MAX_STEPS: usize = 128;

/// Trains one slice on `device`, reports, and schedules the next slice while playing.
pub async fn gpu_slice(state: SharedLoop, device: GpuDevice) {
    let (mut run, generation, steps) = {
        let mut guard = state.borrow_mut();
        let taken = guard.run.take().filter(|_| guard.playing);
        match taken {
            Some(run) => (run, guard.generation, guard.gpu_steps_per_slice),
            None => {
                guard.slice_scheduled = false;
                guard.answer_waiting_save();
                return;
            }
        }
    };
    if !run.on_gpu() {
        // A failure leaves a notice, and the run on the CPU.
        let _ = run.use_gpu(Rc::clone(&device.context)).await;
    }
    let start = now();
    let mut outcome = Ok(());
    for _ in 0..steps {
        if run.is_finished() || !run.on_gpu() {
            break;
        }
        outcome = run.step();
        if outcome.is_err() {
            break;
        }
    }
    if outcome.is_ok() {
        outcome = run.sync().await;
    }
    let elapsed = now() - start;
    let (test_due, pausing) = {
        let guard = state.borrow();
        (guard.pacing.test_due(&run, now()), !guard.playing)
    };
    // A pause reads the network back too, so that what a save keeps is where the run stopped.
    let pulled = outcome.is_ok() && (test_due || pausing);
    if pulled {
        run.pull_model().await;
    }
    let mut guard = state.borrow_mut();
    guard.slice_scheduled = false;
    if guard.generation != generation {
        guard.answer_waiting_save();
        return;
    }
    guard.gpu_steps_per_slice = match elapsed {
        ms if ms < TARGET_MS / 2.0 => (steps * 2).min(MAX_STEPS),
        ms if ms > TARGET_MS * 2.0 => (steps / 2).max(1),
        _ => steps,
    };
    let post = Rc::clone(&guard.outbox);
    let go_on = match outcome {
        Ok(()) => {
            // Back on the CPU after a failure, the CPU model is current anyway.
            let can_test = pulled || !run.on_gpu();
            guard.pacing.report(&mut run, can_test, &post, now)
        }
        Err(error) => {
            post(&pause_reason(&error), Beside::default());
            false
        }
    };
    guard.playing &= go_on;
    guard.run = Some(run);
    guard.answer_waiting_save();
    let again = guard.playing;
    drop(guard);
    if again {
        schedule_slice(&state);
    }
}

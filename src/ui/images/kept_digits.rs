//! The learner's own digits kept in the browser (autosave's store, under `images-digits`), so
//! that a reload trains on them again and a run kept on them goes on.

use yew::Callback;
use yew::platform::spawn_local;

use crate::data::digits::DigitSet;
use crate::data::kept_digits::{read_kept_digits, write_kept_digits};
use crate::ui::autosave;

/// The record's key in the store of kept work.
const KEY: &str = "images-digits";

/// Reads the kept digits: `Ok(None)` when there are none or the browser keeps nothing (the
/// page says so elsewhere); `Err` with the reason when the record is damaged.
pub fn read(done: Callback<Result<Option<DigitSet>, String>>) {
    spawn_local(async move {
        let result = match autosave::load(KEY).await {
            Ok(Some(bytes)) => read_kept_digits(&bytes).map(Some),
            Ok(None) | Err(_) => Ok(None),
        };
        done.emit(result);
    });
}

/// Keeps `digits`, replacing any kept before; `done` hears whether they were kept.
pub fn keep(digits: &DigitSet, done: Callback<Result<(), String>>) {
    let bytes = write_kept_digits(digits);
    spawn_local(async move {
        let result = match bytes {
            Ok(bytes) => autosave::save(KEY, &bytes).await,
            Err(error) => Err(error),
        };
        done.emit(result);
    });
}

/// Forgets the kept digits.
pub fn forget() {
    spawn_local(async {
        // Nothing kept, or nothing the browser keeps: nothing to forget either way.
        let _ = autosave::forget(KEY).await;
    });
}

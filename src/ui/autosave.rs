//! Autosave: a page's work kept in the browser's IndexedDB (through rexie) under the page's name,
//! so that a reload, or a tab closed by mistake, brings it back. Saving is debounced (at most one
//! save every [`SAVE_EVERY_MS`], and one when the tab is hidden), runs asynchronously, and never
//! holds a frame: the page hands over the bytes and goes on. Where the browser stores nothing
//! (storage switched off, a full quota, a private window that refuses it), the page works on
//! without saving and says so.

use gloo::events::EventListener;
use gloo::timers::callback::Interval;
use js_sys::Uint8Array;
use rexie::{ObjectStore, Rexie, Store, Transaction, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};
use yew::Callback;

/// The browser's database and its one store of work, one record per page.
const DATABASE: &str = "neural-playground";
const STORE: &str = "work";
/// The database's schema version (the records carry their own format's version).
const SCHEMA: u32 = 1;
/// The longest a change of the playground waits before it is saved.
pub const SAVE_EVERY_MS: u32 = 2_000;
/// The same for a training run, whose saves are larger (LeNet-5 with Adam: 750 KB).
pub const SAVE_RUN_EVERY_MS: u32 = 10_000;

/// The store of work in a transaction of `mode`, with the database and the transaction it
/// lives in (kept alive until the caller is done with the store).
async fn open(mode: TransactionMode) -> Result<(Rexie, Transaction, Store), String> {
    let database = Rexie::builder(DATABASE)
        .version(SCHEMA)
        .add_object_store(ObjectStore::new(STORE))
        .build()
        .await
        .map_err(|error| described(&error))?;
    let transaction = database
        .transaction(&[STORE], mode)
        .map_err(|error| described(&error))?;
    let store = transaction
        .store(STORE)
        .map_err(|error| described(&error))?;
    Ok((database, transaction, store))
}

/// The page's saved work, if any.
pub async fn load(page: &str) -> Result<Option<Vec<u8>>, String> {
    let (_database, _transaction, store) = open(TransactionMode::ReadOnly).await?;
    let value = store
        .get(JsValue::from_str(page))
        .await
        .map_err(|error| described(&error))?;
    match value {
        None => Ok(None),
        Some(value) if value.is_undefined() => Ok(None),
        Some(value) => match value.dyn_into::<Uint8Array>() {
            Ok(bytes) => Ok(Some(bytes.to_vec())),
            // Something else under our key: read as damaged work.
            Err(_) => Ok(Some(Vec::new())),
        },
    }
}

/// Keeps `bytes` as the page's work, replacing what was kept.
pub async fn save(page: &str, bytes: &[u8]) -> Result<(), String> {
    let (_database, transaction, store) = open(TransactionMode::ReadWrite).await?;
    let value = Uint8Array::from(bytes);
    store
        .put(&value, Some(&JsValue::from_str(page)))
        .await
        .map_err(|error| described(&error))?;
    let done = transaction
        .done()
        .await
        .map_err(|error| described(&error))?;
    match done.is_committed() {
        true => Ok(()),
        false => Err("the browser did not keep it (its storage for this site may be full)".into()),
    }
}

/// Forgets the page's work.
pub async fn forget(page: &str) -> Result<(), String> {
    let (_database, transaction, store) = open(TransactionMode::ReadWrite).await?;
    store
        .delete(JsValue::from_str(page))
        .await
        .map_err(|error| described(&error))?;
    transaction
        .done()
        .await
        .map_err(|error| described(&error))?;
    Ok(())
}

/// A storage error in words: the browser's own reason where it gives one.
fn described(error: &rexie::Error) -> String {
    match error {
        rexie::Error::IdbError(error) => {
            let text = error.to_string();
            match text.contains("QuotaExceeded") {
                true => "the browser's storage for this site is full".to_string(),
                false => format!("the browser refused its storage ({text})"),
            }
        }
        other => format!("the browser refused its storage ({other})"),
    }
}

/// Where saving stands, as the page says it.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveStatus {
    /// The saved work has not been read yet: nothing is saved before it is, so that it is
    /// not overwritten.
    Reading,
    /// Saved at this time (milliseconds since 1970), or nothing to save yet.
    Saved(Option<f64>),
    /// Saving does not work here: why.
    Off(String),
}

/// The debounced saving of one page: [`Autosave::changed`] after every change of its work,
/// [`Autosave::due`] at every tick of the timer it keeps, [`Autosave::finished`] when a save ends.
pub struct Autosave {
    status: SaveStatus,
    changed: bool,
    saving: bool,
    _timer: Interval,
    _hidden: EventListener,
}

impl Autosave {
    /// Saving whose `tick` is sent every `every_ms` and whenever the tab is hidden (the last
    /// chance before it may be closed).
    pub fn new(every_ms: u32, tick: Callback<()>) -> Autosave {
        let hidden = {
            let tick = tick.clone();
            EventListener::new(&gloo::utils::document(), "visibilitychange", move |_| {
                if gloo::utils::document().hidden() {
                    tick.emit(());
                }
            })
        };
        Autosave {
            status: SaveStatus::Reading,
            changed: false,
            saving: false,
            _timer: Interval::new(every_ms, move || tick.emit(())),
            _hidden: hidden,
        }
    }

    pub fn status(&self) -> &SaveStatus {
        &self.status
    }

    /// The page's work changed: it will be saved at the next tick.
    pub fn changed(&mut self) {
        self.changed = true;
    }

    /// The saved work was read (and taken up or refused): saving may begin. `Err` says why
    /// the store cannot be used at all.
    pub fn read(&mut self, store: Result<(), String>) {
        self.status = match store {
            Ok(()) => SaveStatus::Saved(None),
            Err(reason) => SaveStatus::Off(reason),
        };
    }

    /// Whether a save should start now; if so, it counts as started.
    pub fn due(&mut self) -> bool {
        let due = self.changed && !self.saving && matches!(self.status, SaveStatus::Saved(_));
        if due {
            self.changed = false;
            self.saving = true;
        }
        due
    }

    /// A save ended: at `saved_at`, or failed for `Err`'s reason (saving stops: the page says so).
    pub fn finished(&mut self, result: Result<f64, String>) {
        self.saving = false;
        self.status = match result {
            Ok(saved_at) => SaveStatus::Saved(Some(saved_at)),
            Err(reason) => SaveStatus::Off(reason),
        };
    }

    /// The save asked for did not happen (nothing to save yet): the next tick tries again.
    pub fn skipped(&mut self) {
        self.saving = false;
        self.changed = true;
    }

    /// Saving failed before it reached the store (the work could not be written as bytes).
    pub fn failed(&mut self, reason: String) {
        self.finished(Err(reason));
    }
}

/// The page's clock: milliseconds since 1970.
pub fn now() -> f64 {
    js_sys::Date::now()
}

/// A time of day as the learner's browser writes it.
pub fn time_of(milliseconds: f64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(milliseconds));
    String::from(date.to_locale_time_string("default"))
}

/// A date and time as the learner's browser writes it.
pub fn date_of(milliseconds: f64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(milliseconds));
    String::from(date.to_locale_string("default", &JsValue::UNDEFINED))
}

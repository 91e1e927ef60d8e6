//! The page's side of the training worker: starts a Web Worker on this same wasm module and
//! turns its messages into reports for the page. Where no worker can start (an old browser, a
//! strict content security policy), the same training loop runs on the page itself instead.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, BlobPropertyBag, MessageEvent, Url, Worker, WorkerOptions, WorkerType};
use yew::Callback;

use std::rc::Rc;

use gloo::timers::callback::Timeout;

use super::envelope::Envelope;
use super::training_loop::{self, Beside, IN_PAGE_SLICE_MS, Outbox, SharedLoop, TrainingLoop};
use crate::data::digits::DigitSet;
use crate::playground::images::protocol::{Command, Report};

#[wasm_bindgen]
extern "C" {
    /// The URL of the generated JavaScript module this code was loaded by (`import.meta.url`
    /// evaluated inside it), which the worker imports in turn.
    #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
    static MODULE_URL: String;
}

/// The worker's loader: imports the module, instantiates it with the already compiled wasm the
/// page sends, then hands over to `images_worker_start`.
const LOADER: &str = r#"
self.onmessage = async (event) => {
  self.onmessage = null;
  try {
    const bindings = await import(event.data.url);
    await bindings.default({ module_or_path: event.data.module });
    bindings.images_worker_start();
  } catch (error) {
    self.postMessage({ json: JSON.stringify({ Failed: { message: "the training worker could not start: " + error } }) });
  }
};
"#;

/// A report with the weights or the saved run that may come beside it.
pub struct WorkerReport {
    pub report: Report,
    pub weights: Option<Vec<f32>>,
    pub checkpoint: Option<Vec<u8>>,
}

/// Where the training loop runs; dropping it stops the loop.
pub struct TrainingWorker {
    transport: Transport,
}

enum Transport {
    Worker {
        worker: Worker,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_error: Closure<dyn FnMut(web_sys::Event)>,
    },
    InPage(SharedLoop),
}

impl TrainingWorker {
    pub fn spawn(on_report: Callback<WorkerReport>) -> Result<TrainingWorker, String> {
        let describe = |what: &str, error: JsValue| format!("{what}: {error:?}");
        let parts = js_sys::Array::of1(&JsValue::from_str(LOADER));
        let options = BlobPropertyBag::new();
        options.set_type("text/javascript");
        let blob = Blob::new_with_str_sequence_and_options(&parts, &options)
            .map_err(|e| describe("cannot make the worker's script", e))?;
        let url = Url::create_object_url_with_blob(&blob)
            .map_err(|e| describe("cannot make the worker's script", e))?;
        let worker_options = WorkerOptions::new();
        worker_options.set_type(WorkerType::Module);
        worker_options.set_name("training");
        let worker = Worker::new_with_options(&url, &worker_options)
            .map_err(|e| describe("this browser cannot start a worker", e))?;
        let reports = on_report.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let decoded = Envelope::from_js(&event.data()).and_then(|envelope| {
                Ok(WorkerReport {
                    report: Report::from_json(&envelope.json)?,
                    weights: envelope.weights,
                    checkpoint: envelope.checkpoint,
                })
            });
            reports.emit(decoded.unwrap_or_else(|message| WorkerReport {
                report: Report::Failed { message },
                weights: None,
                checkpoint: None,
            }));
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // A plain `Event` when the worker's script could not even load (e.g. forbidden by the
        // page's content security policy), an `ErrorEvent` with a message when it threw.
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            let detail = event
                .dyn_ref::<web_sys::ErrorEvent>()
                .map(|error| error.message())
                .filter(|message| !message.is_empty())
                .unwrap_or_else(|| "it could not be loaded".to_string());
            on_report.emit(WorkerReport {
                report: Report::Failed {
                    message: format!("the training worker stopped: {detail}"),
                },
                weights: None,
                checkpoint: None,
            });
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let start = js_sys::Object::new();
        let set = |key: &str, value: &JsValue| {
            js_sys::Reflect::set(&start, &JsValue::from_str(key), value).expect("plain object");
        };
        set("url", &JsValue::from_str(&MODULE_URL.with(String::clone)));
        set("module", &wasm_bindgen::module());
        worker
            .post_message(&start)
            .map_err(|e| describe("cannot start the worker", e))?;
        Ok(TrainingWorker {
            transport: Transport::Worker {
                worker,
                _on_message: on_message,
                _on_error: on_error,
            },
        })
    }

    /// The training loop on the page itself, in slices short enough to keep drawing frames.
    /// Reports reach the page from a zero timeout, like a worker's messages, never from inside
    /// the command that caused them.
    pub fn in_page(on_report: Callback<WorkerReport>) -> TrainingWorker {
        let outbox: Outbox = Rc::new(move |report: &Report, beside: Beside| {
            let on_report = on_report.clone();
            let report = WorkerReport {
                report: report.clone(),
                weights: beside.weights,
                checkpoint: beside.checkpoint,
            };
            Timeout::new(0, move || on_report.emit(report)).forget();
        });
        TrainingWorker {
            transport: Transport::InPage(TrainingLoop::start(outbox, IN_PAGE_SLICE_MS)),
        }
    }

    /// Whether training runs on the page rather than in a worker.
    pub fn runs_in_page(&self) -> bool {
        matches!(self.transport, Transport::InPage(_))
    }

    pub fn send(&self, command: &Command) {
        self.post(command, Envelope::json(command.to_json()));
    }

    /// Hands the worker the digits to train on.
    pub fn send_digits(&self, digits: &DigitSet) {
        let command = Command::UseDigits {
            name: digits.name.clone(),
        };
        let envelope = Envelope {
            json: command.to_json(),
            pixels: Some(digits.pixels.clone()),
            labels: Some(digits.labels.clone()),
            ..Envelope::default()
        };
        self.post(&command, envelope);
    }

    /// Hands the worker a saved run to go on from ([`Command::Resume`]).
    pub fn send_saved_run(&self, bytes: Vec<u8>) {
        let command = Command::Resume;
        let envelope = Envelope {
            json: command.to_json(),
            checkpoint: Some(bytes),
            ..Envelope::default()
        };
        self.post(&command, envelope);
    }

    fn post(&self, command: &Command, envelope: Envelope) {
        match &self.transport {
            // Only fails for values that cannot be cloned, which an envelope never holds.
            Transport::Worker { worker, .. } => {
                let _ = worker.post_message(&envelope.to_js());
            }
            Transport::InPage(state) => training_loop::receive(state, command.clone(), envelope),
        }
    }
}

impl Drop for TrainingWorker {
    fn drop(&mut self) {
        if let Transport::Worker { worker, .. } = &self.transport {
            worker.terminate();
        }
    }
}

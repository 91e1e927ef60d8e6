//! The page's side of the training worker: starts a Web Worker on this same wasm module and
//! turns its messages into reports for the page.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, BlobPropertyBag, MessageEvent, Url, Worker, WorkerOptions, WorkerType};
use yew::Callback;

use super::envelope::Envelope;
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

/// A report with the weights that may come beside it.
pub struct WorkerReport {
    pub report: Report,
    pub weights: Option<Vec<f32>>,
}

/// A running worker; dropping it stops the worker.
pub struct TrainingWorker {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
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
                })
            });
            reports.emit(decoded.unwrap_or_else(|message| WorkerReport {
                report: Report::Failed { message },
                weights: None,
            }));
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let on_error =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
                on_report.emit(WorkerReport {
                    report: Report::Failed {
                        message: format!("the training worker stopped: {}", event.message()),
                    },
                    weights: None,
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
            worker,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    pub fn send(&self, command: &Command) {
        self.post(Envelope::json(command.to_json()));
    }

    /// Hands the worker the digits to train on.
    pub fn send_digits(&self, digits: &DigitSet) {
        self.post(Envelope {
            json: Command::UseDigits {
                name: digits.name.clone(),
            }
            .to_json(),
            pixels: Some(digits.pixels.clone()),
            labels: Some(digits.labels.clone()),
            weights: None,
        });
    }

    fn post(&self, envelope: Envelope) {
        // Only fails for values that cannot be cloned, which an envelope never holds.
        let _ = self.worker.post_message(&envelope.to_js());
    }
}

impl Drop for TrainingWorker {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

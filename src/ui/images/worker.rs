//! The training worker: runs inside a Web Worker (the same wasm module, started by
//! [`images_worker_start`]) so that training never blocks the page. The loop itself is
//! [`super::training_loop`]; this side only carries messages.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use super::envelope::Envelope;
use super::training_loop::{self, Beside, TrainingLoop, WORKER_SLICE_MS};
use crate::playground::images::protocol::{Command, Report};

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(report: &Report, beside: Beside) {
    let envelope = Envelope {
        json: report.to_json(),
        weights: beside.weights,
        checkpoint: beside.checkpoint,
        ..Envelope::default()
    };
    // The page is gone when this fails; nothing is left to tell.
    let _ = scope().post_message(&envelope.to_js());
}

/// Entry point of the worker, called by the worker's loader once the module is instantiated.
#[wasm_bindgen]
pub fn images_worker_start() {
    let state = TrainingLoop::start(std::rc::Rc::new(post), WORKER_SLICE_MS);
    let on_message =
        Closure::<dyn FnMut(MessageEvent)>::new(
            move |event: MessageEvent| match Envelope::from_js(&event.data())
                .and_then(|envelope| Ok((Command::from_json(&envelope.json)?, envelope)))
            {
                Ok((command, envelope)) => training_loop::receive(&state, command, envelope),
                Err(message) => post(&Report::Failed { message }, Beside::default()),
            },
        );
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The worker lives as long as the page keeps it: so does its handler.
    on_message.forget();
}

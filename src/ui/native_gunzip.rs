//! Gzip decoding by the browser itself (Compression Streams), streamed in chunks, instead of in
//! one long task of our wasm on the page's main thread: the Images page's 1.6 MB of digits
//! become 7.8 MB. Where a browser lacks it, the caller decodes the bytes itself (flate2).

use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableWritablePair, Response};

#[wasm_bindgen]
extern "C" {
    /// `DecompressionStream`, declared here: web-sys has it only among its unstable APIs.
    #[wasm_bindgen(js_name = DecompressionStream)]
    type DecompressionStream;

    #[wasm_bindgen(constructor, js_class = "DecompressionStream", catch)]
    fn new(format: &str) -> Result<DecompressionStream, JsValue>;
}

/// The gzip magic number that starts every gzipped file.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// `bytes` decoded where they are gzipped and the browser can decode them; otherwise `bytes`
/// as they are (gzipped bytes then stay for the caller's own decoder, which also words any
/// error).
pub async fn gunzip_if_possible(bytes: Vec<u8>) -> Vec<u8> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return bytes;
    }
    match gunzip(&bytes).await {
        Ok(decoded) => decoded,
        Err(_) => bytes,
    }
}

async fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, JsValue> {
    let decoder = DecompressionStream::new("gzip")?;
    let parts = Array::of1(&Uint8Array::from(bytes));
    let stream = Blob::new_with_u8_array_sequence(&parts)?.stream();
    let decoded = stream.pipe_through(decoder.unchecked_ref::<ReadableWritablePair>());
    let buffer =
        JsFuture::from(Response::new_with_opt_readable_stream(Some(&decoded))?.array_buffer()?)
            .await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

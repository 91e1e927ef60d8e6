//! How a command or report travels through `postMessage`: a JS object holding the JSON text
//! and, beside it, typed arrays for the bulky numbers (copied once, never as JSON).

use js_sys::{Float32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

/// A message as plain Rust data.
#[derive(Default)]
pub struct Envelope {
    pub json: String,
    pub pixels: Option<Vec<u8>>,
    pub labels: Option<Vec<u8>>,
    pub weights: Option<Vec<f32>>,
    /// A saved run, to the worker to go on from or back to the page to keep.
    pub checkpoint: Option<Vec<u8>>,
}

impl Envelope {
    pub fn json(json: String) -> Envelope {
        Envelope {
            json,
            ..Envelope::default()
        }
    }

    pub fn to_js(&self) -> JsValue {
        let object = Object::new();
        let set = |key: &str, value: &JsValue| {
            Reflect::set(&object, &JsValue::from_str(key), value).expect("plain object");
        };
        set("json", &JsValue::from_str(&self.json));
        if let Some(pixels) = &self.pixels {
            set("pixels", &Uint8Array::from(pixels.as_slice()));
        }
        if let Some(labels) = &self.labels {
            set("labels", &Uint8Array::from(labels.as_slice()));
        }
        if let Some(weights) = &self.weights {
            set("weights", &Float32Array::from(weights.as_slice()));
        }
        if let Some(checkpoint) = &self.checkpoint {
            set("checkpoint", &Uint8Array::from(checkpoint.as_slice()));
        }
        object.into()
    }

    pub fn from_js(value: &JsValue) -> Result<Envelope, String> {
        let get = |key: &str| Reflect::get(value, &JsValue::from_str(key)).ok();
        let json = get("json")
            .and_then(|v| v.as_string())
            .ok_or("a message without its JSON text")?;
        let bytes = |key: &str| {
            get(key)
                .and_then(|v| v.dyn_into::<Uint8Array>().ok())
                .map(|array| array.to_vec())
        };
        Ok(Envelope {
            json,
            pixels: bytes("pixels"),
            labels: bytes("labels"),
            checkpoint: bytes("checkpoint"),
            weights: get("weights")
                .and_then(|v| v.dyn_into::<Float32Array>().ok())
                .map(|array| array.to_vec()),
        })
    }
}

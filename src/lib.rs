//! Neural Playground: a deep-learning playground that runs in the browser.
//!
//! `engine` is the deep-learning engine, `data` the data sets, `playground` the app's state and
//! training session (all three without web dependencies), and `ui` the Yew views compiled to
//! WebAssembly.

pub mod bench_hooks;
pub mod data;
pub mod engine;
pub mod gpu;
pub mod playground;

#[cfg(target_arch = "wasm32")]
pub mod ui;

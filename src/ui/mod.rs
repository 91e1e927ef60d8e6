//! The Yew front-end: one file per view. Views draw a `Snapshot` of the session and send the
//! app named messages; they never compute the maths themselves.

mod announcer;
mod app;
mod autosave;
mod backprop_view;
mod chart_ink;
mod controls;
mod data_panel;
mod data_table;
mod explorers;
mod file_card;
mod frame_timer;
mod gpu_link;
mod heatmap;
pub mod images;
mod lessons;
mod lessons_view;
mod loss_chart;
mod model_file_card;
mod native_gunzip;
mod network_edges;
mod network_pointer;
mod network_view;
mod output_panel;
mod pointer;
mod pytorch_export_card;
mod save_file;
mod saved_work_view;
mod seq2seq;
mod sequences;
mod shared;
mod through_time_view;

use wasm_bindgen::prelude::wasm_bindgen;

/// Entry point called by the generated JavaScript once the module is loaded.
#[wasm_bindgen(start)]
pub fn start() {
    // The training worker loads this same module: there is no page to draw in a worker.
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    // The title bar that `www/index.html` shows while the module loads gives way to the app's.
    if let Some(boot) = document.get_element_by_id("boot") {
        boot.remove();
    }
    yew::Renderer::<app::App>::new().render();
}

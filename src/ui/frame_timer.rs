//! Times the app's real frames for `cargo xtask bench`: from the start of a training frame
//! (`Msg::Frame`) to the end of the render it causes, every view's drawing included (or to the
//! end of its work, in a frame that does not draw). The last
//! 1000 durations are exported to JavaScript as `window.wasmBindings.frame_times_ms()`.

use std::cell::RefCell;
use std::collections::VecDeque;
use wasm_bindgen::prelude::wasm_bindgen;

/// Frames kept; older ones are dropped.
const CAPACITY: usize = 1000;

#[derive(Default)]
struct FrameTimes {
    /// When the frame being handled began, if one is.
    started_ms: Option<f64>,
    durations_ms: VecDeque<f64>,
}

thread_local! {
    static FRAMES: RefCell<FrameTimes> = RefCell::default();
}

/// Milliseconds on the page's clock.
pub fn now_ms() -> f64 {
    gloo::utils::window()
        .performance()
        .map_or(0.0, |performance| performance.now())
}

/// Marks the start of a training frame.
pub fn start() {
    FRAMES.with_borrow_mut(|frames| frames.started_ms = Some(now_ms()));
}

/// Ends the frame started last, if any; renders that no frame caused are not counted.
pub fn finish() {
    FRAMES.with_borrow_mut(|frames| {
        if let Some(started) = frames.started_ms.take() {
            if frames.durations_ms.len() == CAPACITY {
                frames.durations_ms.pop_front();
            }
            frames.durations_ms.push_back(now_ms() - started);
        }
    });
}

/// The durations of the last (up to) 1000 frames in milliseconds, oldest first.
#[wasm_bindgen]
pub fn frame_times_ms() -> Vec<f64> {
    FRAMES.with_borrow(|frames| frames.durations_ms.iter().copied().collect())
}

//! The playground is laid out for a page at least [`DESIGN_WIDTH`] pixels wide. On a narrower
//! window (a projector at 1024x768, a small laptop) the whole page is zoomed out to fit its
//! width instead of scrolling sideways, down to [`LEAST_ZOOM`]; below that it scrolls.

use gloo::events::EventListener;

/// The width the page is laid out for (`.app`'s `min-width` in style.css).
pub const DESIGN_WIDTH: f64 = 1280.0;
/// Width kept free for a vertical scroll bar (Chromium's is 15 pixels).
const SCROLL_BAR: f64 = 20.0;
/// The most the page is zoomed out (text stays readable).
pub const LEAST_ZOOM: f64 = 0.6;

/// The zoom that fits the design width into `viewport_width` pixels.
pub fn zoom_for(viewport_width: f64) -> f64 {
    (viewport_width / DESIGN_WIDTH).clamp(LEAST_ZOOM, 1.0)
}

/// Zooms the page to fit now and whenever the window is resized, as long as it is kept.
pub fn keep_fitting() -> EventListener {
    fit();
    EventListener::new(&gloo::utils::window(), "resize", |_| fit())
}

fn fit() {
    let Some(body) = gloo::utils::document().body() else {
        return;
    };
    let window_width = gloo::utils::window()
        .inner_width()
        .ok()
        .and_then(|width| width.as_f64())
        .unwrap_or(DESIGN_WIDTH);
    // Room for a vertical scroll bar: one appears once the page outgrows the window, which
    // changes the width left without a resize event.
    let zoom = zoom_for(window_width - SCROLL_BAR);
    let style = if zoom < 1.0 {
        format!("zoom: {zoom:.4}")
    } else {
        String::new()
    };
    if body.get_attribute("style").unwrap_or_default() != style {
        let _ = body.set_attribute("style", &style);
    }
}

//! Where a pointer event falls on an element, measured on screen (the event's client position
//! against the element's bounding box), so that it stays right however CSS scales the element
//! (a canvas shown narrower than it is drawn on a phone, a browser's zoom): `offsetX` counts
//! shown pixels while the canvas's width counts drawn ones.

use web_sys::{Element, HtmlCanvasElement, MouseEvent};

/// The event's position as fractions of the element's width and height from its top-left.
pub fn fraction_within(element: &Element, event: &MouseEvent) -> (f64, f64) {
    let rect = element.get_bounding_client_rect();
    let fraction = |client: i32, start: f64, size: f64| {
        (f64::from(client) - start) / size.max(f64::MIN_POSITIVE)
    };
    (
        fraction(event.client_x(), rect.left(), rect.width()),
        fraction(event.client_y(), rect.top(), rect.height()),
    )
}

/// The event's position in the canvas's own pixels (its drawing buffer), whatever size the
/// page shows it at.
pub fn canvas_pixel(canvas: &HtmlCanvasElement, event: &MouseEvent) -> (f64, f64) {
    let (x, y) = fraction_within(canvas, event);
    (
        x * f64::from(canvas.width()),
        y * f64::from(canvas.height()),
    )
}

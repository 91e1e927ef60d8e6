//! A canvas to draw a digit on with the mouse, a finger or the keyboard (a pen moved by the
//! arrow keys over a grid of pen-wide cells, which inks or erases the cell it is on), blank or
//! starting from a test digit.
//!
//! White ink on black, like MNIST. While a stroke goes on, the drawing is turned into the 28x28
//! image the network sees (`playground::images::drawing`) at most once per animation frame and
//! once more when the stroke ends, shown in a small preview and sent to `on_digit`.

use crate::playground::images::drawing::{DIGIT_SIDE, mnist_digit_from_ink};
use crate::ui::shared::Shared;
use gloo::render::{AnimationFrame, request_animation_frame};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::{Clamped, JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};
use yew::prelude::*;

/// The drawing canvas's side in canvas pixels; CSS may show it at another size.
const PAD_SIDE: u32 = 280;
/// About an MNIST stroke's width (2 of 28 pixels) on the 280-pixel canvas, before the digit is
/// scaled to fit its 20-pixel box.
const STROKE_WIDTH: f64 = 20.0;
/// Pen-wide cells across the pad, the grid the keyboard's pen moves on.
const PEN_CELLS: u32 = PAD_SIDE / STROKE_WIDTH as u32;
const INK: &str = "#fff";
const PAPER: &str = "#000";

#[derive(Properties, PartialEq)]
pub struct DrawPadProps {
    /// The 784 values in [0, 1] of the drawn digit after each change, `None` once cleared.
    pub on_digit: Callback<Option<Vec<f32>>>,
    /// A 28x28 digit (values in [0, 1]) to put on the pad, replacing the drawing, whenever it
    /// changes.
    #[prop_or_default]
    pub start_from: Option<Shared<Vec<f32>>>,
}

/// The stroke under way: which pointer draws it and where it was last.
#[derive(Clone, Copy)]
struct Stroke {
    pointer_id: i32,
    x: f64,
    y: f64,
}

#[component]
pub fn DrawPad(props: &DrawPadProps) -> Html {
    let pad = use_node_ref();
    let preview = use_node_ref();
    let stroke: Rc<Cell<Option<Stroke>>> = use_memo((), |_| Cell::new(None));
    // Dropped with the component, which cancels a frame still pending.
    let frame: Rc<RefCell<Option<AnimationFrame>>> = use_mut_ref(|| None);
    let frame_pending: Rc<Cell<bool>> = use_memo((), |_| Cell::new(false));

    let classify = {
        let (pad, preview, on_digit) = (pad.clone(), preview.clone(), props.on_digit.clone());
        move || {
            let digit = pad
                .cast::<HtmlCanvasElement>()
                .and_then(|pad| read_digit(&pad));
            if let Some(preview) = preview.cast::<HtmlCanvasElement>() {
                paint_preview(&preview, digit.as_deref());
            }
            on_digit.emit(digit);
        }
    };
    {
        let (pad, preview) = (pad.clone(), preview.clone());
        use_effect_with((), move |_| {
            if let Some(pad) = pad.cast::<HtmlCanvasElement>() {
                clear(&pad);
            }
            if let Some(preview) = preview.cast::<HtmlCanvasElement>() {
                paint_preview(&preview, None);
            }
        });
    }

    {
        let (pad, classify) = (pad.clone(), classify.clone());
        use_effect_with(props.start_from.clone(), move |start| {
            if let (Some(digit), Some(pad)) = (start, pad.cast::<HtmlCanvasElement>()) {
                paint_digit(&pad, digit);
                classify();
            }
        });
    }

    let onpointerdown = {
        let stroke = stroke.clone();
        Callback::from(move |event: PointerEvent| {
            // A second finger on a touch screen is not a new stroke; a new primary pointer is,
            // even if the last stroke's end never arrived.
            if event.button() != 0 || !event.is_primary() {
                return;
            }
            event.prevent_default();
            let canvas: HtmlCanvasElement = event.target_unchecked_into();
            let _ = canvas.set_pointer_capture(event.pointer_id());
            let (x, y) = crate::ui::pointer::canvas_pixel(&canvas, &event);
            if let Some(context) = drawing_context(&canvas) {
                dot(&context, x, y);
            }
            let pointer_id = event.pointer_id();
            stroke.set(Some(Stroke { pointer_id, x, y }));
        })
    };
    let onpointermove = {
        let (stroke, frame, frame_pending) = (stroke.clone(), frame.clone(), frame_pending.clone());
        let classify = classify.clone();
        Callback::from(move |event: PointerEvent| {
            let Some(last) = stroke.get().filter(|s| s.pointer_id == event.pointer_id()) else {
                return;
            };
            let canvas: HtmlCanvasElement = event.target_unchecked_into();
            let (x, y) = crate::ui::pointer::canvas_pixel(&canvas, &event);
            if let Some(context) = drawing_context(&canvas) {
                // A line from the last point, so a fast stroke stays one stroke, not dots.
                line(&context, (last.x, last.y), (x, y));
            }
            stroke.set(Some(Stroke { x, y, ..last }));
            if !frame_pending.replace(true) {
                let (classify, frame_pending) = (classify.clone(), frame_pending.clone());
                *frame.borrow_mut() = Some(request_animation_frame(move |_| {
                    frame_pending.set(false);
                    classify();
                }));
            }
        })
    };
    let onpointerup = {
        let (stroke, frame, frame_pending) = (stroke.clone(), frame.clone(), frame_pending.clone());
        let classify = classify.clone();
        Callback::from(move |event: PointerEvent| {
            if stroke
                .get()
                .is_none_or(|s| s.pointer_id != event.pointer_id())
            {
                return;
            }
            stroke.set(None);
            // The stroke's end is classified now; a pending frame would only repeat it.
            *frame.borrow_mut() = None;
            frame_pending.set(false);
            classify();
        })
    };
    let onclear = {
        let (pad, preview, on_digit) = (pad.clone(), preview.clone(), props.on_digit.clone());
        Callback::from(move |_: MouseEvent| {
            stroke.set(None);
            *frame.borrow_mut() = None;
            frame_pending.set(false);
            if let Some(pad) = pad.cast::<HtmlCanvasElement>() {
                clear(&pad);
            }
            if let Some(preview) = preview.cast::<HtmlCanvasElement>() {
                paint_preview(&preview, None);
            }
            on_digit.emit(None);
        })
    };

    // The keyboard's pen: ← → ↑ ↓ move it a cell, with Shift they draw on the way, Space or
    // Enter inks the cell it is on.
    let pen = use_state_eq(|| (PEN_CELLS / 2, PEN_CELLS / 2));
    let onkeydown = {
        let (pad, pen, classify) = (pad.clone(), pen.clone(), classify.clone());
        Callback::from(move |event: KeyboardEvent| {
            let (column, row) = *pen;
            let last = PEN_CELLS - 1;
            let (to, inks) = match event.key().as_str() {
                "ArrowLeft" => ((column.saturating_sub(1), row), event.shift_key()),
                "ArrowRight" => (((column + 1).min(last), row), event.shift_key()),
                "ArrowUp" => ((column, row.saturating_sub(1)), event.shift_key()),
                "ArrowDown" => ((column, (row + 1).min(last)), event.shift_key()),
                " " | "Enter" => ((column, row), true),
                "Delete" | "Backspace" => {
                    event.prevent_default();
                    if let Some(context) =
                        pad.cast::<HtmlCanvasElement>().and_then(|p| context_2d(&p))
                    {
                        context.set_fill_style_str(PAPER);
                        let corner = |cell: u32| f64::from(cell) * STROKE_WIDTH;
                        context.fill_rect(corner(column), corner(row), STROKE_WIDTH, STROKE_WIDTH);
                    }
                    classify();
                    return;
                }
                _ => return,
            };
            event.prevent_default();
            if inks {
                let centre = |(c, r): (u32, u32)| {
                    let middle = |cell: u32| (f64::from(cell) + 0.5) * STROKE_WIDTH;
                    (middle(c), middle(r))
                };
                if let Some(context) = pad
                    .cast::<HtmlCanvasElement>()
                    .and_then(|p| drawing_context(&p))
                {
                    line(&context, centre((column, row)), centre(to));
                    dot(&context, centre(to).0, centre(to).1);
                }
                classify();
            }
            pen.set(to);
        })
    };
    let pen_style = {
        let share = |cell: u32| 100.0 * f64::from(cell) / f64::from(PEN_CELLS);
        format!(
            "left:{:.3}%;top:{:.3}%;width:{:.3}%;height:{:.3}%",
            share(pen.0),
            share(pen.1),
            share(1),
            share(1)
        )
    };

    let side = DIGIT_SIDE.to_string();
    html! {
        <div class="draw-pad">
            <div class="draw-pad-frame">
                <canvas ref={pad} class="draw-pad-canvas" width={PAD_SIDE.to_string()}
                    height={PAD_SIDE.to_string()} data-testid="draw-pad" tabindex="0" role="img"
                    aria-label="Draw a digit here. From the keyboard: the arrow keys move the pen, with Shift they draw, Space inks where the pen is, Delete erases it."
                    {onpointerdown} {onpointermove} {onkeydown}
                    onpointerup={onpointerup.clone()} onpointercancel={onpointerup} />
                <span class="draw-pad-pen" style={pen_style} aria-hidden="true" />
            </div>
            <div class="draw-pad-side">
                <figure class="draw-pad-preview">
                    <canvas ref={preview} class="draw-pad-preview-canvas" width={side.clone()}
                        height={side} data-testid="draw-preview" />
                    <figcaption>{"What the network sees (28x28, centred by mass)"}</figcaption>
                </figure>
                <button class="draw-pad-clear" data-testid="draw-clear" onclick={onclear}>
                    {"Clear"}
                </button>
            </div>
        </div>
    }
}

/// The canvas's 2-D context, asked for with `willReadFrequently` the first time: the drawing is
/// read back every frame, which is slow from a GPU-backed canvas.
fn context_2d(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"willReadFrequently".into(), &JsValue::TRUE).ok()?;
    canvas
        .get_context_with_context_options("2d", &options)
        .ok()
        .flatten()?
        .dyn_into()
        .ok()
}

/// The context with the pen set: round white strokes of MNIST's width.
fn drawing_context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    let context = context_2d(canvas)?;
    context.set_stroke_style_str(INK);
    context.set_fill_style_str(INK);
    context.set_line_width(STROKE_WIDTH);
    context.set_line_cap("round");
    context.set_line_join("round");
    Some(context)
}

/// A round dot, so that a tap without a move leaves a mark.
fn dot(context: &CanvasRenderingContext2d, x: f64, y: f64) {
    context.begin_path();
    let _ = context.arc(x, y, STROKE_WIDTH / 2.0, 0.0, std::f64::consts::TAU);
    context.fill();
}

fn line(context: &CanvasRenderingContext2d, from: (f64, f64), to: (f64, f64)) {
    context.begin_path();
    context.move_to(from.0, from.1);
    context.line_to(to.0, to.1);
    context.stroke();
}

fn clear(canvas: &HtmlCanvasElement) {
    if let Some(context) = context_2d(canvas) {
        context.set_fill_style_str(PAPER);
        let (width, height) = (f64::from(canvas.width()), f64::from(canvas.height()));
        context.fill_rect(0.0, 0.0, width, height);
    }
}

/// Replaces the drawing with a 28x28 digit, each of its pixels a block of the pad.
fn paint_digit(canvas: &HtmlCanvasElement, digit: &[f32]) {
    clear(canvas);
    let Some(context) = context_2d(canvas) else {
        return;
    };
    let block = f64::from(canvas.width()) / DIGIT_SIDE as f64;
    for (index, &value) in digit.iter().enumerate().take(DIGIT_SIDE * DIGIT_SIDE) {
        if value > 0.0 {
            let level = (value.clamp(0.0, 1.0) * 255.0).round() as u8;
            context.set_fill_style_str(&format!("rgb({level},{level},{level})"));
            let (row, column) = ((index / DIGIT_SIDE) as f64, (index % DIGIT_SIDE) as f64);
            context.fill_rect(column * block, row * block, block, block);
        }
    }
}

/// The drawing as the network's input: the red channel is the ink, the paper being black.
fn read_digit(canvas: &HtmlCanvasElement) -> Option<Vec<f32>> {
    let (width, height) = (canvas.width(), canvas.height());
    let context = context_2d(canvas)?;
    let image = context
        .get_image_data(0.0, 0.0, f64::from(width), f64::from(height))
        .ok()?;
    let ink: Vec<f32> = image
        .data()
        .chunks_exact(4)
        .map(|pixel| f32::from(pixel[0]) / 255.0)
        .collect();
    mnist_digit_from_ink(&ink, width as usize, height as usize)
}

/// Paints the 28x28 digit in grey levels, or black when there is none.
fn paint_preview(canvas: &HtmlCanvasElement, digit: Option<&[f32]>) {
    let Some(context) = context_2d(canvas) else {
        return;
    };
    let blank = [0.0; DIGIT_SIDE * DIGIT_SIDE];
    let rgba: Vec<u8> = digit
        .unwrap_or(&blank)
        .iter()
        .flat_map(|&value| {
            let level = (value.clamp(0.0, 1.0) * 255.0).round() as u8;
            [level, level, level, 255]
        })
        .collect();
    let side = DIGIT_SIDE as u32;
    if let Ok(image) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), side, side) {
        let _ = context.put_image_data(&image, 0.0, 0.0);
    }
}

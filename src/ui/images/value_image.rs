//! A small canvas that paints a grid of numbers: a digit in grey, a feature map scaled to its
//! own range, or weights on the shared orange-white-blue scale (sign and size).

use super::super::heatmap::context_2d;
use super::super::shared::Shared;
use crate::playground::colors;
use wasm_bindgen::Clamped;
use web_sys::{HtmlCanvasElement, ImageData};
use yew::prelude::*;

/// How numbers become colours.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Scale {
    /// Values in [0, 1]: black to white, like MNIST.
    Grey,
    /// Black at the smallest value, white at the largest (a feature map).
    Stretched,
    /// Orange for negative, blue for positive, the largest magnitude at full colour (weights).
    Signed,
}

#[derive(Properties, PartialEq)]
pub struct ValueImageProps {
    /// Row-major `width x height` values.
    pub values: Shared<Vec<f32>>,
    pub width: usize,
    pub height: usize,
    pub scale: Scale,
    #[prop_or_default]
    pub class: Classes,
    /// What the image shows, as its tooltip and its name for a screen reader (none: the image
    /// is decoration beside words that say it, hidden from a screen reader).
    #[prop_or_default]
    pub title: Option<AttrValue>,
    #[prop_or_default]
    pub test_id: Option<AttrValue>,
    #[prop_or_default]
    pub onclick: Option<Callback<MouseEvent>>,
}

#[component]
pub fn ValueImage(props: &ValueImageProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        let deps = (props.values.clone(), props.width, props.height, props.scale);
        use_effect_with(deps, move |(values, width, height, scale)| {
            if let Some(canvas) = canvas.cast::<HtmlCanvasElement>() {
                paint(&canvas, values, *width, *height, *scale);
            }
        });
    }
    html! {
        <canvas ref={canvas} class={classes!("value-image", props.class.clone())}
            width={props.width.to_string()} height={props.height.to_string()}
            title={props.title.clone()} data-testid={props.test_id.clone()}
            role={props.title.is_some().then_some("img")} aria-label={props.title.clone()}
            aria-hidden={props.title.is_none().then_some("true")}
            onclick={props.onclick.clone()} />
    }
}

fn paint(canvas: &HtmlCanvasElement, values: &[f32], width: usize, height: usize, scale: Scale) {
    let Some(context) = context_2d(canvas) else {
        return;
    };
    if values.len() != width * height || values.is_empty() {
        return;
    }
    let mut rgba = Vec::with_capacity(values.len() * 4);
    let (low, high) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let largest = low.abs().max(high.abs()).max(1e-6);
    for &value in values {
        let rgb = match scale {
            Scale::Grey => grey(value),
            Scale::Stretched => grey((value - low) / (high - low).max(1e-6)),
            Scale::Signed => colors::rgb(value / largest),
        };
        rgba.extend_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
    }
    if let Ok(image) =
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), width as u32, height as u32)
    {
        let _ = context.put_image_data(&image, 0.0, 0.0);
    }
}

fn grey(value: f32) -> [u8; 3] {
    let level = (value.clamp(0.0, 1.0) * 255.0).round() as u8;
    [level; 3]
}

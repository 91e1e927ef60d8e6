//! A canvas that paints a square grid of values in [-1, 1] with the shared colour scale.

use super::shared::Shared;
use crate::playground::Snapshot;
use crate::playground::colors;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};
use yew::prelude::*;

/// Which grid of the snapshot a heatmap shows.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum HeatmapSource {
    /// The decision boundary at full resolution.
    Output,
    /// Neuron `neuron` of layer `layer` (layer 0 holds the input features).
    Neuron { layer: usize, neuron: usize },
}

#[derive(Properties, PartialEq)]
pub struct HeatmapProps {
    pub snapshot: Shared<Snapshot>,
    pub source: HeatmapSource,
    #[prop_or_default]
    pub discretize: bool,
    #[prop_or_default]
    pub class: Classes,
    #[prop_or_default]
    pub test_id: Option<AttrValue>,
    /// What the heatmap shows, in words, for a screen reader (none: hidden from it).
    #[prop_or_default]
    pub label: Option<AttrValue>,
}

#[component]
pub fn Heatmap(props: &HeatmapProps) -> Html {
    let canvas = use_node_ref();
    let (values, resolution) = match props.source {
        HeatmapSource::Output => (None, crate::playground::session::OUTPUT_RESOLUTION),
        HeatmapSource::Neuron { layer, neuron } => {
            (Some((layer, neuron)), Snapshot::thumbnail_resolution())
        }
    };
    {
        let canvas = canvas.clone();
        let deps = (props.snapshot.clone(), props.source, props.discretize);
        use_effect_with(deps, move |(snapshot, _, discretize)| {
            let grid = match values {
                None => Some(&snapshot.output_heatmap),
                Some((layer, neuron)) => snapshot
                    .neuron_heatmaps
                    .get(layer)
                    .and_then(|layer| layer.get(neuron)),
            };
            if let (Some(grid), Some(canvas)) = (grid, canvas.cast::<HtmlCanvasElement>()) {
                paint(&canvas, grid, resolution, *discretize);
            }
        });
    }
    html! {
        <canvas ref={canvas} class={props.class.clone()} width={resolution.to_string()}
            height={resolution.to_string()} data-testid={props.test_id.clone()}
            role={props.label.is_some().then_some("img")} aria-label={props.label.clone()}
            aria-hidden={props.label.is_none().then_some("true")} />
    }
}

/// Paints `values` (`resolution²`, row 0 at the top) into a canvas of that many pixels.
pub fn paint(canvas: &HtmlCanvasElement, values: &[f32], resolution: usize, discretize: bool) {
    thread_local! {
        static RGBA: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let Some(context) = context_2d(canvas) else {
        return;
    };
    RGBA.with_borrow_mut(|rgba| {
        colors::fill_rgba(values, discretize, rgba);
        let size = resolution as u32;
        if let Ok(image) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), size, size) {
            let _ = context.put_image_data(&image, 0.0, 0.0);
        }
    });
}

pub fn context_2d(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

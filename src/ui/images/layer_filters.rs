//! The weights of any layer as pictures, the layer chosen from a menu: a convolution's kernels
//! (a row per output channel, one small image per input channel), or each neuron of a dense layer
//! with its weights laid out like its input (a 28x28 digit, or a mosaic of the feature maps).

use super::super::shared::Shared;
use super::value_image::{Scale, ValueImage};
use crate::engine::{Sequential, Tensor};
use crate::playground::images::model_spec::shape_text;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// Output channels or neurons drawn at most (the rest are counted).
const MAX_ROWS: usize = 32;
/// Input channels drawn per kernel row at most.
const MAX_CHANNELS: usize = 16;

#[derive(Properties, PartialEq)]
pub struct LayerFiltersProps {
    pub model: Shared<Sequential>,
}

/// The layers that learn weights: `(index, title)`.
fn weighted_layers(model: &Sequential) -> Vec<(usize, String)> {
    model
        .summary()
        .iter()
        .enumerate()
        .filter(|(index, _)| model.layer_weights(*index).is_some())
        .map(|(index, summary)| {
            let shape = model
                .layer_weights(index)
                .map(|w| format!(" ({})", shape_text(w.shape())))
                .unwrap_or_default();
            (index, format!("{} {}{shape}", index + 1, summary.title))
        })
        .collect()
}

#[component]
pub fn LayerFilters(props: &LayerFiltersProps) -> Html {
    let layers = weighted_layers(&props.model);
    let chosen = use_state(|| None::<usize>);
    let Some(&(first, _)) = layers.first() else {
        return html! {};
    };
    // A choice that no longer exists (the network was rebuilt) falls back to the first layer.
    let index = chosen
        .filter(|c| layers.iter().any(|(i, _)| i == c))
        .unwrap_or(first);
    let on_choose = {
        let chosen = chosen.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            chosen.set(select.value().parse().ok());
        })
    };
    let weights = props
        .model
        .layer_weights(index)
        .expect("a layer from weighted_layers");
    let input_shape = input_layout(&props.model, index, weights.shape()[0]);
    let (rows, what) = match *weights.shape() {
        [_, _, _, _] => (
            kernel_rows(weights),
            "kernels: a row per output channel, an image per input channel",
        ),
        _ => (
            neuron_rows(weights, &input_shape),
            "each neuron's weights, laid out like its input",
        ),
    };
    let total_rows = weights.shape()[if weights.rank() == 4 { 0 } else { 1 }];
    html! {
        <div class="layer-maps filters" data-testid="layer-filters">
            <div class="layer-maps-title">
                {"Weights of layer "}
                <select onchange={on_choose} data-testid="filters-layer" aria-label="Layer whose weights are shown">
                    { for layers.iter().map(|(i, title)| html! {
                        <option value={i.to_string()} selected={*i == index}>{title.clone()}</option>
                    }) }
                </select>
                {format!(" — {what} (orange negative, blue positive)")}
            </div>
            <div class="filter-rows" data-testid="filter-rows">
                { for rows.into_iter().map(|row| html! {
                    <div class="layer-maps-images filter-row">
                        { for row.into_iter().map(|(values, width, height)| html! {
                            <ValueImage values={Shared::new(values)} {width} {height} scale={Scale::Signed} class="filter"
                                title={format!("{width}x{height} weights, orange negative, blue positive")} />
                        }) }
                    </div>
                }) }
                if total_rows > MAX_ROWS {
                    <span class="hint">{format!("… and {} more", total_rows - MAX_ROWS)}</span>
                }
            </div>
        </div>
    }
}

/// The shape to lay a dense layer's `inputs` weights out in: the feature maps `[c, h, w]` a
/// Flatten before it took apart, else the vector it reads.
fn input_layout(model: &Sequential, index: usize, inputs: usize) -> Vec<usize> {
    let summaries = model.summary();
    let input = model.config().input.to_vec();
    let outputs_before = (0..index).rev().map(|j| summaries[j].output_shape.clone());
    for shape in outputs_before.chain(std::iter::once(input)) {
        match shape.len() {
            3 if shape.iter().product::<usize>() == inputs => return shape,
            1 if shape[0] == inputs => continue,
            _ => break,
        }
    }
    vec![inputs]
}

/// One picture: row-major values, width, height.
type Picture = (Vec<f32>, usize, usize);

/// Kernels `[out, in, k, k]`: for each output channel, its k×k kernel on each input channel.
fn kernel_rows(weights: &Tensor) -> Vec<Vec<Picture>> {
    let &[out, inputs, k, _] = weights.shape() else {
        return Vec::new();
    };
    (0..out.min(MAX_ROWS))
        .map(|o| {
            (0..inputs.min(MAX_CHANNELS))
                .map(|i| {
                    let start = (o * inputs + i) * k * k;
                    (weights.data()[start..start + k * k].to_vec(), k, k)
                })
                .collect()
        })
        .collect()
}

/// Dense weights `[inputs, neurons]`: each neuron's column laid out like the layer's input,
/// feature maps `[c, h, w]` as a near-square mosaic of channels, a vector as a near-square grid.
fn neuron_rows(weights: &Tensor, input_shape: &[usize]) -> Vec<Vec<Picture>> {
    let &[inputs, neurons] = weights.shape() else {
        return Vec::new();
    };
    let column = |n: usize| (0..inputs).map(move |i| weights.data()[i * neurons + n]);
    let picture = |n: usize| -> Picture {
        match *input_shape {
            [channels, height, width] if channels * height * width == inputs => {
                // The channels as tiles of a near-square mosaic.
                let values: Vec<f32> = column(n).collect();
                let across = ((channels as f32).sqrt().ceil() as usize).max(1);
                let down = channels.div_ceil(across);
                let (mosaic_width, mosaic_height) = (across * width, down * height);
                let mut mosaic = vec![0.0; mosaic_width * mosaic_height];
                for (c, plane) in values.chunks_exact(height * width).enumerate() {
                    let (left, top) = ((c % across) * width, (c / across) * height);
                    for (y, row) in plane.chunks_exact(width).enumerate() {
                        let start = (top + y) * mosaic_width + left;
                        mosaic[start..start + width].copy_from_slice(row);
                    }
                }
                (mosaic, mosaic_width, mosaic_height)
            }
            _ => {
                let width = ((inputs as f32).sqrt().ceil() as usize).max(1);
                let height = inputs.div_ceil(width);
                let mut values: Vec<f32> = column(n).collect();
                values.resize(width * height, 0.0);
                (values, width, height)
            }
        }
    };
    // Several neurons per row: the pictures are small.
    let per_row = 8;
    let shown: Vec<Picture> = (0..neurons.min(MAX_ROWS)).map(picture).collect();
    shown.chunks(per_row).map(<[Picture]>::to_vec).collect()
}

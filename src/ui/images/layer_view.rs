//! What the network makes of one digit: the digit, then every layer's output (feature maps of
//! a convolution or pooling, the activations of a dense layer as a grid), and the weights of
//! the layer chosen in [`LayerFilters`].

use super::super::shared::Shared;
use super::layer_filters::LayerFilters;
use super::value_image::{Scale, ValueImage};
use crate::data::digits::SIDE;
use crate::engine::{Sequential, Tensor};
use crate::playground::images::model_spec::shape_text;
use yew::prelude::*;

/// Feature maps or neurons drawn per layer at most (the rest are counted).
const MAX_MAPS: usize = 32;

#[derive(Properties, PartialEq)]
pub struct LayerViewProps {
    pub model: Shared<Sequential>,
    /// The inspected digit, 784 values in [0, 1].
    pub image: Shared<Vec<f32>>,
    /// `model.layer_outputs(image)`.
    pub outputs: Shared<Vec<Tensor>>,
    pub caption: AttrValue,
}

#[component]
pub fn LayerView(props: &LayerViewProps) -> Html {
    let summaries = props.model.summary();
    let layers = props.outputs.iter().zip(summaries).enumerate().map(|(index, (output, summary))| {
        let shape = &summary.output_shape;
        let maps = match *shape.as_slice() {
            [channels, height, width] => (0..channels.min(MAX_MAPS)).map(|c| {
                let area = height * width;
                let values = output.data()[c * area..(c + 1) * area].to_vec();
                html! { <ValueImage values={Shared::new(values)} width={width} height={height}
                    scale={Scale::Stretched} class="feature-map" title={format!("map {} of layer {} ({width}x{height}, brighter is larger)", c + 1, index + 1)} /> }
            }).collect::<Html>(),
            [neurons] => {
                let columns = grid_columns(neurons);
                let rows = neurons.div_ceil(columns);
                let mut values = output.data().to_vec();
                values.resize(rows * columns, 0.0);
                html! { <ValueImage values={Shared::new(values)} width={columns} height={rows}
                    scale={Scale::Stretched} class="neuron-grid" title={format!("layer {}: {neurons} values, one cell each, brighter is larger", index + 1)} /> }
            }
            _ => html! {},
        };
        let hidden = match *shape.as_slice() {
            [channels, _, _] if channels > MAX_MAPS => Some(format!("… and {} more", channels - MAX_MAPS)),
            _ => None,
        };
        html! {
            <div class="layer-maps" data-testid={format!("layer-maps-{index}")}>
                <div class="layer-maps-title">{format!("{} {}: {}", index + 1, summary.title, shape_text(shape))}</div>
                <div class="layer-maps-images">{maps}
                    if let Some(hidden) = hidden { <span class="hint">{hidden}</span> }
                </div>
            </div>
        }
    }).collect::<Html>();
    html! {
        <div class="layer-view" data-testid="layer-view">
            <div class="layer-maps">
                <div class="layer-maps-title">{props.caption.clone()}</div>
                <ValueImage values={props.image.clone()} width={SIDE} height={SIDE} scale={Scale::Grey} class="feature-map"
                    title={format!("{}, as the network reads it ({SIDE}x{SIDE} grey levels)", props.caption)} />
            </div>
            {layers}
            <LayerFilters model={props.model.clone()} />
        </div>
    }
}

/// Columns of the grid that shows `n` activations: close to square, at most 32 wide.
fn grid_columns(n: usize) -> usize {
    ((n as f32).sqrt().ceil() as usize).clamp(1, 32)
}

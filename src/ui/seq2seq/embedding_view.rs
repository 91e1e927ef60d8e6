//! The learned token embeddings as two maps (input tokens, output tokens), each token a
//! labelled point on its table's two principal components, with the share of the spread the
//! map shows. Tokens the network treats alike end up close together.

use crate::data::translation::TranslationTask;
use crate::playground::sequences::decoding::{input_token_name, output_token_name};
use crate::playground::sequences::embedding_map::Projection;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct EmbeddingViewProps {
    pub source: Projection,
    pub target: Projection,
    pub task: TranslationTask,
}

const SIZE: f32 = 200.0;
const MARGIN: f32 = 16.0;

/// One table's map: its points scaled to fit, each labelled with its token.
fn map(title: &str, projection: &Projection, names: &[String], id: &str) -> Html {
    let reach = projection
        .points
        .iter()
        .flat_map(|p| [p[0].abs(), p[1].abs()])
        .fold(1e-6f32, f32::max);
    let scale = (SIZE / 2.0 - MARGIN) / reach;
    let place = |p: [f32; 2]| (SIZE / 2.0 + p[0] * scale, SIZE / 2.0 - p[1] * scale);
    let listed: Vec<String> = projection
        .points
        .iter()
        .zip(names)
        .map(|(p, name)| format!("{name} at ({:.2}, {:.2})", p[0], p[1]))
        .collect();
    let label = format!(
        "{title}: {}; the map shows {:.0}% of their spread",
        listed.join(", "),
        100.0 * projection.explained
    );
    html! {
        <figure class="embedding-map" data-testid={id.to_string()}>
            <svg viewBox={format!("0 0 {SIZE} {SIZE}")} role="img" aria-label={label}>
                <line x1="0" y1={(SIZE / 2.0).to_string()} x2={SIZE.to_string()} y2={(SIZE / 2.0).to_string()} class="axis" />
                <line x1={(SIZE / 2.0).to_string()} y1="0" x2={(SIZE / 2.0).to_string()} y2={SIZE.to_string()} class="axis" />
                { for projection.points.iter().zip(names).map(|(&p, name)| {
                    let (x, y) = place(p);
                    html! {
                        <g>
                            <circle cx={format!("{x:.1}")} cy={format!("{y:.1}")} r="3" />
                            <text x={format!("{:.1}", x + 4.0)} y={format!("{:.1}", y - 4.0)}>{name}</text>
                        </g>
                    }
                }) }
            </svg>
            <figcaption>{format!("{title} ({:.0}% of the spread shown)", 100.0 * projection.explained)}</figcaption>
        </figure>
    }
}

#[component]
pub fn EmbeddingView(props: &EmbeddingViewProps) -> Html {
    let task = props.task;
    let inputs: Vec<String> = (0..props.source.points.len())
        .map(|token| input_token_name(task, token))
        .collect();
    let outputs: Vec<String> = (0..props.target.points.len())
        .map(|token| output_token_name(task, token))
        .collect();
    html! {
        <div class="embedding-maps">
            {map("input tokens", &props.source, &inputs, "embedding-source")}
            {map("output tokens", &props.target, &outputs, "embedding-target")}
        </div>
    }
}

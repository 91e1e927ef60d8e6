//! The stepper's layer-by-layer mode for large networks: the steps of every neuron of a layer
//! that compute the same thing are merged into one step about the whole layer.

use super::{Focus, Phase, Step, StepKind};

/// The layer a step is about (inputs are layer 0; the loss belongs to no layer).
fn layer_of(focus: Focus) -> Option<usize> {
    match focus {
        Focus::Incoming { layer, .. }
        | Focus::Neuron { layer, .. }
        | Focus::Outgoing { layer, .. }
        | Focus::Layer { layer } => Some(layer),
        Focus::Loss => None,
    }
}

/// Merges the per-neuron steps into one step per (phase, kind, layer), in order of first
/// appearance, keeping every equation.
pub fn by_layer(steps: &[Step]) -> Vec<Step> {
    let mut merged: Vec<Step> = Vec::new();
    let mut keys: Vec<(Phase, StepKind, Option<usize>)> = Vec::new();
    for step in steps {
        let layer = layer_of(step.focus);
        let key = (step.phase, step.kind, layer);
        match keys.iter().position(|k| *k == key) {
            Some(index) => merged[index]
                .substituted
                .extend(step.substituted.iter().cloned()),
            None => {
                keys.push(key);
                let mut first = step.clone();
                if let Some(layer) = layer {
                    first.focus = Focus::Layer { layer };
                    first.title = layer_title(step.kind, layer);
                }
                merged.push(first);
            }
        }
    }
    merged
}

fn layer_title(kind: StepKind, layer: usize) -> String {
    let what = match kind {
        StepKind::WeightedSum => "Weighted sums",
        StepKind::Activation => "Activations",
        StepKind::Loss => "The loss",
        StepKind::OutputGradient => "Gradients of the loss at the outputs",
        StepKind::LocalDerivative => "Local derivatives",
        StepKind::Delta => "δ of every neuron",
        StepKind::ParameterGradients => "Gradients of the weights",
        StepKind::Update => "Updates of the weights",
    };
    format!("{what} of layer {layer}")
}

//! Batch normalisation: each feature of a vector (BatchNorm1d) or each channel of feature maps
//! (BatchNorm2d) normalised to mean 0 and variance 1 over the batch, then scaled and shifted by
//! a learned γ and β; evaluation uses running statistics kept from training (the engine's
//! [`BatchNorm`] records it).

use serde::{Deserialize, Serialize};

use super::{Initialising, LayerKind, RecordingFor, op_output};
use crate::engine::batch_norm::BatchNorm;
use crate::engine::error::EngineError;
use crate::engine::model_tape::LayerNodes;
use crate::engine::ops::{NormStatistics, Op};
use crate::engine::params::Params;
use crate::engine::tape::{NodeId, Tape};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchNormLayer;

impl LayerKind for BatchNormLayer {
    type Built = BatchNorm;
    const KEY: &'static str = "batch_norm";
    const TITLE: &'static str = "Batch norm";

    fn first() -> BatchNormLayer {
        BatchNormLayer
    }

    fn output(&self, shape: &[usize]) -> Result<(Vec<usize>, usize), EngineError> {
        // γ and β per feature; the op's own shape rule refuses anything but vectors and
        // feature maps.
        let features = shape.get(1).copied().unwrap_or(0);
        let per_feature = [features];
        let shapes: [&[usize]; 3] = [shape, &per_feature, &per_feature];
        let out = op_output(Op::BatchNorm(NormStatistics::Batch), &shapes)?;
        Ok((out, 2 * features))
    }

    fn summary_name(&self, shape: &[usize]) -> &'static str {
        match shape.len() {
            2 => "batch_norm1d",
            _ => "batch_norm2d",
        }
    }

    fn summary_title(&self, shape: &[usize]) -> &'static str {
        match shape.len() {
            2 => "Batch norm (features)",
            _ => "Batch norm (channels)",
        }
    }

    fn note(&self) -> Option<&'static str> {
        Some("γ, β learned; running mean and variance at test time")
    }

    /// A running mean and variance per feature: as many as γ and β.
    fn running_statistics(&self, parameters: usize) -> usize {
        parameters
    }

    fn init(
        &self,
        in_shape: &[usize],
        init: &mut Initialising<'_>,
    ) -> Result<BatchNorm, EngineError> {
        Ok(BatchNorm::init(in_shape[0], init.params))
    }

    fn record(
        built: &BatchNorm,
        tape: &mut Tape,
        params: &Params,
        x: NodeId,
        recording: RecordingFor,
    ) -> Result<LayerNodes, EngineError> {
        let recorded = built.record(tape, params, x, recording.mode)?;
        Ok(LayerNodes::BatchNorm(recorded))
    }

    fn token(&self) -> String {
        "bn".to_string()
    }

    fn from_token(token: &str) -> Option<BatchNormLayer> {
        (token == "bn").then_some(BatchNormLayer)
    }
}

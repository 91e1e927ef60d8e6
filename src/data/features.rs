//! The input features a learner can switch on: X1, X2, their squares, product and sines.

use super::Point;
use crate::engine::{EngineError, Tensor};

/// One input neuron of the playground's network, computed from a point's coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Feature {
    X1,
    X2,
    X1Squared,
    X2Squared,
    X1TimesX2,
    SinX1,
    SinX2,
}

impl Feature {
    pub const ALL: [Feature; 7] = [
        Feature::X1,
        Feature::X2,
        Feature::X1Squared,
        Feature::X2Squared,
        Feature::X1TimesX2,
        Feature::SinX1,
        Feature::SinX2,
    ];

    /// The feature's value at a point of the plane.
    pub fn value(self, x: f32, y: f32) -> f32 {
        match self {
            Feature::X1 => x,
            Feature::X2 => y,
            Feature::X1Squared => x * x,
            Feature::X2Squared => y * y,
            Feature::X1TimesX2 => x * y,
            Feature::SinX1 => x.sin(),
            Feature::SinX2 => y.sin(),
        }
    }

    /// The label drawn beside the input neuron.
    pub fn label(self) -> &'static str {
        match self {
            Feature::X1 => "X₁",
            Feature::X2 => "X₂",
            Feature::X1Squared => "X₁²",
            Feature::X2Squared => "X₂²",
            Feature::X1TimesX2 => "X₁X₂",
            Feature::SinX1 => "sin(X₁)",
            Feature::SinX2 => "sin(X₂)",
        }
    }

    /// The short name used in the URL.
    pub fn key(self) -> &'static str {
        match self {
            Feature::X1 => "x",
            Feature::X2 => "y",
            Feature::X1Squared => "xSquared",
            Feature::X2Squared => "ySquared",
            Feature::X1TimesX2 => "xTimesY",
            Feature::SinX1 => "sinX",
            Feature::SinX2 => "sinY",
        }
    }

    pub fn from_key(key: &str) -> Option<Feature> {
        Feature::ALL
            .into_iter()
            .find(|feature| feature.key() == key)
    }
}

/// Fills `out` with one row per coordinate pair and one column per feature.
///
/// `out` is resized in place, so calling this every frame with the same sizes never allocates.
pub fn features_into(
    coordinates: impl ExactSizeIterator<Item = (f32, f32)>,
    features: &[Feature],
    out: &mut Tensor,
) -> Result<(), EngineError> {
    if features.is_empty() {
        return Err(EngineError::InvalidConfig(
            "the network has no inputs: switch on at least one feature".into(),
        ));
    }
    out.resize(&[coordinates.len(), features.len()]);
    let data = out.data_mut();
    for (row, (x, y)) in coordinates.enumerate() {
        let cells = &mut data[row * features.len()..(row + 1) * features.len()];
        for (cell, feature) in cells.iter_mut().zip(features) {
            *cell = feature.value(x, y);
        }
    }
    Ok(())
}

/// The input matrix for a set of points.
pub fn features_to_tensor(points: &[Point], features: &[Feature]) -> Result<Tensor, EngineError> {
    let mut out = Tensor::zeros(&[0, features.len()]);
    features_into(points.iter().map(|p| (p.x, p.y)), features, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_computed_per_point_in_column_order() {
        let points = [Point::new(2.0, 3.0, 0.0)];
        let features = [Feature::X1TimesX2, Feature::X1Squared, Feature::X2];
        let tensor = features_to_tensor(&points, &features).unwrap();
        assert_eq!(tensor.shape(), &[1, 3]);
        assert_eq!(tensor.data(), &[6.0, 4.0, 3.0]);
    }

    #[test]
    fn no_feature_is_refused_with_a_reason() {
        let error = features_to_tensor(&[Point::new(0.0, 0.0, 0.0)], &[]).unwrap_err();
        assert!(error.to_string().contains("at least one feature"));
    }

    #[test]
    fn keys_round_trip() {
        for feature in Feature::ALL {
            assert_eq!(Feature::from_key(feature.key()), Some(feature));
        }
    }
}

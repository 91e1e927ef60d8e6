//! A labelled 2-D point, and turning labels into the targets the engine trains on.

use crate::engine::{EngineError, Tensor};

/// One example of a 2-D data set.
///
/// For classification `label` is 0.0 or 1.0 (the two classes); for regression it is the target
/// value in [-1, 1].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
    pub label: f32,
}

impl Point {
    pub fn new(x: f32, y: f32, label: f32) -> Self {
        Point { x, y, label }
    }
}

/// Targets for the engine: one column holding the label, or a one-hot pair of columns when the
/// model has two outputs (softmax cross-entropy).
pub fn points_to_targets(points: &[Point], outputs: usize) -> Result<Tensor, EngineError> {
    let mut data = Vec::with_capacity(points.len() * outputs);
    for point in points {
        if outputs == 1 {
            data.push(point.label);
        } else {
            let class = if point.label > 0.5 { 1 } else { 0 };
            data.extend((0..outputs).map(|k| if k == class { 1.0 } else { 0.0 }));
        }
    }
    Tensor::from_vec(&[points.len(), outputs], data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hot_targets_put_the_class_in_its_column() {
        let points = [Point::new(0.0, 0.0, 1.0), Point::new(0.0, 0.0, 0.0)];
        let targets = points_to_targets(&points, 2).unwrap();
        assert_eq!(targets.shape(), &[2, 2]);
        assert_eq!(targets.data(), &[0.0, 1.0, 1.0, 0.0]);
        let single = points_to_targets(&points, 1).unwrap();
        assert_eq!(single.data(), &[1.0, 0.0]);
    }
}

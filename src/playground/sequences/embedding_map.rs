//! The learned token embeddings of an encoder-decoder, flattened to two dimensions for a map:
//! each table's rows projected on its two principal components (the directions in which the
//! embeddings differ most), with the share of their spread that the map shows.

use crate::engine::{LayerConfig, Sequential, Tensor};

/// One table's tokens on a plane.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// One point per token, in table order.
    pub points: Vec<[f32; 2]>,
    /// Share of the embeddings' variance along the two axes, in `[0, 1]`.
    pub explained: f32,
}

/// The input and output tokens' maps of an encoder-decoder `network`, or `None` for another.
pub fn embedding_maps(network: &Sequential) -> Option<(Projection, Projection)> {
    let Some(LayerConfig::Seq2Seq(_)) = network.config().layers.first() else {
        return None;
    };
    // The layer's parameters start with its two tables (`engine::layers::seq2seq`).
    let mut ids = network.params().ids();
    let (source, target) = (ids.next()?, ids.next()?);
    let params = network.params();
    Some((project(params.value(source)), project(params.value(target))))
}

/// The rows of `table` (`[tokens, values]`) on their first two principal components.
pub fn project(table: &Tensor) -> Projection {
    let [rows, columns] = *table.shape() else {
        return Projection {
            points: Vec::new(),
            explained: 0.0,
        };
    };
    let data: Vec<f64> = table.data().iter().map(|&v| f64::from(v)).collect();
    // Centred rows, and their Gram matrix (tokens are few, values may be many).
    let mut centred = data.clone();
    for column in 0..columns {
        let mean = (0..rows).map(|r| data[r * columns + column]).sum::<f64>() / rows as f64;
        for r in 0..rows {
            centred[r * columns + column] -= mean;
        }
    }
    let row = |r: usize| &centred[r * columns..(r + 1) * columns];
    let mut gram = vec![0.0f64; rows * rows];
    for a in 0..rows {
        for b in 0..rows {
            gram[a * rows + b] = row(a).iter().zip(row(b)).map(|(x, y)| x * y).sum();
        }
    }
    let total: f64 = (0..rows).map(|r| gram[r * rows + r]).sum();
    let mut points = vec![[0.0f32; 2]; rows];
    let mut shown = 0.0;
    for axis in 0..2 {
        let (value, vector) = leading_eigenvector(&gram, rows);
        if value <= 1e-12 * total.max(1e-30) {
            break;
        }
        shown += value;
        // A token's coordinate on the component is √λ times its entry of the eigenvector.
        for (point, &entry) in points.iter_mut().zip(&vector) {
            point[axis] = (value.sqrt() * entry) as f32;
        }
        // Deflate, so that the next power iteration finds the next component.
        for a in 0..rows {
            for b in 0..rows {
                gram[a * rows + b] -= value * vector[a] * vector[b];
            }
        }
    }
    Projection {
        points,
        explained: match total > 0.0 {
            true => (shown / total).clamp(0.0, 1.0) as f32,
            false => 0.0,
        },
    }
}

/// The largest eigenvalue of the symmetric positive semi-definite `matrix` (`n × n`) and its
/// unit eigenvector, by power iteration from a fixed start (the sign made deterministic:
/// the largest entry positive).
fn leading_eigenvector(matrix: &[f64], n: usize) -> (f64, Vec<f64>) {
    let mut vector: Vec<f64> = (0..n).map(|i| 1.0 + 0.1 * i as f64).collect();
    let mut value = 0.0;
    for _ in 0..500 {
        let next: Vec<f64> = (0..n)
            .map(|a| (0..n).map(|b| matrix[a * n + b] * vector[b]).sum())
            .collect();
        let norm = next.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            return (0.0, vector);
        }
        let converged = next
            .iter()
            .zip(&vector)
            .all(|(a, b)| (a / norm - b).abs() < 1e-12);
        vector = next.into_iter().map(|v| v / norm).collect();
        value = norm;
        if converged {
            break;
        }
    }
    let largest = vector.iter().copied().fold(
        0.0f64,
        |best, v| if v.abs() > best.abs() { v } else { best },
    );
    if largest < 0.0 {
        vector.iter_mut().for_each(|v| *v = -*v);
    }
    (value, vector)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_on_a_line_project_onto_the_first_axis_with_their_distances_kept() {
        // Four tokens along (1, 2, 2) / 3, at -3, -1, 1, 3: all the spread on one axis.
        let table: Vec<f32> = [-3.0f32, -1.0, 1.0, 3.0]
            .iter()
            .flat_map(|&t| [t / 3.0, 2.0 * t / 3.0, 2.0 * t / 3.0])
            .collect();
        let projection = project(&Tensor::from_vec(&[4, 3], table).unwrap());
        assert!((projection.explained - 1.0).abs() < 1e-6);
        let xs: Vec<f32> = projection.points.iter().map(|p| p[0]).collect();
        for (x, expected) in xs.iter().zip([-3.0, -1.0, 1.0, 3.0]) {
            assert!((x.abs() - f32::abs(expected)).abs() < 1e-4, "{xs:?}");
        }
        assert!((xs[3] - xs[0]).abs() > 5.9);
        assert!(projection.points.iter().all(|p| p[1].abs() < 1e-4));
    }

    #[test]
    fn the_two_axes_are_the_two_largest_spreads() {
        // Spread 4 along x, 2 along y, 0.5 along z: the map shows x and y, 20 of 20.25 units.
        let table = vec![
            2.0, 0.0, 0.0, -2.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0,
            -0.5,
        ];
        let projection = project(&Tensor::from_vec(&[6, 3], table).unwrap());
        let expected = (8.0 + 2.0) / (8.0 + 2.0 + 0.5);
        assert!(
            (projection.explained - expected).abs() < 1e-5,
            "{}",
            projection.explained
        );
        assert!((projection.points[0][0].abs() - 2.0).abs() < 1e-4);
        assert!((projection.points[2][1].abs() - 1.0).abs() < 1e-4);
        assert!(projection.points[4][0].abs() < 1e-4 && projection.points[4][1].abs() < 1e-4);
    }

    #[test]
    fn identical_tokens_map_to_the_origin() {
        let projection = project(&Tensor::from_vec(&[3, 2], vec![1.0; 6]).unwrap());
        assert_eq!(projection.points, vec![[0.0, 0.0]; 3]);
        assert_eq!(projection.explained, 0.0);
    }
}

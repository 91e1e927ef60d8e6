//! The regular grid over the plane on which heatmaps are evaluated.

use crate::data::generators::DOMAIN;
use crate::data::{Feature, features::features_into};
use crate::engine::{EngineError, Tensor};

/// `resolution × resolution` cell centres covering [-DOMAIN, DOMAIN]², row 0 at the top (largest
/// y), with the network's input features computed for each.
pub struct Grid {
    pub resolution: usize,
    pub inputs: Tensor,
}

impl Grid {
    pub fn new(resolution: usize, features: &[Feature]) -> Result<Grid, EngineError> {
        let mut inputs = Tensor::zeros(&[0, features.len()]);
        let cells = (0..resolution * resolution).map(|index| {
            let (row, column) = (index / resolution, index % resolution);
            (coordinate(column, resolution), -coordinate(row, resolution))
        });
        features_into(cells, features, &mut inputs)?;
        Ok(Grid { resolution, inputs })
    }

    /// The plane coordinates of a pixel of a `size`-wide square view (for clicks on the plot).
    pub fn plane_point(pixel_x: f32, pixel_y: f32, size: f32) -> (f32, f32) {
        let to_plane = |pixel: f32| (pixel / size * 2.0 - 1.0) * DOMAIN;
        (to_plane(pixel_x), -to_plane(pixel_y))
    }
}

/// The centre of cell `index` along one axis.
fn coordinate(index: usize, resolution: usize) -> f32 {
    ((index as f32 + 0.5) / resolution as f32 * 2.0 - 1.0) * DOMAIN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_covers_the_plane_from_top_left() {
        let grid = Grid::new(4, &[Feature::X1, Feature::X2]).unwrap();
        assert_eq!(grid.inputs.shape(), &[16, 2]);
        let first = (grid.inputs.get(0, 0), grid.inputs.get(0, 1));
        let last = (grid.inputs.get(15, 0), grid.inputs.get(15, 1));
        assert_eq!(first, (-4.5, 4.5));
        assert_eq!(last, (4.5, -4.5));
    }

    #[test]
    fn a_click_maps_back_to_the_plane() {
        assert_eq!(Grid::plane_point(0.0, 0.0, 300.0), (-6.0, 6.0));
        assert_eq!(Grid::plane_point(150.0, 150.0, 300.0), (0.0, 0.0));
    }
}

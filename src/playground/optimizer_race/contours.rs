//! Contour lines of a grid of values by marching squares: for each level, the line segments
//! where the linearly interpolated grid crosses it.

/// A segment between two points in grid coordinates (`[column, row]`, fractional).
pub type Segment = [[f32; 2]; 2];

/// `count` levels evenly spaced strictly between the lowest and highest value of `values`.
pub fn even_levels(values: &[f32], count: usize) -> Vec<f32> {
    let (low, high) = values
        .iter()
        .filter(|value| value.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(low, high), &value| {
            (low.min(value), high.max(value))
        });
    if low >= high {
        return Vec::new();
    }
    (1..=count)
        .map(|index| low + (high - low) * index as f32 / (count + 1) as f32)
        .collect()
}

/// The segments of the `level` contour of a `columns × rows` grid (row-major).
pub fn contour_segments(values: &[f32], columns: usize, rows: usize, level: f32) -> Vec<Segment> {
    let mut segments = Vec::new();
    if columns < 2 || rows < 2 || values.len() < columns * rows {
        return segments;
    }
    let at = |column: usize, row: usize| values[row * columns + column];
    for row in 0..rows - 1 {
        for column in 0..columns - 1 {
            // Corners clockwise from the top left, and the edges between them.
            let corners = [
                ([column as f32, row as f32], at(column, row)),
                ([column as f32 + 1.0, row as f32], at(column + 1, row)),
                (
                    [column as f32 + 1.0, row as f32 + 1.0],
                    at(column + 1, row + 1),
                ),
                ([column as f32, row as f32 + 1.0], at(column, row + 1)),
            ];
            let crossing = |edge: usize| {
                let (a, value_a) = corners[edge];
                let (b, value_b) = corners[(edge + 1) % 4];
                let above_a = value_a > level;
                if above_a == (value_b > level) {
                    return None;
                }
                let t = (level - value_a) / (value_b - value_a);
                Some([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])])
            };
            let points: Vec<[f32; 2]> = (0..4).filter_map(crossing).collect();
            // Two crossings: one segment. Four (a saddle cell): pair neighbouring edges; either
            // pairing is a faithful reading of a cell this small.
            match points.as_slice() {
                [a, b] => segments.push([*a, *b]),
                [a, b, c, d] => {
                    segments.push([*a, *b]);
                    segments.push([*c, *d]);
                }
                _ => {}
            }
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_circle_contour_stays_at_its_radius() {
        let size = 41;
        let centre = 20.0;
        let values: Vec<f32> = (0..size * size)
            .map(|index| {
                let (row, column) = ((index / size) as f32, (index % size) as f32);
                ((column - centre).powi(2) + (row - centre).powi(2)).sqrt()
            })
            .collect();
        let segments = contour_segments(&values, size, size, 10.0);
        assert!(segments.len() > 40, "only {} segments", segments.len());
        for point in segments.iter().flatten() {
            let radius = ((point[0] - centre).powi(2) + (point[1] - centre).powi(2)).sqrt();
            assert!(
                (radius - 10.0).abs() < 0.1,
                "point {point:?} at radius {radius}"
            );
        }
    }

    #[test]
    fn a_flat_grid_has_no_contours_or_levels() {
        let values = vec![1.0; 9];
        assert!(contour_segments(&values, 3, 3, 1.0).is_empty());
        assert!(even_levels(&values, 5).is_empty());
    }

    #[test]
    fn levels_lie_strictly_inside_the_range() {
        let levels = even_levels(&[0.0, 10.0, 5.0], 4);
        assert_eq!(levels, vec![2.0, 4.0, 6.0, 8.0]);
    }
}

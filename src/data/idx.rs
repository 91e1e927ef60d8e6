//! IDX files, the format of MNIST, Fashion-MNIST and KMNIST: `*-idx3-ubyte` images and
//! `*-idx1-ubyte` labels, plain or gzipped, parsed from bytes with a learner-readable error for
//! every way a file can be wrong.
//!
//! Layout (all integers big-endian): a 4-byte magic number (`0x00000803` for images: unsigned
//! bytes, 3 dimensions; `0x00000801` for labels: unsigned bytes, 1 dimension), one 4-byte size
//! per dimension (count, then rows and columns for images), then the bytes, row-major.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::path::Path;

/// Magic number of an image file: unsigned bytes (0x08), three dimensions (0x03).
pub const IMAGE_MAGIC: u32 = 0x0000_0803;
/// Magic number of a label file: unsigned bytes (0x08), one dimension (0x01).
pub const LABEL_MAGIC: u32 = 0x0000_0801;

/// Grey-scale images, one after another, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Images {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    /// `count · rows · cols` bytes (0 black to 255 white), image after image, as in the file:
    /// the full MNIST's 47 million pixels stay 47 MB rather than 188 as floats.
    pub pixels: Vec<u8>,
}

impl Images {
    /// The pixels of image `index`.
    pub fn image(&self, index: usize) -> &[u8] {
        let size = self.rows * self.cols;
        &self.pixels[index * size..(index + 1) * size]
    }

    /// Image `index` as intensities in [0, 1] (byte / 255).
    pub fn intensities(&self, index: usize) -> Vec<f32> {
        self.image(index)
            .iter()
            .map(|&b| f32::from(b) / 255.0)
            .collect()
    }
}

/// Why an IDX file could not be read. The `Display` text is meant for the user as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdxError {
    /// The first four bytes are not the magic number of the expected kind of file.
    WrongMagic {
        /// "image" or "label".
        kind: &'static str,
        found: u32,
        expected: u32,
    },
    /// The file is shorter than its header says (or than a header).
    Truncated { length: usize, promised: usize },
    /// Gzipped data that cannot be unzipped.
    BadGzip(String),
    /// An image file and a label file that do not describe the same examples.
    CountMismatch { images: usize, labels: usize },
    /// Images of another size than the one required.
    WrongSize {
        rows: usize,
        cols: usize,
        expected_rows: usize,
        expected_cols: usize,
    },
    /// A label that is not a digit class.
    LabelOutOfRange { index: usize, label: u8 },
    /// The file could not be read from disk.
    Io(String),
}

impl fmt::Display for IdxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdxError::WrongMagic {
                kind,
                found,
                expected,
            } => {
                write!(
                    f,
                    "this is not an IDX {kind} file: its magic number is {found:#010x} \
                     (expected {expected:#010x})"
                )?;
                match *found {
                    IMAGE_MAGIC => f.write_str("; it looks like an image file"),
                    LABEL_MAGIC => f.write_str("; it looks like a label file"),
                    _ => Ok(()),
                }
            }
            IdxError::Truncated { length, promised } => write!(
                f,
                "the file ends after {length} bytes but its header promises {promised}"
            ),
            IdxError::BadGzip(why) => write!(f, "the gzipped file cannot be unzipped: {why}"),
            IdxError::CountMismatch { images, labels } => write!(
                f,
                "the image file holds {images} images but the label file holds {labels} labels: \
                 they do not belong together"
            ),
            IdxError::WrongSize {
                rows,
                cols,
                expected_rows,
                expected_cols,
            } => write!(
                f,
                "the images are {rows}x{cols} pixels, but {expected_rows}x{expected_cols} \
                 images are needed"
            ),
            IdxError::LabelOutOfRange { index, label } => write!(
                f,
                "label {index} is {label}, but labels must be digit classes from 0 to 9"
            ),
            IdxError::Io(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for IdxError {}

/// The bytes themselves, or their unzipped content when they start with the gzip signature.
pub fn unzip_if_gzipped(bytes: &[u8]) -> Result<Cow<'_, [u8]>, IdxError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut unzipped)
        .map_err(|e| IdxError::BadGzip(e.to_string()))?;
    Ok(Cow::Owned(unzipped))
}

/// The big-endian integers of a header of `dimensions` sizes, after checking the magic number
/// and that the file holds every byte the sizes promise.
fn header(
    bytes: &[u8],
    kind: &'static str,
    expected: u32,
    dimensions: usize,
) -> Result<Vec<usize>, IdxError> {
    let header_len = 4 + 4 * dimensions;
    let word = |i: usize| u32::from_be_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    if bytes.len() < 4 {
        return Err(IdxError::Truncated {
            length: bytes.len(),
            promised: header_len,
        });
    }
    if word(0) != expected {
        return Err(IdxError::WrongMagic {
            kind,
            found: word(0),
            expected,
        });
    }
    if bytes.len() < header_len {
        return Err(IdxError::Truncated {
            length: bytes.len(),
            promised: header_len,
        });
    }
    let sizes: Vec<usize> = (1..=dimensions).map(|i| word(i) as usize).collect();
    let promised = sizes
        .iter()
        .try_fold(1usize, |n, &size| n.checked_mul(size))
        .and_then(|data| data.checked_add(header_len))
        .unwrap_or(usize::MAX);
    if bytes.len() < promised {
        return Err(IdxError::Truncated {
            length: bytes.len(),
            promised,
        });
    }
    Ok(sizes)
}

/// An IDX file of unsigned bytes shaped `sizes` (`[count, rows, cols]` for images, `[count]`
/// for labels), uncompressed; `bytes` holds their product of values, row-major.
pub fn write_idx(sizes: &[usize], bytes: &[u8]) -> Vec<u8> {
    debug_assert_eq!(sizes.iter().product::<usize>(), bytes.len());
    let magic = 0x0000_0800 | sizes.len() as u32;
    let mut file = Vec::with_capacity(4 + 4 * sizes.len() + bytes.len());
    file.extend(magic.to_be_bytes());
    for &size in sizes {
        file.extend((size as u32).to_be_bytes());
    }
    file.extend_from_slice(bytes);
    file
}

/// Parses an image file (`*-idx3-ubyte`, gzipped or not).
pub fn parse_images(bytes: &[u8]) -> Result<Images, IdxError> {
    let bytes = unzip_if_gzipped(bytes)?;
    let sizes = header(&bytes, "image", IMAGE_MAGIC, 3)?;
    let (count, rows, cols) = (sizes[0], sizes[1], sizes[2]);
    let pixels = bytes[16..16 + count * rows * cols].to_vec();
    Ok(Images {
        count,
        rows,
        cols,
        pixels,
    })
}

/// Parses a label file (`*-idx1-ubyte`, gzipped or not) whose labels are digit classes 0 to 9.
pub fn parse_labels(bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    let bytes = unzip_if_gzipped(bytes)?;
    let count = header(&bytes, "label", LABEL_MAGIC, 1)?[0];
    let labels = bytes[8..8 + count].to_vec();
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l > 9) {
        return Err(IdxError::LabelOutOfRange { index, label });
    }
    Ok(labels)
}

/// Parses a matching pair of files: as many labels as images, and images of `size` (rows,
/// columns) when one is required.
pub fn parse_pair(
    image_bytes: &[u8],
    label_bytes: &[u8],
    size: Option<(usize, usize)>,
) -> Result<(Images, Vec<u8>), IdxError> {
    let images = parse_images(image_bytes)?;
    if let Some((expected_rows, expected_cols)) = size
        && (images.rows, images.cols) != (expected_rows, expected_cols)
    {
        return Err(IdxError::WrongSize {
            rows: images.rows,
            cols: images.cols,
            expected_rows,
            expected_cols,
        });
    }
    let labels = parse_labels(label_bytes)?;
    if labels.len() != images.count {
        return Err(IdxError::CountMismatch {
            images: images.count,
            labels: labels.len(),
        });
    }
    Ok((images, labels))
}

/// Reads and parses a pair of files from disk (native tools; the app reads bytes from the
/// file picker and calls [`parse_pair`]).
pub fn load_pair(
    images: &Path,
    labels: &Path,
    size: Option<(usize, usize)>,
) -> Result<(Images, Vec<u8>), IdxError> {
    let read = |path: &Path| {
        std::fs::read(path)
            .map_err(|e| IdxError::Io(format!("cannot read {}: {e}", path.display())))
    };
    parse_pair(&read(images)?, &read(labels)?, size)
}

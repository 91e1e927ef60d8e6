//! The learner's own digits (opened from IDX files) as the browser keeps them between visits:
//! one `.safetensors` file of the images (`U8 [n, 28, 28]`) and their classes (`U8 [n]`), with
//! its format, version and the set's name in the metadata. Read back with every check an opened
//! file gets, so that a damaged record is refused with the reason.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use super::digits::{CLASSES, DigitSet, PIXELS, SIDE};

/// What the file says it is.
pub const FORMAT: &str = "neural-playground-digits";
pub const VERSION: u32 = 1;
/// The longest name kept (a file name, and what the page added to it).
const MAX_NAME: usize = 1_000;

/// `digits` as bytes [`read_kept_digits`] reads back.
pub fn write_kept_digits(digits: &DigitSet) -> Result<Vec<u8>, String> {
    let count = digits.len();
    let pixels = TensorView::new(Dtype::U8, vec![count, SIDE, SIDE], &digits.pixels);
    let labels = TensorView::new(Dtype::U8, vec![count], &digits.labels);
    let (pixels, labels) = match (pixels, labels) {
        (Ok(pixels), Ok(labels)) => (pixels, labels),
        _ => return Err("the digits' images and classes do not match".to_string()),
    };
    let metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("version".to_string(), VERSION.to_string()),
        ("name".to_string(), digits.name.clone()),
    ]);
    safetensors::tensor::serialize([("pixels", pixels), ("labels", labels)], Some(metadata))
        .map_err(|error| format!("the digits cannot be written: {error}"))
}

/// The digits [`write_kept_digits`] wrote, or why these bytes are not such digits.
pub fn read_kept_digits(bytes: &[u8]) -> Result<DigitSet, String> {
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|error| format!("the kept digits are damaged or cut short ({error})"))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    if metadata.get("format").map(String::as_str) != Some(FORMAT) {
        return Err("the record is not of kept digits".to_string());
    }
    let version = metadata.get("version").and_then(|v| v.parse::<u32>().ok());
    if version != Some(VERSION) {
        return Err(format!(
            "the kept digits are of version {}, which this page does not read",
            metadata.get("version").map_or("(none)", String::as_str)
        ));
    }
    let name = metadata.get("name").cloned().unwrap_or_default();
    if name.is_empty() || name.len() > MAX_NAME {
        return Err("the kept digits have no usable name".to_string());
    }
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|error| format!("the kept digits are damaged ({error})"))?;
    let read = |tensor: &str, shape: &dyn Fn(usize) -> Vec<usize>| {
        let view = tensors
            .tensor(tensor)
            .map_err(|_| format!("the kept digits have no {tensor}"))?;
        let count = view.shape().first().copied().unwrap_or(0);
        if view.dtype() != Dtype::U8 || view.shape() != shape(count).as_slice() {
            return Err(format!(
                "the kept digits' {tensor} are {:?} of shape {:?}",
                view.dtype(),
                view.shape()
            ));
        }
        Ok(view.data().to_vec())
    };
    let pixels = read("pixels", &|count| vec![count, SIDE, SIDE])?;
    let labels = read("labels", &|count| vec![count])?;
    if labels.is_empty() || pixels.len() != labels.len() * PIXELS {
        return Err(format!(
            "the kept digits hold {} images and {} classes",
            pixels.len() / PIXELS,
            labels.len()
        ));
    }
    if let Some(label) = labels.iter().find(|&&label| usize::from(label) >= CLASSES) {
        return Err(format!(
            "the kept digits hold {label}, which is not a class"
        ));
    }
    Ok(DigitSet {
        name,
        pixels,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SeededRng;

    #[test]
    fn kept_digits_come_back_as_they_were() {
        let digits = DigitSet {
            name: "bars-images-idx3-ubyte".to_string(),
            ..DigitSet::halves(30)
        };
        let bytes = write_kept_digits(&digits).expect("writes");
        assert_eq!(read_kept_digits(&bytes).expect("reads"), digits);
    }

    #[test]
    fn damaged_records_are_refused_with_a_reason() {
        let bytes = write_kept_digits(&DigitSet::halves(12)).expect("writes");
        let error = read_kept_digits(&bytes[..bytes.len() - 5]).unwrap_err();
        assert!(error.contains("cut short"), "{error}");
        assert!(read_kept_digits(b"not digits").is_err());
        let mut other = DigitSet::halves(3);
        other.labels[1] = 11;
        let error = read_kept_digits(&write_kept_digits(&other).unwrap()).unwrap_err();
        assert!(error.contains("11"), "{error}");
        let mut rng = SeededRng::new(9);
        for _ in 0..2000 {
            let mut damaged = bytes.clone();
            let at = rng.below(damaged.len());
            damaged[at] = rng.next_u64() as u8;
            if let Ok(digits) = read_kept_digits(&damaged) {
                assert_eq!(digits.pixels.len(), digits.len() * PIXELS);
                assert!(digits.labels.iter().all(|&l| usize::from(l) < CLASSES));
            }
        }
    }
}

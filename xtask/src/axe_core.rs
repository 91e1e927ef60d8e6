//! axe-core, the accessibility rules engine the browser tests run inside the page: fetched once
//! from the npm registry into the cache (`~/.cache/neural-playground/axe-core-<version>/`).

use std::path::PathBuf;
use std::process::Command;

use crate::bench_references::cache_dir;
use crate::command::{Result, exists, run};

const VERSION: &str = "4.14.1";

/// The variable through which the browser tests find `axe.min.js`.
pub const ENV: &str = "AXE_CORE";

/// The path of `axe.min.js`, fetching the package on first use.
pub fn script() -> Result<PathBuf> {
    let folder = cache_dir()?.join(format!("axe-core-{VERSION}"));
    let script = folder.join("package/axe.min.js");
    if is_axe(&script) {
        return Ok(script);
    }
    std::fs::create_dir_all(&folder)
        .map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
    let tarball = format!("axe-core-{VERSION}.tgz");
    if exists("curl") {
        let url = format!("https://registry.npmjs.org/axe-core/-/{tarball}");
        run(Command::new("curl")
            .args(["-fsSL", "--retry", "3", "-o", &tarball, &url])
            .current_dir(&folder))?;
    } else if exists("npm") {
        run(Command::new("npm")
            .args(["pack", &format!("axe-core@{VERSION}")])
            .current_dir(&folder))?;
    } else {
        return Err("`curl` or `npm` is needed to fetch axe-core".into());
    }
    run(Command::new("tar")
        .args(["xzf", &tarball])
        .current_dir(&folder))?;
    if !is_axe(&script) {
        return Err(format!(
            "{} is not axe-core {VERSION} after unpacking {tarball}",
            script.display()
        ));
    }
    Ok(script)
}

/// Whether `path` holds axe-core's script of the pinned version (its banner names it).
fn is_axe(path: &PathBuf) -> bool {
    std::fs::read(path)
        .map(|bytes| {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
            head.contains(&format!("axe v{VERSION}"))
        })
        .unwrap_or(false)
}

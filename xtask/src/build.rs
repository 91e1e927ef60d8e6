//! `cargo xtask build` and `serve`: the app's files written into `dist/` (the two wasm builds,
//! one style sheet, the loader, the page, the MNIST digits, and a brotli and a gzip copy of each
//! text and wasm file), and served as a static host should serve them.

use crate::command::{Result, cargo, root, run};
use crate::wasm_builds::Variant;
use crate::{mnist, page_files, precompress, setup};
use dist_server::DistServer;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const ADDRESS: [u8; 4] = [127, 0, 0, 1];
pub const PORT: u16 = 8080;

/// Environment variable naming another folder to build the app into, and to serve it from in
/// the browser tests and benchmarks (`tests/browser/src/server.rs` reads the same one): a second
/// checkout's build then leaves `dist/` alone.
const DIST_ENV: &str = "PLAYGROUND_DIST";

/// Where the built app goes: `$PLAYGROUND_DIST`, or `dist/`.
pub fn dist_dir() -> PathBuf {
    std::env::var_os(DIST_ENV).map_or(root().join("dist"), |dir| root().join(dir))
}

/// Builds the optimised playground into [`dist_dir`]: first into a staging folder beside it,
/// which replaces it only once every file is written, so that a failed build leaves the last
/// good one in place.
pub fn release() -> Result {
    let digits = mnist::served_digits()?;
    run(cargo().arg("fetch"))?;
    let dist = dist_dir();
    let staging = dist.with_extension("staging");
    let _ = std::fs::remove_dir_all(&staging);
    create_dir(&staging)?;
    let mut builds = Vec::new();
    for variant in Variant::ALL {
        builds.push((variant, variant.build_into(&staging)?));
    }
    page_files::write(&staging, &builds)?;
    copy(&digits, &staging)?;
    precompress::beside_each_file(&staging, &dist)?;
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::rename(&staging, &dist).map_err(|error| {
        format!(
            "cannot move {} to {}: {error}",
            staging.display(),
            dist.display()
        )
    })?;
    eprintln!("the app is built in {}", dist.display());
    Ok(())
}

/// `serve [--port N]`: sets up, builds in release and serves on 127.0.0.1 (port 8080 unless
/// told) until interrupted.
pub fn serve(args: &[String]) -> Result {
    let port = match args {
        [] => PORT,
        [flag, port] if flag == "--port" => port
            .parse()
            .map_err(|_| format!("--port takes a port number, not {port:?}"))?,
        _ => return Err(format!("unexpected arguments {args:?} (serve [--port N])")),
    };
    setup::for_build()?;
    release()?;
    let server = DistServer::start(dist_dir(), SocketAddr::from((ADDRESS, port)))
        .map_err(|error| format!("cannot serve on port {port}: {error}"))?;
    eprintln!(
        "\nNeural Playground is served at {}/ (Ctrl+C stops it)\n",
        server.base_url()
    );
    server.wait();
    Ok(())
}

fn create_dir(dir: &Path) -> Result {
    std::fs::create_dir_all(dir)
        .map_err(|error| format!("cannot create {}: {error}", dir.display()))
}

/// Copies `file` into `dir` under its own name.
fn copy(file: &Path, dir: &Path) -> Result {
    let name = file.file_name().ok_or("a file without a name")?;
    std::fs::copy(file, dir.join(name))
        .map(|_| ())
        .map_err(|error| format!("cannot copy {}: {error}", file.display()))
}

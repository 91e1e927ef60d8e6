//! Building the playground with Trunk, and serving it.

use crate::command::{Result, cargo, root, run};
use crate::{mnist, setup};
use std::path::PathBuf;
use std::process::Command;

pub const ADDRESS: &str = "127.0.0.1";
pub const PORT: u16 = 8080;

/// Environment variable naming another folder to build the app into, and to serve it from in
/// the browser tests and benchmarks (`tests/browser/src/server.rs` reads the same one): a second
/// checkout's build then leaves `dist/` alone.
const DIST_ENV: &str = "PLAYGROUND_DIST";

/// Where the built app goes: `$PLAYGROUND_DIST`, or `dist/`.
pub fn dist_dir() -> PathBuf {
    std::env::var_os(DIST_ENV).map_or(root().join("dist"), |dir| root().join(dir))
}

fn trunk() -> Command {
    let mut command = Command::new("trunk");
    command.env("TRUNK_SKIP_VERSION_CHECK", "true");
    command
}

/// Builds the optimised playground into [`dist_dir`].
pub fn release() -> Result {
    mnist::served_digits()?;
    run(cargo().arg("fetch"))?;
    run(trunk()
        .args(["build", "--release", "--dist"])
        .arg(dist_dir()))
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
    mnist::served_digits()?;
    run(cargo().arg("fetch"))?;
    eprintln!("\nNeural Playground will be served at http://{ADDRESS}:{port}/\n");
    run(trunk().args([
        "serve",
        "--release",
        "--address",
        ADDRESS,
        "--port",
        &port.to_string(),
    ]))
}

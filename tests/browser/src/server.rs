//! The built app served on 127.0.0.1 and a free port, in a thread, by `cargo xtask serve`'s server.

use std::net::SocketAddr;
use std::path::PathBuf;

use dist_server::DistServer;

/// Environment variable naming another folder to serve instead of the repository's `dist/`.
pub const DIST_ENV: &str = "PLAYGROUND_DIST";

/// The folder of the built app: `$PLAYGROUND_DIST`, or `dist/` at the repository root.
pub fn dist_dir() -> PathBuf {
    match std::env::var_os(DIST_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../dist")),
    }
}

/// Serves the files of one folder until dropped, as `cargo xtask serve` does (the same server:
/// precompressed files, cache headers).
pub struct StaticServer(DistServer);

impl StaticServer {
    /// Serves `root`, which must hold the built app (`index.html` at least).
    pub fn start(root: PathBuf) -> Self {
        assert!(
            root.join("index.html").is_file(),
            "{} has no index.html: run `cargo xtask build` first (or point {DIST_ENV} at a built app)",
            root.display()
        );
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        Self(DistServer::start(root, any_port).expect("start the static file server"))
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.0.base_url()
    }
}

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

/// A copy of the built app in a fresh temporary folder named after `purpose`, without the files
/// whose names `leave_out` picks (the tests take away what a broken or strict host would).
pub fn copy_of_app(purpose: &str, leave_out: impl Fn(&str) -> bool) -> PathBuf {
    let copy = std::env::temp_dir().join(format!("playground-{purpose}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy).expect("make the copy's folder");
    for entry in std::fs::read_dir(dist_dir()).expect("read dist/") {
        let path = entry.expect("a dist/ entry").path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if path.is_file() && !leave_out(name) {
            std::fs::copy(&path, copy.join(name)).expect("copy a file of dist/");
        }
    }
    copy
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

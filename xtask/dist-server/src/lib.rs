//! A small static file server for the built app (`dist/`), as a static host should serve it:
//! the precompressed `.br` or `.gz` file beside each asset when the browser accepts it, and
//! content-hashed files cached for good while `index.html` is checked every time.
//!
//! `cargo xtask serve` runs it in the foreground and the browser tests in a thread, so that
//! what the tests load is exactly what a user is sent.

mod request;
mod response;

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

pub use response::{Encoding, cache_control, content_type, is_content_hashed};

/// Serves the files of one folder until dropped.
pub struct DistServer {
    address: SocketAddr,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DistServer {
    /// Serves `root` on `address` (port 0: any free port) from a thread of its own.
    pub fn start(root: PathBuf, address: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address)?;
        let address = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stopping);
        let thread = std::thread::spawn(move || accept(&listener, &root, &stop_flag));
        Ok(Self {
            address,
            stopping,
            thread: Some(thread),
        })
    }

    /// `http://<address>`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Blocks until the server stops (it does not by itself: `cargo xtask serve` runs until
    /// interrupted).
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for DistServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept(listener: &TcpListener, root: &Path, stopping: &AtomicBool) {
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let root = root.to_path_buf();
        // One thread per connection: the browser fetches several files at once.
        std::thread::spawn(move || {
            let _ = serve_connection(stream, &root);
        });
    }
}

/// Answers the requests of one connection (keep-alive) until the client closes it.
fn serve_connection(stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    while let Some(request) = request::read(&mut reader)? {
        let answer = response::answer(root, &request);
        writer.write_all(answer.head(request.close).as_bytes())?;
        if request.method != "HEAD" {
            writer.write_all(&answer.body)?;
        }
        writer.flush()?;
        if request.close {
            break;
        }
    }
    Ok(())
}

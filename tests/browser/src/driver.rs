//! Starts chromedriver and a headless Chromium session; both die with the `Browser`.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

const INSTALL_HINT: &str = "run `cargo xtask test`, which installs chromium and chromedriver";

/// The Chromium flags of every test; a test may add more (e.g. `--enable-unsafe-webgpu`).
const CHROME_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
];

/// A headless Chromium session, driven through its own chromedriver.
pub struct Browser {
    pub client: Client,
    // Dropped after `client`: stops chromedriver and Chromium, then removes the profile.
    _chromedriver: Chromedriver,
}

impl Browser {
    /// Starts chromedriver (`$CHROMEDRIVER` or /usr/bin/chromedriver) and opens a session in
    /// headless Chromium (`$CHROME` or /usr/bin/chromium) with `extra_args` added to the flags.
    pub async fn launch(extra_args: &[&str]) -> Self {
        Self::launch_with_prefs(extra_args, serde_json::json!({})).await
    }

    /// Like [`Browser::launch`], with Chromium's profile preferences `prefs` (e.g. site data
    /// blocked, as a learner's browser may be set).
    pub async fn launch_with_prefs(extra_args: &[&str], prefs: serde_json::Value) -> Self {
        let chrome_path = executable("CHROME", "/usr/bin/chromium");
        let chromedriver = Chromedriver::start();
        let mut args: Vec<String> = CHROME_ARGS.iter().map(|arg| arg.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            chromedriver.profile_dir.display()
        ));
        args.extend(extra_args.iter().map(|arg| arg.to_string()));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_string(),
            serde_json::json!({ "binary": chrome_path, "args": args, "prefs": prefs }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&chromedriver.url())
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "chromedriver could not start {}: {error}; {INSTALL_HINT}",
                    chrome_path.display()
                )
            });
        Self {
            client,
            _chromedriver: chromedriver,
        }
    }
}

/// A chromedriver process and the throw-away Chromium profile folder; both go on drop.
struct Chromedriver {
    process: Child,
    port: u16,
    profile_dir: PathBuf,
}

impl Chromedriver {
    fn start() -> Self {
        let path = executable("CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port();
        let process = Command::new(&path)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that Drop can stop chromedriver and Chromium together.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start {}: {error}; {INSTALL_HINT}", path.display())
            });
        let mut chromedriver = Self {
            process,
            port,
            profile_dir: fresh_profile_dir(),
        };
        chromedriver.wait_until_listening(Duration::from_secs(15));
        chromedriver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_until_listening(&mut self, timeout: Duration) {
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.process.try_wait() {
                panic!("chromedriver exited at start-up ({status}); {INSTALL_HINT}");
            }
            assert!(
                start.elapsed() < timeout,
                "chromedriver did not listen on port {} within {timeout:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Chromedriver {
    /// Kills the process group that chromedriver leads, Chromium included.
    fn drop(&mut self) {
        let group = format!("-{}", self.process.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.profile_dir);
    }
}

fn executable(variable: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "{} not found (set {variable} to override); {INSTALL_HINT}",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("find a free port");
    listener.local_addr().expect("local address").port()
}

fn fresh_profile_dir() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "neural-playground-browser-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a Chromium profile folder");
    dir
}

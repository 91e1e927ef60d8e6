//! The answer to a request: which file, in which encoding, with which headers.

use std::path::{Component, Path, PathBuf};

use crate::request::Request;

/// A content encoding the server can send a file in, from a file written beside it at build
/// time (`app.wasm.br`, `app.wasm.gz`): nothing is compressed while serving.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    /// Best first: brotli is about a fifth smaller than gzip on our wasm.
    pub const ALL: [Encoding; 2] = [Encoding::Brotli, Encoding::Gzip];

    /// The token of `Accept-Encoding` and `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// The extension of the precompressed file beside the original.
    pub fn extension(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gz",
        }
    }

    /// Whether an `Accept-Encoding` value (lower case) accepts this encoding: named without
    /// `q=0`.
    fn accepted_by(self, accept_encoding: &str) -> bool {
        accept_encoding.split(',').any(|item| {
            let mut parts = item.split(';').map(str::trim);
            parts.next() == Some(self.token())
                && !parts.any(|parameter| {
                    parameter
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                        .is_some_and(|q| q == 0.0)
                })
        })
    }
}

/// What is sent back.
pub struct Answer {
    pub status: &'static str,
    pub content_type: &'static str,
    pub encoding: Option<Encoding>,
    pub cache_control: &'static str,
    pub body: Vec<u8>,
}

impl Answer {
    /// The status line and headers; `close` says the connection ends after this answer.
    pub fn head(&self, close: bool) -> String {
        let encoding = self
            .encoding
            .map(|encoding| format!("Content-Encoding: {}\r\n", encoding.token()))
            .unwrap_or_default();
        format!(
            "HTTP/1.1 {}\r\nContent-Type: {}\r\n{encoding}Vary: Accept-Encoding\r\n\
             Content-Length: {}\r\nCache-Control: {}\r\nX-Content-Type-Options: nosniff\r\n\
             Connection: {}\r\n\r\n",
            self.status,
            self.content_type,
            self.body.len(),
            self.cache_control,
            if close { "close" } else { "keep-alive" }
        )
    }

    fn plain(status: &'static str, text: &str) -> Self {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            encoding: None,
            cache_control: "no-store",
            body: text.as_bytes().to_vec(),
        }
    }
}

/// The answer to `request` from the files under `root`.
pub fn answer(root: &Path, request: &Request) -> Answer {
    if request.method != "GET" && request.method != "HEAD" {
        return Answer::plain("405 Method Not Allowed", "only GET and HEAD");
    }
    let Some(path) = resolve(root, &request.target) else {
        return Answer::plain("404 Not Found", "not found");
    };
    let (file, encoding) = encoded(&path, &request.accept_encoding);
    match std::fs::read(&file) {
        Ok(body) => Answer {
            status: "200 OK",
            content_type: content_type(&path),
            encoding,
            cache_control: cache_control(&path),
            body,
        },
        Err(_) => Answer::plain("404 Not Found", "not found"),
    }
}

/// The file that a request target names, ignoring `?query` and `#hash`; `/` is `index.html`.
/// Paths that would leave `root` are refused.
pub fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let relative = Path::new(path.trim_start_matches('/'));
    if relative
        .components()
        .any(|component| !matches!(component, Component::Normal(_)))
    {
        return None;
    }
    let mut file = root.join(relative);
    if file.is_dir() {
        file = file.join("index.html");
    }
    file.is_file().then_some(file)
}

/// The precompressed file to send for `path`, the best the browser accepts, or `path` itself.
fn encoded(path: &Path, accept_encoding: &str) -> (PathBuf, Option<Encoding>) {
    for encoding in Encoding::ALL {
        if !encoding.accepted_by(accept_encoding) {
            continue;
        }
        let mut name = path.as_os_str().to_owned();
        name.push(".");
        name.push(encoding.extension());
        let compressed = PathBuf::from(name);
        if compressed.is_file() {
            return (compressed, Some(encoding));
        }
    }
    (path.to_path_buf(), None)
}

/// A file whose name carries a hash of its content (`style-0123456789abcdef.css`) never
/// changes: browsers keep it for a year without asking. Anything else (`index.html`, which
/// names the hashed files) is checked with the server every time.
pub fn cache_control(path: &Path) -> &'static str {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    let hashed = name
        .split(['-', '_', '.'])
        .any(|part| part.len() >= 16 && part.bytes().all(|byte| byte.is_ascii_hexdigit()));
    match hashed {
        true => "public, max-age=31536000, immutable",
        false => "no-cache",
    }
}

/// Whether the file's name carries a hash of its content: sixteen or more hex digits between
/// `-`, `_` or `.`.
pub fn is_content_hashed(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    name.split(['-', '_', '.'])
        .any(|part| part.len() >= 16 && part.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|extension| extension.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream", // .bin, .gz and anything else: raw bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, accept_encoding: &str) -> Request {
        Request {
            method: "GET".to_string(),
            target: target.to_string(),
            accept_encoding: accept_encoding.to_string(),
            close: false,
        }
    }

    /// A folder with `app.wasm`, its `.br` and `.gz`, and `index.html`, under the target dir.
    fn fixture(name: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("dist-server-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("app.wasm"), b"\0asm plain").unwrap();
        std::fs::write(root.join("app.wasm.br"), b"brotli bytes").unwrap();
        std::fs::write(root.join("app.wasm.gz"), b"gzip bytes").unwrap();
        std::fs::write(root.join("index.html"), b"<title>x</title>").unwrap();
        root
    }

    #[test]
    fn the_query_and_the_hash_are_ignored_and_root_is_index() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(
            resolve(&root, "/Cargo.toml?x=1#y"),
            Some(root.join("Cargo.toml"))
        );
        assert_eq!(resolve(&root, "/src/../Cargo.toml"), None);
        assert_eq!(resolve(&root, "/missing.js"), None);
    }

    #[test]
    fn the_best_accepted_encoding_is_sent() {
        let root = fixture("encodings");
        let sent = |accept: &str| {
            let answer = answer(&root, &request("/app.wasm", accept));
            (answer.encoding, String::from_utf8(answer.body).unwrap())
        };
        assert_eq!(
            sent("gzip, deflate, br"),
            (Some(Encoding::Brotli), "brotli bytes".into())
        );
        assert_eq!(sent("gzip"), (Some(Encoding::Gzip), "gzip bytes".into()));
        assert_eq!(
            sent("br;q=0, gzip;q=0.5"),
            (Some(Encoding::Gzip), "gzip bytes".into())
        );
        assert_eq!(sent(""), (None, "\0asm plain".into()));
        // Nothing precompressed beside the page: it goes as it is.
        let page = answer(&root, &request("/", "br, gzip"));
        assert_eq!(
            (page.encoding, page.content_type),
            (None, "text/html; charset=utf-8")
        );
        let head = answer(&root, &request("/app.wasm", "br")).head(true);
        assert!(head.contains("Connection: close\r\n"), "{head}");
        assert!(head.contains("Content-Encoding: br\r\n"), "{head}");
        assert!(
            head.contains("Content-Type: application/wasm\r\n"),
            "{head}"
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn other_methods_and_missing_files_are_refused() {
        let root = fixture("refused");
        let mut post = request("/", "");
        post.method = "POST".to_string();
        assert_eq!(answer(&root, &post).status, "405 Method Not Allowed");
        assert_eq!(
            answer(&root, &request("/nope.js", "")).status,
            "404 Not Found"
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn only_hashed_names_are_cached_for_good() {
        let forever = "public, max-age=31536000, immutable";
        for name in [
            "neural-playground-f8b49a10f98ae00b_bg.wasm",
            "style-cffc0e9678280cb4.css",
            "loader-00112233445566ff.js",
        ] {
            assert_eq!(cache_control(Path::new(name)), forever, "{name}");
        }
        for name in ["index.html", "mnist-digits.bin.gz", "deadbeef.js"] {
            assert_eq!(cache_control(Path::new(name)), "no-cache", "{name}");
        }
    }

    #[test]
    fn wasm_is_served_as_application_wasm() {
        assert_eq!(content_type(Path::new("app_bg.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("weights.bin")),
            "application/octet-stream"
        );
    }
}

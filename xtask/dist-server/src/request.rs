//! Reading one HTTP/1.1 request: its method, target and accepted encodings.

use std::io::BufRead;

/// What the server needs of a request.
#[derive(Debug, PartialEq)]
pub struct Request {
    pub method: String,
    pub target: String,
    /// The `Accept-Encoding` header's value, lower-cased; empty when there is none.
    pub accept_encoding: String,
    /// Whether the client asked to close the connection after the answer (`Connection:
    /// close`, or HTTP/1.0 without `keep-alive`).
    pub close: bool,
}

/// The longest request line or header accepted; a longer one ends the connection.
const LONGEST_LINE: usize = 16 * 1024;

/// The next request of a connection, or `None` when the client has closed it. Bodies are not
/// read: the server answers only GET and HEAD, and refuses the rest before any body.
pub fn read(reader: &mut impl BufRead) -> std::io::Result<Option<Request>> {
    let Some(request_line) = read_line(reader)? else {
        return Ok(None);
    };
    let mut accept_encoding = String::new();
    let mut connection = String::new();
    while let Some(header) = read_line(reader)? {
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim().to_ascii_lowercase();
            match name.trim().to_ascii_lowercase().as_str() {
                "accept-encoding" => accept_encoding = value,
                "connection" => connection = value,
                _ => {}
            }
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let version = parts.next().unwrap_or("HTTP/1.0");
    let close = connection == "close" || (version == "HTTP/1.0" && connection != "keep-alive");
    Ok(Some(Request {
        method,
        target,
        accept_encoding,
        close,
    }))
}

fn read_line(reader: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    let read = std::io::Read::take(&mut *reader, LONGEST_LINE as u64).read_line(&mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if !line.ends_with('\n') && read == LONGEST_LINE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "request line or header too long",
        ));
    }
    Ok(Some(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_method_target_and_encodings_are_read() {
        let mut raw: &[u8] =
            b"GET /app.js?x=1 HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip, BR\r\n\r\n\
                                HEAD / HTTP/1.1\r\n\r\n";
        let first = read(&mut raw).unwrap().unwrap();
        assert_eq!(first.method, "GET");
        assert_eq!(first.target, "/app.js?x=1");
        assert_eq!(first.accept_encoding, "gzip, br");
        assert!(
            !first.close,
            "HTTP/1.1 keeps the connection open unless told"
        );
        let second = read(&mut raw).unwrap().unwrap();
        assert_eq!(
            (second.method.as_str(), second.accept_encoding.as_str()),
            ("HEAD", "")
        );
        assert_eq!(read(&mut raw).unwrap(), None);
    }

    #[test]
    fn a_client_that_asks_to_close_is_heard() {
        let mut raw: &[u8] = b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n\
                                GET / HTTP/1.0\r\n\r\n\
                                GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
        let closes: Vec<bool> = std::iter::from_fn(|| read(&mut raw).unwrap())
            .map(|request| request.close)
            .collect();
        assert_eq!(closes, [true, true, false]);
    }

    #[test]
    fn an_endless_line_is_refused() {
        let long = vec![b'a'; LONGEST_LINE * 2];
        assert!(read(&mut long.as_slice()).is_err());
    }
}

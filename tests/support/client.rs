//! A raw HTTP/1.1 client over a `std::net::TcpStream` or a TLS session on one: sends exact bytes, parses exact
//! status, header names and body.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Default read timeout: long enough for any test, short enough that nothing hangs.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed response.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// Header lines in order, names exactly as written.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the body was chunked on the wire.
    pub chunked: bool,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = String::from_utf8_lossy(&self.body[..self.body.len().min(2048)]).into_owned();
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &body)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Response {
    /// First value of a header, name case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every value of a header.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    /// Header names in order, as written.
    pub fn header_names(&self) -> Vec<&str> {
        self.headers.iter().map(|(n, _)| n.as_str()).collect()
    }

    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).expect("UTF-8 body")
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("JSON body ({e}): {self:?}"))
    }
}

/// A byte stream to the gateway: plain TCP, or TLS over TCP.
pub trait Duplex: Read + Write + Send {
    fn tcp(&self) -> &TcpStream;
}

impl Duplex for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Duplex for rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    fn tcp(&self) -> &TcpStream {
        &self.sock
    }
}

/// One client connection.
pub struct ClientConn {
    stream: Box<dyn Duplex>,
    buf: Vec<u8>,
}

impl ClientConn {
    pub fn open(port: u16) -> ClientConn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the gateway");
        ClientConn::over(Box::new(stream))
    }

    /// A connection over an already open stream (a TLS session, say).
    pub fn over(stream: Box<dyn Duplex>) -> ClientConn {
        stream.tcp().set_read_timeout(Some(READ_TIMEOUT)).expect("read timeout");
        stream.tcp().set_write_timeout(Some(READ_TIMEOUT)).expect("write timeout");
        ClientConn { stream, buf: Vec::new() }
    }

    pub fn set_read_timeout(&self, t: Duration) {
        self.stream.tcp().set_read_timeout(Some(t)).expect("read timeout");
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to the gateway");
    }

    /// Sends, tolerating a connection the gateway already closed.
    pub fn try_send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Reads one response to a request that was not `HEAD`.
    pub fn read_response(&mut self) -> Response {
        self.try_read_response(false).unwrap_or_else(|e| panic!("reading a response: {e}"))
    }

    /// Reads one response; `head` says whether it answers a `HEAD` (no body).
    pub fn try_read_response(&mut self, head: bool) -> Result<Response, String> {
        let end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            if self.fill()? == 0 {
                return Err(format!("connection closed before a full head ({} bytes)", self.buf.len()));
            }
        };
        let head_text = String::from_utf8(self.buf[..end].to_vec()).map_err(|e| e.to_string())?;
        self.buf.drain(..end + 4);
        let mut lines = head_text.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        if !version.starts_with("HTTP/1.") {
            return Err(format!("bad status line {status_line:?}"));
        }
        let status: u16 =
            parts.next().and_then(|s| s.parse().ok()).ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let reason = parts.next().unwrap_or("").to_owned();
        let mut headers = Vec::new();
        for l in lines {
            let (n, v) = l.split_once(':').ok_or_else(|| format!("bad header line {l:?}"))?;
            headers.push((n.to_owned(), v.trim().to_owned()));
        }
        let mut res = Response { status, reason, headers, body: Vec::new(), chunked: false };
        if head || status == 204 || status == 304 || (100..200).contains(&status) {
            return Ok(res);
        }
        if res.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            res.chunked = true;
            res.body = self.read_chunked()?;
        } else if let Some(len) = res.header("content-length") {
            let len: usize = len.parse().map_err(|_| format!("bad Content-Length {len:?}"))?;
            while self.buf.len() < len {
                if self.fill()? == 0 {
                    return Err(format!("closed after {} of {len} body bytes", self.buf.len()));
                }
            }
            res.body = self.buf.drain(..len).collect();
        } else {
            while self.fill()? > 0 {}
            res.body = std::mem::take(&mut self.buf);
        }
        Ok(res)
    }

    fn read_chunked(&mut self) -> Result<Vec<u8>, String> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf, b"\r\n") {
                    break i;
                }
                if self.fill()? == 0 {
                    return Err("closed inside a chunk size".to_owned());
                }
            };
            let line = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
            let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size {line:?}"))?;
            self.buf.drain(..line_end + 2);
            if size == 0 {
                loop {
                    let i = loop {
                        if let Some(i) = find(&self.buf, b"\r\n") {
                            break i;
                        }
                        if self.fill()? == 0 {
                            return Err("closed inside trailers".to_owned());
                        }
                    };
                    self.buf.drain(..i + 2);
                    if i == 0 {
                        return Ok(body);
                    }
                }
            }
            while self.buf.len() < size + 2 {
                if self.fill()? == 0 {
                    return Err(format!("closed inside a chunk (body so far {} bytes)", body.len() + self.buf.len()));
                }
            }
            body.extend_from_slice(&self.buf[..size]);
            self.buf.drain(..size + 2);
        }
    }

    /// Reads more bytes; `Ok(0)` at end of stream (a reset counts as the end too).
    fn fill(&mut self) -> Result<usize, String> {
        let mut tmp = [0u8; 64 * 1024];
        loop {
            match self.stream.read(&mut tmp) {
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(n);
                }
                // A signal to the test process (a child gateway exiting) is not an answer: read again.
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(0),
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }

    /// Whether the gateway closed the connection (EOF or reset) within `timeout`, without sending anything more.
    pub fn is_closed_within(&mut self, timeout: Duration) -> bool {
        self.set_read_timeout(timeout);
        let mut tmp = [0u8; 1024];
        loop {
            match self.stream.read(&mut tmp) {
                Ok(0) => return true,
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return false,
            }
        }
    }

    /// Reads raw bytes until `needle` shows up or `within` passes; returns what arrived (kept for later parsing).
    pub fn raw_read_until(&mut self, needle: &[u8], within: Duration) -> Vec<u8> {
        let end = std::time::Instant::now() + within;
        while find(&self.buf, needle).is_none() {
            let left = end.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            self.set_read_timeout(left);
            if !matches!(self.fill(), Ok(n) if n > 0) {
                break;
            }
        }
        self.set_read_timeout(READ_TIMEOUT);
        self.buf.clone()
    }

    /// Bytes received but not consumed by a response.
    pub fn leftover(&self) -> &[u8] {
        &self.buf
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Sends `raw` on a new connection and reads one response.
pub fn request(port: u16, raw: &[u8]) -> Response {
    let mut c = ClientConn::open(port);
    c.send(raw);
    c.read_response()
}

/// `GET path` with `Host: 127.0.0.1:PORT`, the given extra header lines, and `Connection: close`.
pub fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Response {
    send(port, "GET", path, headers, b"")
}

/// Any method, with a body (a `Content-Length` is added when the body is not empty).
pub fn send(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (n, v) in headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() {
        raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    raw.push_str("Connection: close\r\n\r\n");
    let mut bytes = raw.into_bytes();
    bytes.extend_from_slice(body);
    let mut c = ClientConn::open(port);
    c.send(&bytes);
    c.try_read_response(method == "HEAD").unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

//! Response writing: status line, headers and body appended to the connection's output buffer.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

/// The reason phrase Go writes for a status code (`http.StatusText`).
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        422 => "Unprocessable Entity",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Builds one response into an output buffer. Call `header` for each header, then `body` (which writes
/// `Content-Length`) or `head_only`.
pub struct ResponseWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> ResponseWriter<'a> {
    /// Starts a response: status line and `Date`.
    pub fn new(out: &'a mut Vec<u8>, status: u16) -> Self {
        out.extend_from_slice(b"HTTP/1.1 ");
        let mut digits = itoa_buf(status as u64);
        out.extend_from_slice(digits.as_bytes());
        out.push(b' ');
        out.extend_from_slice(reason(status).as_bytes());
        out.extend_from_slice(b"\r\nDate: ");
        DATE.with(|d| d.borrow_mut().append(out));
        out.extend_from_slice(b"\r\n");
        digits.clear();
        ResponseWriter { out }
    }

    pub fn header(&mut self, name: &str, value: &[u8]) -> &mut Self {
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b": ");
        self.out.extend_from_slice(value);
        self.out.extend_from_slice(b"\r\n");
        self
    }

    pub fn header_str(&mut self, name: &str, value: &str) -> &mut Self {
        self.header(name, value.as_bytes())
    }

    /// Adds `Connection: close` when the connection will not be reused. Once shutdown began no connection is
    /// reused, also for requests that arrived before it (Go's `doKeepAlives` is checked when the head is written).
    pub fn connection_close(&mut self, close: bool) -> &mut Self {
        if close || crate::server::shutdown::requested() {
            self.out.extend_from_slice(b"Connection: close\r\n");
        }
        self
    }

    /// Writes `Content-Length` and the body. `head_request` writes the length but not the body (HEAD).
    pub fn body(self, body: &[u8], head_request: bool) {
        self.out.extend_from_slice(b"Content-Length: ");
        self.out.extend_from_slice(itoa_buf(body.len() as u64).as_bytes());
        self.out.extend_from_slice(b"\r\n\r\n");
        if !head_request {
            self.out.extend_from_slice(body);
        }
    }

    /// Writes a `Content-Length` for a body the caller appends itself (or streams) afterwards.
    pub fn content_length(self, len: u64) {
        self.out.extend_from_slice(b"Content-Length: ");
        self.out.extend_from_slice(itoa_buf(len).as_bytes());
        self.out.extend_from_slice(b"\r\n\r\n");
    }

    /// Ends the head with `Transfer-Encoding: chunked`; the caller streams chunks afterwards.
    pub fn chunked(self) {
        self.out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
    }

    /// Ends a head that has no body and no framing headers (1xx, 204, 304).
    pub fn end_without_body(self) {
        self.out.extend_from_slice(b"\r\n");
    }

    /// The buffer, for a body whose length is written by the caller.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        self.out
    }
}

/// Formats an integer into a small stack string.
pub fn itoa_buf(n: u64) -> ItoaBuf {
    let mut buf = ItoaBuf { bytes: [0; 20], start: 20 };
    let mut n = n;
    loop {
        buf.start -= 1;
        buf.bytes[buf.start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf
}

/// The digits of an integer, without allocating.
pub struct ItoaBuf {
    bytes: [u8; 20],
    start: usize,
}

impl ItoaBuf {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
    fn clear(&mut self) {
        self.start = 20;
    }
}

/// A short text built on the stack (a client IP, a latency), so the request path does not allocate for it.
pub struct StackStr<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Default for StackStr<N> {
    fn default() -> Self {
        StackStr { buf: [0; N], len: 0 }
    }
}

impl<const N: usize> StackStr<N> {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl<const N: usize> std::fmt::Write for StackStr<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > N {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The `Date` header value, formatted once per second per worker thread (it is on every response).
struct DateCache {
    second: u64,
    text: [u8; 29],
}

thread_local! {
    static DATE: RefCell<DateCache> = const { RefCell::new(DateCache { second: u64::MAX, text: [b' '; 29] }) };
}

impl DateCache {
    fn append(&mut self, out: &mut Vec<u8>) {
        let now = SystemTime::now();
        let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if second != self.second {
            self.second = second;
            let text = httpdate::fmt_http_date(now);
            let len = text.len().min(29);
            self.text[..len].copy_from_slice(&text.as_bytes()[..len]);
        }
        out.extend_from_slice(&self.text);
    }
}

/// Appends one chunk in chunked transfer coding.
pub fn write_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// The last chunk of a chunked body.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_response() {
        let mut out = Vec::new();
        let mut w = ResponseWriter::new(&mut out, 404);
        w.header_str("Content-Type", "text/plain");
        w.body(b"404 page not found", false);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\nDate: "));
        assert!(text.contains(" GMT\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n\r\n404 page not found"));
    }

    #[test]
    fn itoa() {
        assert_eq!(itoa_buf(0).as_bytes(), b"0");
        assert_eq!(itoa_buf(1234567).as_bytes(), b"1234567");
        assert_eq!(itoa_buf(u64::MAX).as_bytes(), b"18446744073709551615");
    }
}

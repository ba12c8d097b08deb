//! Request-head parsing: httparse over the connection's read buffer, kept as byte ranges so nothing is copied.

use std::ops::Range;

use bytes::Bytes;
use smallvec::SmallVec;

use crate::limits::MAX_REQUEST_HEADERS;

/// Why a request could not be parsed; each maps to one status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Malformed request line or headers → 400.
    Malformed,
    /// Head larger than `max_header_bytes`, or more than [`MAX_REQUEST_HEADERS`] lines → 431.
    HeadTooLarge,
    /// An HTTP version other than 1.0/1.1 → 505.
    Version,
    /// A `Transfer-Encoding` other than `chunked`, or conflicting framing → 501 / 400.
    UnsupportedEncoding,
}

/// One header line as ranges into [`RequestHead::bytes`].
#[derive(Debug, Clone)]
struct HeaderRange {
    name: Range<u32>,
    value: Range<u32>,
}

/// A parsed request head. The bytes are a frozen slice of the read buffer; everything else indexes into them.
#[derive(Debug, Clone)]
pub struct RequestHead {
    bytes: Bytes,
    method: Range<u32>,
    path: Range<u32>,
    query: Option<Range<u32>>,
    headers: SmallVec<[HeaderRange; 16]>,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version_minor: u8,
    pub content_length: Option<u64>,
    pub chunked: bool,
    /// Whether the client wants the connection kept open after this request.
    pub keep_alive: bool,
    pub expect_continue: bool,
}

impl RequestHead {
    pub fn method(&self) -> &str {
        self.str_at(&self.method)
    }

    /// The request-target path as sent (still percent-encoded), without the query.
    pub fn path(&self) -> &str {
        self.str_at(&self.path)
    }

    /// The raw query without `?`, if the target had one.
    pub fn query(&self) -> Option<&str> {
        self.query.as_ref().map(|r| self.str_at(r))
    }

    /// The request target as sent: path and query.
    pub fn target(&self) -> &str {
        let end = self.query.as_ref().map_or(self.path.end, |q| q.end);
        self.str_at(&(self.path.start..end))
    }

    /// First value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        let found = self.headers.iter().find(|h| self.bytes[range(&h.name)].eq_ignore_ascii_case(name.as_bytes()));
        found.map(|h| &self.bytes[range(&h.value)])
    }

    /// First value of a header as text, when it is valid UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every header line in the order received.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.headers.iter().map(|h| (self.str_at(&h.name), &self.bytes[range(&h.value)]))
    }

    /// Every value of one header, in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        // Compared as bytes: lookups run several times per request, and the names need no UTF-8 check for it.
        self.headers
            .iter()
            .filter(move |h| self.bytes[range(&h.name)].eq_ignore_ascii_case(name.as_bytes()))
            .map(|h| &self.bytes[range(&h.value)])
    }

    fn str_at(&self, r: &Range<u32>) -> &str {
        // The ranges only ever cover method, target and header names, which `parse_request` checked are ASCII.
        std::str::from_utf8(&self.bytes[range(r)]).unwrap_or("")
    }
}

fn range(r: &Range<u32>) -> Range<usize> {
    r.start as usize..r.end as usize
}

/// Parses a request head from the start of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, else the head and its length in bytes (the caller splits that
/// many bytes off its buffer and passes them as `head_bytes` to [`finish`]). `max_head` is `max_header_bytes`.
pub fn parse_request(buf: &[u8], max_head: usize) -> Result<Option<(usize, Parsed)>, ParseError> {
    let mut storage = [httparse::EMPTY_HEADER; MAX_REQUEST_HEADERS];
    let mut req = httparse::Request::new(&mut storage);
    let status = match req.parse(buf) {
        Ok(s) => s,
        Err(httparse::Error::TooManyHeaders) => return Err(ParseError::HeadTooLarge),
        Err(httparse::Error::Version) => return Err(ParseError::Version),
        Err(_) => return Err(ParseError::Malformed),
    };
    let len = match status {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial => {
            return if buf.len() > max_head { Err(ParseError::HeadTooLarge) } else { Ok(None) };
        }
    };
    if len > max_head {
        return Err(ParseError::HeadTooLarge);
    }
    let base = buf.as_ptr() as usize;
    let offset = |s: &[u8]| (s.as_ptr() as usize - base) as u32;
    let span = |s: &[u8]| {
        let start = offset(s);
        start..start + s.len() as u32
    };
    let method = req.method.ok_or(ParseError::Malformed)?;
    let target = req.path.ok_or(ParseError::Malformed)?;
    let version_minor = req.version.ok_or(ParseError::Malformed)?;
    if !target.starts_with('/') && target != "*" && !target.contains("://") {
        return Err(ParseError::Malformed);
    }
    let target_span = span(target.as_bytes());
    // An absolute-form target (`GET http://host/path`) is routed on its path, as Go does.
    let path_start = match target.find("://") {
        Some(i) => target[i + 3..].find('/').map_or(target.len(), |p| i + 3 + p),
        None => 0,
    };
    let (path, query) = match target.find('?') {
        Some(q) => (
            target_span.start + path_start as u32..target_span.start + q as u32,
            Some(target_span.start + q as u32 + 1..target_span.end),
        ),
        None => (target_span.start + path_start as u32..target_span.end, None),
    };

    let mut parsed = Parsed {
        method: span(method.as_bytes()),
        path,
        query,
        headers: SmallVec::new(),
        version_minor,
        content_length: None,
        chunked: false,
        keep_alive: version_minor == 1,
        expect_continue: false,
    };
    for h in req.headers.iter() {
        parsed.headers.push(HeaderRange { name: span(h.name.as_bytes()), value: span(h.value) });
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = parse_content_length(h.value).ok_or(ParseError::Malformed)?;
            if parsed.content_length.is_some_and(|old| old != n) {
                return Err(ParseError::Malformed);
            }
            parsed.content_length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            if version_minor == 0 {
                return Err(ParseError::Malformed);
            }
            if !h.value.eq_ignore_ascii_case(b"chunked") {
                return Err(ParseError::UnsupportedEncoding);
            }
            parsed.chunked = true;
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|b| *b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    parsed.keep_alive = false;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    parsed.keep_alive = true;
                }
            }
        } else if h.name.eq_ignore_ascii_case("expect") && h.value.eq_ignore_ascii_case(b"100-continue") {
            parsed.expect_continue = true;
        }
    }
    // RFC 9112 §6.3: a message with both is a smuggling attempt; Go rejects it.
    if parsed.chunked && parsed.content_length.is_some() {
        return Err(ParseError::Malformed);
    }
    if version_minor == 1 && !req.headers.iter().any(|h| h.name.eq_ignore_ascii_case("host")) {
        return Err(ParseError::Malformed);
    }
    Ok(Some((len, parsed)))
}

/// A parsed head before its bytes are split off the buffer.
#[derive(Debug)]
pub struct Parsed {
    method: Range<u32>,
    path: Range<u32>,
    query: Option<Range<u32>>,
    headers: SmallVec<[HeaderRange; 16]>,
    version_minor: u8,
    content_length: Option<u64>,
    chunked: bool,
    keep_alive: bool,
    expect_continue: bool,
}

impl Parsed {
    /// Attaches the head's bytes (exactly the bytes `parse_request` parsed).
    pub fn finish(self, bytes: Bytes) -> RequestHead {
        RequestHead {
            bytes,
            method: self.method,
            path: self.path,
            query: self.query,
            headers: self.headers,
            version_minor: self.version_minor,
            content_length: self.content_length,
            chunked: self.chunked,
            keep_alive: self.keep_alive,
            expect_continue: self.expect_continue,
        }
    }
}

fn parse_content_length(v: &[u8]) -> Option<u64> {
    let v = v.trim_ascii();
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Parses a chunk-size line at the start of `buf` (`1a;ext=1\r\n`). Returns the size and the line's length, or
/// `Ok(None)` when the line is not complete yet.
pub fn parse_chunk_size(buf: &[u8]) -> Result<Option<(u64, usize)>, ParseError> {
    match httparse::parse_chunk_size(buf) {
        Ok(httparse::Status::Complete((len, size))) => Ok(Some((size, len))),
        Ok(httparse::Status::Partial) if buf.len() > 1024 => Err(ParseError::Malformed),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(_) => Err(ParseError::Malformed),
    }
}

#[cfg(test)]
mod tests;

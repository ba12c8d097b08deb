//! Path decoding, matched parameter values and KrakenD's path-param check (§5.3).

use smallvec::SmallVec;
use std::borrow::Cow;

/// Decoded values of an endpoint's `{vars}`, in the order of `EndpointConfig::params`.
///
/// All values live in one buffer, inline up to [`INLINE_PARAM_BYTES`] bytes, so typical ids and slugs cost no
/// allocation (a `String` here was one of the 7 allocations per proxied request); `spans` holds `(start, end)` byte
/// offsets into it, inline for up to four variables. This replaces one `String` per value
/// (`SmallVec<[String; 4]>`), which costs an allocation per variable.
///
/// A name in `EndpointConfig::params` that is not a variable of the registered path (in REST mode `file.{ext}` is
/// literal text) gets an empty value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Params {
    /// The values' UTF-8 bytes, back to back (each span starts and ends on a `str` boundary).
    buf: SmallVec<[u8; INLINE_PARAM_BYTES]>,
    spans: SmallVec<[(u32, u32); 4]>,
}

/// Bytes of parameter values kept inline: a UUID (36) fits, and so do most ids, slugs and short names.
pub const INLINE_PARAM_BYTES: usize = 48;

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds parameters from values (tests and callers that build a request by hand).
    pub fn from_values<'s>(values: impl IntoIterator<Item = &'s str>) -> Self {
        let mut p = Params::new();
        for v in values {
            let start = offset(p.buf.len());
            p.buf.extend_from_slice(v.as_bytes());
            p.spans.push((start, offset(p.buf.len())));
        }
        p
    }

    /// Takes `buf` and the spans into it as they are.
    pub(crate) fn from_parts(buf: SmallVec<[u8; INLINE_PARAM_BYTES]>, spans: SmallVec<[(u32, u32); 4]>) -> Self {
        Params { buf, spans }
    }

    /// The value of the `i`-th variable of `EndpointConfig::params`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let &(start, end) = self.spans.get(i)?;
        // Spans are built from `&str` values, so this never fails; checking a short value costs a few ns.
        std::str::from_utf8(self.buf.get(start as usize..end as usize)?).ok()
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The values in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(move |i| self.get(i).unwrap_or(""))
    }
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A byte offset as stored in a span. Paths are bounded by `max_header_bytes`, far below 4 GiB.
pub(crate) fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A request path with an invalid `%` escape: Go's server answers `400 Bad Request` before routing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InvalidEscape;

/// Percent-decodes a request path as Go's `URL.Path` (`+` stays `+`, `%2F` becomes `/`). Borrows when there is
/// no `%`. Bytes that do not form UTF-8 after decoding are replaced with U+FFFD (Go keeps raw bytes; documented
/// deviation).
pub(crate) fn decode_path(raw: &str) -> Result<Cow<'_, str>, InvalidEscape> {
    if !raw.as_bytes().contains(&b'%') {
        return Ok(Cow::Borrowed(raw));
    }
    if first_invalid_escape(raw).is_some() {
        return Err(InvalidEscape);
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // Validated above: two hex digits follow.
            out.push((hex(bytes[i + 1]) << 4) | hex(bytes[i + 2]));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(Cow::Owned(match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }))
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// Go's `unescape` error text (`%zz`, `%4` at the end…): the bad escape, at most three bytes.
fn first_invalid_escape(s: &str) -> Option<&[u8]> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() || !b[i + 1].is_ascii_hexdigit() || !b[i + 2].is_ascii_hexdigit() {
                let bad = &b[i..];
                return Some(&bad[..bad.len().min(3)]);
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    None
}

/// The message for a double-encoded (or `?`/`#`-carrying) value.
pub(crate) const ENCODED_PARAMS: &str = "error: encoded url params";

/// KrakenD's `paramChecker` for one decoded value: `url.PathUnescape` must fail (→ `error: <err>`) or leave it
/// unchanged, and it must not contain `?` or `#`. Returns the 400 body on failure.
pub(crate) fn check_param(value: &str) -> Result<(), String> {
    if !value.bytes().any(|b| matches!(b, b'%' | b'?' | b'#')) {
        return Ok(());
    }
    if value.contains('%') {
        // PathUnescape validates every escape before decoding: the first invalid one is the error. Any valid
        // escape changes the value.
        return Err(match first_invalid_escape(value) {
            Some(bad) => format!("error: invalid URL escape {}", go_quote(bad)),
            None => ENCODED_PARAMS.to_owned(),
        });
    }
    Err(ENCODED_PARAMS.to_owned())
}

/// Go's `strconv.Quote` for a few bytes (enough for an `EscapeError`).
fn go_quote(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                c if (c as u32) < 0x80 && c.is_ascii_control() => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if c.is_control() => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert!(matches!(decode_path("/foo/bar"), Ok(Cow::Borrowed("/foo/bar"))));
        assert_eq!(decode_path("/foo/a%20b").unwrap(), "/foo/a b");
        assert_eq!(decode_path("/foo/a%2Fb+c").unwrap(), "/foo/a/b+c");
        assert_eq!(decode_path("/foo/..%252F").unwrap(), "/foo/..%2F");
        assert_eq!(decode_path("/%C3%BC").unwrap(), "/ü");
        assert_eq!(decode_path("/%FF").unwrap(), "/\u{FFFD}");
        assert_eq!(decode_path("/foo/%zz"), Err(InvalidEscape));
        assert_eq!(decode_path("/foo/%4"), Err(InvalidEscape));
        assert_eq!(decode_path("/foo/%"), Err(InvalidEscape));
    }

    #[test]
    fn param_check() {
        assert_eq!(check_param("a b"), Ok(()));
        assert_eq!(check_param("42"), Ok(()));
        assert_eq!(check_param("..%2F").unwrap_err(), ENCODED_PARAMS);
        assert_eq!(check_param("a?b").unwrap_err(), ENCODED_PARAMS);
        assert_eq!(check_param("a#b").unwrap_err(), ENCODED_PARAMS);
        assert_eq!(check_param("%zz").unwrap_err(), "error: invalid URL escape \"%zz\"");
        assert_eq!(check_param("%41%4").unwrap_err(), "error: invalid URL escape \"%4\"");
        assert_eq!(check_param("%").unwrap_err(), "error: invalid URL escape \"%\"");
    }

    #[test]
    fn params_storage() {
        let p = Params::from_values(["42", "a b", ""]);
        assert_eq!(p.len(), 3);
        assert_eq!(p.get(0), Some("42"));
        assert_eq!(p.get(1), Some("a b"));
        assert_eq!(p.get(2), Some(""));
        assert_eq!(p.get(3), None);
        assert_eq!(p.iter().collect::<Vec<_>>(), ["42", "a b", ""]);
        assert_eq!(format!("{p:?}"), r#"["42", "a b", ""]"#);
        assert!(Params::new().is_empty());
    }
}

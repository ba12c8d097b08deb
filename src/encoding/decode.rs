//! Backend body decoders for `encoding: json`, `safejson` and `string` (lura `encoding/encoding.go`).
//!
//! Go's `json.Decoder.Decode` reads only the first JSON value and leaves the rest of the body unread;
//! so do these decoders. Numbers keep their literal (Go's `UseNumber`), and invalid UTF-8 inside strings
//! becomes U+FFFD, as Go's decoder does.

use sonic_rs::{JsonValueTrait, Value};

/// Deepest array/object nesting a backend body may have.
///
/// Go's `encoding/json` allows 10,000 (`maxNestingDepth`), but sonic-rs parses recursively without a
/// limit of its own, using about 230 bytes of stack per level in a release build (measured: 8,000 levels
/// fit a 2 MiB thread stack, 10,000 do not). 1,000 keeps a worker's stack safe with a wide margin; real
/// APIs nest a few dozen levels at most.
pub const MAX_NESTING_DEPTH: usize = 1_000;

/// Why a backend body could not be decoded; each one makes that backend call an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The body is empty or only whitespace (Go: `EOF`).
    #[error("empty body: expected a JSON value")]
    Empty,
    /// The first value is not valid JSON.
    #[error("invalid JSON: {0}")]
    Invalid(String),
    /// Valid JSON of the wrong kind, e.g. an array from a backend without `is_collection`.
    #[error("cannot decode a JSON {found} here: expected {expected}")]
    WrongType { expected: &'static str, found: &'static str },
    /// Nested deeper than [`MAX_NESTING_DEPTH`].
    #[error("exceeded max depth ({MAX_NESTING_DEPTH} nested arrays/objects)")]
    TooDeep,
    /// An `xml` body that is not well-formed, with mxj's (Go `encoding/xml`'s) wording.
    #[error("{0}")]
    Xml(String),
    /// An `rss` body that is not a feed gofeed can read, with gofeed's wording where it has one.
    #[error("{0}")]
    Feed(String),
}

/// `encoding: json` (also unknown encodings): the first value must be an object, or an array when
/// `is_collection` (→ `{"collection":[…]}`).
///
/// `Ok(None)` means the backend sent `null`: the response exists but its data is nil, which the `json`
/// renderer writes as `null` (lura leaves the map nil). With `is_collection`, `null` gives
/// `{"collection":null}` (Go decodes it into a nil slice).
pub fn decode_json(body: &[u8], is_collection: bool) -> Result<Option<Value>, DecodeError> {
    let value = parse_first(body)?;
    if value.is_null() {
        return Ok(if is_collection { Some(wrap("collection", value)) } else { None });
    }
    if is_collection {
        if value.is_array() {
            return Ok(Some(wrap("collection", value)));
        }
        return Err(DecodeError::WrongType { expected: "an array (is_collection)", found: kind(&value) });
    }
    if value.is_object() {
        return Ok(Some(value));
    }
    Err(DecodeError::WrongType { expected: "an object", found: kind(&value) })
}

/// `encoding: safejson`: object → itself, array → `{"collection":[…]}`, anything else →
/// `{"content":<value>}`.
pub fn decode_safejson(body: &[u8]) -> Result<Value, DecodeError> {
    let value = parse_first(body)?;
    Ok(if value.is_object() {
        value
    } else if value.is_array() {
        wrap("collection", value)
    } else {
        wrap("content", value)
    })
}

/// `encoding: string`: the whole body as `{"content":"<body>"}`.
///
/// Invalid UTF-8 is replaced with U+FFFD here; Go keeps the raw bytes in the string (and its JSON
/// encoder then writes each bad byte as `\ufffd`, its string renderer writes them raw).
pub fn decode_string(body: &[u8]) -> Value {
    wrap("content", Value::copy_str(&String::from_utf8_lossy(body)))
}

pub(crate) fn wrap(key: &str, value: Value) -> Value {
    let mut obj = sonic_rs::Object::with_capacity(1);
    obj.insert(key, value);
    obj.into_value()
}

fn kind(value: &Value) -> &'static str {
    match value.get_type() {
        sonic_rs::JsonType::Null => "null",
        sonic_rs::JsonType::Boolean => "boolean",
        sonic_rs::JsonType::Number => "number",
        sonic_rs::JsonType::String => "string",
        sonic_rs::JsonType::Object => "object",
        sonic_rs::JsonType::Array => "array",
    }
}

/// JSON whitespace, as Go's scanner defines it.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Parses the first JSON value of `body` and ignores what follows it, as `json.Decoder.Decode` does.
fn parse_first(body: &[u8]) -> Result<Value, DecodeError> {
    let Some(first) = body.iter().position(|&b| !is_space(b)) else {
        return Err(DecodeError::Empty);
    };
    // Any document nested deeper than the limit has more opening brackets than that; the byte count
    // is cheap, the exact (string-aware) depth scan runs only when it is exceeded.
    let opens = body.iter().filter(|&&b| b == b'[' || b == b'{').count();
    if opens > MAX_NESTING_DEPTH && nests_deeper_than(&body[first..], MAX_NESTING_DEPTH) {
        return Err(DecodeError::TooDeep);
    }
    let mut de = sonic_rs::Deserializer::from_slice(body).use_rawnumber().utf8_lossy();
    // No `de.end()`: trailing bytes after the first value are KrakenD's to ignore.
    let value: Value = de.deserialize().map_err(invalid)?;
    if !value.is_object() && !value.is_array() {
        // Go's scanner only knows a top-level scalar has ended when it sees the next byte, and that
        // byte must be whitespace: `true xyz` decodes, `truex` and `123abc` do not.
        let end = first + scalar_len(&body[first..]);
        if let Some(&b) = body.get(end) {
            if !is_space(b) {
                return Err(DecodeError::Invalid(format!(
                    "invalid character {:?} after top-level value",
                    char::from(b)
                )));
            }
        }
    }
    Ok(value)
}

fn invalid(e: sonic_rs::Error) -> DecodeError {
    // sonic-rs appends an excerpt of the input on further lines; keep the one-line description.
    let text = e.to_string();
    DecodeError::Invalid(text.lines().next().unwrap_or_default().to_owned())
}

/// Length of the scalar token at the start of `s` (already known to be valid JSON).
fn scalar_len(s: &[u8]) -> usize {
    match s.first() {
        Some(b'"') => {
            let mut i = 1;
            while i < s.len() {
                match s[i] {
                    b'\\' => i += 2,
                    b'"' => return i + 1,
                    _ => i += 1,
                }
            }
            s.len()
        }
        Some(b't' | b'n') => 4,
        Some(b'f') => 5,
        _ => s.iter().position(|&b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')).unwrap_or(s.len()),
    }
}

/// Whether the first value in `s` nests deeper than `limit`, ignoring brackets inside strings.
/// Stops at the end of the first value or as soon as the limit is passed.
fn nests_deeper_than(s: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'"' => {
                i += 1;
                while i < s.len() {
                    match s[i] {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

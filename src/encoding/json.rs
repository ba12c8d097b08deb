//! KrakenD's JSON wire form: compact, keys sorted, `<` `>` `&` escaped, backend number literals kept.
//!
//! The reference is Go's `encoding/json` marshalling a `map[string]interface{}` decoded with `UseNumber`:
//! map keys come out sorted by bytes, strings are escaped HTML-safe, and `json.Number` literals are
//! written verbatim. The writer is iterative (an explicit frame stack plus one scratch buffer of sorted
//! object entries per call), so a deeply nested document can neither overflow the thread stack nor
//! allocate per object.

use smallvec::SmallVec;
use sonic_rs::{JsonContainerTrait, JsonNumberTrait, JsonType, JsonValueTrait, Value};

/// What [`write_str`] does with each byte: 0 copies it; anything else is the character after `\` in
/// its escape (`u` for the `\u00XX` form); `E2_CHECK` marks the lead byte of U+2028/U+2029.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    // Go ≥ 1.22 writes `\b` and `\f` short (earlier releases wrote `\u0008` / `\u000c`); KrakenD 2.x
    // releases of the documented schema version are built with Go ≥ 1.22.
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'<' as usize] = b'u';
    t[b'>' as usize] = b'u';
    t[b'&' as usize] = b'u';
    t[0xE2] = E2_CHECK;
    t
};

/// Lead byte of U+2028 / U+2029 (`E2 80 A8` / `E2 80 A9`), which Go escapes for JavaScript safety.
const E2_CHECK: u8 = 1;

pub(crate) const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends a JSON string literal with Go's escaping rules: `\"` `\\` `\n` `\r` `\t` `\b` `\f`, other
/// control characters as `\u00XX`, `<` `>` `&` and U+2028/U+2029 as `\uXXXX`; everything else verbatim.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    write_str_content(out, s);
    out.push(b'"');
}

/// [`write_str`] without the quotes.
pub(crate) fn write_str_content(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            i += 1;
            continue;
        }
        if esc == E2_CHECK {
            // `s` is valid UTF-8, so an E2 lead byte is followed by two continuation bytes.
            if bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9) {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(if bytes[i + 2] == 0xA8 { b"\\u2028" } else { b"\\u2029" });
                i += 3;
                start = i;
            } else {
                i += 3;
            }
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if esc == b'u' {
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xF) as usize]]);
        } else {
            out.extend_from_slice(&[b'\\', esc]);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends an `f64` as Go's `encoding/json` does: `strconv.FormatFloat(f, 'f', -1, 64)` for
/// 1e-6 ≤ |f| < 1e21 (and 0), otherwise the `'e'` form with a two-digit exponent trimmed (`1e-7`, `1e+21`).
pub fn write_f64(out: &mut Vec<u8>, f: f64) {
    use std::io::Write as _;
    let abs = f.abs();
    // Writing into a Vec<u8> cannot fail.
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        let _ = write!(out, "{f}");
    } else {
        // Rust's `{:e}` gives the same shortest digits as Go's `-1` precision, as `1.5e-7` / `1e21`;
        // Go writes the exponent sign always and trims `e-07` to `e-7`, so only the `+` is missing.
        let start = out.len();
        let _ = write!(out, "{f:e}");
        if let Some(e) = out[start..].iter().position(|&b| b == b'e') {
            let at = start + e + 1;
            if out.get(at) != Some(&b'-') {
                out.insert(at, b'+');
            }
        }
    }
}

fn write_number(out: &mut Vec<u8>, value: &Value) {
    if let Some(raw) = value.as_raw_number() {
        out.extend_from_slice(raw.as_str().as_bytes());
        return;
    }
    // Numbers built in code (not parsed from a backend) have no literal to keep.
    match value.as_number() {
        Some(n) => {
            if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(f) = n.as_f64() {
                write_f64(out, f);
            }
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// One open container in [`write_value`]'s explicit stack.
enum Frame<'a> {
    Array {
        items: std::slice::Iter<'a, Value>,
        first: bool,
    },
    /// Entries `next..end` of the scratch buffer are still to be written; `start` is where this
    /// object's entries begin (the buffer is truncated back to it when the object closes).
    Object {
        start: usize,
        next: usize,
        end: usize,
    },
}

type Entries<'a> = SmallVec<[(&'a str, &'a Value); 32]>;
type Frames<'a> = SmallVec<[Frame<'a>; 16]>;

/// Appends `value` in KrakenD's wire form: compact, object keys sorted ascending by bytes (for a
/// duplicated key the last occurrence wins, as when Go decodes into a map), Go's HTML-safe escaping,
/// raw number literals verbatim.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    let mut entries = Entries::new();
    let mut frames = Frames::new();
    open(out, value, &mut entries, &mut frames);
    while let Some(frame) = frames.last_mut() {
        let next = match frame {
            Frame::Array { items, first } => match items.next() {
                Some(v) => {
                    if !*first {
                        out.push(b',');
                    }
                    *first = false;
                    v
                }
                None => {
                    out.push(b']');
                    frames.pop();
                    continue;
                }
            },
            Frame::Object { start, next, end } => {
                if *next == *end {
                    out.push(b'}');
                    entries.truncate(*start);
                    frames.pop();
                    continue;
                }
                if *next != *start {
                    out.push(b',');
                }
                let (k, v) = entries[*next];
                *next += 1;
                write_str(out, k);
                out.push(b':');
                v
            }
        };
        open(out, next, &mut entries, &mut frames);
    }
}

/// Writes a scalar, or the opening bracket of a container and pushes its frame.
fn open<'a>(out: &mut Vec<u8>, value: &'a Value, entries: &mut Entries<'a>, frames: &mut Frames<'a>) {
    match value.get_type() {
        JsonType::Null => out.extend_from_slice(b"null"),
        JsonType::Boolean => {
            out.extend_from_slice(if value.as_bool() == Some(true) { b"true" } else { b"false" });
        }
        JsonType::Number => write_number(out, value),
        JsonType::String => write_str(out, value.as_str().unwrap_or_default()),
        JsonType::Array => {
            out.push(b'[');
            let items: &[Value] = value.as_array().map_or(&[], |a| a.as_slice());
            frames.push(Frame::Array { items: items.iter(), first: true });
        }
        JsonType::Object => {
            out.push(b'{');
            let start = entries.len();
            if let Some(obj) = value.as_object() {
                entries.extend(obj.iter());
            }
            let end = start + sort_dedup(&mut entries[start..]);
            entries.truncate(end);
            frames.push(Frame::Object { start, next: start, end });
        }
    }
}

/// Sorts entries by key bytes (stable) and drops all but the last of equal keys; returns the count kept.
fn sort_dedup(entries: &mut [(&str, &Value)]) -> usize {
    if entries.len() < 2 {
        return entries.len();
    }
    // Stable, so among equal keys document order survives and the last one is the Go map's value.
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut kept = 0;
    for i in 0..entries.len() {
        if i + 1 < entries.len() && entries[i].0 == entries[i + 1].0 {
            continue;
        }
        entries[kept] = entries[i];
        kept += 1;
    }
    kept
}

/// Encodes a value that came from the configuration file: numbers go through f64 and Go's float
/// formatting, as KrakenD's config parser (plain `json.Unmarshal`) and `encoding/json` do
/// (`1.0`→`1`, `1e3`→`1000`, `0.0000001`→`1e-7`, `1e21`→`1e+21`); keys sorted by bytes.
pub fn encode_config_value(value: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_config_value(&mut out, value, 0);
    out
}

/// Deeper config values are written as `null`; serde_json's own recursion limit (128) is far below it.
const MAX_CONFIG_DEPTH: usize = 1000;

fn write_config_value(out: &mut Vec<u8>, value: &serde_json::Value, depth: usize) {
    use serde_json::Value as J;
    match value {
        J::Null => out.extend_from_slice(b"null"),
        J::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        J::Number(n) => write_f64(out, n.as_f64().unwrap_or(0.0)),
        J::String(s) => write_str(out, s),
        _ if depth >= MAX_CONFIG_DEPTH => out.extend_from_slice(b"null"),
        J::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_config_value(out, v, depth + 1);
            }
            out.push(b']');
        }
        J::Object(map) => {
            let mut entries: SmallVec<[(&str, &serde_json::Value); 16]> =
                map.iter().map(|(k, v)| (k.as_str(), v)).collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k);
                out.push(b':');
                write_config_value(out, v, depth + 1);
            }
            out.push(b'}');
        }
    }
}

/// The serde struct name sonic-rs recognises as a raw number (`sonic_rs::serde::rawnumber::TOKEN`, private).
const RAW_NUMBER_TOKEN: &str = "$sonic_rs::private::JsonNumber";

/// Serialises as sonic-rs's raw-number struct, so `sonic_rs::to_value` turns it into a raw-number node.
struct RawJson<'a>(&'a str);

impl serde::Serialize for RawJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut s = serializer.serialize_struct(RAW_NUMBER_TOKEN, 1)?;
        s.serialize_field(RAW_NUMBER_TOKEN, self.0)?;
        s.end()
    }
}

/// A node that [`write_value`] writes verbatim: already-encoded JSON kept out of key sorting.
///
/// The trick: sonic-rs has no public raw-JSON node, but it keeps a backend's number literals as raw-number nodes
/// (`use_rawnumber`), and `write_value` writes those byte for byte. Serialising a struct under sonic-rs's private
/// raw-number name makes `to_value` store any text in such a node. `json` must be valid JSON (the caller encodes
/// it); the test `verbatim_node_is_written_as_is` guards the trick against sonic-rs upgrades. Other renderers (XML,
/// YAML) find these nodes with [`as_verbatim`] and parse the text back.
pub fn verbatim(json: &str) -> Value {
    sonic_rs::to_value(&RawJson(json)).unwrap_or_else(|_| Value::copy_str(json))
}

/// The text of a [`verbatim`] node (a raw number that is not a number: it starts with `{`, `[` or `"`).
pub fn as_verbatim(value: &Value) -> Option<sonic_rs::RawNumber> {
    value.as_raw_number().filter(|raw| matches!(raw.as_str().as_bytes().first(), Some(b'{' | b'[' | b'"')))
}

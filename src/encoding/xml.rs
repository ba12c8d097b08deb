//! `output_encoding: xml`: the data as XML in the conventions of `mxj` (`Map.Xml()`), which KrakenD CE's
//! `krakend-xml` renderer uses.
//!
//! A single top-level key becomes the root element (unless it holds a list with a non-object item); otherwise the
//! keys are wrapped in `<doc>`. Keys starting with `-` become attributes, `#text` the element's text when it is
//! the only other key; arrays repeat their element; children and attributes are sorted by key.
//! Deviations, to keep the output well-formed: text and attribute values are escaped (mxj writes them raw by
//! default), and an empty array is written `<key/>` (mxj leaves the tag unclosed).

use sonic_rs::{JsonContainerTrait, JsonType, JsonValueTrait, Value};

use super::json::as_verbatim;

/// mxj's `DefaultRootTag`.
const ROOT_TAG: &str = "doc";

/// Appends `data` as XML; no response (`None`) gives an empty body, as `c.XML(status, nil)` does.
pub fn render_xml(out: &mut Vec<u8>, data: Option<&Value>) {
    let Some(data) = data else { return };
    if let Some(obj) = data.as_object() {
        if obj.len() == 1 {
            if let Some((key, value)) = obj.iter().next() {
                let wrap = value.as_array().is_some_and(|items| items.iter().any(|v| !v.is_object()));
                if !wrap {
                    element(out, key, value);
                    return;
                }
            }
        }
    }
    element(out, ROOT_TAG, data);
}

fn element(out: &mut Vec<u8>, key: &str, value: &Value) {
    if let Some(raw) = as_verbatim(value) {
        // A pre-encoded object (return_error_details): written from its parsed form.
        if let Ok(parsed) = sonic_rs::from_str::<Value>(raw.as_str()) {
            element(out, key, &parsed);
        }
        return;
    }
    match value.get_type() {
        JsonType::Array => {
            let items = value.as_array().map_or(&[][..], |a| a.as_slice());
            if items.is_empty() {
                empty(out, key);
            }
            for item in items {
                element(out, key, item);
            }
        }
        JsonType::Object => object(out, key, value),
        JsonType::Null => empty(out, key),
        _ => {
            let mut text = Vec::new();
            scalar(&mut text, value);
            if text.is_empty() {
                empty(out, key);
            } else {
                open(out, key);
                out.push(b'>');
                out.extend_from_slice(&text);
                close(out, key);
            }
        }
    }
}

fn object(out: &mut Vec<u8>, key: &str, value: &Value) {
    let mut entries: Vec<(&str, &Value)> = value.as_object().map(|o| o.iter().collect()).unwrap_or_default();
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    open(out, key);
    let is_attr = |k: &str| k.len() > 1 && k.starts_with('-');
    let mut attrs = 0;
    for (k, v) in entries.iter().filter(|(k, _)| is_attr(k)) {
        if matches!(v.get_type(), JsonType::String | JsonType::Number | JsonType::Boolean) {
            out.push(b' ');
            out.extend_from_slice(&k.as_bytes()[1..]);
            out.extend_from_slice(b"=\"");
            scalar(out, v);
            out.push(b'"');
        }
        attrs += 1;
    }
    if attrs == entries.len() {
        out.extend_from_slice(b"/>");
        return;
    }
    if attrs + 1 == entries.len() {
        if let Some((_, text)) = entries.iter().find(|(k, _)| *k == "#text") {
            if matches!(text.get_type(), JsonType::String | JsonType::Number | JsonType::Boolean) {
                out.push(b'>');
                scalar(out, text);
                close(out, key);
                return;
            }
        }
    }
    out.push(b'>');
    for (k, v) in entries.iter().filter(|(k, _)| !is_attr(k)) {
        element(out, k, v);
    }
    close(out, key);
}

fn open(out: &mut Vec<u8>, key: &str) {
    out.push(b'<');
    out.extend_from_slice(key.as_bytes());
}

fn close(out: &mut Vec<u8>, key: &str) {
    out.extend_from_slice(b"</");
    out.extend_from_slice(key.as_bytes());
    out.push(b'>');
}

fn empty(out: &mut Vec<u8>, key: &str) {
    open(out, key);
    out.extend_from_slice(b"/>");
}

/// A scalar's text: number literals verbatim, booleans as `true`/`false`, strings escaped.
fn scalar(out: &mut Vec<u8>, value: &Value) {
    match value.get_type() {
        JsonType::String => escape(out, value.as_str().unwrap_or_default()),
        JsonType::Boolean => out.extend_from_slice(if value.as_bool() == Some(true) { b"true" } else { b"false" }),
        JsonType::Number => {
            let mut n = Vec::new();
            super::json::write_value(&mut n, value);
            out.extend_from_slice(&n);
        }
        _ => {}
    }
}

/// mxj's `escapeChars`: `&` `<` `>` `"` `'`.
fn escape(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\'' => out.extend_from_slice(b"&apos;"),
            _ => out.push(b),
        }
    }
}

//! Response bodies for `output_encoding` `json`, `json-collection` and `string` (lura `router/gin/render.go`).

use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use super::json::write_value;

/// `output_encoding: json`: `{}` when the proxy returned no response, `null` for nil data (a backend
/// that sent `null`), else the data in wire form.
pub fn render_json(out: &mut Vec<u8>, data: Option<&Value>) {
    match data {
        None => out.extend_from_slice(b"{}"),
        Some(v) => write_value(out, v),
    }
}

/// `output_encoding: json-collection`: the value under `collection` (written whatever its type, as gin's
/// `c.JSON(status, col)` does), or `[]` when there is no response or no such key.
pub fn render_json_collection(out: &mut Vec<u8>, data: Option<&Value>) {
    match data.and_then(|d| d.as_object()).and_then(|o| o.get(&"collection")) {
        Some(col) => write_value(out, col),
        None => out.extend_from_slice(b"[]"),
    }
}

/// `output_encoding: string`: the text under `content` when it is a string, else an empty body.
pub fn render_string(out: &mut Vec<u8>, data: Option<&Value>) {
    if let Some(s) = data.and_then(|d| d.as_object()).and_then(|o| o.get(&"content")).and_then(|c| c.as_str()) {
        out.extend_from_slice(s.as_bytes());
    }
}

//! Writing an endpoint's answer: the renderer picked by `output_encoding`, KrakenD's headers, and error answers.

use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use crate::config::OutputEncoding;
use crate::encoding as json;
use crate::server::h1::write::ResponseWriter;

pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";
/// What `krakend-xml` sets (no charset).
pub const XML_CONTENT_TYPE: &str = "application/xml";
/// gin's `render.YAML` content type.
pub const YAML_CONTENT_TYPE: &str = "application/yaml; charset=utf-8";

/// The offers lura's `negotiatedRender` passes to gin's `NegotiateFormat`, in order.
const NEGOTIATE_OFFERS: [(&str, OutputEncoding); 4] = [
    ("application/json", OutputEncoding::Json),
    ("text/plain", OutputEncoding::Yaml),
    ("application/xml", OutputEncoding::Xml),
    ("application/x-yaml", OutputEncoding::Yaml),
];

/// `output_encoding: negotiate`: the renderer for the request's first `Accept` header, as gin's
/// `NegotiateFormat` picks it: entries in the order written (parameters and q-values dropped), each tried against
/// the offers in order; a `*` in either string matches from there on, and an entry that is a prefix of an offer
/// matches it. No `Accept` picks json, and so does no match.
pub fn negotiate(accept: Option<&[u8]>) -> OutputEncoding {
    let Some(accept) = accept.and_then(|a| std::str::from_utf8(a).ok()) else { return OutputEncoding::Json };
    for part in accept.split(',') {
        // gin cuts at `;` only when it is not the first byte (`strings.IndexByte(part, ';') > 0`).
        let part = match part.find(';') {
            Some(i) if i > 0 => &part[..i],
            _ => part,
        };
        let accepted = part.trim().as_bytes();
        if accepted.is_empty() {
            continue;
        }
        for (offer, encoding) in NEGOTIATE_OFFERS {
            let offer = offer.as_bytes();
            let mut i = 0;
            while i < accepted.len() && i < offer.len() {
                if accepted[i] == b'*' || offer[i] == b'*' {
                    return encoding;
                }
                if accepted[i] != offer[i] {
                    break;
                }
                i += 1;
            }
            if i == accepted.len() {
                return encoding;
            }
        }
    }
    OutputEncoding::Json
}

/// Headers every endpoint answer carries.
#[derive(Debug, Clone, Copy)]
pub struct GatewayHeaders<'a> {
    /// `Version X` or `Version undefined`.
    pub x_krakend: &'a [u8],
    pub close: bool,
}

impl GatewayHeaders<'_> {
    pub fn write(&self, w: &mut ResponseWriter<'_>, completed: bool) {
        w.header("X-Krakend", self.x_krakend);
        w.header("X-Krakend-Completed", if completed { b"true" } else { b"false" });
        w.connection_close(self.close);
    }
}

/// Whether data counts as a complete, non-empty answer (lura: `len(Data) > 0`).
pub fn has_content(data: Option<&Value>) -> bool {
    data.is_some_and(|v| v.as_object().is_some_and(|o| !o.is_empty()))
}

/// A `200` with the rendered data.
pub fn success(
    out: &mut Vec<u8>,
    encoding: OutputEncoding,
    data: Option<&Value>,
    complete: bool,
    cache_control: Option<&[u8]>,
    headers: GatewayHeaders<'_>,
    accept: Option<&[u8]>,
) {
    let completed = complete && has_content(data);
    // One body buffer per worker thread, reused: rendering allocates nothing once it has grown.
    let mut body = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    body.clear();
    let encoding = if encoding == OutputEncoding::Negotiate { negotiate(accept) } else { encoding };
    let content_type = match encoding {
        OutputEncoding::JsonCollection => {
            json::render_json_collection(&mut body, data);
            JSON_CONTENT_TYPE
        }
        OutputEncoding::String => {
            json::render_string(&mut body, data);
            TEXT_CONTENT_TYPE
        }
        OutputEncoding::Xml => {
            json::render_xml(&mut body, data);
            XML_CONTENT_TYPE
        }
        OutputEncoding::Yaml => {
            json::render_yaml(&mut body, data);
            YAML_CONTENT_TYPE
        }
        _ => {
            json::render_json(&mut body, data);
            JSON_CONTENT_TYPE
        }
    };
    ok(out, content_type, &body, completed, cache_control, headers);
    SCRATCH.with(|s| *s.borrow_mut() = body);
}

/// A `200` with a backend's JSON object transcoded straight into the wire form ([`json::canonical`]), as
/// [`success`] renders it with `output_encoding: json`; `false`, with nothing written, when the body needs the
/// general decoder.
pub fn transcoded(out: &mut Vec<u8>, body: &[u8], cache_control: Option<&[u8]>, headers: GatewayHeaders<'_>) -> bool {
    let mut wire = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    wire.clear();
    let written = match json::canonical::transcode(body, &mut wire) {
        // A transcoded answer is complete, so it counts as completed when it has members ([`has_content`]).
        Ok(canonical) => {
            ok(out, JSON_CONTENT_TYPE, &wire, canonical.has_content, cache_control, headers);
            true
        }
        Err(json::canonical::Fallback) => false,
    };
    SCRATCH.with(|s| *s.borrow_mut() = wire);
    written
}

fn ok(
    out: &mut Vec<u8>,
    content_type: &str,
    body: &[u8],
    completed: bool,
    cache_control: Option<&[u8]>,
    headers: GatewayHeaders<'_>,
) {
    let mut w = ResponseWriter::new(out, 200);
    w.header_str("Content-Type", content_type);
    headers.write(&mut w, completed);
    if let Some(cc) = cache_control.filter(|_| completed) {
        w.header("Cache-Control", cc);
    }
    w.body(body, false);
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// An answer without data: status, optional text body.
pub fn failure(out: &mut Vec<u8>, status: u16, body: &[u8], content_type: Option<&[u8]>, headers: GatewayHeaders<'_>) {
    let mut w = ResponseWriter::new(out, status);
    match content_type {
        Some(ct) => {
            w.header("Content-Type", ct);
        }
        // Go's net/http sniffs a type for a body the handler gave none; for error texts that is plain text.
        None if !body.is_empty() => {
            w.header_str("Content-Type", sniff(body));
        }
        None => {}
    }
    headers.write(&mut w, false);
    w.body(body, false);
}

/// The part of Go's `http.DetectContentType` that error texts can hit.
fn sniff(body: &[u8]) -> &'static str {
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"<!DOCTYPE HTML") || trimmed.starts_with(b"<html") || trimmed.starts_with(b"<HTML") {
        "text/html; charset=utf-8"
    } else if body.iter().any(|b| matches!(b, 0..=8 | 11 | 14..=26 | 28..=31)) {
        "application/octet-stream"
    } else {
        TEXT_CONTENT_TYPE
    }
}

/// A key of the data as a string (for `string` rendering and tests).
pub fn content_str(data: &Value) -> Option<&str> {
    data.get("content").and_then(|c| c.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiate_like_gin() {
        let cases: [(Option<&str>, OutputEncoding); 12] = [
            (None, OutputEncoding::Json),
            (Some("*/*"), OutputEncoding::Json),
            (Some("application/json"), OutputEncoding::Json),
            (Some("application/xml"), OutputEncoding::Xml),
            (Some("text/plain"), OutputEncoding::Yaml),
            (Some("application/x-yaml"), OutputEncoding::Yaml),
            (Some("application/yaml"), OutputEncoding::Json),
            (Some("application/*"), OutputEncoding::Json),
            (Some("text/*"), OutputEncoding::Yaml),
            (Some("text/html, application/xml;q=0.9, */*;q=0.8"), OutputEncoding::Xml),
            (Some("application/xml;q=0.1, application/json"), OutputEncoding::Xml),
            (Some("image/png"), OutputEncoding::Json),
        ];
        for (accept, want) in cases {
            assert_eq!(negotiate(accept.map(str::as_bytes)), want, "{accept:?}");
        }
    }
}

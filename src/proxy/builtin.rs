//! The built-in endpoints: `/__health`, `/__debug/` and `/__echo/` (core spec §5.5).

use std::time::Instant;

use crate::encoding::json::write_str;
use crate::server::h1::RequestHead;
use crate::telemetry::logging;

/// `{"agents":{},"now":"<Go time.String()>","status":"ok"}`.
pub fn health_body(started: Instant) -> Vec<u8> {
    let mut body = Vec::with_capacity(128);
    body.extend_from_slice(b"{\"agents\":{},\"now\":");
    write_str(&mut body, &go_now(started));
    body.extend_from_slice(b",\"status\":\"ok\"}");
    body
}

/// Go's `time.Now().String()`: `2026-01-02 15:04:05.123456789 +0000 UTC m=+12.345678901`.
fn go_now(started: Instant) -> String {
    let now = chrono::Local::now();
    let mut s = now.format("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = now.timestamp_subsec_nanos();
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    let offset = now.format("%z").to_string();
    let zone = if offset == "+0000" { "UTC".to_owned() } else { now.format("%Z").to_string() };
    let mono = started.elapsed();
    s.push_str(&format!(" {offset} {zone} m=+{}.{:09}", mono.as_secs(), mono.subsec_nanos()));
    s
}

/// `/__debug/`: logs the request at DEBUG and answers `{"message":"pong"}`.
pub fn debug(req: &RequestHead, body: &[u8]) -> &'static [u8] {
    if logging::enabled(logging::Level::Debug) {
        let headers: Vec<String> = req
            .headers()
            .map(|(n, v)| format!("{}: {}", crate::backend::request::canonical(n), String::from_utf8_lossy(v)))
            .collect();
        logging::debug(&format!("Method: {}", req.method()));
        logging::debug(&format!("URL: {}", req.target()));
        logging::debug(&format!("Query: {}", req.query().unwrap_or("")));
        logging::debug(&format!("Headers: [{}]", headers.join(", ")));
        logging::debug(&format!("Body: {}", String::from_utf8_lossy(body)));
    }
    b"{\"message\":\"pong\"}"
}

/// `/__echo/`: the request described as JSON, keys in the order of KrakenD's struct.
pub fn echo(req: &RequestHead, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"{\"req_uri\":");
    write_str(&mut out, req.target());
    out.extend_from_slice(b",\"req_uri_details\":{\"user\":\"\",\"host\":");
    write_str(&mut out, req.header_str("host").unwrap_or(""));
    out.extend_from_slice(b",\"path\":");
    let path = percent_encoding::percent_decode_str(req.path()).decode_utf8_lossy();
    write_str(&mut out, &path);
    out.extend_from_slice(b",\"query\":");
    write_str(&mut out, req.query().unwrap_or(""));
    out.extend_from_slice(b",\"fragment\":\"\"},\"req_method\":");
    write_str(&mut out, req.method());
    out.extend_from_slice(b",\"req_querystring\":");
    let mut query: Vec<(String, Vec<String>)> = Vec::new();
    for pair in req.query().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode =
            |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
        push_multi(&mut query, decode(k), decode(v));
    }
    write_multimap(&mut out, query);
    out.extend_from_slice(b",\"req_body\":");
    write_str(&mut out, &String::from_utf8_lossy(body));
    out.extend_from_slice(b",\"req_headers\":");
    let mut headers: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in req.headers() {
        let name = crate::backend::request::canonical(name);
        if name == "Host" {
            continue;
        }
        push_multi(&mut headers, name, String::from_utf8_lossy(value).into_owned());
    }
    write_multimap(&mut out, headers);
    out.push(b'}');
    out
}

fn push_multi(map: &mut Vec<(String, Vec<String>)>, key: String, value: String) {
    match map.iter_mut().find(|(k, _)| *k == key) {
        Some((_, values)) => values.push(value),
        None => map.push((key, vec![value])),
    }
}

/// A Go `map[string][]string` in JSON: keys sorted.
fn write_multimap(out: &mut Vec<u8>, mut map: Vec<(String, Vec<String>)>) {
    map.sort_by(|a, b| a.0.cmp(&b.0));
    out.push(b'{');
    for (i, (k, values)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.extend_from_slice(b":[");
        for (j, v) in values.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            write_str(out, v);
        }
        out.push(b']');
    }
    out.push(b'}');
}

//! `backend/http.return_error_details`: a backend's error status as data (lura `proxy/http.go` `HTTPResponseError`).

use sonic_rs::{Object, Value};

use crate::encoding::json::{verbatim, write_str};

/// `{"error_<alias>": {"http_status_code": N, "http_body": "…", "http_body_encoding": "…"}}`.
///
/// Go marshals the inner value from a struct, so its keys come in field order, not sorted, and the two strings are
/// `omitempty`. The wire writer sorts object keys, so the inner object is encoded here once, in field order, and
/// carried as a verbatim JSON node (see [`verbatim`]).
pub fn error_details(alias: &str, status: u16, body: &[u8], content_type: Option<&[u8]>) -> Value {
    let mut inner = Vec::with_capacity(64 + body.len());
    inner.extend_from_slice(b"{\"http_status_code\":");
    inner.extend_from_slice(status.to_string().as_bytes());
    if !body.is_empty() {
        inner.extend_from_slice(b",\"http_body\":");
        write_str(&mut inner, &String::from_utf8_lossy(body));
    }
    if let Some(ct) = content_type.filter(|c| !c.is_empty()) {
        inner.extend_from_slice(b",\"http_body_encoding\":");
        write_str(&mut inner, &String::from_utf8_lossy(ct));
    }
    inner.push(b'}');
    let mut outer = Object::with_capacity(1);
    let key = format!("error_{alias}");
    // `inner` holds only ASCII punctuation, digits and `write_str` output, all valid UTF-8.
    outer.insert(&key, verbatim(&String::from_utf8_lossy(&inner)));
    outer.into_value()
}

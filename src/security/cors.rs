//! `security/cors` (spec §1.3): answers CORS preflights before routing and adds the CORS headers to every other
//! answer, with the semantics of rs/cors v1.11.1 (what KrakenD CE runs through krakend-cors).
//!
//! A preflight (`OPTIONS` with a non-empty `Access-Control-Request-Method`) is answered here for every path, known or
//! not, whether it is allowed or not; an allowed one gets the `Access-Control-Allow-*` headers. Other requests are
//! never rejected: they continue with `Vary: Origin` and, when origin and method are allowed, the CORS headers.

use serde::Deserialize;

use super::{push_header, Step};
use crate::config::duration::parse_go_duration;
use crate::config::host::canonical_header;
use crate::config::raw::{from_value, RawDuration};
use crate::server::h1::write::ResponseWriter;
use crate::server::h1::RequestHead;
use crate::telemetry::logging::{self, Level};

pub const NAMESPACE: &str = "security/cors";

/// rs/cors's `Vary` value on preflights.
const PREFLIGHT_VARY: &str = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
/// The same with `allow_private_network`.
const PREFLIGHT_VARY_PRIVATE: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network";
/// rs/cors tolerates this many spaces or tabs around each name of `Access-Control-Request-Headers`.
const MAX_OWS_BYTES: usize = 1;
/// …and this many empty elements in the list (RFC 9110 asks recipients to tolerate "a reasonable number").
const MAX_EMPTY_ELEMENTS: usize = 16;

/// The namespace as written (schema `security/cors.json`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CorsConfig {
    /// Origins; empty = any. One `*` inside an entry is a wildcard; a bare `*` allows any origin.
    allow_origins: Vec<String>,
    /// Methods (case-sensitive); empty = `GET`, `HEAD`, `POST`.
    allow_methods: Vec<String>,
    /// Request header names; empty = any (KrakenD substitutes `*`).
    allow_headers: Vec<String>,
    expose_headers: Vec<String>,
    allow_credentials: bool,
    /// Go duration, sent in whole seconds; 0 = no `Access-Control-Max-Age`.
    max_age: Option<RawDuration>,
    allow_private_network: bool,
    options_passthrough: bool,
    /// Status of an answered preflight; 0 = 204.
    options_success_status: u16,
    debug: bool,
}

/// Which origins are allowed.
#[derive(Debug)]
enum Origins {
    Any,
    /// Lower-cased exact origins, and `(prefix, suffix)` pairs around a `*`.
    Listed {
        exact: Vec<String>,
        wildcards: Vec<(String, String)>,
    },
}

/// `security/cors`, compiled.
#[derive(Debug)]
pub struct Cors {
    origins: Origins,
    methods: Vec<String>,
    /// `None` = any header; else rs/cors's sorted set of lower-cased names.
    headers: Option<SortedSet>,
    /// `Access-Control-Expose-Headers`, canonicalised and joined with `", "`.
    expose: Option<String>,
    credentials: bool,
    private_network: bool,
    /// `Access-Control-Max-Age` value, when one is sent.
    max_age: Option<String>,
    passthrough: bool,
    success_status: u16,
    debug: bool,
}

impl Cors {
    pub fn build(value: &serde_json::Value, warnings: &mut Vec<String>) -> Result<Cors, String> {
        let at = super::key_path(NAMESPACE);
        let raw: CorsConfig = from_value(value.clone(), &at)?;
        let origins = if raw.allow_origins.is_empty() || raw.allow_origins.iter().any(|o| o == "*") {
            Origins::Any
        } else {
            let (mut exact, mut wildcards) = (Vec::new(), Vec::new());
            for origin in &raw.allow_origins {
                let origin = origin.to_lowercase();
                match origin.split_once('*') {
                    Some((prefix, suffix)) => wildcards.push((prefix.to_owned(), suffix.to_owned())),
                    None => exact.push(origin),
                }
            }
            Origins::Listed { exact, wildcards }
        };
        let methods = if raw.allow_methods.is_empty() {
            vec!["GET".to_owned(), "HEAD".to_owned(), "POST".to_owned()]
        } else {
            raw.allow_methods
        };
        let headers = (!raw.allow_headers.is_empty() && !raw.allow_headers.iter().any(|h| h == "*"))
            .then(|| SortedSet::new(&raw.allow_headers));
        let expose = (!raw.expose_headers.is_empty())
            .then(|| raw.expose_headers.iter().map(|h| canonical_header(h)).collect::<Vec<_>>().join(", "));
        let nanos = match &raw.max_age {
            None => 0,
            Some(RawDuration::Nanos(n)) => *n,
            Some(RawDuration::Text(t)) if t.is_empty() => 0,
            Some(RawDuration::Text(t)) => parse_go_duration(t).unwrap_or_else(|| {
                warnings.push(format!(
                    "{at}.max_age: cannot parse duration \"{t}\" (want e.g. \"12h\"); no Access-Control-Max-Age is \
                     sent, as KrakenD does"
                ));
                0
            }),
        };
        // krakend-cors passes `int(max_age.Seconds())`; rs/cors sends "0" for a negative value.
        let secs = nanos / 1_000_000_000;
        let max_age = match secs {
            0 => None,
            s if s < 0 => Some("0".to_owned()),
            s => Some(s.to_string()),
        };
        Ok(Cors {
            origins,
            methods,
            headers,
            expose,
            credentials: raw.allow_credentials,
            private_network: raw.allow_private_network,
            max_age,
            passthrough: raw.options_passthrough,
            success_status: if raw.options_success_status == 0 { 204 } else { raw.options_success_status },
            debug: raw.debug,
        })
    }

    /// rs/cors's `Handler`: a preflight is answered into `out` (unless `options_passthrough`); every other request
    /// gets its CORS headers added to `headers` and continues.
    pub fn handle(&self, req: &RequestHead, headers: &mut Vec<u8>, out: &mut Vec<u8>, close: bool) -> Step {
        let preflight =
            req.method() == "OPTIONS" && req.header("access-control-request-method").is_some_and(|v| !v.is_empty());
        if !preflight {
            self.log(|| "Handler: Actual request".to_owned());
            self.actual(req, headers);
            return Step::Continue;
        }
        self.log(|| "Handler: Preflight request".to_owned());
        self.preflight(req, headers);
        if self.passthrough {
            return Step::Continue;
        }
        let mut w = ResponseWriter::new(out, self.success_status);
        w.buffer().extend_from_slice(headers);
        w.connection_close(close);
        // Go writes no framing for statuses without a body, and `Content-Length: 0` for the others.
        if matches!(self.success_status, 100..=199 | 204 | 304) {
            w.end_without_body();
        } else {
            w.body(b"", false);
        }
        Step::Answered
    }

    /// rs/cors `handlePreflight`.
    fn preflight(&self, req: &RequestHead, headers: &mut Vec<u8>) {
        let vary = if self.private_network { PREFLIGHT_VARY_PRIVATE } else { PREFLIGHT_VARY };
        push_header(headers, "Vary", vary.as_bytes());
        let origin = req.header("origin").unwrap_or_default();
        if origin.is_empty() {
            self.log(|| "  Preflight aborted: empty origin".to_owned());
            return;
        }
        if !self.origin_allowed(origin) {
            self.log(|| format!("  Preflight aborted: origin '{}' not allowed", String::from_utf8_lossy(origin)));
            return;
        }
        let method = req.header("access-control-request-method").unwrap_or_default();
        if !self.method_allowed(method) {
            self.log(|| format!("  Preflight aborted: method '{}' not allowed", String::from_utf8_lossy(method)));
            return;
        }
        let mut requested = req.header_values("access-control-request-headers").peekable();
        let found = requested.peek().is_some();
        if found {
            if let Some(set) = &self.headers {
                if !set.accepts(req.header_values("access-control-request-headers")) {
                    self.log(|| {
                        format!(
                            "  Preflight aborted: headers '{:?}' not allowed",
                            lines(req, "access-control-request-headers")
                        )
                    });
                    return;
                }
            }
        }
        let before = headers.len();
        self.allow_origin(req, headers);
        for m in req.header_values("access-control-request-method") {
            push_header(headers, "Access-Control-Allow-Methods", m);
        }
        if requested.peek().is_some_and(|first| !first.is_empty()) {
            for h in requested {
                push_header(headers, "Access-Control-Allow-Headers", h);
            }
        }
        if self.credentials {
            push_header(headers, "Access-Control-Allow-Credentials", b"true");
        }
        if self.private_network && req.header("access-control-request-private-network") == Some(b"true") {
            push_header(headers, "Access-Control-Allow-Private-Network", b"true");
        }
        if let Some(age) = &self.max_age {
            push_header(headers, "Access-Control-Max-Age", age.as_bytes());
        }
        self.log(|| format!("  Preflight response headers: {:?}", String::from_utf8_lossy(&headers[before..])));
    }

    /// rs/cors `handleActualRequest`.
    fn actual(&self, req: &RequestHead, headers: &mut Vec<u8>) {
        push_header(headers, "Vary", b"Origin");
        let origin = req.header("origin").unwrap_or_default();
        if origin.is_empty() {
            self.log(|| "  Actual request no headers added: missing origin".to_owned());
            return;
        }
        if !self.origin_allowed(origin) {
            self.log(|| {
                format!("  Actual request no headers added: origin '{}' not allowed", String::from_utf8_lossy(origin))
            });
            return;
        }
        if !self.method_allowed(req.method().as_bytes()) {
            self.log(|| format!("  Actual request no headers added: method '{}' not allowed", req.method()));
            return;
        }
        let before = headers.len();
        self.allow_origin(req, headers);
        if let Some(expose) = &self.expose {
            push_header(headers, "Access-Control-Expose-Headers", expose.as_bytes());
        }
        if self.credentials {
            push_header(headers, "Access-Control-Allow-Credentials", b"true");
        }
        self.log(|| format!("  Actual response added headers: {:?}", String::from_utf8_lossy(&headers[before..])));
    }

    /// `*` for an any-origin config, else every `Origin` line echoed.
    fn allow_origin(&self, req: &RequestHead, headers: &mut Vec<u8>) {
        match self.origins {
            Origins::Any => push_header(headers, "Access-Control-Allow-Origin", b"*"),
            Origins::Listed { .. } => {
                for o in req.header_values("origin") {
                    push_header(headers, "Access-Control-Allow-Origin", o);
                }
            }
        }
    }

    /// Origins compare case-insensitively (rs/cors lower-cases both sides, against the spec, on purpose).
    fn origin_allowed(&self, origin: &[u8]) -> bool {
        let Origins::Listed { exact, wildcards } = &self.origins else { return true };
        exact.iter().any(|o| o.as_bytes().eq_ignore_ascii_case(origin))
            || wildcards.iter().any(|(prefix, suffix)| {
                origin.len() >= prefix.len() + suffix.len()
                    && origin[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
                    && origin[origin.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
            })
    }

    /// Case-sensitive; `OPTIONS` is always allowed.
    fn method_allowed(&self, method: &[u8]) -> bool {
        method == b"OPTIONS" || self.methods.iter().any(|m| m.as_bytes() == method)
    }

    /// A `[CORS]` debug line, built only when `debug` is on and the log level lets it through.
    fn log(&self, message: impl FnOnce() -> String) {
        if self.debug && logging::enabled(Level::Debug) {
            logging::debug(&format!("[CORS] {}", message()));
        }
    }
}

/// Every line of a request header, as text (debug logs only).
fn lines(req: &RequestHead, name: &str) -> Vec<String> {
    req.header_values(name).map(|v| String::from_utf8_lossy(v).into_owned()).collect()
}

/// rs/cors's `internal.SortedSet`: the allowed header names, lower-cased, sorted and unique.
#[derive(Debug)]
struct SortedSet {
    names: Vec<String>,
}

impl SortedSet {
    fn new(names: &[String]) -> SortedSet {
        let mut names: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
        names.sort_unstable();
        names.dedup();
        SortedSet { names }
    }

    /// `Accepts`: the comma-separated names of every line, each a member looked up as sent (so lower-case), in
    /// strictly ascending order without duplicates (the form the Fetch standard makes browsers send); at most
    /// [`MAX_OWS_BYTES`] of whitespace around a name and [`MAX_EMPTY_ELEMENTS`] empty elements.
    fn accepts<'a>(&self, lines: impl Iterator<Item = &'a [u8]>) -> bool {
        let mut last: Option<usize> = None;
        let mut empty = 0;
        for line in lines {
            for element in line.split(|b| *b == b',') {
                let Some(name) = trim_ows(element, MAX_OWS_BYTES) else { return false };
                if name.is_empty() {
                    empty += 1;
                    if empty > MAX_EMPTY_ELEMENTS {
                        return false;
                    }
                    continue;
                }
                let Ok(pos) = self.names.binary_search_by(|n| n.as_bytes().cmp(name)) else { return false };
                if last.is_some_and(|l| pos <= l) {
                    return false;
                }
                last = Some(pos);
            }
        }
        true
    }
}

/// rs/cors's `trimOWS`: strips up to `n` spaces or tabs from each end, trailing side first. Like the original, it
/// gives up (`None`) once it has stripped more than `n` from a side that still has bytes left.
fn trim_ows(s: &[u8], n: usize) -> Option<&[u8]> {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let mut end = s.len();
    let mut stripped = 0;
    while end > 0 {
        if stripped > n {
            return None;
        }
        if !is_ows(&s[end - 1]) {
            break;
        }
        end -= 1;
        stripped += 1;
    }
    let s = &s[..end];
    let mut start = 0;
    stripped = 0;
    while start < s.len() {
        if stripped > n {
            return None;
        }
        if !is_ows(&s[start]) {
            break;
        }
        start += 1;
        stripped += 1;
    }
    Some(&s[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> SortedSet {
        SortedSet::new(&names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
    }

    fn accepts(set: &SortedSet, lines: &[&str]) -> bool {
        set.accepts(lines.iter().map(|l| l.as_bytes()))
    }

    #[test]
    fn sorted_set_rules() {
        let s = set(&["Origin", "Authorization", "Content-Type"]);
        assert!(accepts(&s, &["content-type,origin"]));
        assert!(accepts(&s, &["authorization, content-type"]));
        assert!(accepts(&s, &["authorization", "content-type,origin"]), "several lines are one list");
        assert!(accepts(&s, &[""]), "an empty value has no names");
        assert!(accepts(&s, &["content-type,,origin"]), "empty elements are tolerated");
        assert!(!accepts(&s, &["Content-Type"]), "looked up as sent");
        assert!(!accepts(&s, &["origin,content-type"]), "must be sorted");
        assert!(!accepts(&s, &["origin,origin"]), "no duplicates");
        assert!(!accepts(&s, &["x-pingother"]));
        assert!(!accepts(&s, &["content-type,  origin"]), "at most one space");
        assert!(!accepts(&s, &[&",".repeat(17)]), "at most 16 empty elements");
        assert!(accepts(&s, &[&",".repeat(15)]));
    }

    #[test]
    fn trims_like_rs_cors() {
        assert_eq!(trim_ows(b" a\t", 1), Some(&b"a"[..]));
        assert_eq!(trim_ows(b"a  ", 1), None);
        assert_eq!(trim_ows(b"  a", 1), None);
        assert_eq!(trim_ows(b"  ", 1), Some(&b""[..]));
        assert_eq!(trim_ows(b"   ", 1), None);
        assert_eq!(trim_ows(b"", 1), Some(&b""[..]));
    }

    #[test]
    fn origins_and_wildcards() {
        let value = serde_json::json!({"allow_origins": ["https://A.example", "https://*.example.com"]});
        let cors = Cors::build(&value, &mut Vec::new()).unwrap();
        assert!(cors.origin_allowed(b"https://a.EXAMPLE"));
        assert!(cors.origin_allowed(b"https://api.example.com"));
        assert!(!cors.origin_allowed(b"https://example.com"));
        assert!(!cors.origin_allowed(b"https://evil.example"));
        let any = Cors::build(&serde_json::json!({"allow_origins": ["https://a", "*"]}), &mut Vec::new()).unwrap();
        assert!(any.origin_allowed(b"https://whatever"));
    }

    #[test]
    fn max_age_in_seconds() {
        let build = |v: serde_json::Value| Cors::build(&v, &mut Vec::new()).unwrap().max_age;
        assert_eq!(build(serde_json::json!({"max_age": "12h"})).as_deref(), Some("43200"));
        assert_eq!(build(serde_json::json!({"max_age": "1500ms"})).as_deref(), Some("1"));
        assert_eq!(build(serde_json::json!({"max_age": "500ms"})), None);
        assert_eq!(build(serde_json::json!({"max_age": "-2s"})).as_deref(), Some("0"));
        let mut warnings = Vec::new();
        assert_eq!(Cors::build(&serde_json::json!({"max_age": "soon"}), &mut warnings).unwrap().max_age, None);
        assert_eq!(warnings.len(), 1);
    }
}

//! The edge security components: `security/cors` (§1.3), `security/http` (§1.4), `security/bot-detector` (§3.8)
//! and the Enterprise `ip-filter` plugin (§3.9), compiled once per worker from the config.
//!
//! They run where KrakenD runs them (spec §12.1): CORS and the global IP filter before routing (L1, answered there
//! without an access-log line), `security/http` and the service bot detector as router middlewares of the routes gin
//! runs them on (every endpoint, `/__debug/`, `/__echo/`, the 404/405 answers; not `/__health`, not the redirects),
//! the endpoint bot detector first in the endpoint's handler and the endpoint IP filter in its proxy layer.
//!
//! Headers that a component sets "before the rest of the chain runs" (CORS on every answer, the security headers on
//! the routes `security/http` covers) are collected per request and spliced into the answer's head once it is
//! written, whoever wrote it: the handlers stay unaware of them, and a service without these components pays one
//! branch on an `Option` per request.

pub mod bot_detector;
pub mod cors;
pub mod http;
pub mod ip_filter;
mod nonce;

use std::net::IpAddr;

use crate::config::ExtraConfig;
use crate::server::h1::write::ResponseWriter;
use crate::server::h1::RequestHead;

pub use bot_detector::BotDetector;
pub use cors::Cors;
pub use http::HttpSecurity;
pub use ip_filter::IpFilter;

/// The service-level components of one worker (root `extra_config`).
#[derive(Debug)]
pub struct ServiceSecurity {
    pub cors: Option<Cors>,
    /// `plugin/http-server` with `ip-filter`.
    pub ip_filter: Option<IpFilter>,
    pub http: Option<HttpSecurity>,
    pub bot_detector: Option<BotDetector>,
}

/// Whether a component answered the request itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Answered,
    Continue,
}

impl ServiceSecurity {
    /// Compiles the root `extra_config`'s components; `None` when there are none. Warnings go to `warnings` (the
    /// config check collects them once; workers pass a sink they drop).
    pub fn build(extra: &ExtraConfig, warnings: &mut Vec<String>) -> Result<Option<ServiceSecurity>, String> {
        let security = ServiceSecurity {
            cors: extra.get(cors::NAMESPACE).map(|v| Cors::build(v, warnings)).transpose()?,
            ip_filter: ip_filter::from_plugin(extra, ip_filter::SERVICE_NAMESPACE)?,
            http: extra.get(http::NAMESPACE).map(|v| HttpSecurity::build(v, warnings)).transpose()?,
            bot_detector: extra.get(bot_detector::NAMESPACE).map(|v| BotDetector::build(v, "SERVICE")).transpose()?,
        };
        let any = security.cors.is_some()
            || security.ip_filter.is_some()
            || security.http.is_some()
            || security.bot_detector.is_some();
        Ok(any.then_some(security))
    }

    /// L1, before routing: the CORS preflight answer and CORS headers (into `headers`), then the global IP filter.
    /// An answer given here is written to `out` (with `headers`) and never reaches the access log.
    pub fn before_routing(
        &self,
        req: &RequestHead,
        peer: IpAddr,
        headers: &mut Vec<u8>,
        out: &mut Vec<u8>,
        close: bool,
    ) -> Step {
        if let Some(cors) = &self.cors {
            if cors.handle(req, headers, out, close) == Step::Answered {
                return Step::Answered;
            }
        }
        if let Some(filter) = &self.ip_filter {
            let client = filter.client(Some(peer), |name| req.header_values(name));
            if !filter.allows(&client) {
                filter.log_block(req.path(), &client);
                abort(out, 403, close, headers);
                return Step::Answered;
            }
        }
        Step::Continue
    }

    /// L2, the router-engine middlewares of a covered route: `security/http` (bad host, HTTPS redirect, then its
    /// headers into `headers`) and the service bot detector. `tls` says whether the connection is TLS.
    pub fn router_middlewares(
        &self,
        req: &RequestHead,
        tls: bool,
        headers: &mut Vec<u8>,
        out: &mut Vec<u8>,
        close: bool,
    ) -> Step {
        if let Some(http) = &self.http {
            if http.handle(req, tls, headers, out, close) == Step::Answered {
                return Step::Answered;
            }
        }
        match &self.bot_detector {
            Some(bots) => bots.handle(req, headers, out, close),
            None => Step::Continue,
        }
    }
}

/// Validates the root `extra_config`'s security components (what `check` and start-up report).
pub fn check_service(extra: &ExtraConfig, warnings: &mut Vec<String>) -> Result<(), String> {
    ServiceSecurity::build(extra, warnings).map(drop)
}

/// The endpoint-level components of one endpoint on one worker.
#[derive(Debug)]
pub struct EndpointSecurity {
    pub bot_detector: Option<BotDetector>,
    /// `plugin/req-resp-modifier` with `ip-filter`.
    pub ip_filter: Option<IpFilter>,
}

impl EndpointSecurity {
    /// Compiles an endpoint's components; `None` when it has none. `path` is the endpoint's path, for log lines.
    pub fn build(extra: &ExtraConfig, path: &str) -> Result<Option<Box<EndpointSecurity>>, String> {
        let bot_detector = match extra.get(bot_detector::NAMESPACE) {
            Some(v) => Some(BotDetector::build(v, &format!("ENDPOINT: {path}"))?),
            None => None,
        };
        let ip_filter = ip_filter::from_plugin(extra, ip_filter::ENDPOINT_NAMESPACE)?;
        Ok((bot_detector.is_some() || ip_filter.is_some())
            .then(|| Box::new(EndpointSecurity { bot_detector, ip_filter })))
    }
}

/// Validates an endpoint's security components.
pub fn check_endpoint(extra: &ExtraConfig, path: &str) -> Result<(), String> {
    EndpointSecurity::build(extra, path).map(drop)
}

/// A router-layer abort (spec §0.3): the status alone, an empty body, no `Content-Type`, no `X-Krakend` headers;
/// `headers` are those the outer layers already set.
pub fn abort(out: &mut Vec<u8>, status: u16, close: bool, headers: &[u8]) {
    let mut w = ResponseWriter::new(out, status);
    w.buffer().extend_from_slice(headers);
    w.connection_close(close);
    w.body(b"", false);
}

/// Appends one `Name: value` header line to a header block.
pub(crate) fn push_header(headers: &mut Vec<u8>, name: &str, value: &[u8]) {
    headers.extend_from_slice(name.as_bytes());
    headers.extend_from_slice(b": ");
    headers.extend_from_slice(value);
    headers.extend_from_slice(b"\r\n");
}

/// Inserts `headers` into the response head that starts at `start` in `out`, right after its status and `Date`
/// lines (every answer starts with them, see `ResponseWriter::new`). Nothing happens when no answer was written.
pub fn splice_headers(out: &mut Vec<u8>, start: usize, headers: &[u8]) {
    if headers.is_empty() || out.len() <= start {
        return;
    }
    let head = &out[start..];
    let mut lines = head.windows(2).enumerate().filter(|(_, w)| *w == b"\r\n").map(|(i, _)| i);
    let (Some(_status), Some(date_end)) = (lines.next(), lines.next()) else { return };
    let at = start + date_end + 2;
    out.splice(at..at, headers.iter().copied());
}

/// A `regex` error as one line (the crate's text spans several, with a caret under the pattern).
pub(crate) fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "), str::to_owned)
}

/// The key path of a namespace in error texts: `extra_config."security/cors"`.
pub(crate) fn key_path(namespace: &str) -> String {
    format!("extra_config.\"{namespace}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_after_the_date_line() {
        let mut out = b"previous".to_vec();
        let start = out.len();
        let mut w = ResponseWriter::new(&mut out, 200);
        w.header_str("Content-Type", "text/plain");
        w.body(b"hi", false);
        splice_headers(&mut out, start, b"Vary: Origin\r\n");
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("previousHTTP/1.1 200 OK\r\nDate: "), "{text}");
        assert!(text.contains(" GMT\r\nVary: Origin\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"));
    }

    #[test]
    fn splicing_nothing_or_into_nothing_is_a_no_op() {
        let mut out = b"x".to_vec();
        splice_headers(&mut out, 1, b"Vary: Origin\r\n");
        assert_eq!(out, b"x");
        splice_headers(&mut out, 0, b"");
        assert_eq!(out, b"x");
    }

    #[test]
    fn regex_errors_are_one_line() {
        let pattern = String::from("(");
        let e = regex::Regex::new(&pattern).unwrap_err();
        assert_eq!(regex_error(&e), "unclosed group");
    }
}

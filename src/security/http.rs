//! `security/http` (spec §1.4): allowed hosts, the HTTPS redirect and the security response headers, with the
//! semantics of unrolled/secure v1.15 (what KrakenD CE runs through krakend-httpsecure).
//!
//! Order: a host outside `allowed_hosts` gets `500 Bad Host`; a plain-HTTP request with `ssl_redirect` gets a `301`
//! to HTTPS; every other request continues with the headers set, so they are on whatever the route answers.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;

use super::nonce::NonceSource;
use super::{push_header, Step};
use crate::config::raw::from_value;
use crate::server::h1::write::ResponseWriter;
use crate::server::h1::RequestHead;

pub const NAMESPACE: &str = "security/http";

/// What `$NONCE` in `content_security_policy` stands for (unrolled/secure: `'nonce-%[1]s'`).
const NONCE_PLACEHOLDER: &str = "$NONCE";

/// The namespace as written (schema `security/http.json`); defaults are unrolled/secure's (spec D3, D4).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HttpSecurityConfig {
    /// Hosts (with port) allowed in `Host`; empty = any.
    allowed_hosts: Vec<String>,
    /// `allowed_hosts` are regular expressions, matched against the whole host.
    allowed_hosts_are_regex: bool,
    /// Headers that carry the original host, first non-empty one wins.
    host_proxy_headers: Vec<String>,
    ssl_redirect: bool,
    /// Host of the redirect; empty = the request's.
    ssl_host: String,
    /// Header → value that mark a request as HTTPS (value compared exactly).
    ssl_proxy_headers: BTreeMap<String, String>,
    /// HSTS `max-age`; 0 = no `Strict-Transport-Security`.
    sts_seconds: i64,
    sts_include_subdomains: bool,
    force_sts_header: bool,
    frame_deny: bool,
    custom_frame_options_value: String,
    content_type_nosniff: bool,
    browser_xss_filter: bool,
    content_security_policy: String,
    referrer_policy: String,
    /// HPKP: documented, not read by KrakenD CE (removed upstream).
    hpkp_public_key: String,
    /// Turns off `allowed_hosts`, `ssl_redirect` and HSTS.
    is_development: bool,
}

/// How `allowed_hosts` match.
#[derive(Debug)]
enum AllowedHosts {
    Any,
    /// Case-insensitive exact match.
    Exact(Vec<String>),
    /// Each compiled as `^(?:entry)$`.
    Regex(Vec<Regex>),
}

/// `security/http`, compiled for one worker.
#[derive(Debug)]
pub struct HttpSecurity {
    hosts: AllowedHosts,
    host_proxy_headers: Vec<String>,
    ssl_redirect: bool,
    ssl_host: String,
    ssl_proxy_headers: Vec<(String, String)>,
    /// The `Strict-Transport-Security` value, unless HSTS is off.
    sts: Option<String>,
    force_sts: bool,
    /// The headers that are the same on every answer, as header lines.
    fixed: Vec<u8>,
    /// `content_security_policy` split at each `$NONCE`, when it has one.
    csp_with_nonce: Option<Vec<String>>,
    nonces: NonceSource,
}

impl HttpSecurity {
    pub fn build(value: &serde_json::Value, warnings: &mut Vec<String>) -> Result<HttpSecurity, String> {
        let at = super::key_path(NAMESPACE);
        let raw: HttpSecurityConfig = from_value(value.clone(), &at)?;
        if !raw.hpkp_public_key.is_empty() {
            warnings.push(format!(
                "{at}.hpkp_public_key: HTTP Public Key Pinning is not sent by KrakenD (removed upstream); ignored"
            ));
        }
        let hosts = match (raw.allowed_hosts.is_empty(), raw.allowed_hosts_are_regex) {
            (true, _) => AllowedHosts::Any,
            (false, false) => AllowedHosts::Exact(raw.allowed_hosts.clone()),
            (false, true) => AllowedHosts::Regex(
                raw.allowed_hosts
                    .iter()
                    .enumerate()
                    .map(|(i, h)| {
                        Regex::new(&format!("^(?:{h})$")).map_err(|e| {
                            format!(
                                "{at}.allowed_hosts[{i}]: invalid regular expression '{h}': {}",
                                super::regex_error(&e)
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        let dev = raw.is_development;
        let sts = (raw.sts_seconds != 0 && !dev).then(|| {
            let sub = if raw.sts_include_subdomains { "; includeSubDomains" } else { "" };
            format!("max-age={}{sub}", raw.sts_seconds)
        });
        let mut fixed = Vec::new();
        if !raw.custom_frame_options_value.is_empty() {
            push_header(&mut fixed, "X-Frame-Options", raw.custom_frame_options_value.as_bytes());
        } else if raw.frame_deny {
            push_header(&mut fixed, "X-Frame-Options", b"DENY");
        }
        if raw.content_type_nosniff {
            push_header(&mut fixed, "X-Content-Type-Options", b"nosniff");
        }
        if raw.browser_xss_filter {
            push_header(&mut fixed, "X-Xss-Protection", b"1; mode=block");
        }
        let csp = &raw.content_security_policy;
        let csp_with_nonce =
            csp.contains(NONCE_PLACEHOLDER).then(|| csp.split(NONCE_PLACEHOLDER).map(str::to_owned).collect());
        if !csp.is_empty() && csp_with_nonce.is_none() {
            push_header(&mut fixed, "Content-Security-Policy", csp.as_bytes());
        }
        if !raw.referrer_policy.is_empty() {
            push_header(&mut fixed, "Referrer-Policy", raw.referrer_policy.as_bytes());
        }
        Ok(HttpSecurity {
            hosts: if dev { AllowedHosts::Any } else { hosts },
            host_proxy_headers: raw.host_proxy_headers,
            ssl_redirect: raw.ssl_redirect && !dev,
            ssl_host: raw.ssl_host,
            ssl_proxy_headers: raw.ssl_proxy_headers.into_iter().collect(),
            sts,
            force_sts: raw.force_sts_header,
            fixed,
            csp_with_nonce,
            nonces: NonceSource::default(),
        })
    }

    /// unrolled/secure's `Process`: a bad host or an HTTPS redirect is answered into `out` (with the outer layers'
    /// `headers` only); otherwise the security headers join `headers` and the request continues.
    pub fn handle(&self, req: &RequestHead, tls: bool, headers: &mut Vec<u8>, out: &mut Vec<u8>, close: bool) -> Step {
        let host = self.host(req);
        if !self.host_allowed(host) {
            let mut w = ResponseWriter::new(out, 500);
            w.buffer().extend_from_slice(headers);
            // Go's `http.Error`.
            w.header_str("Content-Type", "text/plain; charset=utf-8").header_str("X-Content-Type-Options", "nosniff");
            w.connection_close(close);
            w.body(b"Bad Host\n", false);
            return Step::Answered;
        }
        let https = tls || self.ssl_proxy_headers.iter().any(|(name, value)| header_get(req, name) == value.as_bytes());
        if self.ssl_redirect && !https {
            let target_host =
                if self.ssl_host.is_empty() { String::from_utf8_lossy(host) } else { self.ssl_host.as_str().into() };
            let location = format!("https://{target_host}{}", req.target());
            let start = out.len();
            crate::server::dispatch::write_redirect(out, 301, &location, req.method(), close);
            super::splice_headers(out, start, headers);
            return Step::Answered;
        }
        if let Some(sts) = &self.sts {
            if https || self.force_sts {
                push_header(headers, "Strict-Transport-Security", sts.as_bytes());
            }
        }
        headers.extend_from_slice(&self.fixed);
        if let Some(parts) = &self.csp_with_nonce {
            let nonce = self.nonces.next();
            headers.extend_from_slice(b"Content-Security-Policy: ");
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    headers.extend_from_slice(b"'nonce-");
                    headers.extend_from_slice(&nonce);
                    headers.push(b'\'');
                }
                headers.extend_from_slice(part.as_bytes());
            }
            headers.extend_from_slice(b"\r\n");
        }
        Step::Continue
    }

    /// The first non-empty `host_proxy_headers` value, else `Host`.
    fn host<'r>(&self, req: &'r RequestHead) -> &'r [u8] {
        self.host_proxy_headers
            .iter()
            .map(|name| header_get(req, name))
            .find(|v| !v.is_empty())
            .unwrap_or_else(|| header_get(req, "host"))
    }

    fn host_allowed(&self, host: &[u8]) -> bool {
        match &self.hosts {
            AllowedHosts::Any => true,
            AllowedHosts::Exact(list) => list.iter().any(|h| h.as_bytes().eq_ignore_ascii_case(host)),
            AllowedHosts::Regex(list) => {
                let host = String::from_utf8_lossy(host);
                list.iter().any(|r| r.is_match(&host))
            }
        }
    }
}

/// Go's `Header.Get`: the first value, `""` when absent.
fn header_get<'r>(req: &'r RequestHead, name: &str) -> &'r [u8] {
    req.header(name).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> RequestHead {
        let (len, parsed) = crate::server::h1::parse_request(raw.as_bytes(), 1 << 20).unwrap().unwrap();
        parsed.finish(bytes::Bytes::copy_from_slice(&raw.as_bytes()[..len]))
    }

    /// What `handle` does: the answer written, or the headers added.
    fn run(config: serde_json::Value, raw: &str, tls: bool) -> (String, String) {
        let security = HttpSecurity::build(&config, &mut Vec::new()).unwrap();
        let (mut headers, mut out) = (Vec::new(), Vec::new());
        security.handle(&head(raw), tls, &mut headers, &mut out, false);
        (String::from_utf8(out).unwrap(), String::from_utf8(headers).unwrap())
    }

    #[test]
    fn a_tls_connection_is_https() {
        let config = serde_json::json!({"sts_seconds": 300, "ssl_redirect": true, "ssl_host": "s.example"});
        let (out, headers) = run(config.clone(), "GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n", true);
        assert_eq!((out.as_str(), headers.as_str()), ("", "Strict-Transport-Security: max-age=300\r\n"));
        let (out, headers) = run(config, "GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n", false);
        assert!(out.starts_with("HTTP/1.1 301 Moved Permanently\r\n"), "{out}");
        assert!(out.contains("\r\nLocation: https://s.example/a?b\r\n"), "{out}");
        assert_eq!(headers, "");
    }

    #[test]
    fn an_empty_proxy_header_value_matches_an_absent_header() {
        // Go's `Header.Get` gives "" for an absent header, so `{"X-Proto": ""}` marks every request HTTPS.
        let config = serde_json::json!({"sts_seconds": 1, "ssl_proxy_headers": {"X-Proto": ""}});
        let (_, headers) = run(config, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", false);
        assert_eq!(headers, "Strict-Transport-Security: max-age=1\r\n");
    }
}

//! The request a backend receives: `url_pattern` filled in, and exactly the query strings and headers KrakenD's
//! zero-trust forwarding lets through (core spec §7.3, §8).

use std::fmt::Write as _;

use bytes::Bytes;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::config::{BackendConfig, EndpointConfig, Method, UrlPart, UrlPattern};
use crate::router::Params;
use crate::server::h1::RequestHead;

use super::Target;

/// Bytes Go's `url.EscapedPath` leaves alone in a path: unreserved characters and `$&+,/:;=@`.
const PATH_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b',')
    .remove(b'/')
    .remove(b':')
    .remove(b';')
    .remove(b'=')
    .remove(b'@');

/// Bytes Go's `url.QueryEscape` leaves alone (space becomes `+`, handled apart).
const QUERY_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Bytes that cannot stand raw in a request line: values put verbatim into a `url_pattern` query are only escaped
/// this far (KrakenD puts them in raw, AC-19's `hash=<nil>`).
const REQUEST_LINE_ESCAPE: &AsciiSet = &percent_encoding::CONTROLS.add(b' ').add(b'#');

/// Headers that describe one hop and are never forwarded, even with `input_headers: ["*"]`.
const HOP_BY_HOP: [&str; 9] = [
    "Connection",
    "Keep-Alive",
    "Proxy-Connection",
    "Te",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
    "Content-Length",
    "Host",
];

/// Which client query strings or headers an endpoint or backend lets through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    All,
    Only(Vec<String>),
}

impl Allowed {
    fn from_list(list: &[String]) -> Allowed {
        if list.iter().any(|s| s == "*") {
            Allowed::All
        } else {
            Allowed::Only(list.to_vec())
        }
    }

    fn allows_query(&self, name: &str) -> bool {
        match self {
            Allowed::All => true,
            Allowed::Only(list) => list.iter().any(|s| s == name),
        }
    }

    fn allows_header(&self, canonical: &str) -> bool {
        match self {
            Allowed::All => true,
            Allowed::Only(list) => list.iter().any(|s| s.eq_ignore_ascii_case(canonical)),
        }
    }
}

/// The forwarding rules of one backend of one endpoint, compiled at start-up.
#[derive(Debug, Clone)]
pub struct Forwarding {
    pub method: Method,
    pattern: UrlPattern,
    endpoint_query: Allowed,
    backend_query: Option<Allowed>,
    endpoint_headers: Allowed,
    backend_headers: Option<Allowed>,
    disable_compression: bool,
    close_connection: bool,
}

/// What the gateway writes as `User-Agent` / `X-Forwarded-Via` (KrakenD writes `KrakenD Version X`).
pub const USER_AGENT: &str = concat!("Ringway Version ", env!("CARGO_PKG_VERSION"));

impl Forwarding {
    pub fn build(
        endpoint: &EndpointConfig,
        backend: &BackendConfig,
        disable_compression: bool,
        disable_keep_alives: bool,
    ) -> Self {
        let endpoint_headers = if endpoint.input_headers.is_empty() {
            Allowed::Only(vec!["Content-Type".to_owned()])
        } else {
            Allowed::from_list(&endpoint.input_headers)
        };
        Forwarding {
            method: backend.method,
            pattern: backend.url_pattern.clone(),
            endpoint_query: Allowed::from_list(&endpoint.input_query_strings),
            backend_query: (!backend.input_query_strings.is_empty())
                .then(|| Allowed::from_list(&backend.input_query_strings)),
            endpoint_headers,
            backend_headers: (!backend.input_headers.is_empty()).then(|| Allowed::from_list(&backend.input_headers)),
            disable_compression,
            close_connection: disable_keep_alives,
        }
    }

    /// Builds the request for this backend from the client's request.
    pub fn request(&self, client: &RequestHead, params: &Params, client_ip: &str, body: Bytes) -> OutgoingRequest {
        self.request_with(client, params, &[], client_ip, body)
    }

    /// [`Forwarding::request`] with values for the `url_pattern`'s dynamic placeholders (`{resp0_id}` of the
    /// sequential proxy), by placeholder name; a placeholder without a value is left in lura's internal form.
    pub fn request_with(
        &self,
        client: &RequestHead,
        params: &Params,
        dynamic: &[DynamicValue<'_>],
        client_ip: &str,
        body: Bytes,
    ) -> OutgoingRequest {
        // Path, query and header lines share one buffer, a spare one of this worker's (see `scratch`).
        let mut path_and_query = String::from_utf8(super::scratch::take()).unwrap_or_default();
        self.fill_pattern(&mut path_and_query, params, dynamic);
        self.append_query(&mut path_and_query, client.query());
        let path_end = path_and_query.len();
        let mut header_block = path_and_query.into_bytes();
        let mut forwarded_user_agent = false;
        let mut has_accept_encoding = false;
        let mut has_range = false;
        let keep = |name: &str| self.backend_headers.as_ref().is_none_or(|b| b.allows_header(name));
        for (name, value) in client.headers() {
            let canonical = canonical_cow(name);
            if HOP_BY_HOP.contains(&&*canonical)
                || canonical == "X-Forwarded-For"
                || canonical == "X-Forwarded-Host"
                || !self.endpoint_headers.allows_header(&canonical)
            {
                continue;
            }
            // The endpoint let it through; `X-Forwarded-Via` depends on that, not on the backend filter (lura).
            if canonical == "User-Agent" {
                forwarded_user_agent = true;
            }
            if !keep(&canonical) {
                continue;
            }
            has_accept_encoding |= canonical == "Accept-Encoding";
            has_range |= canonical == "Range";
            push_header(&mut header_block, &canonical, value);
        }
        if keep("X-Forwarded-For") {
            push_header(&mut header_block, "X-Forwarded-For", client_ip.as_bytes());
        }
        if let Some(host) = client.header("host") {
            if keep("X-Forwarded-Host") {
                push_header(&mut header_block, "X-Forwarded-Host", host);
            }
        }
        let ua = USER_AGENT;
        if forwarded_user_agent {
            if keep("X-Forwarded-Via") {
                push_header(&mut header_block, "X-Forwarded-Via", ua.as_bytes());
            }
        } else {
            // Also when a backend filter drops it: Go would then send `Go-http-client/1.1` (README).
            push_header(&mut header_block, "User-Agent", ua.as_bytes());
        }
        let gateway_gzip =
            !self.disable_compression && !has_accept_encoding && !has_range && self.method != Method::Head;
        if gateway_gzip {
            push_header(&mut header_block, "Accept-Encoding", b"gzip");
        }
        if self.close_connection {
            push_header(&mut header_block, "Connection", b"close");
        }
        let has_body = !body.is_empty() || client.content_length.is_some() || client.chunked;
        OutgoingRequest {
            method: self.method,
            buf: header_block,
            path_end,
            gateway_gzip,
            body,
            has_body,
            streamed: StreamedBody::No,
        }
    }

    fn fill_pattern(&self, out: &mut String, params: &Params, dynamic: &[DynamicValue<'_>]) {
        let mut in_query = false;
        for part in &self.pattern.parts {
            match part {
                UrlPart::Literal(text) => {
                    in_query |= text.contains('?');
                    out.push_str(text);
                }
                UrlPart::Param(i) => {
                    let value = params.get(*i).unwrap_or("");
                    if in_query {
                        let _ = write!(out, "{}", utf8_percent_encode(value, REQUEST_LINE_ESCAPE));
                    } else {
                        let _ = write!(out, "{}", utf8_percent_encode(value, PATH_ESCAPE));
                    }
                }
                // Filled by the sequential proxy (and later the JWT component). Without a value lura leaves its
                // internal template key (`{{.Resp0_id}}`), which the URL serialisation then escapes in the path
                // (`%7B%7B.Resp0_id%7D%7D`) and leaves raw in the query (§11).
                UrlPart::Dynamic(name) => {
                    let internal;
                    let value = match dynamic.iter().find(|(n, _)| *n == name) {
                        Some((_, v)) => v.as_str(),
                        None => {
                            internal = internal_key(name);
                            internal.as_str()
                        }
                    };
                    let set = if in_query { REQUEST_LINE_ESCAPE } else { PATH_ESCAPE };
                    let _ = write!(out, "{}", utf8_percent_encode(value, set));
                }
            }
        }
    }

    /// Appends the allowed client query strings, keys sorted, values in order, form-encoded (Go's `Values.Encode`).
    fn append_query(&self, out: &mut String, raw_query: Option<&str>) {
        let Some(raw) = raw_query.filter(|q| !q.is_empty()) else { return };
        if matches!(&self.endpoint_query, Allowed::Only(l) if l.is_empty()) {
            return;
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (Some(k), Some(v)) = (form_decode(k), form_decode(v)) else { continue };
            if self.endpoint_query.allows_query(&k) && self.backend_query.as_ref().is_none_or(|b| b.allows_query(&k)) {
                pairs.push((k, v));
            }
        }
        if pairs.is_empty() {
            return;
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        out.push(if out.contains('?') { '&' } else { '?' });
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            form_encode(out, k);
            out.push('=');
            form_encode(out, v);
        }
    }
}

/// A value for a dynamic `url_pattern` placeholder: (name as written without braces, value).
pub type DynamicValue<'a> = (&'a str, String);

/// lura's template form of a placeholder: `resp0_id` → `{{.Resp0_id}}` (first letter capitalised).
pub fn internal_key(name: &str) -> String {
    let mut s = String::with_capacity(name.len() + 5);
    s.push_str("{{.");
    let mut chars = name.chars();
    if let Some(first) = chars.next() {
        s.extend(first.to_uppercase());
    }
    s.push_str(chars.as_str());
    s.push_str("}}");
    s
}

/// Decodes one `application/x-www-form-urlencoded` component; `None` on a bad escape (Go skips that pair).
fn form_decode(s: &str) -> Option<String> {
    if s.contains(';') {
        return None;
    }
    let s = s.replace('+', " ");
    percent_decode_str(&s).decode_utf8().ok().map(|c| c.into_owned())
}

fn form_encode(out: &mut String, s: &str) {
    for piece in s.split(' ').enumerate() {
        if piece.0 > 0 {
            out.push('+');
        }
        let _ = write!(out, "{}", utf8_percent_encode(piece.1, QUERY_ESCAPE));
    }
}

fn push_header(block: &mut Vec<u8>, name: &str, value: &[u8]) {
    block.extend_from_slice(name.as_bytes());
    block.extend_from_slice(b": ");
    block.extend_from_slice(value);
    block.extend_from_slice(b"\r\n");
}

/// Go's `CanonicalMIMEHeaderKey`: `x-forwarded-for` → `X-Forwarded-For`. Names with bytes outside a token are
/// left as they are, as Go does.
pub fn canonicalize_into(name: &str, out: &mut String) {
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
        out.push_str(name);
        return;
    }
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() });
        upper = c == '-';
    }
}

/// The canonical form of a header name, borrowed when the client already sent it canonical (curl, browsers, wrk
/// do), so forwarding allocates nothing per header.
pub fn canonical_cow(name: &str) -> std::borrow::Cow<'_, str> {
    let mut upper = true;
    let already = name.bytes().all(|b| {
        let ok = if !b.is_ascii_alphabetic() {
            b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
        } else if upper {
            b.is_ascii_uppercase()
        } else {
            b.is_ascii_lowercase()
        };
        upper = b == b'-';
        ok
    });
    if already {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(canonical(name))
    }
}

/// [`canonicalize_into`] into a new string.
pub fn canonical(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    canonicalize_into(name, &mut s);
    s
}

/// A request ready to be written to a backend connection.
#[derive(Debug, Clone)]
pub struct OutgoingRequest {
    pub method: Method,
    /// The escaped path and query, then the header lines (`Name: value\r\n`, other than `Host` and the body
    /// framing): one buffer, given back to the worker's spares when the request is dropped.
    buf: Vec<u8>,
    /// Where the path and query end in `buf`.
    path_end: usize,
    /// Whether the gateway (not the client) asked for gzip, so a gzip answer is decoded transparently.
    pub gateway_gzip: bool,
    pub body: Bytes,
    /// Whether the client sent a body (Go's `NoBody` otherwise); decides redirects and `Content-Length: 0`.
    pub has_body: bool,
    /// Whether the body is streamed from the client instead of held in `body`, and how it is framed.
    pub streamed: StreamedBody,
}

/// How a streamed request body is framed towards the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamedBody {
    /// Not streamed: `body` holds it (possibly empty).
    No,
    /// `Content-Length: n`, as the client declared it.
    Length(u64),
    /// `Transfer-Encoding: chunked`: the client sent it chunked.
    Chunked,
}

impl OutgoingRequest {
    /// A request from its parts (redirects, the cache, tests); [`Forwarding::request`] builds the usual ones.
    pub fn new(
        method: Method,
        path_and_query: &str,
        header_block: &[u8],
        gateway_gzip: bool,
        body: Bytes,
        has_body: bool,
    ) -> Self {
        let mut buf = super::scratch::take();
        buf.extend_from_slice(path_and_query.as_bytes());
        buf.extend_from_slice(header_block);
        OutgoingRequest {
            method,
            buf,
            path_end: path_and_query.len(),
            gateway_gzip,
            body,
            has_body,
            streamed: StreamedBody::No,
        }
    }

    /// Path and query, escaped.
    pub fn path_and_query(&self) -> &str {
        // Written from `&str` pieces only (`Forwarding::request_with`, `new`, `set_path_and_query`).
        std::str::from_utf8(&self.buf[..self.path_end]).unwrap_or("/")
    }

    /// Header lines (`Name: value\r\n`) other than `Host` and the body framing.
    pub fn header_block(&self) -> &[u8] {
        &self.buf[self.path_end..]
    }

    pub fn set_path_and_query(&mut self, path_and_query: &str) {
        let mut buf = Vec::with_capacity(path_and_query.len() + self.header_block().len());
        buf.extend_from_slice(path_and_query.as_bytes());
        buf.extend_from_slice(self.header_block());
        self.path_end = path_and_query.len();
        super::scratch::give_back(std::mem::replace(&mut self.buf, buf));
    }

    pub fn set_header_block(&mut self, header_block: &[u8]) {
        self.buf.truncate(self.path_end);
        self.buf.extend_from_slice(header_block);
    }

    /// Writes the request (head and body) for `target` into `out`.
    pub fn encode(&self, target: &Target, out: &mut Vec<u8>) {
        out.reserve(self.buf.len() + self.body.len() + 64);
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(&self.buf[..self.path_end]);
        out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        out.extend_from_slice(target.authority.as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(self.header_block());
        if let StreamedBody::Length(n) = self.streamed {
            out.extend_from_slice(b"Content-Length: ");
            out.extend_from_slice(crate::server::h1::write::itoa_buf(n).as_bytes());
            out.extend_from_slice(b"\r\n");
        } else if self.streamed == StreamedBody::Chunked {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
        } else if self.has_body || matches!(self.method, Method::Post | Method::Put | Method::Patch) {
            out.extend_from_slice(b"Content-Length: ");
            out.extend_from_slice(crate::server::h1::write::itoa_buf(self.body.len() as u64).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
    }

    /// The full URL for logs and error texts (`http://h:8080/foo`).
    pub fn url(&self, target: &Target) -> String {
        format!("{}{}", target.base, self.path_and_query())
    }
}

impl Drop for OutgoingRequest {
    fn drop(&mut self) {
        super::scratch::give_back(std::mem::take(&mut self.buf));
    }
}

#[cfg(test)]
mod tests;

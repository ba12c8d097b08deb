//! The backend response cache (`qos/http-cache`, core spec §20): fresh answers to `GET`/`HEAD` backend calls are
//! served from this core's memory, stale ones are revalidated with `If-None-Match`/`If-Modified-Since`.
//!
//! The RFC 7234/9111 rules (freshness from `max-age`/`Expires`/`Age`, `no-store`, `no-cache`, `Vary` matching, the
//! client's `max-age`/`min-fresh`/`max-stale`, conditional requests and merging a `304`) come from the
//! `http-cache-semantics` crate: no runtime, no threads, only `http` + `time`. It is used as a *private* cache (as
//! KrakenD's `gregjones/httpcache`: `s-maxage` ignored, `private` stored) without heuristic freshness, so a response
//! without explicit freshness, or with `max-age=0`, is not stored (§20). On top of it, this module adds what
//! KrakenD's transport does and the crate does not: `only-if-cached` (a `504` when nothing usable is stored) and
//! `stale-if-error` (a stale answer when the backend fails or answers 500/502/503/504). A response to a request
//! carrying `Authorization` is stored only when the response allows it (`public`, `s-maxage`, `must-revalidate`,
//! RFC 9111 §3.5): one user's answer must not be served to another. Client directives reach the cache only through
//! the backend request, so they count only when the endpoint forwards `Cache-Control` (`input_headers`), as KrakenD.
//!
//! Buckets live in `Rc<RefCell<…>>` on one core: a backend's private bucket is its own; `shared: true` backends of
//! one worker use one bucket (created with the caps of the first such backend, as krakend-httpcache's global cache),
//! so in this thread-per-core design hit rates are per core. Entries are keyed by method + backend URL; the
//! variants of one URL (`Vary`) sit under that key, at most [`MAX_VARIANTS`]. With `max_items` + `max_size` the
//! bucket is an LRU over keys; otherwise it is uncapped (entries leave when replaced or found unusable).
//!
//! Not cached: `no-op` endpoints (their bodies are streamed to the client, never held), responses reached through a
//! redirect (the key would name another URL), requests with `Range`, and the `304` of a conditional request the
//! client made itself (it passes through).

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http_cache_semantics::{AfterResponse, BeforeRequest, CacheOptions, CachePolicy};

use crate::config::{HttpCacheConfig, Method};

use super::client::{BackendError, Client, Response, ResponseHead};
use super::{OutgoingRequest, Target};

/// Variants (`Vary`) kept under one key; a new one beyond this replaces the oldest.
pub const MAX_VARIANTS: usize = 8;

/// Bytes counted per entry on top of its key, head and body: the policy's parsed headers and the map slots.
const ENTRY_OVERHEAD: usize = 256;

/// What `only-if-cached` gets when nothing usable is stored (gregjones `newGatewayTimeoutResponse`).
const GATEWAY_TIMEOUT: &[u8] = b"HTTP/1.1 504 Gateway Timeout\r\nContent-Length: 0\r\n\r\n";

/// The crate's options for KrakenD's semantics: a private cache with no heuristic or `immutable` freshness, so
/// only explicit freshness stores a response.
const OPTIONS: CacheOptions = CacheOptions {
    shared: false,
    cache_heuristic: 0.0,
    immutable_min_time_to_live: Duration::ZERO,
    ignore_cargo_cult: false,
};

/// The buckets of one worker: the `shared: true` one is made on first use.
#[derive(Debug, Default)]
pub struct Buckets {
    shared: OnceCell<Rc<RefCell<Bucket>>>,
}

impl Buckets {
    /// The cache of one backend: its own bucket, or this worker's shared one.
    pub fn cache_for(&self, config: &HttpCacheConfig) -> HttpCache {
        let bucket = if config.shared {
            self.shared.get_or_init(|| Rc::new(RefCell::new(Bucket::new(config.caps)))).clone()
        } else {
            Rc::new(RefCell::new(Bucket::new(config.caps)))
        };
        HttpCache { bucket }
    }
}

/// The cache in front of one backend's HTTP calls.
#[derive(Debug, Clone)]
pub struct HttpCache {
    bucket: Rc<RefCell<Bucket>>,
}

/// A stored response and the policy that says when it may be reused.
#[derive(Debug)]
pub struct Stored {
    policy: CachePolicy,
    head: ResponseHead,
    body: Bytes,
    decoded_gzip: bool,
    /// When it stops being fresh (for `stale-if-error`).
    fresh_until: SystemTime,
    /// Approximate bytes it holds.
    size: usize,
}

impl Stored {
    fn new(
        policy: CachePolicy,
        head: ResponseHead,
        body: Bytes,
        decoded_gzip: bool,
        key: &str,
        now: SystemTime,
    ) -> Self {
        let fresh_until = now + policy.time_to_live(now);
        let size = key.len() + head.wire_len() + body.len() + ENTRY_OVERHEAD;
        Stored { policy, head, body, decoded_gzip, fresh_until, size }
    }

    fn response(&self) -> Response {
        Response {
            head: self.head.clone(),
            body: self.body.clone(),
            decoded_gzip: self.decoded_gzip,
            redirected_url: None,
        }
    }
}

impl HttpCache {
    /// [`Client::call`] through the cache.
    pub async fn call(
        &self,
        client: &Client,
        target: &Target,
        req: &OutgoingRequest,
    ) -> Result<Response, BackendError> {
        if !matches!(req.method, Method::Get | Method::Head) || header_line(req.header_block(), b"range").is_some() {
            return client.call(target, req).await;
        }
        let url = req.url(target);
        let Some(parts) = request_parts(req.method, &url, req.header_block()) else {
            return client.call(target, req).await;
        };
        let key = format!("{} {url}", req.method.as_str());
        let now = SystemTime::now();
        let variants = self.bucket.borrow_mut().get(&key);
        let mut stale = None;
        for stored in variants {
            match stored.policy.before_request(&parts, now) {
                BeforeRequest::Fresh(_) => return Ok(stored.response()),
                BeforeRequest::Stale { request, matches: true } => {
                    stale = Some((stored, request.headers));
                    break;
                }
                BeforeRequest::Stale { matches: false, .. } => {}
            }
        }
        if directive(&parts.headers, "only-if-cached").is_some() {
            let head = ResponseHead::synthetic(GATEWAY_TIMEOUT)
                .ok_or_else(|| BackendError::Io("cache: invalid 504 head".to_owned()))?;
            return Ok(Response { head, body: Bytes::new(), decoded_gzip: false, redirected_url: None });
        }
        let conditional = stale.as_ref().map(|(_, headers)| with_validators(req, headers));
        let result = client.call(target, conditional.as_ref().unwrap_or(req)).await;
        let now = SystemTime::now();
        if let Some((old, _)) = &stale {
            let failed = result.as_ref().map_or(true, |r| matches!(r.head.status, 500 | 502 | 503 | 504));
            if failed && stale_if_error(&parts.headers, old, now) {
                return Ok(old.response());
            }
        }
        let res = result?;
        if res.redirected_url.is_some() {
            return Ok(res);
        }
        let res_headers = response_headers(&res.head);
        let Ok(status) = http::StatusCode::from_u16(res.head.status) else {
            return Ok(res);
        };
        let mut res_parts = http::Response::new(()).into_parts().0;
        res_parts.status = status;
        res_parts.headers = res_headers;
        if let Some((old, _)) = &stale {
            if res.head.status == 304 {
                return Ok(self.revalidated(&key, old, &parts, &res_parts, now));
            }
        }
        let policy = CachePolicy::new_options(&parts, &res_parts, now, OPTIONS);
        let mut bucket = self.bucket.borrow_mut();
        if storable(&policy, &parts.headers, &res_parts.headers, now) {
            let stored = Stored::new(policy, res.head.clone(), res.body.clone(), res.decoded_gzip, &key, now);
            bucket.put(&key, Rc::new(stored), |v| same_variant(v, &parts, now));
        } else if let Some((old, _)) = &stale {
            bucket.remove(&key, old);
        }
        Ok(res)
    }

    /// A `304` to the cache's own conditional request: the stored body is served, with its policy refreshed from
    /// the `304`'s headers.
    fn revalidated(
        &self,
        key: &str,
        old: &Rc<Stored>,
        req: &http::request::Parts,
        res: &http::response::Parts,
        now: SystemTime,
    ) -> Response {
        let mut bucket = self.bucket.borrow_mut();
        match old.policy.after_response(req, res, now) {
            AfterResponse::NotModified(policy, _) => {
                let stored = Stored::new(policy, old.head.clone(), old.body.clone(), old.decoded_gzip, key, now);
                let response = stored.response();
                bucket.put(key, Rc::new(stored), |v| std::ptr::eq(v, &**old) || same_variant(v, req, now));
                response
            }
            // Validators that don't match ours: the body is still what the backend confirmed last, but the entry is
            // no longer trusted (gregjones serves the cached body on any 304 too).
            AfterResponse::Modified(..) => {
                bucket.remove(key, old);
                old.response()
            }
        }
    }

    /// Entries in this cache's bucket (tests and diagnostics).
    pub fn len(&self) -> usize {
        self.bucket.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether `stored` answers the same variant as `req` would (same method, URL and `Vary` values): a new response
/// for `req` replaces it. Concurrent misses (`concurrent_calls`, parallel clients) so store one variant once.
fn same_variant(stored: &Stored, req: &http::request::Parts, now: SystemTime) -> bool {
    match stored.policy.before_request(req, now) {
        BeforeRequest::Fresh(_) => true,
        BeforeRequest::Stale { matches, .. } => matches,
    }
}

/// Whether a new response may be stored: the RFC says so, it has explicit freshness (or `no-cache` with a validator,
/// to be revalidated on each use), and it is not one user's authenticated answer.
fn storable(policy: &CachePolicy, req: &HeaderMap, res: &HeaderMap, now: SystemTime) -> bool {
    if !policy.is_storable() {
        return false;
    }
    if req.contains_key(http::header::AUTHORIZATION)
        && directive(res, "public").is_none()
        && directive(res, "s-maxage").is_none()
        && directive(res, "must-revalidate").is_none()
    {
        return false;
    }
    let validator = res.contains_key(http::header::ETAG) || res.contains_key(http::header::LAST_MODIFIED);
    policy.time_to_live(now) > Duration::ZERO || (validator && directive(res, "no-cache").is_some())
}

/// `stale-if-error` from the request or the stored response allows serving `old` now.
fn stale_if_error(req: &HeaderMap, old: &Stored, now: SystemTime) -> bool {
    let stale_for = now.duration_since(old.fresh_until).unwrap_or_default();
    [directive(req, "stale-if-error"), directive(&response_headers(&old.head), "stale-if-error")]
        .into_iter()
        .flatten()
        .any(|limit| limit.is_none_or(|secs| stale_for <= Duration::from_secs(secs)))
}

/// A `Cache-Control` directive: `None` when absent, `Some(None)` without a (numeric) value, `Some(Some(n))` with one.
fn directive(headers: &HeaderMap, name: &str) -> Option<Option<u64>> {
    headers
        .get_all(http::header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|d| {
            let (n, value) = d.split_once('=').map_or((d, None), |(n, v)| (n, Some(v)));
            n.trim().eq_ignore_ascii_case(name).then(|| value.and_then(|v| v.trim().trim_matches('"').parse().ok()))
        })
}

/// The request as the crate sees it; `None` when the URL or a header does not fit the `http` types (no caching).
fn request_parts(method: Method, url: &str, block: &[u8]) -> Option<http::request::Parts> {
    let method = match method {
        Method::Head => http::Method::HEAD,
        _ => http::Method::GET,
    };
    let mut parts = http::Request::builder().method(method).uri(url).body(()).ok()?.into_parts().0;
    for line in block.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
        let name = HeaderName::from_bytes(&line[..colon]).ok()?;
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok()?;
        parts.headers.append(name, value);
    }
    Some(parts)
}

/// The response headers as the crate sees them (lines that don't fit the `http` types are left out).
fn response_headers(head: &ResponseHead) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(16);
    for (name, value) in head.headers() {
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value)) {
            map.append(n, v);
        }
    }
    map
}

/// The backend request with the validators the crate chose (`If-None-Match`, `If-Modified-Since`) in place of any
/// the client forwarded.
fn with_validators(req: &OutgoingRequest, revalidation: &HeaderMap) -> OutgoingRequest {
    let mut block = Vec::with_capacity(req.header_block().len() + 96);
    for line in req.header_block().split_inclusive(|b| *b == b'\n') {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with(b"if-none-match:") || lower.starts_with(b"if-modified-since:") {
            continue;
        }
        block.extend_from_slice(line);
    }
    for (name, header) in
        [("If-None-Match", http::header::IF_NONE_MATCH), ("If-Modified-Since", http::header::IF_MODIFIED_SINCE)]
    {
        if let Some(value) = revalidation.get(header) {
            block.extend_from_slice(name.as_bytes());
            block.extend_from_slice(b": ");
            block.extend_from_slice(value.as_bytes());
            block.extend_from_slice(b"\r\n");
        }
    }
    let mut out = req.clone();
    out.set_header_block(&block);
    out
}

/// The value of a header line in a `Name: value\r\n` block (`lower_name` in lower case).
fn header_line<'b>(block: &'b [u8], lower_name: &[u8]) -> Option<&'b [u8]> {
    block.split(|b| *b == b'\n').find_map(|line| {
        let colon = line.iter().position(|b| *b == b':')?;
        line[..colon].eq_ignore_ascii_case(lower_name).then(|| line[colon + 1..].trim_ascii())
    })
}

mod bucket;

pub use bucket::Bucket;

#[cfg(test)]
mod tests;

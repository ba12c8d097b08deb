//! One backend of an endpoint: request building, host choice, the call, KrakenD's status rule and decoding.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use sonic_rs::Value;

use super::Incoming;
use crate::backend::balance::Balancer;
use crate::backend::body::BodySource;
use crate::backend::cache::{Buckets, HttpCache};
use crate::backend::client::NoBody;
use crate::backend::request::{internal_key, DynamicValue, Forwarding, StreamedBody};
use crate::backend::{BackendError, Client, Target};
use crate::config::{BackendConfig, BackendEncoding, EndpointConfig, HttpClientConfig, UrlPart};
use crate::encoding as json;
use crate::merge::{error_details, Manipulation};

/// A backend, compiled for one worker.
#[derive(Debug)]
pub struct BackendStage {
    pub config: BackendConfig,
    pub forwarding: Forwarding,
    pub balancer: Balancer,
    /// `target`, `allow`/`deny`, `mapping`, `group` or the backend flatmap, compiled once.
    manipulation: Manipulation,
    /// `url_pattern` in lura's internal form (`/users/{{.Id}}`), for `invalid status code` texts.
    internal_pattern: String,
    /// The endpoint's `concurrent_calls`: identical requests raced against each other (§12).
    concurrent_calls: u8,
    /// The endpoint `timeout`, of which racing calls get [`CONCURRENT_TIMEOUT_PCT`].
    endpoint_timeout: Duration,
    /// `qos/http-cache`: this backend's bucket on this worker (or the worker's shared one).
    cache: Option<HttpCache>,
}

/// Share of the endpoint timeout that `concurrent_calls` get (lura `proxy/concurrent.go`).
pub const CONCURRENT_TIMEOUT_PCT: u32 = 75;

/// Why a backend contributed no data.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The error text KrakenD would log or show with `return_error_msg`.
    pub message: String,
    /// The backend's answer when the failure is its status code (for `return_error_code`).
    pub answer: Option<StatusAnswer>,
}

impl Failure {
    /// The endpoint, merge or `concurrent_calls` deadline passed (Go's context error text).
    pub fn deadline() -> Failure {
        Failure { message: "context deadline exceeded".to_owned(), answer: None }
    }
}

/// What a backend contributed to the merge.
#[derive(Debug)]
pub struct Fetched {
    /// The manipulated data; `None` for a backend `null` (a success without data).
    pub data: Option<Value>,
    /// `false` for a `return_error_details` answer: data, but the response is incomplete (lura leaves
    /// `IsComplete` unset on it).
    pub complete: bool,
}

/// What a call gave before decoding.
#[derive(Debug)]
pub enum Answer {
    /// A `200`/`201` body, still encoded.
    Body(Bytes),
    /// A failed status turned into data by `return_error_details` (incomplete, never manipulated).
    Details(Value),
}

/// A backend answer with a status other than 200/201.
#[derive(Debug, Clone)]
pub struct StatusAnswer {
    pub status: u16,
    pub content_type: Option<Bytes>,
    pub body: Bytes,
}

impl BackendStage {
    pub fn build(
        endpoint: &EndpointConfig,
        backend: &BackendConfig,
        client: &HttpClientConfig,
        worker: usize,
        caches: &Buckets,
    ) -> Result<Self, String> {
        let targets = backend.hosts.iter().map(|h| Target::parse(h)).collect::<Result<Vec<_>, _>>()?;
        let count = targets.len().max(1);
        Ok(BackendStage {
            forwarding: Forwarding::build(endpoint, backend, client.disable_compression, client.disable_keep_alives),
            balancer: Balancer::new(targets).with_offset(worker % count),
            internal_pattern: internal_pattern(endpoint, backend),
            manipulation: Manipulation::build(backend)?,
            concurrent_calls: endpoint.concurrent_calls.max(1),
            endpoint_timeout: endpoint.timeout,
            // `no-op` bodies are streamed to the client and never held, so there is nothing to store (README).
            cache: backend
                .http_cache
                .filter(|_| backend.encoding != BackendEncoding::NoOp)
                .map(|c| caches.cache_for(&c)),
            config: backend.clone(),
        })
    }

    /// Calls the backend (`concurrent_calls` times at once when set: the first complete answer wins, the others are
    /// dropped, which cancels them), decodes and manipulates the answer.
    ///
    /// Not an `async fn` of its own: each layer of `async fn` around another moves the inner call's whole state
    /// once more when it starts (kilobytes, for every backend of every request).
    pub fn fetch<'a>(
        &'a self,
        client: &'a Client,
        incoming: Incoming<'a>,
        body: Bytes,
    ) -> impl std::future::Future<Output = Result<Fetched, Failure>> + 'a {
        self.fetch_with(client, incoming, &[], body)
    }

    /// [`BackendStage::fetch`] with values for the `url_pattern`'s dynamic placeholders (the sequential proxy's
    /// `{respN_…}`).
    pub async fn fetch_with(
        &self,
        client: &Client,
        incoming: Incoming<'_>,
        dynamic: &[DynamicValue<'_>],
        body: Bytes,
    ) -> Result<Fetched, Failure> {
        if self.concurrent_calls <= 1 {
            // `fetch_once`'s body, not a call to it: one state move less per backend call.
            return self.fetched(self.answer_with(client, incoming, dynamic, body, None::<&mut NoBody>).await?);
        }
        let deadline = Instant::now() + self.endpoint_timeout * CONCURRENT_TIMEOUT_PCT / 100;
        let mut calls: FuturesUnordered<_> =
            (0..self.concurrent_calls).map(|_| self.fetch_once(client, incoming, dynamic, body.clone())).collect();
        let mut last = None;
        loop {
            match monoio::time::timeout_at(deadline.into(), calls.next()).await {
                Ok(Some(Ok(fetched))) if fetched.complete => return Ok(fetched),
                Ok(Some(other)) => last = Some(other),
                Ok(None) => break,
                Err(_) => {
                    return Err(Failure::deadline());
                }
            }
        }
        last.unwrap_or_else(|| Err(Failure { message: "no concurrent call answered".to_owned(), answer: None }))
    }

    /// Whether the endpoint may write this backend's body straight into the wire form (`encoding::canonical`):
    /// a plain `json` object with nothing that reshapes it, from a single call.
    pub fn is_transcodable(&self) -> bool {
        self.config.encoding == BackendEncoding::Json
            && !self.config.is_collection
            && self.manipulation.is_identity()
            && self.concurrent_calls <= 1
    }

    /// One call: request, status rule, decoding, manipulation.
    async fn fetch_once(
        &self,
        client: &Client,
        incoming: Incoming<'_>,
        dynamic: &[DynamicValue<'_>],
        body: Bytes,
    ) -> Result<Fetched, Failure> {
        self.fetched(self.answer_with(client, incoming, dynamic, body, None::<&mut NoBody>).await?)
    }

    /// What an answer contributes: a body decoded and manipulated, or `return_error_details` data (incomplete).
    fn fetched(&self, answer: Answer) -> Result<Fetched, Failure> {
        match answer {
            Answer::Body(bytes) => self.decode_body(&bytes),
            Answer::Details(data) => Ok(Fetched { data: Some(data), complete: false }),
        }
    }

    /// Decodes and manipulates a body this backend answered with.
    pub fn decode_body(&self, body: &[u8]) -> Result<Fetched, Failure> {
        self.decode(body).map(|data| self.manipulate(data))
    }

    /// Whether a request body can go to this backend as it arrives, instead of being read whole first: one call,
    /// no cache, a real host.
    pub fn can_stream_body(&self) -> bool {
        self.concurrent_calls <= 1 && self.cache.is_none() && self.config.static_filesystem.is_none()
    }

    /// [`BackendStage::fetch`] with the client's body streamed to the backend as it arrives.
    pub async fn fetch_streamed<B: BodySource>(
        &self,
        client: &Client,
        incoming: Incoming<'_>,
        body: &mut B,
    ) -> Result<Fetched, Failure> {
        self.fetched(self.answer_with(client, incoming, &[], Bytes::new(), Some(body)).await?)
    }

    /// One call, up to its body: request, status rule, `return_error_details`; nothing decoded. The request body is
    /// `body`, or streamed from `stream` when given.
    pub async fn answer_with<B: BodySource>(
        &self,
        client: &Client,
        incoming: Incoming<'_>,
        dynamic: &[DynamicValue<'_>],
        body: Bytes,
        stream: Option<&mut B>,
    ) -> Result<Answer, Failure> {
        let mut out = self.forwarding.request_with(incoming.head, incoming.params, dynamic, incoming.client_ip, body);
        if let Some(stream) = &stream {
            out.streamed = stream.content_length().map_or(StreamedBody::Chunked, StreamedBody::Length);
            out.has_body = true;
        }
        if let Some(dir) = &self.config.static_filesystem {
            let path = out.path_and_query().split('?').next().unwrap_or("/");
            let bytes = crate::components::static_filesystem::read_backend_file(dir, path)
                .map_err(|e| Failure { message: e, answer: None })?;
            return Ok(Answer::Body(bytes.into()));
        }
        let target =
            self.balancer.pick().ok_or_else(|| Failure { message: "no hosts available".to_owned(), answer: None })?;
        let res = match (&self.cache, stream) {
            (Some(cache), None) => cache.call(client, target, &out).await,
            (_, stream) => client.call_with_body(target, &out, stream).await,
        };
        let res = res.map_err(|e| Failure { message: url_error(&out.method, &out.url(target), &e), answer: None })?;
        if res.head.status != 200 && res.head.status != 201 {
            let content_type = res.head.header("content-type");
            if let Some(alias) = &self.config.return_error_details {
                // §17.3: the error becomes data; target, filters and group are not applied to it (lura builds it
                // in the HTTP proxy, below the response formatter).
                return Ok(Answer::Details(error_details(alias, res.head.status, &res.body, content_type)));
            }
            return Err(Failure {
                message: format!(
                    "invalid status code {} [{} {}]: {}",
                    res.head.status,
                    out.method.as_str(),
                    self.internal_pattern,
                    res.redirected_url.unwrap_or_else(|| out.url(target))
                ),
                answer: Some(StatusAnswer {
                    status: res.head.status,
                    content_type: content_type.map(Bytes::copy_from_slice),
                    body: res.body,
                }),
            });
        }
        Ok(Answer::Body(res.body))
    }

    fn manipulate(&self, data: Option<Value>) -> Fetched {
        Fetched { data: self.manipulation.apply(data), complete: true }
    }

    fn decode(&self, body: &[u8]) -> Result<Option<Value>, Failure> {
        let fail = |e: json::DecodeError| Failure { message: e.to_string(), answer: None };
        match self.config.encoding {
            BackendEncoding::Json => json::decode_json(body, self.config.is_collection).map_err(fail),
            BackendEncoding::SafeJson => json::decode_safejson(body).map(Some).map_err(fail),
            BackendEncoding::String => Ok(Some(json::decode_string(body))),
            BackendEncoding::Xml => json::decode_xml(body, self.config.is_collection).map_err(fail),
            BackendEncoding::Rss => json::decode_rss(body).map(Some).map_err(fail),
            BackendEncoding::NoOp => Err(Failure {
                message: format!("{:?} decoding is not available in this build", self.config.encoding),
                answer: None,
            }),
        }
    }
}

/// Go's `url.Error` text: `Get "http://h/foo": dial tcp …`.
fn url_error(method: &crate::config::Method, url: &str, e: &BackendError) -> String {
    match e {
        BackendError::Timeout => e.to_string(),
        _ => {
            let m = method.as_str();
            format!("{}{} \"{url}\": {e}", &m[..1], m[1..].to_ascii_lowercase())
        }
    }
}

/// lura keeps url patterns as Go templates: `{id}` becomes `{{.Id}}` (first letter capitalised).
fn internal_pattern(endpoint: &EndpointConfig, backend: &BackendConfig) -> String {
    let mut s = String::new();
    for part in &backend.url_pattern.parts {
        match part {
            UrlPart::Literal(t) => s.push_str(t),
            UrlPart::Param(i) => s.push_str(&internal_key(endpoint.params.get(*i).map_or("", String::as_str))),
            UrlPart::Dynamic(name) => s.push_str(&internal_key(name)),
        }
    }
    s
}

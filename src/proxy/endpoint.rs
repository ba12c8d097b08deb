//! An endpoint's core handler: calls its backends within the endpoint `timeout`, applies KrakenD's status rules,
//! and renders the answer (lura `router/gin/endpoint.go` + `proxy` stack).

use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use sonic_rs::Value;

use super::backend_call::{Answer, BackendStage, Failure, Fetched, StatusAnswer};
use super::render::{self, GatewayHeaders};
use super::sequential::{self, Sequence};
use super::static_response::StaticResponse;
use super::Incoming;
use crate::backend::body::BodySource;
use crate::backend::cache::Buckets;
use crate::backend::client::Streaming;
use crate::backend::request::StreamedBody;
use crate::config::{EndpointConfig, OutputEncoding, ServiceConfig};
use crate::merge::{merge_into, Flatmap};
use crate::security::ip_filter::IpFilter;
use crate::security::EndpointSecurity;
use crate::server::body::{BodyError, RequestBody};
use crate::server::h1::write::ResponseWriter;
use crate::server::h1::RequestHead;
use crate::server::worker::Worker;

/// Share of the endpoint timeout the backends of a merge get; the rest is left for merging and rendering
/// (lura `proxy/merging.go`, which leaves the 85 unexplained).
pub const MERGE_TIMEOUT_PCT: u32 = 85;

/// An endpoint compiled for one worker.
#[derive(Debug)]
pub struct Endpoint {
    pub config: EndpointConfig,
    backends: Vec<BackendStage>,
    shadows: Vec<Rc<BackendStage>>,
    /// Endpoint `proxy.flatmap_filter`, run on the merged data; only with more than one (non-shadow) backend.
    flatmap: Option<Flatmap>,
    /// `proxy.sequential` with more than one (non-shadow) backend: the backends' `{respN_…}` placeholders.
    sequence: Option<Sequence>,
    /// `proxy.static`, applied to the answer after the merge.
    static_response: Option<StaticResponse>,
    /// `public, max-age=N` when `cache_ttl` is set.
    cache_control: Option<Vec<u8>>,
    data_path: DataPath,
    /// The endpoint's `security/bot-detector` and `ip-filter` plugin, when it has either.
    security: Option<Box<EndpointSecurity>>,
}

/// How an endpoint turns its backends' answers into its body; decided once, at build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataPath {
    /// Decode each answer into a tree, manipulate and merge the trees, render the result.
    Tree,
    /// One `json` backend whose data nothing reshapes, rendered as `json`: its body goes straight into the wire form
    /// (`encoding::canonical`), with no tree (benches/json.rs: 1.4–2.6× faster than decoding and writing).
    Transcode,
}

/// What the backends gave.
struct Outcome {
    data: Option<Value>,
    complete: bool,
    failures: Vec<Failure>,
}

impl Outcome {
    /// The endpoint `timeout` passed before the backends answered.
    fn deadline() -> Outcome {
        Outcome { data: None, complete: false, failures: vec![Failure::deadline()] }
    }

    /// What the only backend of an endpoint gave.
    fn single(fetched: Result<Fetched, Failure>) -> Outcome {
        match fetched {
            // A JSON `null` is a success without data; the json renderer writes it as `null` (lura `jsonRender`).
            Ok(Fetched { data, complete }) => {
                Outcome { data: Some(data.unwrap_or_default()), complete, failures: Vec::new() }
            }
            Err(f) => Outcome { data: None, complete: false, failures: vec![f] },
        }
    }
}

/// A `no-op` answer whose body is still to be copied from the backend.
pub struct StreamReply {
    pub stream: Streaming,
    /// Re-frame the body as chunked (the backend's length is unknown or no longer true).
    pub chunked: bool,
    pub deadline: Instant,
}

impl Endpoint {
    pub fn build(
        config: &EndpointConfig,
        service: &ServiceConfig,
        worker: usize,
        caches: &Buckets,
    ) -> Result<Endpoint, String> {
        let mut backends = Vec::new();
        let mut shadows = Vec::new();
        let label = format!("endpoint {} {}", config.method.as_str(), config.path);
        for (i, b) in config.backends.iter().enumerate() {
            let stage = BackendStage::build(config, b, &service.client, worker, caches)
                .map_err(|e| format!("{label}, backend #{i}: {e}"))?;
            if b.shadow {
                shadows.push(Rc::new(stage));
            } else {
                backends.push(stage);
            }
        }
        // lura loads the endpoint flatmap only in front of a merge (`newMulti`); with one backend it is ignored.
        let flatmap = match backends.len() {
            0 | 1 => None,
            _ => Flatmap::build(&config.extra_config).map_err(|e| format!("{label}: {e}"))?,
        };
        // lura builds `sequentialMerge` only in front of several backends; one backend is called as usual.
        let sequence = (backends.len() > 1 && sequential::enabled(&config.extra_config))
            .then(|| Sequence::build(backends.iter().map(|b| &b.config.url_pattern)));
        let secs = config.cache_ttl.as_secs();
        let static_response = StaticResponse::build(&config.extra_config);
        let security =
            EndpointSecurity::build(&config.extra_config, &config.path).map_err(|e| format!("{label}: {e}"))?;
        let data_path = match backends.as_slice() {
            [only]
                if config.output_encoding == OutputEncoding::Json
                    && flatmap.is_none()
                    && sequence.is_none()
                    && static_response.is_none()
                    && only.is_transcodable() =>
            {
                DataPath::Transcode
            }
            _ => DataPath::Tree,
        };
        Ok(Endpoint {
            security,
            flatmap,
            sequence,
            static_response,
            data_path,
            config: config.clone(),
            backends,
            shadows,
            cache_control: (!config.cache_ttl.is_zero()).then(|| format!("public, max-age={secs}").into_bytes()),
        })
    }

    /// Whether the request body can go to the backend as it arrives: one regular backend that is called once (no
    /// shadows, no sequence, no `concurrent_calls`, no cache). Every other pipe needs the body in memory.
    pub fn can_stream_body(&self) -> bool {
        matches!(self.backends.as_slice(), [only] if only.can_stream_body())
            && self.shadows.is_empty()
            && self.sequence.is_none()
    }

    /// The endpoint's `security/bot-detector`, the first step of its handler: `true` when it answered `403`.
    pub fn reject_bot(&self, req: &RequestHead, out: &mut Vec<u8>, close: bool) -> bool {
        let Some(bots) = self.security.as_ref().and_then(|s| s.bot_detector.as_ref()) else { return false };
        bots.handle(req, &[], out, close) == crate::security::Step::Answered
    }

    /// The endpoint's `ip-filter` (proxy layer): the failure to answer with when it blocks the client. At endpoint
    /// level the plugin sees the request the gateway sends upstream: the client IP it resolved (its
    /// `X-Forwarded-For`) and the headers `input_headers` lets through.
    fn ip_filter_failure(&self, filter: &IpFilter, incoming: Incoming<'_>) -> Option<Failure> {
        let forwards = |name: &str| self.config.input_headers.iter().any(|h| h == "*" || h.eq_ignore_ascii_case(name));
        let client = filter.client(incoming.client_ip.parse().ok(), |name| {
            let xff = name.eq_ignore_ascii_case("X-Forwarded-For");
            let forwarded = !xff && forwards(name);
            std::iter::once(incoming.client_ip.as_bytes())
                .filter(move |_| xff)
                .chain(incoming.head.header_values(name).filter(move |_| forwarded))
        });
        if filter.allows(&client) {
            return None;
        }
        filter.log_block(incoming.head.path(), &client);
        let message = IpFilter::error_message(&client);
        let answer = StatusAnswer { status: 403, content_type: None, body: Bytes::from(message.clone()) };
        Some(Failure { message, answer: Some(answer) })
    }

    /// Answers one request into `out`; a `no-op` answer returns the body still to stream. The request body is either
    /// in `body` or, when [`Endpoint::can_stream_body`], still on the connection in `stream`.
    pub async fn handle(
        &self,
        worker: &Rc<Worker>,
        incoming: Incoming<'_>,
        body: Bytes,
        mut stream: Option<&mut RequestBody<'_>>,
        out: &mut Vec<u8>,
        close: bool,
    ) -> Option<StreamReply> {
        let headers = GatewayHeaders { x_krakend: &worker.x_krakend, close };
        if let Some(filter) = self.security.as_ref().and_then(|s| s.ip_filter.as_ref()) {
            if let Some(failure) = self.ip_filter_failure(filter, incoming) {
                self.fail(worker, &[failure], out, headers);
                return None;
            }
        }
        self.fire_shadows(worker, incoming, &body);
        if self.config.output_encoding == OutputEncoding::NoOp {
            let start = out.len();
            let reply = self.handle_no_op(worker, incoming, body, stream.as_deref_mut(), out, headers).await;
            if client_body_failed(stream.as_deref(), out, start) {
                return None;
            }
            return reply;
        }
        let start = out.len();
        let mut outcome = match self.data_path {
            DataPath::Transcode => {
                let call = self.transcode(worker, incoming, body, stream.as_deref_mut(), out, headers);
                match call.await {
                    Some(outcome) => outcome,
                    None => return None,
                }
            }
            DataPath::Tree => {
                // Boxed: the fan-out's state is the largest of the three paths, and the boxed handler state of every
                // request (`server::conn`) would otherwise be sized for it, fast path included.
                let collect = Box::pin(self.collect(worker, incoming, body, stream.as_deref_mut()));
                monoio::time::timeout(self.config.timeout, collect).await.unwrap_or_else(|_| Outcome::deadline())
            }
        };
        if client_body_failed(stream.as_deref(), out, start) {
            return None;
        }
        for f in &outcome.failures {
            worker.log.backend_error(&self.config, &f.message);
        }
        // The static proxy wraps the merge (and the endpoint deadline's answer): the failures stay, so an injected
        // answer renders as 200 with `X-Krakend-Completed: false` (§13).
        if let Some(s) = &self.static_response {
            if s.matches(!outcome.failures.is_empty(), outcome.complete) {
                s.inject(&mut outcome.data);
            }
        }
        if outcome.data.is_none() && !outcome.failures.is_empty() {
            self.fail(worker, &outcome.failures, out, headers);
            return None;
        }
        render::success(
            out,
            self.config.output_encoding,
            outcome.data.as_ref(),
            outcome.complete,
            self.cache_control.as_deref(),
            headers,
            incoming.head.header("accept"),
        );
        None
    }

    /// Calls every backend concurrently on this core and merges what arrives, in arrival order, before the deadline.
    async fn collect(
        &self,
        worker: &Rc<Worker>,
        incoming: Incoming<'_>,
        body: Bytes,
        stream: Option<&mut RequestBody<'_>>,
    ) -> Outcome {
        if let [only] = self.backends.as_slice() {
            return Outcome::single(match stream {
                Some(stream) => only.fetch_streamed(&worker.client, incoming, stream).await,
                None => only.fetch(&worker.client, incoming, body).await,
            });
        }
        if let Some(sequence) = &self.sequence {
            return self.collect_sequential(sequence, worker, incoming, body).await;
        }
        let deadline = Instant::now() + self.config.timeout * MERGE_TIMEOUT_PCT / 100;
        // Each call boxed once: FuturesUnordered would otherwise move every call's whole state (kilobytes) through
        // the iterator, its task allocation and its queue, ~6k instructions of memcpy per 3-backend request.
        let mut pending: FuturesUnordered<_> =
            self.backends.iter().map(|b| Box::pin(b.fetch(&worker.client, incoming, body.clone()))).collect();
        let mut outcome = Outcome { data: None, complete: true, failures: Vec::new() };
        loop {
            let next = match monoio::time::timeout_at(deadline.into(), pending.next()).await {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(_) => {
                    outcome.complete = false;
                    outcome.failures.push(Failure::deadline());
                    break;
                }
            };
            match next {
                Ok(Fetched { data, complete }) => {
                    outcome.complete &= complete;
                    if let Some(data) = data {
                        merge_into(&mut outcome.data, data);
                    }
                }
                Err(f) => {
                    outcome.complete = false;
                    outcome.failures.push(f);
                }
            }
        }
        self.flatten(&mut outcome);
        outcome
    }

    /// [`DataPath::Transcode`]: the one backend's body written straight into `out` in wire form; `None` once
    /// answered. A failure, `return_error_details` data, or a body the transcoder leaves to the decoder (a `null`,
    /// not an object, invalid) comes back as the outcome the tree path gives, to be rendered the same way.
    async fn transcode(
        &self,
        worker: &Rc<Worker>,
        incoming: Incoming<'_>,
        body: Bytes,
        stream: Option<&mut RequestBody<'_>>,
        out: &mut Vec<u8>,
        headers: GatewayHeaders<'_>,
    ) -> Option<Outcome> {
        let [only] = self.backends.as_slice() else {
            return Some(Outcome { data: None, complete: false, failures: Vec::new() });
        };
        // Pinned where it is and timed through a reference: `timeout(d, call)` would move the call's whole state
        // (kilobytes) into the timer future, and that again into this one.
        let call = std::pin::pin!(only.answer_with(&worker.client, incoming, &[], body, stream));
        let fetched = match monoio::time::timeout(self.config.timeout, call).await {
            Err(_) => return Some(Outcome::deadline()),
            Ok(Ok(Answer::Body(bytes))) => {
                if render::transcoded(out, &bytes, self.cache_control.as_deref(), headers) {
                    return None;
                }
                only.decode_body(&bytes)
            }
            Ok(Ok(Answer::Details(data))) => Ok(Fetched { data: Some(data), complete: false }),
            Ok(Err(f)) => Err(f),
        };
        Some(Outcome::single(fetched))
    }

    /// lura's flatmap middleware passes a merge that returned an error (a failed or late backend) through
    /// untouched; an incomplete merge without errors (return_error_details) is still flattened.
    fn flatten(&self, outcome: &mut Outcome) {
        if let (Some(flatmap), true, Some(data)) = (&self.flatmap, outcome.failures.is_empty(), outcome.data.as_mut()) {
            flatmap.apply(data);
        }
    }

    /// `proxy.sequential` (§11): the backends one at a time, in declaration order, each with the `{respN_…}` values
    /// of the answers before it, all within the merge deadline. A failing first backend fails the request; a later
    /// failure, or an incomplete answer, stops the sequence and the answers so far are merged (200, incomplete).
    /// Every backend gets the client's request (body included); earlier answers reach it only through placeholders.
    async fn collect_sequential(
        &self,
        sequence: &Sequence,
        worker: &Rc<Worker>,
        incoming: Incoming<'_>,
        body: Bytes,
    ) -> Outcome {
        let deadline = Instant::now() + self.config.timeout * MERGE_TIMEOUT_PCT / 100;
        // Each backend's data, kept unmerged until the end: later placeholders read them. A backend `null` is None.
        let mut parts: Vec<Option<Value>> = Vec::with_capacity(self.backends.len());
        let mut outcome = Outcome { data: None, complete: true, failures: Vec::new() };
        for (i, backend) in self.backends.iter().enumerate() {
            let values = sequence.values(i, &parts);
            let call = std::pin::pin!(backend.fetch_with(&worker.client, incoming, &values, body.clone()));
            let result = match monoio::time::timeout_at(deadline.into(), call).await {
                Ok(r) => r,
                Err(_) => Err(Failure::deadline()),
            };
            match result {
                Ok(Fetched { data, complete }) => {
                    parts.push(data);
                    if !complete {
                        outcome.complete = false;
                        break;
                    }
                }
                Err(f) => {
                    outcome.complete = false;
                    outcome.failures.push(f);
                    if i == 0 {
                        // lura returns the first backend's error itself, without a merged answer.
                        return outcome;
                    }
                    break;
                }
            }
        }
        for data in parts.into_iter().flatten() {
            merge_into(&mut outcome.data, data);
        }
        self.flatten(&mut outcome);
        outcome
    }

    /// The answer when no backend gave data.
    fn fail(&self, worker: &Worker, failures: &[Failure], out: &mut Vec<u8>, headers: GatewayHeaders<'_>) {
        let return_msg = worker.config.router.return_error_msg;
        if let ([f], [b]) = (failures, self.backends.as_slice()) {
            if let (Some(answer), true) = (&f.answer, b.config.return_error_code) {
                let (body, ct): (&[u8], _) =
                    if return_msg { (&answer.body, answer.content_type.as_deref()) } else { (b"", None) };
                render::failure(out, answer.status, body, ct, headers);
                return;
            }
        }
        if return_msg {
            let text = failures.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("\n");
            render::failure(out, 500, text.as_bytes(), None, headers);
        } else {
            render::failure(out, 500, b"", None, headers);
        }
    }

    async fn handle_no_op(
        &self,
        worker: &Rc<Worker>,
        incoming: Incoming<'_>,
        body: Bytes,
        stream: Option<&mut RequestBody<'_>>,
        out: &mut Vec<u8>,
        headers: GatewayHeaders<'_>,
    ) -> Option<StreamReply> {
        let Some(stage) = self.backends.first() else {
            render::failure(out, 500, b"", None, headers);
            return None;
        };
        let mut outgoing = stage.forwarding.request(incoming.head, incoming.params, incoming.client_ip, body);
        if let Some(stream) = &stream {
            outgoing.streamed = stream.content_length().map_or(StreamedBody::Chunked, StreamedBody::Length);
            outgoing.has_body = true;
        }
        if let Some(dir) = &stage.config.static_filesystem {
            let path = outgoing.path_and_query().split('?').next().unwrap_or("/");
            match crate::components::static_filesystem::read_backend_file(dir, path) {
                Ok(bytes) => {
                    let mut w = ResponseWriter::new(out, 200);
                    w.header_str("Content-Type", crate::components::static_filesystem::content_type(path));
                    headers.write(&mut w, false);
                    w.body(&bytes, false);
                }
                Err(e) => self.fail(worker, &[Failure { message: e, answer: None }], out, headers),
            }
            return None;
        }
        let deadline = Instant::now() + self.config.timeout;
        let result = match stage.balancer.pick() {
            None => Err("no hosts available".to_owned()),
            Some(target) => {
                // Pinned in place, as in `transcode`.
                let call = std::pin::pin!(worker.client.call_streaming(target, &outgoing, stream));
                match monoio::time::timeout(self.config.timeout, call).await {
                    Ok(Ok(s)) => Ok(s),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("context deadline exceeded".to_owned()),
                }
            }
        };
        let stream = match result {
            Ok(s) => s,
            Err(message) => {
                worker.log.backend_error(&self.config, &message);
                self.fail(worker, &[Failure { message, answer: None }], out, headers);
                return None;
            }
        };
        let mut w = ResponseWriter::new(out, stream.head.status);
        for (name, value) in stream.head.headers() {
            if is_hop_or_framing(name) || (stream.gunzip && name.eq_ignore_ascii_case("content-encoding")) {
                continue;
            }
            w.header(name, value);
        }
        w.header("X-Krakend", headers.x_krakend);
        w.header("X-Krakend-Completed", b"false");
        w.connection_close(headers.close);
        use crate::backend::conn::Framing;
        let chunked = match (stream.head.framing, stream.gunzip) {
            (Framing::Empty, _) => {
                if matches!(stream.head.status, 204 | 304) || (100..200).contains(&stream.head.status) {
                    w.end_without_body();
                } else {
                    w.content_length(0);
                }
                stream.finish(&worker.client);
                return None;
            }
            (Framing::Length(n), false) => {
                w.content_length(n);
                false
            }
            _ => {
                w.chunked();
                true
            }
        };
        Some(StreamReply { stream, chunked, deadline })
    }

    /// Sends the request to `proxy.shadow` backends in the background; their answers are dropped.
    fn fire_shadows(&self, worker: &Rc<Worker>, incoming: Incoming<'_>, body: &Bytes) {
        for shadow in &self.shadows {
            // The task outlives this request: it gets its own copies (the head is a shared `Bytes`, cheap to clone).
            let (worker, shadow, head, params, body, ip) = (
                worker.clone(),
                shadow.clone(),
                incoming.head.clone(),
                incoming.params.clone(),
                body.clone(),
                incoming.client_ip.to_owned(),
            );
            let timeout = self.config.timeout;
            monoio::spawn(async move {
                let incoming = Incoming { head: &head, params: &params, client_ip: &ip };
                let _ = monoio::time::timeout(timeout, shadow.fetch(&worker.client, incoming, body)).await;
            });
        }
    }
}

fn is_hop_or_framing(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "date",
        "proxy-connection",
        "upgrade",
        "trailer",
        "te",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// A streamed request body that broke on the client's side: the backend's answer (if any, from `start` on in `out`)
/// is dropped, and the client gets 400 for broken chunked coding, or nothing when it went away. The connection is
/// closed after this (the body was not read to its end).
fn client_body_failed(stream: Option<&RequestBody<'_>>, out: &mut Vec<u8>, start: usize) -> bool {
    match stream.and_then(RequestBody::error) {
        None => false,
        Some(BodyError::Malformed) => {
            out.truncate(start);
            crate::server::conn::write_plain_error(out, 400, "400 Bad Request");
            true
        }
        Some(_) => {
            out.truncate(start);
            true
        }
    }
}

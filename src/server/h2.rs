//! HTTP/2 for clients: ALPN `h2` on the TLS listener and, with `use_h2c`, prior-knowledge h2c on the cleartext one.
//!
//! The `h2` crate (hyper's HTTP/2 engine) does the framing, HPACK and flow control; it is runtime-agnostic and only
//! needs tokio's `AsyncRead`/`AsyncWrite`, which `monoio-compat` provides over the core's own monoio stream. The
//! connection task drives the socket and each stream runs as a task on the same core, so HTTP/2 keeps the
//! thread-per-core design (monoio-http's own h2 would pull in rustls 0.21 next to 0.23).
//!
//! A stream is translated into the HTTP/1.1 form the rest of the gateway speaks: its head becomes a request head
//! for the same parser, its DATA frames are the request body (streamed to a single backend or read whole, as over
//! HTTP/1.1), and the HTTP/1.1 answer the dispatcher writes is read back into HEADERS and DATA frames. HTTP/1.1
//! stays the fast path; HTTP/2 pays one extra parse each way.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use monoio::io::{AsyncReadRent, AsyncWriteRent};

use super::body::RequestBody;
use super::h1::{parse_request, ParseError};
use super::noop_body::NoopBody;
use super::worker::Worker;
use crate::limits::MAX_RESPONSE_HEADERS;
use crate::telemetry::logging;

/// The client preface that starts an h2c connection with prior knowledge.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Streams one client may have open at once (Go's http2 server default).
const MAX_CONCURRENT_STREAMS: u32 = 250;

/// How often an idle connection looks at the shutdown flag and its idle timeout.
const TICK: Duration = Duration::from_millis(100);

/// Response headers HTTP/2 forbids (connection-specific).
const HOP_BY_HOP: &[&str] = &["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"];

/// Serves one HTTP/2 connection until the client closes it, it idles out, or the gateway shuts down.
pub async fn serve<S>(io: S, peer: SocketAddr, worker: Rc<Worker>, tls: bool)
where
    S: AsyncReadRent + AsyncWriteRent + Unpin + 'static,
{
    let io = monoio_compat::StreamWrapper::new(io);
    let handshake = h2::server::Builder::new()
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .max_header_list_size(u32::try_from(worker.config.max_header_bytes).unwrap_or(u32::MAX))
        .handshake::<_, Bytes>(io);
    let deadline = worker.config.server.read_header.or(worker.config.server.read).map(|d| Instant::now() + d);
    let mut conn = match deadline {
        Some(d) => match monoio::time::timeout_at(d.into(), handshake).await {
            Ok(Ok(c)) => c,
            _ => return,
        },
        None => match handshake.await {
            Ok(c) => c,
            Err(_) => return,
        },
    };
    let open = Rc::new(Cell::new(0usize));
    let mut idle_since = Instant::now();
    let mut closing = false;
    loop {
        let next = monoio::select! {
            next = conn.accept() => next,
            _ = monoio::time::sleep(TICK) => {
                if open.get() > 0 {
                    idle_since = Instant::now();
                }
                let idle = worker.config.server.idle.is_some_and(|d| idle_since.elapsed() >= d);
                if !closing && (super::shutdown::requested() || idle) {
                    // GOAWAY: streams in flight finish, no new ones start.
                    conn.graceful_shutdown();
                    closing = true;
                }
                continue;
            }
        };
        match next {
            Some(Ok((req, respond))) => {
                idle_since = Instant::now();
                open.set(open.get() + 1);
                let (worker, open) = (worker.clone(), open.clone());
                monoio::spawn(async move {
                    handle(req, respond, peer, &worker, tls).await;
                    open.set(open.get() - 1);
                });
            }
            Some(Err(e)) => {
                if logging::enabled(logging::Level::Debug) {
                    logging::debug(&format!("http2: connection from {peer}: {e}"));
                }
                return;
            }
            None => return,
        }
    }
}

/// One stream: read the request, run it through the dispatcher, send the answer.
async fn handle(
    req: Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    peer: SocketAddr,
    worker: &Rc<Worker>,
    tls: bool,
) {
    let started = Instant::now();
    let (parts, mut recv) = req.into_parts();
    let deadline = worker.config.server.read.map(|d| started + d);
    let mut raw = BytesMut::with_capacity(512);
    head_as_http1(&parts, !recv.is_end_stream(), &mut raw);
    let head = match parse_request(&raw, usize::MAX) {
        Ok(Some((len, parsed))) => parsed.finish(raw.split_to(len).freeze()),
        // More header fields than the HTTP/1.1 parser takes: the same 431 an HTTP/1.1 client gets.
        Err(ParseError::HeadTooLarge) => return plain(&mut respond, 431, "431 Request Header Fields Too Large"),
        _ => return plain(&mut respond, 400, "400 Bad Request"),
    };
    let mut buf = BytesMut::new();
    let mut body = RequestBody::h2(&mut recv, &mut buf, &head, deadline);
    let mut out = Vec::with_capacity(1024);
    worker.in_flight.set(worker.in_flight.get() + 1);
    let reply = super::dispatch::dispatch(worker, &head, &mut body, peer, &mut out, false, started, tls).await;
    worker.in_flight.set(worker.in_flight.get() - 1);
    let is_head = head.method() == "HEAD";
    let _ = send_http1_answer(&out, reply.map(NoopBody::new), is_head, &mut respond, worker).await;
}

/// Writes the request head in HTTP/1.1 form: `:authority` becomes `Host`, cookies split across fields are joined
/// with `; ` (as Go's http2 server does), connection headers are dropped, and a body of unknown length (no
/// `content-length`, more frames to come) is marked `transfer-encoding: chunked`, as an HTTP/1.1 upload of unknown
/// length would be ([`RequestBody::h2`] reads it from the frames).
fn head_as_http1(parts: &http::request::Parts, body_follows: bool, out: &mut BytesMut) {
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    out.extend_from_slice(parts.method.as_str().as_bytes());
    out.extend_from_slice(b" ");
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let authority = parts
        .uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()));
    if let Some(host) = authority {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(host.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let mut cookies: Vec<&[u8]> = Vec::new();
    for (name, value) in &parts.headers {
        match name.as_str() {
            "host" | "transfer-encoding" | "connection" | "keep-alive" | "upgrade" => continue,
            "cookie" => cookies.push(value.as_bytes()),
            n => {
                out.extend_from_slice(n.as_bytes());
                out.extend_from_slice(b": ");
                out.extend_from_slice(value.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    if !cookies.is_empty() {
        out.extend_from_slice(b"cookie: ");
        out.extend_from_slice(&cookies.join(&b"; "[..]));
        out.extend_from_slice(b"\r\n");
    }
    if body_follows && !parts.headers.contains_key(http::header::CONTENT_LENGTH) {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Reads the HTTP/1.1 answer in `out` back into an HTTP/2 response, then sends its body (or the `no-op` body
/// still to copy from the backend).
async fn send_http1_answer(
    out: &[u8],
    noop: Option<NoopBody>,
    is_head: bool,
    respond: &mut SendResponse<Bytes>,
    worker: &Worker,
) -> Result<(), h2::Error> {
    // A `no-op` answer carries the backend's headers (up to MAX_RESPONSE_HEADERS) plus the gateway's own.
    let mut headers = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS + 32];
    let mut parsed = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(head_len)) = parsed.parse(out) else {
        respond.send_reset(h2::Reason::INTERNAL_ERROR);
        return Ok(());
    };
    let mut response = Response::new(());
    *response.status_mut() =
        StatusCode::from_u16(parsed.code.unwrap_or(500)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for h in parsed.headers.iter() {
        let Ok(name) = HeaderName::from_bytes(h.name.as_bytes()) else { continue };
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        if let Ok(value) = HeaderValue::from_bytes(h.value) {
            response.headers_mut().append(name, value);
        }
    }
    let body = if is_head { &[][..] } else { &out[head_len..] };
    let end_now = body.is_empty() && noop.is_none();
    let mut stream = respond.send_response(response, end_now)?;
    if end_now {
        return Ok(());
    }
    match noop {
        None => send_data(&mut stream, Bytes::copy_from_slice(body), true).await,
        Some(mut noop) => {
            while let Some(piece) = noop.next().await.map_err(|_| h2::Error::from(h2::Reason::INTERNAL_ERROR))? {
                send_data(&mut stream, Bytes::copy_from_slice(piece), false).await?;
            }
            noop.finish(&worker.client);
            send_data(&mut stream, Bytes::new(), true).await
        }
    }
}

/// Sends `data`, waiting for flow-control window so a slow client holds back the copy instead of filling memory.
async fn send_data(stream: &mut SendStream<Bytes>, mut data: Bytes, end: bool) -> Result<(), h2::Error> {
    if data.is_empty() {
        return if end { stream.send_data(data, true) } else { Ok(()) };
    }
    while !data.is_empty() {
        stream.reserve_capacity(data.len());
        let granted = match std::future::poll_fn(|cx| stream.poll_capacity(cx)).await {
            Some(n) => n?,
            None => return Err(h2::Error::from(h2::Reason::CANCEL)),
        };
        let piece = data.split_to(granted.min(data.len()));
        stream.send_data(piece, end && data.is_empty())?;
    }
    Ok(())
}

fn plain(respond: &mut SendResponse<Bytes>, status: u16, text: &'static str) {
    let mut response = Response::new(());
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    if let Ok(mut stream) = respond.send_response(response, false) {
        let _ = stream.send_data(Bytes::from_static(text.as_bytes()), true);
    }
}

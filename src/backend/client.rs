//! Sending one request to a backend: pooled connection, stale-connection retry, redirects as Go's client follows
//! them, transparent gzip when the gateway asked for it.

use std::borrow::Cow;
use std::io::Read as _;

use bytes::Bytes;

use crate::config::{HttpClientConfig, Method};
use crate::limits::{MAX_BACKEND_BODY, MAX_REDIRECTS};

use super::body::BodySource;
pub use super::conn::ResponseHead;
use super::conn::{BodyReader, Conn, HeadError, TlsConnectError};
use super::pool::Pool;
use super::request::StreamedBody;
use super::{OutgoingRequest, Target};

/// Why a backend call produced no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("dial tcp {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("{0}")]
    Io(String),
    #[error("context deadline exceeded")]
    Timeout,
    #[error("stopped after 10 redirects")]
    TooManyRedirects,
    /// The TLS handshake (or the client TLS config) failed; the text starts with `tls:` or `net/http:`, as Go's.
    #[error("{0}")]
    Tls(String),
}

/// A backend response read to the end.
#[derive(Debug)]
pub struct Response {
    pub head: ResponseHead,
    /// The body, gunzipped when the gateway asked for gzip.
    pub body: Bytes,
    /// Whether `body` was gunzipped here (so `Content-Encoding`/`Content-Length` no longer describe it).
    pub decoded_gzip: bool,
    /// The URL that answered when a redirect was followed; `None` when the first URL answered (the caller builds
    /// that text only if it needs it, so the common path does not allocate it).
    pub redirected_url: Option<String>,
}

/// A backend response whose body is still on the connection (`no-op` streaming).
#[derive(Debug)]
pub struct Streaming {
    pub head: ResponseHead,
    pub body: BodyReader,
    conn: Conn,
    pool_key: String,
    /// Whether the body must be gunzipped on the way (the gateway asked for gzip and got it).
    pub gunzip: bool,
}

impl Streaming {
    /// The next piece of the (still encoded) body.
    pub async fn next(&mut self) -> Result<Option<Bytes>, BackendError> {
        self.body.next(&mut self.conn).await.map_err(|e| BackendError::Io(e.to_string()))
    }

    /// Gives the connection back to the pool once the body was read to its end.
    pub fn finish(self, client: &Client) {
        if self.body.is_done() && self.head.keep_alive && !client.config.disable_keep_alives {
            client.pool.put(&self.pool_key, self.conn);
        }
    }
}

/// A response head read off a connection, after redirects.
struct Exchange<'t> {
    conn: Conn,
    head: ResponseHead,
    /// The host that answered (another one when a redirect pointed elsewhere).
    target: Cow<'t, Target>,
    redirected_url: Option<String>,
}

/// This worker's HTTP client: settings and its own connection pool.
#[derive(Debug)]
pub struct Client {
    pool: Pool,
    config: HttpClientConfig,
}

impl Client {
    /// A worker's client. The process's TLS config is built here, on the first worker, when some backend is
    /// `https://` or `client_tls` is set (otherwise on the first redirect to an https host): CA files are read
    /// and their errors logged at start-up, as KrakenD does.
    pub fn new(config: HttpClientConfig) -> Self {
        let pool = Pool::new(
            config.max_idle_connections_per_host,
            config.max_idle_connections,
            config.idle_connection_timeout,
        );
        if config.tls.is_some() || config.has_https_hosts {
            // Errors are logged by the build and returned again by every https call.
            let _ = super::tls::client_config(&config);
        }
        Client { pool, config }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Sends `req` and reads the whole response (bounded by [`MAX_BACKEND_BODY`]).
    pub async fn call(&self, target: &Target, req: &OutgoingRequest) -> Result<Response, BackendError> {
        self.call_with_body(target, req, None::<&mut NoBody>).await
    }

    /// [`Client::call`] with the request body streamed from `body` (`req.streamed` says how it is framed).
    pub async fn call_with_body<B: BodySource>(
        &self,
        target: &Target,
        req: &OutgoingRequest,
        body: Option<&mut B>,
    ) -> Result<Response, BackendError> {
        let Exchange { mut conn, head, target, redirected_url } = self.send_following(target, req, body).await?;
        let mut reader = BodyReader::new(head.framing);
        let body = reader.read_all(&mut conn, MAX_BACKEND_BODY).await.map_err(|e| BackendError::Io(e.to_string()))?;
        if reader.is_done() && head.keep_alive && !self.config.disable_keep_alives {
            self.pool.put(&target.base, conn);
        }
        let gzip = req.gateway_gzip && is_gzip(&head);
        let body = if gzip { gunzip(&body)? } else { body };
        Ok(Response { head, body, decoded_gzip: gzip, redirected_url })
    }

    /// Sends `req` and returns as soon as the response head is in; the caller streams the body.
    pub async fn call_streaming<B: BodySource>(
        &self,
        target: &Target,
        req: &OutgoingRequest,
        body: Option<&mut B>,
    ) -> Result<Streaming, BackendError> {
        let Exchange { conn, head, target, .. } = self.send_following(target, req, body).await?;
        let gunzip = req.gateway_gzip && is_gzip(&head);
        Ok(Streaming { body: BodyReader::new(head.framing), head, conn, pool_key: target.base.clone(), gunzip })
    }

    /// Sends the request and follows redirects; returns the connection positioned at the final response's body.
    async fn send_following<'t, B: BodySource>(
        &self,
        target: &'t Target,
        req: &OutgoingRequest,
        mut body: Option<&mut B>,
    ) -> Result<Exchange<'t>, BackendError> {
        let mut target = Cow::Borrowed(target);
        let mut req = Cow::Borrowed(req);
        for hop in 0..=MAX_REDIRECTS {
            // A streamed body goes with the first request only; a redirect that would need it again is returned.
            let this_body = if hop == 0 { body.as_deref_mut() } else { None };
            let (mut conn, head) = self.send_once(&target, &req, &target.base, this_body).await?;
            let location = match head.status {
                301 | 302 | 303 | 307 | 308 => {
                    head.header("location").and_then(|l| std::str::from_utf8(l).ok()).map(str::to_owned)
                }
                _ => None,
            };
            // A 307/308 would have to resend a body the gateway no longer holds for it (Go: no GetBody) → returned.
            let Some(location) = location.filter(|_| !(matches!(head.status, 307 | 308) && req.has_body)) else {
                let redirected_url = (hop > 0).then(|| req.url(&target));
                return Ok(Exchange { conn, head, target, redirected_url });
            };
            let url = req.url(&target);
            let key = target.base.clone();
            if hop == MAX_REDIRECTS {
                return Err(BackendError::TooManyRedirects);
            }
            // Drain the redirect's body so the connection can be reused; a large one just closes it.
            let mut reader = BodyReader::new(head.framing);
            if reader.read_all(&mut conn, 64 * 1024).await.is_ok() && reader.is_done() && head.keep_alive {
                self.pool.put(&key, conn);
            }
            let (next_target, path) = resolve_location(&target, req.path_and_query(), &location)?;
            let mut next = req.as_ref().clone();
            // Go's `redirectBehavior`: 301/302/303 drop the body (and turn other methods into GET); a 307/308 that
            // needed the body again was returned above.
            if matches!(head.status, 301..=303) {
                if !matches!(next.method, Method::Get | Method::Head) {
                    next.method = Method::Get;
                }
                next.body = Bytes::new();
                next.has_body = false;
            }
            next.streamed = StreamedBody::No;
            next.set_path_and_query(&path);
            let same_host = next_target.base == target.base;
            next.set_header_block(&redirect_headers(
                req.header_block(),
                &url,
                same_host,
                target.tls && !next_target.tls,
            ));
            target = Cow::Owned(next_target);
            req = Cow::Owned(next);
        }
        Err(BackendError::TooManyRedirects)
    }

    /// One request/response exchange; a pooled connection that turns out to be closed is replaced once.
    async fn send_once<B: BodySource>(
        &self,
        target: &Target,
        req: &OutgoingRequest,
        key: &str,
        body: Option<&mut B>,
    ) -> Result<(Conn, ResponseHead), BackendError> {
        // The wire form goes into one of the worker's spare buffers, given back once written.
        let mut bytes = super::scratch::take();
        req.encode(target, &mut bytes);
        let chunked = req.streamed == StreamedBody::Chunked;
        let result = self.exchange(target, &mut bytes, req.method == Method::Head, key, body, chunked).await;
        super::scratch::give_back(bytes);
        result
    }

    /// Writes `bytes` (a whole request, or the head of one whose body is streamed from `body`) and reads the
    /// response head.
    async fn exchange<B: BodySource>(
        &self,
        target: &Target,
        bytes: &mut Vec<u8>,
        is_head: bool,
        key: &str,
        mut body: Option<&mut B>,
        chunked: bool,
    ) -> Result<(Conn, ResponseHead), BackendError> {
        loop {
            let pooled =
                if body.is_some() { self.pool.take_recent(key, STREAMED_BODY_MAX_IDLE) } else { self.pool.take(key) };
            let mut conn = match pooled {
                Some(mut c) => {
                    c.reused = true;
                    c
                }
                None => self.connect(target).await?,
            };
            let reused = conn.reused;
            let (res, back) = conn.write_all(std::mem::take(bytes)).await;
            *bytes = back;
            if let Err(e) = res {
                if reused {
                    continue;
                }
                return Err(BackendError::Io(format!("write to {}: {e}", target.base)));
            }
            if let Some(body) = body.as_deref_mut() {
                stream_body(&mut conn, body, chunked, &target.base).await?;
            }
            let head = match self.config.response_header_timeout {
                Some(t) => match monoio::time::timeout(t, conn.read_head(is_head)).await {
                    Ok(r) => r,
                    Err(_) => return Err(BackendError::Io("timeout awaiting response headers".to_owned())),
                },
                None => conn.read_head(is_head).await,
            };
            match head {
                Ok(head) => return Ok((conn, head)),
                // A streamed body is gone once sent: only a buffered request can be sent again.
                Err(HeadError::ClosedBeforeResponse) | Err(HeadError::Io(_, true)) if reused && body.is_none() => {
                    continue
                }
                Err(HeadError::ClosedBeforeResponse) => return Err(BackendError::Io("EOF".to_owned())),
                Err(HeadError::Io(e, _)) => {
                    let text = super::tls::error_text(&e).unwrap_or_else(|| format!("read from {}: {e}", target.base));
                    return Err(BackendError::Io(text));
                }
                Err(HeadError::Malformed(m)) => return Err(BackendError::Io(format!("{}: {m}", target.base))),
            }
        }
    }

    async fn connect(&self, target: &Target) -> Result<Conn, BackendError> {
        let addr = target
            .socket_addr()
            .map_err(|e| BackendError::Connect { addr: target.authority.clone(), reason: e.to_string() })?;
        if target.tls {
            // Boxed: the handshake's state (a rustls session by value) is kilobytes, and inline it would grow every
            // request's future, plain ones included, which are copied as they are polled (+40 % instructions per
            // plain request under callgrind). One allocation per new TLS connection instead.
            return Box::pin(self.connect_tls(target, addr)).await;
        }
        Conn::connect(addr, self.config.dialer_timeout).await.map_err(|e| dial_error(addr, &e))
    }

    async fn connect_tls(&self, target: &Target, addr: std::net::SocketAddr) -> Result<Conn, BackendError> {
        let config = super::tls::client_config(&self.config).map_err(BackendError::Tls)?;
        let name = super::tls::server_name(&target.host).map_err(BackendError::Tls)?;
        Conn::connect_tls(addr, self.config.dialer_timeout, config, name).await.map_err(|e| match e {
            TlsConnectError::Dial(e) => dial_error(addr, &e),
            TlsConnectError::Handshake(e) => BackendError::Tls(super::tls::handshake_error(&e)),
            TlsConnectError::HandshakeTimeout => BackendError::Tls("net/http: TLS handshake timeout".to_owned()),
        })
    }
}

/// A pooled connection idle longer than this is not used for a streamed body (which cannot be sent twice).
const STREAMED_BODY_MAX_IDLE: std::time::Duration = std::time::Duration::from_secs(1);

/// No streamed body (the request's body, if any, is in `OutgoingRequest::body`).
pub struct NoBody;

impl BodySource for NoBody {
    fn content_length(&self) -> Option<u64> {
        Some(0)
    }
    async fn next_piece(&mut self) -> std::io::Result<Option<Bytes>> {
        Ok(None)
    }
}

/// Copies the client's body to the backend piece by piece, chunk-framed when the client sent it chunked.
async fn stream_body<B: BodySource>(
    conn: &mut Conn,
    body: &mut B,
    chunked: bool,
    base: &str,
) -> Result<(), BackendError> {
    loop {
        let piece = body.next_piece().await.map_err(|e| BackendError::Io(format!("reading the request body: {e}")))?;
        let Some(piece) = piece else { break };
        let write = if chunked {
            let mut framed = Vec::with_capacity(piece.len() + 16);
            crate::server::h1::write::write_chunk(&mut framed, &piece);
            conn.write_bytes(Bytes::from(framed)).await
        } else {
            conn.write_bytes(piece).await
        };
        write.map_err(|e| BackendError::Io(format!("write to {base}: {e}")))?;
    }
    if chunked {
        conn.write_bytes(Bytes::from_static(crate::server::h1::write::LAST_CHUNK))
            .await
            .map_err(|e| BackendError::Io(format!("write to {base}: {e}")))?;
    }
    Ok(())
}

fn dial_error(addr: std::net::SocketAddr, e: &std::io::Error) -> BackendError {
    BackendError::Connect { addr: addr.to_string(), reason: connect_reason(e) }
}

fn connect_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connect: connection refused".to_owned(),
        std::io::ErrorKind::TimedOut => "i/o timeout".to_owned(),
        _ => e.to_string(),
    }
}

fn is_gzip(head: &ResponseHead) -> bool {
    head.header("content-encoding").is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"gzip"))
}

fn gunzip(body: &[u8]) -> Result<Bytes, BackendError> {
    let mut out = Vec::with_capacity(body.len() * 4);
    let mut decoder = flate2::read::GzDecoder::new(body).take(MAX_BACKEND_BODY as u64 + 1);
    decoder.read_to_end(&mut out).map_err(|e| BackendError::Io(format!("gzip: {e}")))?;
    if out.len() > MAX_BACKEND_BODY {
        return Err(BackendError::Io(format!("response body larger than {MAX_BACKEND_BODY} bytes")));
    }
    Ok(Bytes::from(out))
}

/// Where a `Location` points: the target to dial and the path to ask for.
fn resolve_location(current: &Target, current_path: &str, location: &str) -> Result<(Target, String), BackendError> {
    if let Some(rest) = location.strip_prefix("http://").or_else(|| location.strip_prefix("https://")) {
        let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
        let scheme = if location.starts_with("https") { "https" } else { "http" };
        let base = format!("{scheme}://{authority}");
        let target =
            if base == current.base { current.clone() } else { Target::parse(&base).map_err(BackendError::Io)? };
        return Ok((target, path.to_owned()));
    }
    if let Some(rest) = location.strip_prefix("//") {
        return resolve_location(
            current,
            current_path,
            &format!("{}://{rest}", if current.tls { "https" } else { "http" }),
        );
    }
    if location.starts_with('/') {
        return Ok((current.clone(), location.to_owned()));
    }
    let dir = current_path.split('?').next().unwrap_or("/");
    let dir = &dir[..dir.rfind('/').map_or(0, |i| i + 1)];
    Ok((current.clone(), format!("{dir}{location}")))
}

/// The headers of a followed redirect: the original ones (minus credentials on a new host), plus `Referer`.
fn redirect_headers(block: &[u8], previous_url: &str, same_host: bool, https_to_http: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(block.len() + previous_url.len() + 16);
    for line in block.split_inclusive(|b| *b == b'\n') {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with(b"referer:")
            || (!same_host && (lower.starts_with(b"authorization:") || lower.starts_with(b"cookie:")))
        {
            continue;
        }
        out.extend_from_slice(line);
    }
    if !https_to_http {
        out.extend_from_slice(b"Referer: ");
        out.extend_from_slice(previous_url.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

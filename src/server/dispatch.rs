//! From a parsed request to its handler: the edge security components (CORS and the global IP filter before
//! routing, `security/http` and the bot detector as router middlewares), the static file server, the router, the
//! built-in endpoints and the endpoint pipes; one access-log line per request that got past L1.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;

use super::body::{BodyError, RequestBody};
use super::h1::write::{ResponseWriter, StackStr};
use super::h1::RequestHead;
use super::worker::Worker;
use crate::components::static_filesystem::{self, StaticAnswer};
use crate::proxy::builtin;
use crate::proxy::endpoint::StreamReply;
use crate::proxy::render::{self, GatewayHeaders, JSON_CONTENT_TYPE};
use crate::router::Route;
use crate::security::Step;

/// Handles one request, appending the answer to `out`; a `no-op` answer returns its body still to stream. `tls`
/// says whether the connection is TLS (for `security/http`'s HTTPS checks).
#[allow(clippy::too_many_arguments)]
pub async fn dispatch(
    worker: &Rc<Worker>,
    req: &RequestHead,
    body: &mut RequestBody<'_>,
    peer: SocketAddr,
    out: &mut Vec<u8>,
    close: bool,
    started: Instant,
    tls: bool,
) -> Option<StreamReply> {
    let start = out.len();
    let resolved = crate::router::client_ip(&worker.config.router, peer.ip(), |name| {
        req.header_values(name).filter_map(|v| std::str::from_utf8(v).ok())
    });
    // An IP address is at most 45 bytes.
    let mut ip_text = StackStr::<48>::default();
    let _ = write!(ip_text, "{resolved}");
    let client_ip = ip_text.as_str();
    // gin looks the route up first; the middlewares it then runs depend on what matched.
    let route = worker.router.lookup(req.method(), req.path(), req.query(), req.header_str("x-forwarded-prefix"));
    // Headers the security components set for the answer, whoever writes it (spliced in below).
    let mut headers = Vec::new();
    let reply = match worker.security.as_deref() {
        // Go's server refuses a path with a bad `%` escape before any handler runs, CORS included.
        Some(_) if route == Route::BadRequest => plain(out, 400, "400 Bad Request", true),
        Some(security) => {
            // L1 answers (preflights, the global IP filter) never reach the access log.
            if security.before_routing(req, peer.ip(), &mut headers, out, close) == Step::Answered {
                return None;
            }
            let covered = covered_by_middlewares(&route);
            // The static file server is an L1 plugin too: before the router middlewares.
            let reply = if serve_static(worker, req, out, close) {
                None
            } else if covered && security.router_middlewares(req, tls, &mut headers, out, close) == Step::Answered {
                return log_and(worker, req, client_ip, out, start, started, None);
            } else {
                handle(worker, req, route, body, client_ip, out, close).await
            };
            crate::security::splice_headers(out, start, &headers);
            reply
        }
        None if serve_static(worker, req, out, close) => None,
        None => handle(worker, req, route, body, client_ip, out, close).await,
    };
    log_and(worker, req, client_ip, out, start, started, reply)
}

/// Writes the access-log line of the answer at `start` in `out`, and passes `reply` on.
fn log_and(
    worker: &Worker,
    req: &RequestHead,
    client_ip: &str,
    out: &[u8],
    start: usize,
    started: Instant,
    reply: Option<StreamReply>,
) -> Option<StreamReply> {
    let status = out
        .get(start + 9..start + 12)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    worker.log.record(status, started.elapsed(), client_ip, req.method(), req.path(), req.target());
    reply
}

/// The routes gin runs the router-engine middlewares on (`security/http`, the service bot detector): every
/// registered route but `/__health` (registered before them), and the 404/405 answers; not the trailing-slash and
/// fixed-path redirects, nor what the path-param check (which runs before them) refuses.
fn covered_by_middlewares(route: &Route<'_>) -> bool {
    !matches!(route, Route::Health | Route::Redirect { .. } | Route::BadParams { .. } | Route::BadRequest)
}

/// `server/static-filesystem`: `true` when it answered.
fn serve_static(worker: &Worker, req: &RequestHead, out: &mut Vec<u8>, close: bool) -> bool {
    let Some(fs) = &worker.config.static_filesystem else { return false };
    let path = percent_encoding::percent_decode_str(req.path()).decode_utf8_lossy();
    match static_filesystem::serve(fs, req.method(), &path) {
        StaticAnswer::Pass => return false,
        StaticAnswer::File { body: file, content_type } => {
            let mut w = ResponseWriter::new(out, 200);
            w.header_str("Content-Type", content_type).connection_close(close);
            w.body(&file, req.method() == "HEAD");
        }
        StaticAnswer::Listing(html) => {
            let mut w = ResponseWriter::new(out, 200);
            w.header_str("Content-Type", "text/html; charset=utf-8").connection_close(close);
            w.body(html.as_bytes(), req.method() == "HEAD");
        }
        StaticAnswer::Forbidden => {
            plain(out, 403, "403 Forbidden", close);
        }
        StaticAnswer::NotFound => {
            plain(out, 404, "404 page not found", close);
        }
    }
    true
}

/// Routes past the edge: the endpoint pipes, the built-in endpoints, the router's own answers.
async fn handle(
    worker: &Rc<Worker>,
    req: &RequestHead,
    route: Route<'_>,
    body: &mut RequestBody<'_>,
    client_ip: &str,
    out: &mut Vec<u8>,
    close: bool,
) -> Option<StreamReply> {
    let headers = GatewayHeaders { x_krakend: &worker.x_krakend, close };
    // The endpoint's own bot detector is the first step of its handler: before its body is read.
    if let Route::Endpoint { index, .. } = &route {
        if worker.endpoints[*index].reject_bot(req, out, close) {
            return None;
        }
    }
    // A single-backend endpoint takes the body as it arrives; everything else reads it whole first.
    let stream_body = body.is_present()
        && matches!(&route, Route::Endpoint { index, .. } if worker.endpoints[*index].can_stream_body());
    let (body, stream) = if stream_body {
        (Bytes::new(), Some(body))
    } else {
        match body.read_all().await {
            Ok(b) => (b, None),
            Err(BodyError::TooLarge) => return plain(out, 413, "413 Request Entity Too Large", true),
            Err(BodyError::Malformed) => return plain(out, 400, "400 Bad Request", true),
            // The client went away or was too slow: nothing to answer.
            Err(BodyError::Io) => return None,
        }
    };
    match route {
        Route::Endpoint { index, params } => {
            let endpoint = &worker.endpoints[index];
            let incoming = crate::proxy::Incoming { head: req, params: &params, client_ip };
            return endpoint.handle(worker, incoming, body, stream, out, close).await;
        }
        Route::Health => {
            let mut w = ResponseWriter::new(out, 200);
            w.header_str("Content-Type", JSON_CONTENT_TYPE).connection_close(close);
            w.body(&builtin::health_body(worker.started), false);
        }
        Route::Debug => {
            let mut w = ResponseWriter::new(out, 200);
            w.header_str("Content-Type", JSON_CONTENT_TYPE).connection_close(close);
            w.body(builtin::debug(req, &body), false);
        }
        Route::Echo => {
            let mut w = ResponseWriter::new(out, 200);
            w.header_str("Content-Type", JSON_CONTENT_TYPE).connection_close(close);
            w.body(&builtin::echo(req, &body), false);
        }
        Route::AutoOptions { allow } => {
            let mut w = ResponseWriter::new(out, 200);
            w.header_str("Allow", allow);
            w.header("X-Krakend", headers.x_krakend).connection_close(close);
            w.body(b"", false);
        }
        Route::Redirect { status, location } => write_redirect(out, status, &location, req.method(), close),
        Route::MethodNotAllowed { allow } => {
            let mut w = ResponseWriter::new(out, 405);
            w.header_str("Allow", allow);
            not_found_body(
                worker,
                w,
                worker.config.router.error_body_405.as_deref(),
                b"405 method not allowed",
                headers,
            );
        }
        Route::NotFound => {
            let w = ResponseWriter::new(out, 404);
            not_found_body(worker, w, worker.config.router.error_body_404.as_deref(), b"404 page not found", headers);
        }
        Route::BadParams { message } => {
            let mut w = ResponseWriter::new(out, 400);
            w.header_str("Content-Type", render::TEXT_CONTENT_TYPE).connection_close(close);
            w.body(message.as_bytes(), false);
        }
        Route::BadRequest => return plain(out, 400, "400 Bad Request", true),
    }
    None
}

/// 404/405 bodies: gin's text, or the `router.error_body` JSON.
fn not_found_body(
    _worker: &Worker,
    mut w: ResponseWriter<'_>,
    custom: Option<&[u8]>,
    default: &[u8],
    headers: GatewayHeaders<'_>,
) {
    match custom {
        Some(json) => {
            w.header_str("Content-Type", JSON_CONTENT_TYPE);
            headers.write(&mut w, false);
            w.body(json, false);
        }
        None => {
            w.header_str("Content-Type", "text/plain");
            headers.write(&mut w, false);
            w.body(default, false);
        }
    }
}

fn plain(out: &mut Vec<u8>, status: u16, text: &str, close: bool) -> Option<StreamReply> {
    let mut w = ResponseWriter::new(out, status);
    w.header_str("Content-Type", "text/plain; charset=utf-8").connection_close(close);
    w.body(text.as_bytes(), false);
    None
}

/// Go's `http.Redirect` to an absolute or cleaned location: `Location`, and for `GET` a short HTML body (`HEAD`
/// gets its `Content-Type` only).
pub fn write_redirect(out: &mut Vec<u8>, status: u16, location: &str, method: &str, close: bool) {
    let mut w = ResponseWriter::new(out, status);
    w.header_str("Location", location).connection_close(close);
    match method {
        "GET" => {
            w.header_str("Content-Type", "text/html; charset=utf-8");
            let href = html_escape(location);
            w.body(format!("<a href=\"{href}\">{}</a>.\n\n", super::h1::write::reason(status)).as_bytes(), false);
        }
        "HEAD" => {
            w.header_str("Content-Type", "text/html; charset=utf-8");
            w.body(b"", true);
        }
        _ => w.body(b"", false),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&#34;").replace('\'', "&#39;")
}

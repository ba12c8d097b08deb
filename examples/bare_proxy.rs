//! The load test's floor reference, not part of the gateway: a bare HTTP/1.1 reverse proxy on Ringway's own stack
//! (one monoio runtime on io_uring, on the calling thread) without any KrakenD semantics.
//!
//! `loadtest/run.sh` measures it as system `bare` next to Ringway, nginx and haproxy: what separates Ringway from it
//! is the cost of Ringway's KrakenD work (router, endpoint pipes, decoding and re-encoding, headers); what separates
//! it from nginx is what the stack itself gives. It does only what any proxy must: parse the request head, map the
//! path, send a minimal GET/HEAD to the backend over a pooled keep-alive connection, read a `Content-Length` answer
//! and write it back in one write. No request bodies, no chunked answers (502), no timeouts, no TLS.
//!
//! ```text
//! cargo build --release --example bare_proxy
//! bare_proxy LISTEN_ADDR BACKEND_ADDR [/from=/to ...]
//! bare_proxy 127.0.0.1:9184 127.0.0.1:9101 /json=/data.json /noop=/data.json
//! ```

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use httparse::Status;
use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::{ListenerOpts, TcpListener, TcpStream};
use ringway::server::worker::uring_runtime;

/// The allocator Ringway's binary uses, so that the two differ only in what they do per request.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Smallest growth step of a connection's buffers; they keep their size once grown.
const BUF_SIZE: usize = 4096;
/// Largest request or response head accepted, in bytes.
const MAX_HEAD: usize = 16 * 1024;
/// Most headers parsed in a head.
const MAX_HEADERS: usize = 32;
/// Idle backend connections kept, as the nginx proxy's `keepalive 1024` in the load test; more are closed after use.
const MAX_IDLE: usize = 1024;

/// What every connection shares: the backend, the path mapping and the idle backend connections.
struct Proxy {
    backend: SocketAddr,
    /// ` HTTP/1.1\r\nHost: <backend>\r\n\r\n`: the end of every backend request, built once.
    request_tail: Vec<u8>,
    /// Public path → backend path. A linear scan: the load test maps seven paths.
    routes: Vec<(String, String)>,
    idle: RefCell<Vec<TcpStream>>,
}

/// A complete request head: its length, whether the connection ends after the answer, and, when the proxy answers
/// itself, the status line to answer with (otherwise the backend request has been written).
struct Request {
    len: usize,
    close: bool,
    head: bool,
    reply: Option<&'static str>,
}

/// A complete backend answer in the response buffer, its client head already written to the output buffer.
struct Response {
    head_len: usize,
    body_len: usize,
    reusable: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let routes: Option<Vec<(String, String)>> =
        args.iter().skip(2).map(|r| r.split_once('=').map(|(from, to)| (from.to_owned(), to.to_owned()))).collect();
    let addrs = (args.first().map(|a| a.parse()), args.get(1).map(|a| a.parse()));
    let (Some(Ok(listen)), Some(Ok(backend)), Some(routes)) = (addrs.0, addrs.1, routes) else {
        eprintln!("usage: bare_proxy LISTEN_ADDR BACKEND_ADDR [/from=/to ...]");
        std::process::exit(2);
    };
    let request_tail = format!(" HTTP/1.1\r\nHost: {backend}\r\n\r\n").into_bytes();
    let proxy = Rc::new(Proxy { backend, request_tail, routes, idle: RefCell::new(Vec::new()) });
    // A Ringway worker's runtime, the same ring setup and fallback.
    let result = match uring_runtime(true).or_else(|_| uring_runtime(false)) {
        Ok(mut rt) => rt.block_on(accept_loop(listen, proxy)),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        eprintln!("bare_proxy: {e}");
        std::process::exit(1);
    }
}

async fn accept_loop(listen: SocketAddr, proxy: Rc<Proxy>) -> io::Result<()> {
    let listener = TcpListener::bind_with_config(listen, &ListenerOpts::new().reuse_port(true).backlog(4096))?;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                monoio::spawn(serve(proxy.clone(), stream));
            }
            // EMFILE at 10,000 connections: back off instead of spinning, as Ringway's accept loop.
            Err(_) => monoio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// One client connection, until it closes, fails or asks for `Connection: close`: any error just closes it.
async fn serve(proxy: Rc<Proxy>, mut client: TcpStream) {
    let (mut input, mut out, mut resp) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let req = loop {
            match parse_request(&proxy, &input, &mut out) {
                Ok(Some(req)) => break req,
                Ok(None) if input.len() < MAX_HEAD => {}
                _ => return,
            }
            if !matches!(read_more(&mut client, &mut input).await, Ok(n) if n > 0) {
                return;
            }
        };
        input.drain(..req.len);
        if let Some(status) = req.reply {
            reply(&mut out, status, req.close);
        } else if exchange(&proxy, &mut out, &mut resp, req.head, req.close).await.is_err() {
            reply(&mut out, "502 Bad Gateway", req.close);
        }
        if write_all(&mut client, &mut out).await.is_err() || req.close {
            return;
        }
    }
}

/// Parses the request head at the start of `buf`; for a request to forward, writes the backend request to `out`.
/// `Ok(None)` while the head is incomplete, `Err` when it is malformed.
fn parse_request(proxy: &Proxy, buf: &[u8], out: &mut Vec<u8>) -> Result<Option<Request>, httparse::Error> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let Status::Complete(len) = req.parse(buf)? else { return Ok(None) };
    let (mut close, mut body) = (req.version != Some(1), false);
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("connection") {
            close = has_token(h.value, b"close") || (close && !has_token(h.value, b"keep-alive"));
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            body = true;
        } else if h.name.eq_ignore_ascii_case("content-length") {
            body |= h.value.trim_ascii() != b"0";
        }
    }
    let head = req.method == Some("HEAD");
    let allowed = head || req.method == Some("GET");
    let path = req.path.unwrap_or("/");
    let (path, query) = path.split_at(path.find('?').unwrap_or(path.len()));
    let reply = match proxy.routes.iter().find(|(from, _)| from == path) {
        _ if !allowed => Some("405 Method Not Allowed"),
        _ if body => Some("501 Not Implemented"),
        None => Some("404 Not Found"),
        Some((_, to)) => {
            out.clear();
            out.extend_from_slice(if head { b"HEAD " } else { b"GET " });
            out.extend_from_slice(to.as_bytes());
            out.extend_from_slice(query.as_bytes());
            out.extend_from_slice(&proxy.request_tail);
            None
        }
    };
    // A request body is never read: the connection ends after the answer rather than parse it as the next request.
    close |= body || !allowed;
    Ok(Some(Request { len, close, head, reply }))
}

fn has_token(value: &[u8], token: &[u8]) -> bool {
    value.split(|&c| c == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// An empty answer from the proxy itself.
fn reply(out: &mut Vec<u8>, status: &str, close: bool) {
    out.clear();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_bytes());
    out.extend_from_slice(b"\r\nContent-Length: 0\r\n");
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Sends the backend request in `out` over an idle connection (a new one when there is none) and leaves the
/// client's answer in `out`. A pooled connection the backend has closed meanwhile fails before any answer byte
/// arrives; the request is then sent once more on a new connection (`out` still holds it: it is overwritten only
/// once an answer head has arrived).
async fn exchange(proxy: &Proxy, out: &mut Vec<u8>, resp: &mut Vec<u8>, head: bool, close: bool) -> io::Result<()> {
    let pooled = proxy.idle.borrow_mut().pop();
    let mut retry = pooled.is_some();
    let mut backend = match pooled {
        Some(stream) => stream,
        None => connect(proxy.backend).await?,
    };
    let answer = loop {
        match round_trip(&mut backend, out, resp, head, close).await {
            Err(_) if retry && resp.is_empty() => {
                retry = false;
                backend = connect(proxy.backend).await?;
            }
            answer => break answer?,
        }
    };
    out.extend_from_slice(&resp[answer.head_len..answer.head_len + answer.body_len]);
    let mut idle = proxy.idle.borrow_mut();
    if answer.reusable && idle.len() < MAX_IDLE {
        idle.push(backend);
    }
    Ok(())
}

async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_addr(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Writes `out` to the backend and reads the whole answer into `resp`; the client's head is then in `out`.
async fn round_trip(
    backend: &mut TcpStream,
    out: &mut Vec<u8>,
    resp: &mut Vec<u8>,
    head: bool,
    close: bool,
) -> io::Result<Response> {
    resp.clear();
    write_all(backend, out).await?;
    let answer = loop {
        if let Some(answer) = parse_response(resp, head, close, out)? {
            break answer;
        }
        if resp.len() >= MAX_HEAD || read_more(backend, resp).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    };
    let end = answer.head_len + answer.body_len;
    while resp.len() < end {
        if read_more(backend, resp).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    // Bytes past the answer would be read as the start of the next one: such a connection is not reused.
    Ok(Response { reusable: answer.reusable && resp.len() == end, ..answer })
}

/// Parses the backend's answer head at the start of `resp` and writes the client's head to `out`: the backend's
/// status line and headers, less the hop-by-hop `Connection` and `Keep-Alive`, plus `Connection: close` when the
/// client connection ends. `Ok(None)` while incomplete; an error without a `Content-Length` (chunked, or to EOF).
fn parse_response(resp: &[u8], head: bool, close: bool, out: &mut Vec<u8>) -> io::Result<Option<Response>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut headers);
    let head_len = match parsed.parse(resp) {
        Ok(Status::Complete(n)) => n,
        Ok(Status::Partial) => return Ok(None),
        Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
    };
    let code = parsed.code.unwrap_or(0);
    let mut reusable = parsed.version == Some(1);
    let (mut length, mut chunked) = (None, false);
    let line_end = resp.iter().position(|&c| c == b'\n').map_or(0, |i| i + 1);
    out.clear();
    out.extend_from_slice(&resp[..line_end]);
    for h in parsed.headers.iter() {
        if h.name.eq_ignore_ascii_case("connection") {
            reusable &= !has_token(h.value, b"close");
            continue;
        } else if h.name.eq_ignore_ascii_case("keep-alive") {
            continue;
        } else if h.name.eq_ignore_ascii_case("content-length") {
            length = std::str::from_utf8(h.value).ok().and_then(|v| v.trim().parse::<usize>().ok());
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = true;
        }
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(if close { b"Connection: close\r\n\r\n" } else { b"\r\n" });
    let body_len = match length {
        _ if head || code == 204 || code == 304 => 0,
        Some(n) if code >= 200 && !chunked => n,
        _ => return Err(io::Error::new(io::ErrorKind::InvalidData, "backend answer without Content-Length")),
    };
    Ok(Some(Response { head_len, body_len, reusable }))
}

/// Reads into the spare capacity of `buf`, growing it when full; 0 at end of stream.
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    if buf.len() == buf.capacity() {
        buf.reserve(buf.capacity().max(BUF_SIZE));
    }
    let len = buf.len();
    let (res, slice) = stream.read(std::mem::take(buf).slice_mut(len..)).await;
    *buf = slice.into_inner();
    res
}

async fn write_all(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    let (res, written) = stream.write_all(std::mem::take(buf)).await;
    *buf = written;
    res.map(drop)
}

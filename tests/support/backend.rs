//! An HTTP/1.1 backend on `127.0.0.1:0`, on std threads: canned replies per path, every request recorded.
//!
//! ```ignore
//! let users = Backend::new().route("/users/1", Reply::json(200, r#"{"id":1}"#)).start();
//! ```
//! Connections are kept alive (one thread each) so the gateway's pool is exercised; `connections()` counts them.
//! `.tls(config)` serves the same routes over rustls (`https://`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// How long a backend connection waits for the next request before closing.
const IDLE: Duration = Duration::from_secs(10);

/// What a backend answers.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
    delay: Duration,
    close: bool,
}

#[derive(Debug, Clone)]
enum Body {
    /// Sent with `Content-Length`.
    Fixed(Vec<u8>),
    /// Sent with `Transfer-Encoding: chunked`, one chunk per piece (with a short pause between pieces).
    Chunked(Vec<Vec<u8>>, Duration),
    /// Exactly these bytes (in pieces, a pause apart) are written as the whole response, then the connection closes.
    Raw(Vec<Vec<u8>>, Duration),
    /// Nothing is ever answered; the connection stays open until the backend stops.
    Hang,
}

impl Reply {
    /// A reply with an empty body.
    pub fn status(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: Body::Fixed(Vec::new()), delay: Duration::ZERO, close: false }
    }

    pub fn json(status: u16, body: &str) -> Reply {
        Reply::status(status).header("Content-Type", "application/json").body(body.as_bytes())
    }

    pub fn text(status: u16, body: &str) -> Reply {
        Reply::status(status).header("Content-Type", "text/plain; charset=utf-8").body(body.as_bytes())
    }

    /// Exactly `bytes` on the wire, then the connection closes (garbage, lying lengths, cut bodies).
    pub fn raw(bytes: &[u8]) -> Reply {
        Reply::raw_pieces(&[bytes], Duration::ZERO)
    }

    /// Like [`Reply::raw`], written in pieces `pause` apart (heads and bodies split across reads).
    pub fn raw_pieces(pieces: &[&[u8]], pause: Duration) -> Reply {
        Reply { body: Body::Raw(pieces.iter().map(|p| p.to_vec()).collect(), pause), ..Reply::status(0) }
    }

    /// Never answers.
    pub fn hang() -> Reply {
        Reply { body: Body::Hang, ..Reply::status(0) }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::status(status).header("Location", location)
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: &[u8]) -> Reply {
        self.body = Body::Fixed(body.to_vec());
        self
    }

    /// Sends these pieces as chunks, `pause` apart.
    pub fn chunked(mut self, pieces: &[&[u8]], pause: Duration) -> Reply {
        self.body = Body::Chunked(pieces.iter().map(|p| p.to_vec()).collect(), pause);
        self
    }

    /// Compresses the (fixed) body and adds `Content-Encoding: gzip`.
    pub fn gzip(mut self) -> Reply {
        let Body::Fixed(plain) = &self.body else { panic!("gzip() needs a fixed body") };
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(plain).expect("gzip in memory");
        self.body = Body::Fixed(enc.finish().expect("gzip in memory"));
        self.header("Content-Encoding", "gzip")
    }

    /// Waits this long before answering (after the request was recorded).
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// Closes the connection after answering (`Connection: close`).
    pub fn close(mut self) -> Reply {
        self.close = true;
        self.header("Connection", "close")
    }
}

/// One request as the backend received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, exactly as in the request line.
    pub target: String,
    /// Header lines in the order received, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// Whether the body came chunked.
    pub chunked: bool,
    /// Which connection (0-based, in accept order) carried it.
    pub conn: usize,
    /// The TLS server name (SNI) the client sent; `None` over plain TCP or without SNI.
    pub sni: Option<String>,
}

impl Recorded {
    /// First value of a header, name case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Header names in order.
    pub fn header_names(&self) -> Vec<&str> {
        self.headers.iter().map(|(n, _)| n.as_str()).collect()
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// A backend under construction.
#[derive(Debug, Default)]
pub struct Backend {
    routes: Vec<(String, Vec<Reply>)>,
    fallback: Option<Reply>,
    tls: Option<Arc<ServerConfig>>,
}

impl Backend {
    pub fn new() -> Backend {
        Backend::default()
    }

    /// Answers `path` (the request target without the query; or with it, when `path` has a `?`) with `reply`.
    pub fn route(mut self, path: &str, reply: Reply) -> Backend {
        self.routes.push((path.to_owned(), vec![reply]));
        self
    }

    /// Answers successive requests to `path` with successive replies (the last one repeats).
    pub fn route_seq(mut self, path: &str, replies: Vec<Reply>) -> Backend {
        assert!(!replies.is_empty());
        self.routes.push((path.to_owned(), replies));
        self
    }

    /// The reply for any path without a route (default: `404`, `404 page not found\n`).
    pub fn fallback(mut self, reply: Reply) -> Backend {
        self.fallback = Some(reply);
        self
    }

    /// Serves over TLS with this rustls config (see `support::tls::Pki::server_config`).
    pub fn tls(mut self, config: Arc<ServerConfig>) -> Backend {
        self.tls = Some(config);
        self
    }

    pub fn start(self) -> RunningBackend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback backend");
        let addr = listener.local_addr().expect("backend address");
        let shared = Arc::new(Shared {
            routes: self.routes.into_iter().map(|(p, r)| (p, r, AtomicUsize::new(0))).collect(),
            fallback: self.fallback.unwrap_or_else(|| Reply::text(404, "404 page not found\n")),
            recorded: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let tls = self.tls.clone();
        let accept = thread::spawn(move || {
            for stream in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let id = s.connections.fetch_add(1, Ordering::SeqCst);
                let s = s.clone();
                let tls = tls.clone();
                thread::spawn(move || serve(stream, id, &s, tls));
            }
        });
        RunningBackend { addr, shared, accept: Some(accept), tls: self.tls.is_some() }
    }
}

#[derive(Debug)]
struct Shared {
    routes: Vec<(String, Vec<Reply>, AtomicUsize)>,
    fallback: Reply,
    recorded: Mutex<Vec<Recorded>>,
    connections: AtomicUsize,
    stop: AtomicBool,
}

impl Shared {
    fn reply_for(&self, target: &str) -> Reply {
        let path = target.split('?').next().unwrap_or("");
        let found =
            self.routes.iter().find(|(p, _, _)| p == target).or_else(|| self.routes.iter().find(|(p, _, _)| p == path));
        match found {
            Some((_, replies, next)) => {
                let i = next.fetch_add(1, Ordering::SeqCst).min(replies.len() - 1);
                replies[i].clone()
            }
            None => self.fallback.clone(),
        }
    }
}

/// A started backend; stops on drop.
#[derive(Debug)]
pub struct RunningBackend {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<thread::JoinHandle<()>>,
    tls: bool,
}

impl RunningBackend {
    /// `http://127.0.0.1:PORT` (`https://` for a TLS backend).
    pub fn url(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }

    /// `https://localhost:PORT`: a host name, so the gateway sends SNI and checks the certificate's DNS name.
    pub fn localhost_url(&self) -> String {
        format!("{}://localhost:{}", if self.tls { "https" } else { "http" }, self.addr.port())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().expect("recorded requests").clone()
    }

    /// The only request received; panics when there were none or several.
    #[track_caller]
    pub fn single(&self) -> Recorded {
        let all = self.requests();
        assert_eq!(all.len(), 1, "expected exactly one backend request, got {all:#?}");
        all.into_iter().next().expect("one request")
    }

    /// Waits until at least `n` requests arrived (for background calls), up to `timeout`.
    pub fn wait_requests(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let end = Instant::now() + timeout;
        loop {
            let all = self.requests();
            if all.len() >= n || Instant::now() >= end {
                return all;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

impl Drop for RunningBackend {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// A backend connection's byte stream: plain TCP or rustls over it.
trait Wire: Read + Write {
    fn sni(&self) -> Option<String>;
    fn close(&mut self);
}

impl Wire for TcpStream {
    fn sni(&self) -> Option<String> {
        None
    }
    fn close(&mut self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

impl Wire for StreamOwned<ServerConnection, TcpStream> {
    fn sni(&self) -> Option<String> {
        self.conn.server_name().map(str::to_owned)
    }
    fn close(&mut self) {
        self.conn.send_close_notify();
        let _ = self.flush();
        let _ = self.sock.shutdown(Shutdown::Both);
    }
}

fn serve(stream: TcpStream, conn: usize, shared: &Shared, tls: Option<Arc<ServerConfig>>) {
    // Head and body go out in separate writes: without this, Nagle + delayed ACKs add 40 ms per answer.
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(IDLE));
    let _ = stream.set_write_timeout(Some(IDLE));
    match tls {
        None => serve_on(BufReader::new(stream), conn, shared),
        Some(config) => {
            let Ok(session) = ServerConnection::new(config) else { return };
            // The handshake runs on the first read; a failed one ends the connection like garbage does.
            serve_on(BufReader::new(StreamOwned::new(session, stream)), conn, shared);
        }
    }
}

fn serve_on<S: Wire>(mut reader: BufReader<S>, conn: usize, shared: &Shared) {
    while let Some(mut req) = read_request(&mut reader, conn) {
        req.sni = reader.get_ref().sni();
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let wants_close = req.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let is_head = req.method == "HEAD";
        let reply = shared.reply_for(&req.target);
        shared.recorded.lock().expect("recorded requests").push(req);
        if !reply.delay.is_zero() {
            sleep_unless_stopped(reply.delay, shared);
        }
        match write_reply(reader.get_mut(), &reply, is_head, shared) {
            Ok(true) if !reply.close && !wants_close => {}
            _ => break,
        }
    }
    reader.get_mut().close();
}

fn sleep_unless_stopped(total: Duration, shared: &Shared) {
    let end = Instant::now() + total;
    while Instant::now() < end && !shared.stop.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(5).min(end.saturating_duration_since(Instant::now())));
    }
}

/// Writes the reply; `Ok(false)` when the connection must close afterwards.
fn write_reply(w: &mut impl Write, reply: &Reply, is_head: bool, shared: &Shared) -> std::io::Result<bool> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (n, v) in &reply.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    match &reply.body {
        Body::Raw(pieces, pause) => {
            for (i, piece) in pieces.iter().enumerate() {
                if i > 0 && !pause.is_zero() {
                    sleep_unless_stopped(*pause, shared);
                }
                w.write_all(piece)?;
                w.flush()?;
            }
            return Ok(false);
        }
        Body::Hang => {
            sleep_unless_stopped(Duration::from_secs(30), shared);
            return Ok(false);
        }
        Body::Fixed(body) => {
            if !matches!(reply.status, 204 | 304) && !(100..200).contains(&reply.status) {
                head.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            head.push_str("\r\n");
            w.write_all(head.as_bytes())?;
            if !is_head {
                w.write_all(body)?;
            }
        }
        Body::Chunked(pieces, pause) => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            w.write_all(head.as_bytes())?;
            w.flush()?;
            for piece in pieces {
                w.write_all(format!("{:x}\r\n", piece.len()).as_bytes())?;
                w.write_all(piece)?;
                w.write_all(b"\r\n")?;
                w.flush()?;
                if !pause.is_zero() {
                    sleep_unless_stopped(*pause, shared);
                }
            }
            w.write_all(b"0\r\n\r\n")?;
        }
    }
    w.flush()?;
    Ok(true)
}

/// Reads one request; `None` at end of stream, on a timeout or on garbage.
fn read_request(r: &mut BufReader<impl Read>, conn: usize) -> Option<Recorded> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.to_owned(), v.trim().to_owned()));
    }
    let find = |name: &str| {
        headers.iter().find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    };
    let chunked = find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            if size == 0 {
                let mut end = String::new();
                r.read_line(&mut end).ok()?;
                break;
            }
            let mut piece = vec![0; size + 2];
            r.read_exact(&mut piece).ok()?;
            body.extend_from_slice(&piece[..size]);
        }
    } else if let Some(len) = find("content-length") {
        let len: usize = len.parse().ok()?;
        body.resize(len, 0);
        r.read_exact(&mut body).ok()?;
    }
    Some(Recorded { method, target, headers, body, chunked, conn, sni: None })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

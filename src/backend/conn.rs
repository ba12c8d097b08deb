//! One backend connection: the socket (plain TCP or TLS over it), its read buffer, and reading a response head and
//! body off it.
//!
//! The stream is an enum rather than a type parameter so that the pool, the redirect loop and `no-op` streaming
//! stay one concrete type. The plain path pays one predictable branch per read or write; the TLS state and the TLS
//! read and write futures are boxed so that neither a plain `Conn` nor the futures of plain requests grow (inline,
//! they cost plain requests +0.3 % instructions under callgrind, `scripts/profile.sh`; TLS requests pay one small
//! allocation per read or write, next to the record encryption).

use std::io;
use std::ops::Range;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::TcpStream;
use monoio_rustls::ClientTlsStream;
use rustls::pki_types::ServerName;
use smallvec::SmallVec;

use crate::limits::{MAX_BACKEND_HEAD, MAX_RESPONSE_HEADERS, TLS_HANDSHAKE_TIMEOUT};

/// The byte stream under a [`Conn`].
enum Stream {
    Plain(TcpStream),
    Tls(Box<ClientTlsStream<TcpStream>>),
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stream::Plain(s) => s.fmt(f),
            Stream::Tls(_) => f.write_str("TlsStream"),
        }
    }
}

/// A connection to a backend.
#[derive(Debug)]
pub struct Conn {
    stream: Stream,
    pub buf: BytesMut,
    /// Whether it came from the pool (a failure before any response byte may then be retried once).
    pub reused: bool,
    /// Room the next growth of `buf` makes: [`LARGE_READ_ROOM`] once a read of at least [`READ_ROOM`] came back full
    /// (more is probably waiting: a large body), else [`READ_ROOM`].
    next_room: usize,
}

/// Room made for a read when the buffer is nearly full: small answers fit the first, and a large body, once reads
/// come back full, is read in pieces growing up to the larger one: fewer reads, writes and wake-ups per megabyte.
/// Measured on a 1.3 MB `no-op` answer (CPU per request): 16 KB pieces 1,280 µs, 32 KB 790, 64 KB 650, 128 KB 610,
/// 256 KB 510.
const READ_ROOM: usize = 16 * 1024;
const LARGE_READ_ROOM: usize = 256 * 1024;
/// A new connection's buffer: a small JSON answer and its head fit (an nginx `/json` answer is ≈ 550 bytes), and
/// ten thousand connections in flight (scenario e) hold 2 KB each rather than 4.
const INITIAL_BUFFER: usize = 2 * 1024;
/// Less room than this left, and the buffer grows before a read.
const MIN_READ_ROOM: usize = 1024;

impl Conn {
    pub async fn connect(addr: std::net::SocketAddr, timeout: Option<Duration>) -> io::Result<Conn> {
        let stream = Self::dial(addr, timeout).await?;
        Ok(Conn::new(Stream::Plain(stream)))
    }

    /// Dials `addr` and runs a TLS handshake for `name` (bounded by [`TLS_HANDSHAKE_TIMEOUT`], as Go's client).
    pub async fn connect_tls(
        addr: std::net::SocketAddr,
        timeout: Option<Duration>,
        config: std::sync::Arc<rustls::ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<Conn, TlsConnectError> {
        let stream = Self::dial(addr, timeout).await.map_err(TlsConnectError::Dial)?;
        let connector = monoio_rustls::TlsConnector::from(config);
        let tls = match monoio::time::timeout(TLS_HANDSHAKE_TIMEOUT, connector.connect(name, stream)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => return Err(TlsConnectError::Handshake(e.into())),
            Err(_) => return Err(TlsConnectError::HandshakeTimeout),
        };
        Ok(Conn::new(Stream::Tls(Box::new(tls))))
    }

    fn new(stream: Stream) -> Conn {
        // Small first: with thousands of backend connections open (10,000 clients), 16 KB each cost 100 MB of peak
        // RSS; a larger answer grows the buffer as it comes (`fill`).
        Conn { stream, buf: BytesMut::with_capacity(INITIAL_BUFFER), reused: false, next_room: READ_ROOM }
    }

    async fn dial(addr: std::net::SocketAddr, timeout: Option<Duration>) -> io::Result<TcpStream> {
        let connect = TcpStream::connect_addr(addr);
        let stream = match timeout {
            Some(t) => monoio::time::timeout(t, connect)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("dial tcp {addr}: i/o timeout")))??,
            None => connect.await?,
        };
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    pub async fn write_all(&mut self, data: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        let (res, data) = match &mut self.stream {
            Stream::Plain(s) => s.write_all(data).await,
            Stream::Tls(s) => Box::pin(s.write_all(data)).await,
        };
        (res.map(|_| ()), data)
    }

    /// Writes one piece of a streamed body.
    pub async fn write_bytes(&mut self, data: Bytes) -> io::Result<()> {
        let (res, _) = match &mut self.stream {
            Stream::Plain(s) => s.write_all(data).await,
            Stream::Tls(s) => Box::pin(s.write_all(data)).await,
        };
        res.map(|_| ())
    }

    /// Before the connection waits in the pool: a buffer grown for a large body is let go (the pieces still in
    /// use keep their bytes), so that idle connections hold a few kilobytes, not a large read's room.
    pub fn trim_for_idle(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > READ_ROOM {
            self.buf = BytesMut::new();
        }
        self.next_room = READ_ROOM;
    }

    /// Reads more bytes into `buf`; `Ok(0)` is end of stream.
    pub async fn fill(&mut self) -> io::Result<usize> {
        if self.buf.capacity() - self.buf.len() < MIN_READ_ROOM {
            self.buf.reserve(self.next_room);
        }
        let room = self.buf.capacity() - self.buf.len();
        // monoio reads into the start of a buffer; a slice from `len` appends after what is already there.
        let buf = std::mem::take(&mut self.buf);
        let len = buf.len();
        let (res, buf) = match &mut self.stream {
            Stream::Plain(s) => s.read(buf.slice_mut(len..)).await,
            Stream::Tls(s) => {
                let (res, buf) = Box::pin(s.read(buf.slice_mut(len..))).await;
                // A TCP close without TLS close_notify ends the stream, as in Go's client (many servers skip the
                // alert); a body cut short is still caught by its framing.
                match res {
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => (Ok(0), buf),
                    res => (res, buf),
                }
            }
        };
        self.buf = buf.into_inner();
        // 2 → 16 → 256 KB: a few-kilobyte answer does not reserve a large body's room. (Growing fourfold at each
        // full read instead measured slower: reads that come back partial keep the pieces small.)
        self.next_room = match res {
            Ok(n) if n == room && room >= READ_ROOM => LARGE_READ_ROOM,
            _ => READ_ROOM,
        };
        res
    }

    /// Reads a response head, skipping `1xx` interim responses.
    pub async fn read_head(&mut self, request_is_head: bool) -> Result<ResponseHead, HeadError> {
        loop {
            match ResponseHead::parse(&self.buf, request_is_head) {
                Ok(Some((len, mut head))) => {
                    let bytes = self.buf.split_to(len).freeze();
                    if (100..200).contains(&head.status) && head.status != 101 {
                        continue;
                    }
                    head.bytes = bytes;
                    return Ok(head);
                }
                Ok(None) => {}
                Err(e) => return Err(HeadError::Malformed(e)),
            }
            let had = self.buf.len();
            match self.fill().await {
                Ok(0) if had == 0 => return Err(HeadError::ClosedBeforeResponse),
                Ok(0) => return Err(HeadError::Malformed("unexpected EOF reading the response head")),
                Ok(_) => {}
                Err(e) if had == 0 => return Err(HeadError::Io(e, true)),
                Err(e) => return Err(HeadError::Io(e, false)),
            }
        }
    }
}

/// Why [`Conn::connect_tls`] gave no connection.
#[derive(Debug)]
pub enum TlsConnectError {
    Dial(io::Error),
    /// The handshake failed; a rustls error (certificate, version, alert) is inside the `io::Error`.
    Handshake(io::Error),
    HandshakeTimeout,
}

/// Why no response head could be read.
#[derive(Debug)]
pub enum HeadError {
    /// The peer closed before sending a byte (a stale keep-alive connection, usually).
    ClosedBeforeResponse,
    /// IO error; `true` when nothing had been received yet.
    Io(io::Error, bool),
    Malformed(&'static str),
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

/// A parsed response head, kept as ranges into its bytes.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    bytes: Bytes,
    pub status: u16,
    headers: SmallVec<[(Range<u32>, Range<u32>); 16]>,
    pub framing: Framing,
    /// Whether the backend lets the connection be reused.
    pub keep_alive: bool,
}

impl ResponseHead {
    fn parse(buf: &[u8], request_is_head: bool) -> Result<Option<(usize, ResponseHead)>, &'static str> {
        let mut storage = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
        let mut res = httparse::Response::new(&mut storage);
        let len = match res.parse(buf) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if buf.len() > MAX_BACKEND_HEAD => return Err("response head too large"),
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => return Err("too many response headers"),
            Err(_) => return Err("malformed HTTP response"),
        };
        let status = res.code.ok_or("malformed HTTP response")?;
        let version_minor = res.version.unwrap_or(1);
        let base = buf.as_ptr() as usize;
        let span = |s: &[u8]| {
            let start = (s.as_ptr() as usize - base) as u32;
            start..start + s.len() as u32
        };
        let mut head = ResponseHead {
            bytes: Bytes::new(),
            status,
            headers: SmallVec::new(),
            framing: Framing::UntilClose,
            keep_alive: version_minor == 1,
        };
        let mut length = None;
        let mut chunked = false;
        for h in res.headers.iter() {
            head.headers.push((span(h.name.as_bytes()), span(h.value)));
            if h.name.eq_ignore_ascii_case("content-length") {
                let n = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .ok_or("invalid Content-Length in response")?;
                if length.is_some_and(|l| l != n) {
                    return Err("conflicting Content-Length in response");
                }
                length = Some(n);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = h.value.split(|b| *b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            } else if h.name.eq_ignore_ascii_case("connection") {
                for t in h.value.split(|b| *b == b',') {
                    if t.trim_ascii().eq_ignore_ascii_case(b"close") {
                        head.keep_alive = false;
                    } else if t.trim_ascii().eq_ignore_ascii_case(b"keep-alive") {
                        head.keep_alive = true;
                    }
                }
            }
        }
        head.framing = if request_is_head || status == 204 || status == 304 || (100..200).contains(&status) {
            Framing::Empty
        } else if chunked {
            Framing::Chunked
        } else if let Some(n) = length {
            if n == 0 {
                Framing::Empty
            } else {
                Framing::Length(n)
            }
        } else {
            head.keep_alive = false;
            Framing::UntilClose
        };
        Ok(Some((len, head)))
    }

    /// A head the gateway writes itself (the cache's `504` for `only-if-cached`); `wire` must be a complete,
    /// valid response head, which the tests of its callers check.
    pub fn synthetic(wire: &'static [u8]) -> Option<ResponseHead> {
        let (_, mut head) = Self::parse(wire, false).ok().flatten()?;
        head.bytes = Bytes::from_static(wire);
        Some(head)
    }

    /// Size of the head as received, for the cache's byte accounting.
    pub fn wire_len(&self) -> usize {
        self.bytes.len()
    }

    /// First value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        // Compared as bytes: a lookup runs several times per response, and the names need no UTF-8 check for it.
        self.headers
            .iter()
            .find(|(n, _)| self.bytes[n.start as usize..n.end as usize].eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| &self.bytes[v.start as usize..v.end as usize])
    }

    /// Every header line, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.headers.iter().map(|(n, v)| {
            let name = std::str::from_utf8(&self.bytes[n.start as usize..n.end as usize]).unwrap_or("");
            (name, &self.bytes[v.start as usize..v.end as usize])
        })
    }
}

/// A connection a message body is read from: its read buffer and a way to read more into it. The backend side
/// ([`Conn`]) and the client side (a request body, `server::conn`) share one body decoder through it.
// Futures here are polled on one worker thread only, so the missing `Send` bound of async trait methods is fine.
#[allow(async_fn_in_trait)]
pub trait ReadSource {
    fn buf(&mut self) -> &mut BytesMut;
    /// Reads more bytes into [`ReadSource::buf`]; `Ok(0)` is end of stream.
    async fn fill(&mut self) -> io::Result<usize>;
}

impl ReadSource for Conn {
    fn buf(&mut self) -> &mut BytesMut {
        &mut self.buf
    }
    async fn fill(&mut self) -> io::Result<usize> {
        Conn::fill(self).await
    }
}

/// Reads a body off a connection piece by piece, undoing chunked coding.
#[derive(Debug)]
pub struct BodyReader {
    state: BodyState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkDataEnd,
    Trailers,
    UntilClose,
    Done,
}

impl BodyReader {
    pub fn new(framing: Framing) -> Self {
        let state = match framing {
            Framing::Empty | Framing::Length(0) => BodyState::Done,
            Framing::Length(n) => BodyState::Length(n),
            Framing::Chunked => BodyState::ChunkSize,
            Framing::UntilClose => BodyState::UntilClose,
        };
        BodyReader { state }
    }

    /// Whether the whole body has been read (so the connection may go back to the pool).
    pub fn is_done(&self) -> bool {
        self.state == BodyState::Done
    }

    /// The next piece of the body, or `None` at its end.
    pub async fn next<S: ReadSource>(&mut self, conn: &mut S) -> io::Result<Option<Bytes>> {
        loop {
            match self.state {
                BodyState::Done => return Ok(None),
                BodyState::Length(remaining) => {
                    if conn.buf().is_empty() && conn.fill().await? == 0 {
                        return Err(eof());
                    }
                    let n = (conn.buf().len() as u64).min(remaining) as usize;
                    let piece = conn.buf().split_to(n).freeze();
                    self.state =
                        if remaining == n as u64 { BodyState::Done } else { BodyState::Length(remaining - n as u64) };
                    return Ok(Some(piece));
                }
                BodyState::ChunkSize => match crate::server::h1::parse_chunk_size(conn.buf()) {
                    Ok(Some((0, len))) => {
                        let _ = conn.buf().split_to(len);
                        self.state = BodyState::Trailers;
                    }
                    Ok(Some((size, len))) => {
                        let _ = conn.buf().split_to(len);
                        self.state = BodyState::ChunkData(size);
                    }
                    Ok(None) => {
                        if conn.fill().await? == 0 {
                            return Err(eof());
                        }
                    }
                    Err(_) => return Err(io::Error::new(io::ErrorKind::InvalidData, "malformed chunked encoding")),
                },
                BodyState::ChunkData(remaining) => {
                    if conn.buf().is_empty() && conn.fill().await? == 0 {
                        return Err(eof());
                    }
                    let n = (conn.buf().len() as u64).min(remaining) as usize;
                    let piece = conn.buf().split_to(n).freeze();
                    self.state = if remaining == n as u64 {
                        BodyState::ChunkDataEnd
                    } else {
                        BodyState::ChunkData(remaining - n as u64)
                    };
                    return Ok(Some(piece));
                }
                BodyState::ChunkDataEnd => {
                    if conn.buf().len() < 2 {
                        if conn.fill().await? == 0 {
                            return Err(eof());
                        }
                        continue;
                    }
                    if &conn.buf()[..2] != b"\r\n" {
                        return Err(io::Error::new(io::ErrorKind::InvalidData, "malformed chunked encoding"));
                    }
                    let _ = conn.buf().split_to(2);
                    self.state = BodyState::ChunkSize;
                }
                BodyState::Trailers => {
                    // Trailer lines end with an empty line; they are dropped, as Go's client folds them away.
                    if let Some(pos) = conn.buf().windows(2).position(|w| w == b"\r\n") {
                        let _ = conn.buf().split_to(pos + 2);
                        if pos == 0 {
                            self.state = BodyState::Done;
                        }
                    } else if conn.fill().await? == 0 {
                        return Err(eof());
                    }
                }
                BodyState::UntilClose => {
                    if conn.buf().is_empty() && conn.fill().await? == 0 {
                        self.state = BodyState::Done;
                        return Ok(None);
                    }
                    return Ok(Some(conn.buf().split().freeze()));
                }
            }
        }
    }

    /// Reads the whole remaining body, failing past `limit` bytes.
    pub async fn read_all<S: ReadSource>(&mut self, conn: &mut S, limit: usize) -> io::Result<Bytes> {
        let mut first: Option<Bytes> = None;
        let mut acc: Option<BytesMut> = None;
        while let Some(piece) = self.next(conn).await? {
            let total = acc.as_ref().map_or(0, |a| a.len()) + first.as_ref().map_or(0, |f| f.len()) + piece.len();
            if total > limit {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("response body larger than {limit} bytes"),
                ));
            }
            // A body that arrives in one piece (the common case) is handed on without a copy.
            match (&mut first, &mut acc) {
                (None, None) => first = Some(piece),
                (Some(f), None) => {
                    let mut a = BytesMut::with_capacity(f.len() + piece.len());
                    a.extend_from_slice(f);
                    a.extend_from_slice(&piece);
                    first = None;
                    acc = Some(a);
                }
                (_, Some(a)) => a.extend_from_slice(&piece),
            }
        }
        Ok(match (first, acc) {
            (_, Some(a)) => a.freeze(),
            (Some(f), None) => f,
            (None, None) => Bytes::new(),
        })
    }
}

fn eof() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected EOF")
}

//! One client connection: read requests (keep-alive, pipelining, chunked bodies), dispatch, write responses.
//!
//! Pipelined requests already in the buffer are answered into one output buffer and flushed with a single write.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use monoio::io::AsyncWriteRentExt;
use monoio::net::TcpStream;

use super::stream::ClientStream;

use super::body::RequestBody;
use super::h1::write::{write_chunk, ResponseWriter, LAST_CHUNK};
use super::h1::{parse_request, ParseError};
use super::noop_body::NoopBody;
use super::worker::Worker;
use crate::limits::{INIT_READ_BUFFER, MAX_PIPELINED_RESPONSES};
use crate::proxy::endpoint::StreamReply;

/// The client side of one connection.
struct ClientConn {
    stream: ClientStream,
    buf: BytesMut,
    out: Vec<u8>,
    write_timeout: Option<Duration>,
}

/// Why a connection stops.
enum Stop {
    /// Closed by the peer, a timeout or an IO error: nothing more to write.
    Quiet,
    /// The client opened with the HTTP/2 preface on a `use_h2c` listener: the connection goes on as h2c.
    H2c,
}

impl ClientConn {
    /// Reads more bytes, giving up at `deadline`. `Ok(0)` is end of stream.
    async fn fill(&mut self, deadline: Option<Instant>) -> Result<usize, Stop> {
        super::body::fill(&mut self.stream, &mut self.buf, deadline).await.map_err(|_| Stop::Quiet)
    }

    async fn flush(&mut self) -> Result<(), Stop> {
        if self.out.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        let (res, mut out) = self.write(out).await;
        out.clear();
        self.out = out;
        res
    }

    /// Writes all of `buf` within the write timeout, and gives it back.
    async fn write<B: monoio::buf::IoBuf + Default>(&mut self, buf: B) -> (Result<(), Stop>, B) {
        let (res, buf) = match self.write_timeout {
            // Boxed for the same reason as `body::fill`'s timer.
            Some(t) => match Box::pin(monoio::time::timeout(t, self.stream.write_all(buf))).await {
                Ok(r) => r,
                // The buffer went with the cancelled write; the connection is closed anyway.
                Err(_) => return (Err(Stop::Quiet), B::default()),
            },
            None => self.stream.write_all(buf).await,
        };
        (res.map(|_| ()).map_err(|_| Stop::Quiet), buf)
    }

    /// Copies a `no-op` body from the backend to the client, re-framing it when needed.
    async fn stream_body(&mut self, worker: &Worker, reply: StreamReply) -> Result<(), Stop> {
        // The head stays in `out` and leaves with the first piece of the body: one write (and one segment) for a
        // small answer instead of two, as Go's buffered response writer does.
        let mut body = NoopBody::new(reply);
        let chunked = body.chunked();
        // Once the head is out, a failure can only cut the connection, so the client sees a short body.
        let passes_through = !chunked && body.passes_through();
        while let Some(data) = body.next().await.map_err(|_| Stop::Quiet)? {
            if chunked {
                write_chunk(&mut self.out, data);
            } else if passes_through && self.out.is_empty() {
                // Once the head is out, a piece goes out as the backend's read left it, without a copy.
                let piece = body.take_piece();
                self.write(piece).await.0?;
                continue;
            } else {
                self.out.extend_from_slice(data);
            }
            self.flush().await?;
        }
        if chunked {
            self.out.extend_from_slice(LAST_CHUNK);
        }
        body.finish(&worker.client);
        self.flush().await
    }
}

/// Serves one accepted connection until it closes: the TLS handshake first when the listener is HTTPS.
///
/// The task lives as long as the connection, idle keep-alive time included, so its size is memory per connection:
/// what only some connections need (the TLS handshake, HTTP/2, a `no-op` copy, timers) is boxed when it happens
/// rather than reserved inline in every task.
pub async fn accept(tcp: TcpStream, peer: SocketAddr, worker: Rc<Worker>) {
    let stream = match &worker.tls {
        None => ClientStream::Plain(tcp),
        Some(acceptor) => {
            let deadline = handshake_timeout(&worker.config.server).map(|d| Instant::now() + d);
            match Box::pin(super::tls::handshake(acceptor, tcp, peer, deadline)).await {
                Some(stream) => stream,
                None => return,
            }
        }
    };
    if stream.negotiated_h2() {
        return Box::pin(super::h2::serve(stream, peer, worker, true)).await;
    }
    serve(stream, peer, worker).await;
}

/// Go's `tlsHandshakeTimeout`: the shortest of the read-header, read and write timeouts that are set.
fn handshake_timeout(t: &crate::config::ServerTimeouts) -> Option<Duration> {
    [t.read_header, t.read, t.write].into_iter().flatten().min()
}

async fn serve(stream: ClientStream, peer: SocketAddr, worker: Rc<Worker>) {
    let mut conn = ClientConn {
        stream,
        buf: BytesMut::with_capacity(INIT_READ_BUFFER),
        // Grown by the first answer to the size answers on this connection need.
        out: Vec::new(),
        write_timeout: worker.config.server.write,
    };
    if let Err(Stop::H2c) = serve_requests(&mut conn, peer, &worker).await {
        let tls = conn.stream.is_tls();
        let preface = std::io::Cursor::new(std::mem::take(&mut conn.buf).freeze());
        let io = monoio::io::PrefixedReadIo::new(conn.stream, preface);
        Box::pin(super::h2::serve(io, peer, worker, tls)).await;
    }
}

/// Whether the connection opens with the HTTP/2 preface; reads until it can tell.
async fn opens_with_h2_preface(conn: &mut ClientConn, deadline: Option<Instant>) -> Result<bool, Stop> {
    let preface = super::h2::PREFACE;
    loop {
        let n = conn.buf.len().min(preface.len());
        if conn.buf[..n] != preface[..n] {
            return Ok(false);
        }
        if n == preface.len() {
            return Ok(true);
        }
        if conn.fill(deadline).await? == 0 {
            return Err(Stop::Quiet);
        }
    }
}

async fn serve_requests(conn: &mut ClientConn, peer: SocketAddr, worker: &Rc<Worker>) -> Result<(), Stop> {
    let timeouts = &worker.config.server;
    let max_head = worker.config.max_header_bytes;
    let mut first = true;
    loop {
        // Waiting for the next request: the idle timeout applies until its first byte.
        if conn.buf.is_empty() {
            let idle_deadline = timeouts.idle.map(|d| Instant::now() + d);
            if conn.fill(idle_deadline).await? == 0 {
                return Ok(());
            }
        }
        let started = Instant::now();
        let head_deadline = timeouts.read_header.or(timeouts.read).map(|d| started + d);
        if std::mem::take(&mut first) && worker.config.use_h2c && opens_with_h2_preface(conn, head_deadline).await? {
            return Err(Stop::H2c);
        }
        let body_deadline = timeouts.read.map(|d| started + d);
        let mut answered = 0;
        loop {
            let (len, parsed) = match parse_request(&conn.buf, max_head) {
                Ok(Some(p)) => p,
                Ok(None) => {
                    if answered > 0 {
                        break;
                    }
                    if conn.fill(head_deadline).await? == 0 {
                        return Ok(());
                    }
                    continue;
                }
                Err(e) => {
                    conn.flush().await?;
                    write_parse_error(&mut conn.out, e);
                    return conn.flush().await;
                }
            };
            let head = parsed.finish(conn.buf.split_to(len).freeze());
            if head.expect_continue && (head.content_length.is_some_and(|l| l > 0) || head.chunked) {
                conn.flush().await?;
                conn.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                conn.flush().await?;
            }
            let close = !head.keep_alive || super::shutdown::requested();
            worker.in_flight.set(worker.in_flight.get() + 1);
            let tls = conn.stream.is_tls();
            let mut body = RequestBody::new(&mut conn.stream, &mut conn.buf, &head, body_deadline);
            // The handler's state (the endpoint pipe, its backend calls) lives on the heap for the request's
            // duration only: inline, it would make every connection's task ~4 KB larger for its whole life, idle
            // keep-alive connections included. One allocation per request buys a third of the memory per connection.
            let dispatch =
                super::dispatch::dispatch(worker, &head, &mut body, peer, &mut conn.out, close, started, tls);
            let reply = Box::pin(dispatch).await;
            // A body the handler could not read to its end (too large, broken, cut) leaves the connection unusable.
            let body_done = body.is_done();
            worker.in_flight.set(worker.in_flight.get() - 1);
            answered += 1;
            if let Some(reply) = reply {
                // `no-op` answers only: the copy's state stays out of every connection's task.
                Box::pin(conn.stream_body(worker, reply)).await?;
            }
            // Shutdown may have begun while the request was in flight: its answer then said `Connection: close`.
            if close || !body_done || super::shutdown::requested() {
                conn.flush().await?;
                return Ok(());
            }
            if conn.buf.is_empty() || answered >= MAX_PIPELINED_RESPONSES || conn.out.len() > 256 * 1024 {
                break;
            }
        }
        conn.flush().await?;
    }
}

/// The answers Go's server gives before any handler runs, with `Connection: close`.
fn write_parse_error(out: &mut Vec<u8>, e: ParseError) {
    match e {
        ParseError::HeadTooLarge => write_plain_error(out, 431, "431 Request Header Fields Too Large"),
        ParseError::Version => write_plain_error(out, 505, "505 HTTP Version Not Supported"),
        ParseError::UnsupportedEncoding => write_plain_error(out, 501, "501 Not Implemented"),
        ParseError::Malformed => write_plain_error(out, 400, "400 Bad Request"),
    }
}

pub fn write_plain_error(out: &mut Vec<u8>, status: u16, body: &str) {
    let mut w = ResponseWriter::new(out, status);
    w.header_str("Content-Type", "text/plain; charset=utf-8");
    w.connection_close(true);
    w.body(body.as_bytes(), false);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future a closure would return; the closure never runs.
    fn size_of_future<F>(_: impl FnOnce() -> F) -> usize {
        std::mem::size_of::<F>()
    }

    fn never<T>() -> T {
        unreachable!("only the type is used")
    }

    /// A connection's task lives as long as the connection, so its size is memory per open connection (1,000 idle
    /// keep-alive connections hold 1,000 of them); the handler state is boxed per request. Both grew unnoticed once
    /// (8.8 KB and 7 KB): this fails when they grow again.
    #[test]
    fn connection_task_and_handler_state_stay_small() {
        let task = size_of_future(|| accept(never(), never(), never()));
        assert!(task <= 3 * 1024, "connection task: {task} bytes");
        let handler = size_of_future(|| {
            super::super::dispatch::dispatch(never(), never(), never(), never(), never(), false, never(), false)
        });
        assert!(handler <= 6 * 1024, "boxed handler state: {handler} bytes");
    }
}

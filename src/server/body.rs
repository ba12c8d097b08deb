//! The request body still on the client connection: read whole for the routes that need it in memory, or handed
//! to a single backend piece by piece as it arrives (`backend::body::BodySource`).

use std::io;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use monoio::buf::IoBufMut;
use monoio::io::AsyncReadRent;

use super::stream::ClientStream;

use super::h1::RequestHead;
use crate::backend::body::BodySource;
use crate::backend::conn::{BodyReader, Framing, ReadSource};
use crate::limits::{INIT_READ_BUFFER, MAX_REQUEST_BODY};

/// Why a request body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Over [`MAX_REQUEST_BODY`] where the body has to be held in memory → 413.
    TooLarge,
    /// Broken chunked coding → 400.
    Malformed,
    /// The client went away or was too slow.
    Io,
}

/// Reads more bytes from the client into `buf`, giving up at `deadline`; `Ok(0)` is end of stream.
pub async fn fill<S: AsyncReadRent>(
    stream: &mut S,
    buf: &mut BytesMut,
    deadline: Option<Instant>,
) -> io::Result<usize> {
    if buf.capacity() - buf.len() < 1024 {
        buf.reserve(INIT_READ_BUFFER);
    }
    // monoio reads into the start of a buffer; a slice from `len` appends after what is already there.
    let owned = std::mem::take(buf);
    let len = owned.len();
    let (res, owned) = match deadline {
        // The timer (640 bytes in monoio) is boxed: inline, every connection's task would carry it for its whole
        // life, timeouts configured or not.
        Some(d) => match Box::pin(monoio::time::timeout_at(d.into(), stream.read(owned.slice_mut(len..)))).await {
            Ok(r) => r,
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "client read timeout")),
        },
        None => stream.read(owned.slice_mut(len..)).await,
    };
    *buf = owned.into_inner();
    res
}

/// Reads the next DATA frame of an HTTP/2 stream into `buf` (giving its window back), giving up at `deadline`;
/// `Ok(0)` is the end of the stream.
async fn fill_h2(recv: &mut h2::RecvStream, buf: &mut BytesMut, deadline: Option<Instant>) -> io::Result<usize> {
    loop {
        let next = match deadline {
            Some(d) => monoio::time::timeout_at(d.into(), recv.data())
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "client read timeout"))?,
            None => recv.data().await,
        };
        match next {
            None => return Ok(0),
            Some(Ok(chunk)) => {
                let _ = recv.flow_control().release_capacity(chunk.len());
                // An empty DATA frame is not the end of the stream.
                if !chunk.is_empty() {
                    buf.extend_from_slice(&chunk);
                    return Ok(chunk.len());
                }
            }
            Some(Err(e)) => return Err(io::Error::new(io::ErrorKind::ConnectionAborted, e)),
        }
    }
}

/// Where a request body comes from.
enum Wire<'c> {
    /// The HTTP/1.1 connection, after what is already in the buffer.
    Conn(&'c mut ClientStream),
    /// An HTTP/2 stream's DATA frames.
    H2(&'c mut h2::RecvStream),
}

/// The client side as a [`ReadSource`] for the shared body decoder.
struct ClientSource<'c> {
    wire: Wire<'c>,
    buf: &'c mut BytesMut,
    deadline: Option<Instant>,
}

impl ReadSource for ClientSource<'_> {
    fn buf(&mut self) -> &mut BytesMut {
        self.buf
    }
    async fn fill(&mut self) -> io::Result<usize> {
        match &mut self.wire {
            Wire::Conn(stream) => fill(*stream, self.buf, self.deadline).await,
            // Boxed: HTTP/2 only, and its future would otherwise widen every request's handler state.
            Wire::H2(recv) => Box::pin(fill_h2(recv, self.buf, self.deadline)).await,
        }
    }
}

/// One request's body, borrowed from its connection while the request is handled.
pub struct RequestBody<'c> {
    source: ClientSource<'c>,
    reader: BodyReader,
    content_length: Option<u64>,
    present: bool,
    failed: bool,
    /// Why streaming the body stopped, when the client (not the backend) was at fault.
    error: Option<BodyError>,
}

impl<'c> RequestBody<'c> {
    pub fn new(
        stream: &'c mut ClientStream,
        buf: &'c mut BytesMut,
        head: &RequestHead,
        deadline: Option<Instant>,
    ) -> Self {
        RequestBody::from_source(ClientSource { wire: Wire::Conn(stream), buf, deadline }, head, Framing::Chunked)
    }

    /// The body of an HTTP/2 stream, read from its DATA frames as the handler asks for it. Its head (written by
    /// `server::h2`) says `content-length` when the client gave one, else `transfer-encoding: chunked` when a body
    /// follows: the frames then carry the bytes as they are, up to the end of the stream.
    pub fn h2(
        recv: &'c mut h2::RecvStream,
        buf: &'c mut BytesMut,
        head: &RequestHead,
        deadline: Option<Instant>,
    ) -> Self {
        RequestBody::from_source(ClientSource { wire: Wire::H2(recv), buf, deadline }, head, Framing::UntilClose)
    }

    /// `unknown_length` is how a body of unknown length is framed on this wire.
    fn from_source(source: ClientSource<'c>, head: &RequestHead, unknown_length: Framing) -> Self {
        let framing = match (head.chunked, head.content_length) {
            (true, _) => unknown_length,
            (false, Some(0)) | (false, None) => Framing::Empty,
            (false, Some(n)) => Framing::Length(n),
        };
        RequestBody {
            source,
            reader: BodyReader::new(framing),
            content_length: if head.chunked { None } else { head.content_length },
            present: framing != Framing::Empty,
            failed: false,
            error: None,
        }
    }

    /// Whether the client sent a body at all.
    pub fn is_present(&self) -> bool {
        self.present
    }

    /// Whether the body was read to its end (so the connection can carry the next request).
    pub fn is_done(&self) -> bool {
        self.reader.is_done() && !self.failed
    }

    /// Why a streamed body stopped, when the client was at fault (broken chunked coding → 400, gone → nothing).
    pub fn error(&self) -> Option<BodyError> {
        self.error
    }

    /// The whole body in memory, bounded by [`MAX_REQUEST_BODY`].
    pub async fn read_all(&mut self) -> Result<Bytes, BodyError> {
        if self.content_length.is_some_and(|n| n > MAX_REQUEST_BODY as u64) {
            self.failed = true;
            return Err(BodyError::TooLarge);
        }
        let mut first: Option<Bytes> = None;
        let mut acc = BytesMut::new();
        loop {
            let piece = match self.reader.next(&mut self.source).await {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => {
                    self.failed = true;
                    return Err(if e.kind() == io::ErrorKind::InvalidData {
                        BodyError::Malformed
                    } else {
                        BodyError::Io
                    });
                }
            };
            if first.as_ref().map_or(0, Bytes::len) + acc.len() + piece.len() > MAX_REQUEST_BODY {
                self.failed = true;
                return Err(BodyError::TooLarge);
            }
            // A body that arrives in one piece (the common case) is handed on without a copy.
            match first.take() {
                None if acc.is_empty() => first = Some(piece),
                None => acc.extend_from_slice(&piece),
                Some(f) => {
                    acc.extend_from_slice(&f);
                    acc.extend_from_slice(&piece);
                }
            }
        }
        Ok(first.unwrap_or_else(|| acc.freeze()))
    }
}

impl BodySource for RequestBody<'_> {
    fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    async fn next_piece(&mut self) -> io::Result<Option<Bytes>> {
        let piece = self.reader.next(&mut self.source).await;
        if let Err(e) = &piece {
            self.failed = true;
            self.error =
                Some(if e.kind() == io::ErrorKind::InvalidData { BodyError::Malformed } else { BodyError::Io });
        }
        piece
    }
}

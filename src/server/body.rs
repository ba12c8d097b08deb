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

/// The client connection as a [`ReadSource`] for the shared body decoder; without a stream (HTTP/2, whose
/// streams hand over their whole body) the buffer is all there is.
struct ClientSource<'c> {
    stream: Option<&'c mut ClientStream>,
    buf: &'c mut BytesMut,
    deadline: Option<Instant>,
}

impl ReadSource for ClientSource<'_> {
    fn buf(&mut self) -> &mut BytesMut {
        self.buf
    }
    async fn fill(&mut self) -> io::Result<usize> {
        match self.stream.as_deref_mut() {
            Some(stream) => fill(stream, self.buf, self.deadline).await,
            None => Ok(0),
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
        RequestBody::from_source(ClientSource { stream: Some(stream), buf, deadline }, head)
    }

    /// A body that is all in `buf` already.
    pub fn buffered(buf: &'c mut BytesMut, head: &RequestHead) -> Self {
        RequestBody::from_source(ClientSource { stream: None, buf, deadline: None }, head)
    }

    fn from_source(source: ClientSource<'c>, head: &RequestHead) -> Self {
        let framing = match (head.chunked, head.content_length) {
            (true, _) => Framing::Chunked,
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

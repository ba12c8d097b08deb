//! The client's byte stream: plain TCP or TLS over it. One enum rather than a generic connection loop, so the
//! request body, the dispatcher and the `no-op` body copy stay one piece of code; the branch per read or write is
//! noise next to the syscall. The TLS variant is boxed: rustls' session state is kilobytes, and plain connections
//! should not carry it. So are its read and write futures (over 1 KB each, against ~100 bytes for a plain socket
//! operation): inline, every connection's task would reserve room for them, plain or not, for its whole life; boxed,
//! a TLS connection pays one short-lived allocation per read or write.

use std::io::Cursor;

use bytes::Bytes;
use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent, PrefixedReadIo};
use monoio::net::TcpStream;
use monoio::BufResult;

/// TCP with the bytes read before the TLS handshake (to tell TLS from plain HTTP) put back in front.
pub type PeekedTcp = PrefixedReadIo<TcpStream, Cursor<Bytes>>;

/// A server-side TLS session over [`PeekedTcp`].
pub type TlsTcp = monoio_rustls::ServerTlsStream<PeekedTcp>;

/// One accepted client connection.
pub enum ClientStream {
    Plain(TcpStream),
    Tls(Box<TlsTcp>),
}

impl ClientStream {
    /// Whether the connection is HTTPS (for `security/http` and `X-Forwarded-Proto`-like decisions).
    pub fn is_tls(&self) -> bool {
        matches!(self, ClientStream::Tls(_))
    }

    /// Whether ALPN picked HTTP/2.
    pub fn negotiated_h2(&self) -> bool {
        match self {
            ClientStream::Plain(_) => false,
            ClientStream::Tls(s) => s.alpn_protocol().as_deref() == Some(super::tls::ALPN_H2),
        }
    }
}

impl AsyncReadRent for ClientStream {
    async fn read<T: IoBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            ClientStream::Plain(s) => s.read(buf).await,
            ClientStream::Tls(s) => Box::pin(s.read(buf)).await,
        }
    }

    async fn readv<T: IoVecBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            ClientStream::Plain(s) => s.readv(buf).await,
            ClientStream::Tls(s) => Box::pin(s.readv(buf)).await,
        }
    }
}

impl AsyncWriteRent for ClientStream {
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            ClientStream::Plain(s) => s.write(buf).await,
            ClientStream::Tls(s) => Box::pin(s.write(buf)).await,
        }
    }

    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            ClientStream::Plain(s) => s.writev(buf).await,
            ClientStream::Tls(s) => Box::pin(s.writev(buf)).await,
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        match self {
            ClientStream::Plain(s) => s.flush().await,
            ClientStream::Tls(s) => Box::pin(s.flush()).await,
        }
    }

    async fn shutdown(&mut self) -> std::io::Result<()> {
        match self {
            ClientStream::Plain(s) => s.shutdown().await,
            ClientStream::Tls(s) => Box::pin(s.shutdown()).await,
        }
    }
}

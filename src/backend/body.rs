//! Request bodies streamed to a backend as they arrive from the client, so a single-backend endpoint neither
//! buffers nor bounds an upload.

use std::io;

use bytes::Bytes;

/// Where a streamed request body comes from (the client connection, in the server).
// Futures here are polled on one worker thread only, so the missing `Send` bound of async trait methods is fine.
#[allow(async_fn_in_trait)]
pub trait BodySource {
    /// The length the client declared (`Content-Length`); `None` means the backend gets it chunked.
    fn content_length(&self) -> Option<u64>;
    /// The next piece of the body, `None` at its end.
    async fn next_piece(&mut self) -> io::Result<Option<Bytes>>;
}

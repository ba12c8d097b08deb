//! The body of a `no-op` answer, copied from the backend piece by piece as the client gets it: gunzipped on the way
//! when the gateway asked the backend for gzip on its own behalf. HTTP/1.1 re-frames the pieces (chunked) when
//! needed; HTTP/2 sends them as DATA frames.

use bytes::Bytes;
use flate2::write::GzDecoder;

use crate::backend::Client;
use crate::proxy::endpoint::StreamReply;

pub struct NoopBody {
    reply: StreamReply,
    gunzip: Option<GzDecoder<Vec<u8>>>,
    piece: Bytes,
}

/// The backend failed, cut the body or missed the endpoint deadline: the client gets a short body.
pub struct Cut;

impl NoopBody {
    pub fn new(reply: StreamReply) -> NoopBody {
        let gunzip = reply.stream.gunzip.then(|| GzDecoder::new(Vec::new()));
        NoopBody { reply, gunzip, piece: Bytes::new() }
    }

    /// Whether an HTTP/1.1 client gets the body chunked.
    pub fn chunked(&self) -> bool {
        self.reply.chunked
    }

    /// Whether the pieces go out as the backend sent them (not gunzipped): [`NoopBody::take_piece`] then hands
    /// over the piece [`NoopBody::next`] returned, to be written without a copy.
    pub fn passes_through(&self) -> bool {
        self.gunzip.is_none()
    }

    /// The piece [`NoopBody::next`] returned last, as the backend sent it.
    pub fn take_piece(&mut self) -> Bytes {
        std::mem::take(&mut self.piece)
    }

    /// The next piece of the body, `None` at its end.
    pub async fn next(&mut self) -> Result<Option<&[u8]>, Cut> {
        let Ok(Ok(piece)) = monoio::time::timeout_at(self.reply.deadline.into(), self.reply.stream.next()).await else {
            return Err(Cut);
        };
        let Some(piece) = piece else { return Ok(None) };
        self.piece = piece;
        match self.gunzip.as_mut() {
            Some(d) => {
                use std::io::Write as _;
                d.get_mut().clear();
                d.write_all(&self.piece).and_then(|_| d.flush()).map_err(|_| Cut)?;
                Ok(Some(d.get_ref()))
            }
            None => Ok(Some(&self.piece)),
        }
    }

    /// Gives the backend connection back to its pool when the body was read to its end.
    pub fn finish(self, client: &Client) {
        self.reply.stream.finish(client);
    }
}

//! Named limits: every bound the gateway enforces on clients and backends, each with why it has the value it has.

/// Initial size of a connection's read buffer. Most request heads fit; the buffer grows up to the header limit.
/// Every open connection holds one, so it is kept small: 1,000 keep-alive connections hold 2 MB of them.
pub const INIT_READ_BUFFER: usize = 2 * 1024;

/// Most header lines a request may carry before it gets `431`. Go has no count limit, only `max_header_bytes`;
/// a fixed array keeps the parser allocation-free, and 100 is far above what browsers and SDKs send.
pub const MAX_REQUEST_HEADERS: usize = 100;

/// Most header lines a backend response may carry before the call fails.
pub const MAX_RESPONSE_HEADERS: usize = 128;

/// Largest request body the gateway buffers before answering `413`. KrakenD CE has no limit (the EE
/// `max_payload` sets one); request bodies are buffered here, so an unbounded body would be unbounded memory.
pub const MAX_REQUEST_BODY: usize = 64 * 1024 * 1024;

/// Largest backend response body the gateway decodes (non-`no-op`); a larger one fails that backend call instead of
/// exhausting memory. `no-op` bodies are streamed and not bounded.
pub const MAX_BACKEND_BODY: usize = 64 * 1024 * 1024;

/// Largest backend response head (status line and headers).
pub const MAX_BACKEND_HEAD: usize = 1024 * 1024;

/// Time for a TLS handshake with a backend, fixed as Go's `TLSHandshakeTimeout` in KrakenD (not configurable).
pub const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Redirects followed for one backend call, as Go's client (`stopped after 10 redirects`).
pub const MAX_REDIRECTS: usize = 10;

/// Pipelined requests answered from one read before the responses are flushed, so a client that pipelines
/// without reading cannot make the gateway buffer responses without bound.
pub const MAX_PIPELINED_RESPONSES: usize = 64;

/// Read size when streaming a `no-op` body from a backend to the client.
pub const STREAM_CHUNK: usize = 64 * 1024;

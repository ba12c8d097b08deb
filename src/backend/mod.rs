//! Calling backends: building the request from `url_pattern` and the forwarding rules, picking a host, and sending
//! it over this worker's own keep-alive pool.
//!
//! `https://` hosts go through rustls over the same connection type (`conn`, `tls`).
//!
//! Written on monoio's `TcpStream` rather than `monoio-transports`/`monoio-http`: the first prints to stdout from
//! library code and the second has no pool and pins rustls 0.21; KrakenD's forwarding rules (header canonical
//! names, `User-Agent`, redirects with `Referer`, gzip only when the gateway asked for it) also need control of every
//! byte written.

pub mod balance;
pub mod body;
pub mod cache;
pub mod client;
pub mod conn;
pub mod pool;
pub mod request;
pub mod scratch;
pub mod target;
pub mod tls;

pub use client::{BackendError, Client, Response, ResponseHead};
pub use request::OutgoingRequest;
pub use target::Target;

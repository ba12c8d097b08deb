//! Ringway: a KrakenD-compatible API gateway, thread-per-core on io_uring.
//!
//! A request's trip through the code, which is also the order to read it in:
//!
//! ```text
//! server::worker (one monoio runtime per core, own SO_REUSEPORT listener)
//!   → server::tls (TLS handshake, when the listener is HTTPS) → server::stream (plain or TLS bytes)
//!   → server::conn (HTTP/1.1 keep-alive loop, server::h1 parse/write) or server::h2 (HTTP/2 streams, translated
//!     to the same HTTP/1.1 form)
//!   → security (CORS, global IP filter; then security/http and the bot detector as router middlewares)
//!   → router (match, 404/405/redirects, built-in endpoints)
//!   → proxy::endpoint (X-Krakend headers, timeout, status rules; concurrent, sequential or static pipes)
//!   → proxy::backend_call × N (backend: url_pattern → host → cache → pool → client, TLS to https hosts;
//!     encoding: decode)
//!   → merge (target/allow/deny/mapping/group, flatmap, the shallow merge)
//!   → proxy::render (KrakenD's JSON wire form, XML, YAML, string) → back up the same path
//! ```
//!
//! Everything a worker needs is built once per worker from the validated [`config::ServiceConfig`]: the router, the
//! endpoint pipes and the backend connection pools. Nothing mutable is shared between workers.

pub mod backend;
pub mod cli;
pub mod components;
pub mod config;
pub mod encoding;
pub mod limits;
pub mod merge;
pub mod proxy;
pub mod router;
pub mod security;
pub mod server;
pub mod telemetry;

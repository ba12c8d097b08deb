//! Shared pieces of the integration tests: loopback backends that record what they receive, the real `ringway`
//! binary started on a free port, and a raw HTTP/1.1 client that shows exact bytes.
//!
//! Everything here is bounded in time: sockets carry read timeouts and the gateway is killed on drop.

#![allow(dead_code, unused_imports)]

pub mod backend;
pub mod client;
pub mod gateway;
pub mod pki;

pub use backend::{Backend, Recorded, Reply, RunningBackend};
pub use client::{get, request, send, ClientConn, Response};
pub use gateway::{bin, free_port, Gateway, TempConfig};

/// The product string the gateway writes where KrakenD writes `KrakenD Version X`.
pub const UA: &str = "Ringway Version 0.1.0";
/// The `X-Krakend` header value.
pub const X_KRAKEND: &str = "Version 0.1.0";
pub const JSON_CT: &str = "application/json; charset=utf-8";
pub const TEXT_CT: &str = "text/plain; charset=utf-8";

/// Asserts KrakenD's `[J+]`/`[J-]` header set: JSON content type, `X-Krakend`, and the completed flag.
#[track_caller]
pub fn assert_json(res: &Response, completed: bool) {
    assert_eq!(res.header("Content-Type"), Some(JSON_CT), "content type of {res:?}");
    assert_eq!(res.header("X-Krakend"), Some(X_KRAKEND), "X-Krakend of {res:?}");
    let flag = if completed { "true" } else { "false" };
    assert_eq!(res.header("X-Krakend-Completed"), Some(flag), "X-Krakend-Completed of {res:?}");
}

/// Asserts KrakenD's `[E-]`: an error answer with the X-Krakend headers, no content type and an empty body.
#[track_caller]
pub fn assert_empty_error(res: &Response, status: u16) {
    assert_eq!(res.status, status, "status of {res:?}");
    assert_eq!(res.header("X-Krakend"), Some(X_KRAKEND), "X-Krakend of {res:?}");
    assert_eq!(res.header("X-Krakend-Completed"), Some("false"), "completed flag of {res:?}");
    assert_eq!(res.header("Content-Type"), None, "content type of {res:?}");
    assert_eq!(res.body_str(), "", "body of {res:?}");
}

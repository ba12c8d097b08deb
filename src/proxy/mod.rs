//! The endpoint pipe: from a matched route to the response, through the backends.
//!
//! Built once per worker from the config (`Endpoint::build`), then called per request.

pub mod backend_call;
pub mod builtin;
pub mod endpoint;
pub mod render;
pub mod sequential;
pub mod static_response;

pub use endpoint::Endpoint;

use crate::router::Params;
use crate::server::h1::RequestHead;

/// The client's request as the pipes see it, besides its body: the head, the route's parameters and the resolved
/// client IP. Copied by value down the pipe (three references).
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub head: &'a RequestHead,
    pub params: &'a Params,
    pub client_ip: &'a str,
}

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

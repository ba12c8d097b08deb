//! HTTP/1.1 on the client side, sans IO: bytes in → a parsed request head; a response → bytes out.

pub mod parse;
pub mod write;

pub use parse::{parse_chunk_size, parse_request, ParseError, RequestHead};

//! Response bodies: decoding what backends send and rendering what clients get.

pub mod json;

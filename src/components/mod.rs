//! Components that plug into the pipes by `extra_config` namespace, one module each.

pub mod static_filesystem;

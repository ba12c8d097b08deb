//! Logs: the application log lines and the per-request access log.

pub mod logging;

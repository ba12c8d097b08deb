//! Log lines in KrakenD's shape (`2026/11/26 14:01:06 RINGWAY INFO: …`) and the gin-style access log.
//!
//! The access log is buffered per worker and written in blocks (when 8 KiB are pending, every second, and at
//! shutdown), so a busy core does not pay one `write(2)` per request.

use std::cell::RefCell;
use std::io::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use crate::config::EndpointConfig;

/// Log levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
}

// Set once at start-up, read on the (rare) log paths only.
static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn enabled(level: Level) -> bool {
    level as u8 >= LEVEL.load(Ordering::Relaxed)
}

/// Writes one application log line to stderr.
pub fn log(level: Level, msg: &str) {
    if !enabled(level) {
        return;
    }
    let name = match level {
        Level::Debug => "DEBUG",
        Level::Info => "INFO",
        Level::Warning => "WARNING",
        Level::Error => "ERROR",
    };
    let now = chrono::Local::now().format("%Y/%m/%d %H:%M:%S");
    let _ = writeln!(std::io::stderr(), "{now} RINGWAY {name}: {msg}");
}

pub fn info(msg: &str) {
    log(Level::Info, msg);
}

pub fn warn(msg: &str) {
    log(Level::Warning, msg);
}

pub fn error(msg: &str) {
    log(Level::Error, msg);
}

pub fn debug(msg: &str) {
    log(Level::Debug, msg);
}

/// One worker's access log.
#[derive(Debug)]
pub struct AccessLog {
    enabled: bool,
    skip: Vec<String>,
    pending: RefCell<Vec<u8>>,
}

const FLUSH_AT: usize = 8 * 1024;

impl AccessLog {
    pub fn new(enabled: bool, skip: Vec<String>) -> Self {
        AccessLog { enabled, skip, pending: RefCell::new(Vec::with_capacity(FLUSH_AT * 2)) }
    }

    /// Records a request in gin's format:
    /// `[GIN] 2026/11/26 - 14:01:06 | 200 |     1.234ms |       127.0.0.1 | GET      "/foo"`.
    pub fn record(&self, status: u16, latency: Duration, client_ip: &str, method: &str, path: &str, target: &str) {
        if !self.enabled || self.skip.iter().any(|s| s == path) {
            return;
        }
        let now = chrono::Local::now().format("%Y/%m/%d - %H:%M:%S");
        let mut pending = self.pending.borrow_mut();
        let _ = writeln!(
            pending,
            "[GIN] {now} | {status:3} | {:>13} | {client_ip:>15} | {method:<7} {target:?}",
            go_duration(latency)
        );
        if pending.len() >= FLUSH_AT {
            let _ = std::io::stderr().write_all(&pending);
            pending.clear();
        }
    }

    /// A backend failure, logged as KrakenD does (hidden from the client unless `return_error_msg`).
    pub fn backend_error(&self, endpoint: &EndpointConfig, msg: &str) {
        log(Level::Error, &format!("[ENDPOINT: {}] {msg}", endpoint.path));
    }

    pub fn flush(&self) {
        let mut pending = self.pending.borrow_mut();
        if !pending.is_empty() {
            let _ = std::io::stderr().write_all(&pending);
            pending.clear();
        }
    }
}

/// Go's `time.Duration.String()` as gin prints latencies (`1.234567ms`, `12.3µs`, `2.5s`).
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 1_000_000 {
        trim(format!("{:.3}", ns as f64 / 1e3)) + "µs"
    } else if ns < 1_000_000_000 {
        trim(format!("{:.6}", ns as f64 / 1e6)) + "ms"
    } else {
        trim(format!("{:.9}", ns as f64 / 1e9)) + "s"
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        assert_eq!(go_duration(Duration::from_nanos(500)), "500ns");
        assert_eq!(go_duration(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(go_duration(Duration::from_millis(2500)), "2.5s");
        assert_eq!(go_duration(Duration::from_nanos(12_300)), "12.3µs");
    }
}

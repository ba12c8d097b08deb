//! Log lines in KrakenD's shape (`2026/11/26 14:01:06 RINGWAY INFO: …`) and the gin-style access log.
//!
//! The access log is buffered per worker and written in blocks (when 8 KiB are pending, every second, and at
//! shutdown), so a busy core does not pay one `write(2)` per request.

use std::cell::RefCell;
use std::io::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use crate::config::EndpointConfig;
use crate::server::h1::write::StackStr;

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
    /// The second the cached timestamp text belongs to, and the text.
    stamp: RefCell<(u64, String)>,
}

const FLUSH_AT: usize = 8 * 1024;

impl AccessLog {
    pub fn new(enabled: bool, skip: Vec<String>) -> Self {
        AccessLog {
            enabled,
            skip,
            pending: RefCell::new(Vec::with_capacity(FLUSH_AT * 2)),
            stamp: RefCell::new((0, String::new())),
        }
    }

    /// Records a request in gin's format:
    /// `[GIN] 2026/11/26 - 14:01:06 | 200 |     1.234ms |       127.0.0.1 | GET      "/foo"`.
    pub fn record(&self, status: u16, latency: Duration, client_ip: &str, method: &str, path: &str, target: &str) {
        if !self.enabled || self.skip.iter().any(|s| s == path) {
            return;
        }
        let mut stamp = self.stamp.borrow_mut();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if stamp.0 != now {
            // Formatting local time reads the zone: done once a second, not per request.
            *stamp = (now, chrono::Local::now().format("%Y/%m/%d - %H:%M:%S").to_string());
        }
        let mut latency_text = StackStr::<32>::default();
        let _ = write_go_duration(&mut latency_text, latency);
        let mut pending = self.pending.borrow_mut();
        let _ = writeln!(
            pending,
            "[GIN] {} | {status:3} | {:>13} | {client_ip:>15} | {method:<7} {target:?}",
            stamp.1,
            latency_text.as_str()
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
    let mut s = String::new();
    let _ = write_go_duration(&mut s, d);
    s
}

/// [`go_duration`] into any writer, without allocating.
pub fn write_go_duration(w: &mut impl std::fmt::Write, d: Duration) -> std::fmt::Result {
    let ns = d.as_nanos();
    let (unit, scale, digits) = match ns {
        0..=999 => return write!(w, "{ns}ns"),
        1_000..=999_999 => ("µs", 1_000u128, 3usize),
        1_000_000..=999_999_999 => ("ms", 1_000_000, 6),
        _ => ("s", 1_000_000_000, 9),
    };
    let (whole, frac) = (ns / scale, ns % scale);
    write!(w, "{whole}")?;
    if frac != 0 {
        let mut frac_digits = [0u8; 9];
        let mut f = frac;
        for slot in frac_digits[..digits].iter_mut().rev() {
            *slot = b'0' + (f % 10) as u8;
            f /= 10;
        }
        let end = frac_digits[..digits].iter().rposition(|&b| b != b'0').map_or(0, |i| i + 1);
        w.write_char('.')?;
        w.write_str(std::str::from_utf8(&frac_digits[..end]).unwrap_or(""))?;
    }
    w.write_str(unit)
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
        assert_eq!(go_duration(Duration::from_nanos(1_234_567)), "1.234567ms");
        assert_eq!(go_duration(Duration::from_secs(3)), "3s");
    }
}

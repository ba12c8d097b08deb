//! Serde types shaped exactly like `krakend.json` (KrakenD key names, every field defaulted); durations stay raw.
//!
//! Unknown keys are ignored, as `krakend run` does. Type errors carry the key path through `serde_path_to_error`.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// A duration as written: a Go duration string, or a number of nanoseconds (what Go decodes a JSON number into).
#[derive(Debug, Clone, PartialEq)]
pub enum RawDuration {
    Text(String),
    Nanos(i64),
}

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = RawDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string like \"2s\" or \"500ms\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDuration, E> {
                Ok(RawDuration::Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDuration, E> {
                Ok(RawDuration::Nanos(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDuration, E> {
                Ok(RawDuration::Nanos(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDuration, E> {
                // Go converts a float into an int64 duration by truncation.
                Ok(RawDuration::Nanos(v as i64))
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// A TCP port, with an error that says what a port is.
fn port<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
    struct PortVisitor;
    impl Visitor<'_> for PortVisitor {
        type Value = u16;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a port number from 0 to 65535")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u16, E> {
            u16::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u16, E> {
            u16::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }
    }
    deserializer.deserialize_any(PortVisitor)
}

/// The root of the file (§2.3).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawService {
    /// Format version; must be 3.
    pub version: Option<i64>,
    pub name: String,
    /// TCP port, 0 = 8080.
    #[serde(deserialize_with = "port")]
    pub port: u16,
    pub listen_ip: String,
    pub host: Vec<String>,
    /// Default endpoint timeout (2s).
    pub timeout: Option<RawDuration>,
    pub cache_ttl: Option<RawDuration>,
    pub output_encoding: String,
    pub endpoints: Vec<RawEndpoint>,
    pub extra_config: BTreeMap<String, serde_json::Value>,
    pub disable_rest: bool,
    pub debug_endpoint: bool,
    pub echo_endpoint: bool,
    pub read_timeout: Option<RawDuration>,
    pub write_timeout: Option<RawDuration>,
    pub idle_timeout: Option<RawDuration>,
    pub read_header_timeout: Option<RawDuration>,
    /// Bytes; 0 = 1 MiB.
    pub max_header_bytes: u64,
    pub use_h2c: bool,
    pub sequential_start: bool,
    pub max_shutdown_wait_time: Option<RawDuration>,
    pub dns_cache_ttl: Option<RawDuration>,
    pub dialer_timeout: Option<RawDuration>,
    pub dialer_keep_alive: Option<RawDuration>,
    pub dialer_fallback_delay: Option<RawDuration>,
    pub disable_compression: bool,
    pub disable_keep_alives: bool,
    pub max_idle_connections: u64,
    /// 0 = 250.
    pub max_idle_connections_per_host: u64,
    pub idle_connection_timeout: Option<RawDuration>,
    pub response_header_timeout: Option<RawDuration>,
    pub expect_continue_timeout: Option<RawDuration>,
    /// Legacy alias of `client_tls.allow_insecure_connections` (true creates a `client_tls`).
    pub allow_insecure_connections: bool,
    /// The listener's TLS block, read by `server_tls`.
    pub tls: Option<serde_json::Value>,
    /// `client_tls`, decoded by `config::client_tls` (kept raw here so its errors name `client_tls.<key>`).
    pub client_tls: Option<serde_json::Value>,
}

/// One endpoint object (§6).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawEndpoint {
    pub endpoint: String,
    /// Uppercased; empty = GET.
    pub method: String,
    pub backend: Vec<RawBackend>,
    pub timeout: Option<RawDuration>,
    pub cache_ttl: Option<RawDuration>,
    /// 0 = 1; at most 5.
    pub concurrent_calls: i64,
    pub input_query_strings: Vec<String>,
    pub input_headers: Vec<String>,
    pub output_encoding: String,
    pub extra_config: BTreeMap<String, serde_json::Value>,
}

/// One backend object (§7).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawBackend {
    pub url_pattern: String,
    pub host: Vec<String>,
    pub method: String,
    pub encoding: String,
    pub sd: String,
    pub sd_scheme: String,
    pub disable_host_sanitize: bool,
    pub is_collection: bool,
    pub target: String,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub mapping: BTreeMap<String, String>,
    pub group: String,
    pub input_headers: Vec<String>,
    pub input_query_strings: Vec<String>,
    pub extra_config: BTreeMap<String, serde_json::Value>,
}

/// Deserializes `value` into `T`, turning a type error into one line naming the key path (`prefix` + serde's path).
pub fn from_value<T: for<'de> Deserialize<'de>>(value: serde_json::Value, prefix: &str) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner().to_string();
        match (prefix.is_empty(), path == ".") {
            (true, true) => inner,
            (true, false) => format!("{path}: {inner}"),
            (false, true) => format!("{prefix}: {inner}"),
            (false, false) => format!("{prefix}.{path}: {inner}"),
        }
    })
}

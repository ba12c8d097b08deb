//! Raw file → compiled [`ServiceConfig`]: root keys with KrakenD's defaults, and startup validation (§2.5) with
//! errors that say where. Endpoints and backends are compiled in [`super::endpoint`].

use super::duration::parse_go_duration;
use super::model::*;
use super::namespaces;
use super::raw::{RawDuration, RawService};
use super::ConfigError;
use std::collections::BTreeSet;
use std::time::Duration;

/// The only config format version KrakenD v2 accepts.
pub const CONFIG_VERSION: i64 = 3;
/// Endpoint timeout when neither the endpoint nor the root sets one (Lura `defaultTimeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// Go's `http.DefaultMaxHeaderBytes` (1 MiB), used when `max_header_bytes` is 0 (project decision #21).
pub const DEFAULT_MAX_HEADER_BYTES: usize = 1 << 20;
/// Lura's default for `max_idle_connections_per_host`.
pub const DEFAULT_MAX_IDLE_CONNECTIONS_PER_HOST: usize = 250;
/// Lura's default `dialer_keep_alive`.
pub const DEFAULT_DIALER_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The schema's upper bound for `concurrent_calls`.
pub const MAX_CONCURRENT_CALLS: i64 = 5;
/// Endpoint methods Lura registers; others are skipped with `Unsupported method` (we refuse them instead).
pub(super) const ENDPOINT_METHODS: [Method; 5] =
    [Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete];

/// Non-fatal findings, printed by the caller; each unknown namespace is reported once.
#[derive(Debug, Default)]
pub struct Warnings {
    list: Vec<String>,
    seen_namespaces: BTreeSet<String>,
}

impl Warnings {
    pub fn push(&mut self, warning: String) {
        self.list.push(warning);
    }

    pub fn unknown_namespace(&mut self, namespace: &str, place: &str) {
        if self.seen_namespaces.insert(namespace.to_owned()) {
            self.push(format!("unknown extra_config namespace '{namespace}' ignored (first seen in {place})"));
        }
    }

    pub fn into_vec(self) -> Vec<String> {
        self.list
    }
}

/// A duration key read as signed nanoseconds; unparsable text is 0 plus a warning (KrakenD is silent about it).
pub(super) fn nanos(raw: &Option<RawDuration>, key: &str, place: &str, warnings: &mut Warnings) -> i64 {
    match raw {
        None => 0,
        Some(RawDuration::Nanos(n)) => *n,
        Some(RawDuration::Text(text)) if text.is_empty() => 0,
        Some(RawDuration::Text(text)) => parse_go_duration(text).unwrap_or_else(|| {
            warnings.push(format!(
                "{place}{key}: cannot parse duration \"{text}\" (want e.g. \"2s\", \"500ms\", \"1m30s\"); using the default, as KrakenD does"
            ));
            0
        }),
    }
}

pub(super) fn positive(nanos: i64) -> Option<Duration> {
    u64::try_from(nanos).ok().filter(|n| *n > 0).map(Duration::from_nanos)
}

pub(super) fn parse_output_encoding(name: &str) -> Option<OutputEncoding> {
    Some(match name {
        "json" => OutputEncoding::Json,
        "json-collection" => OutputEncoding::JsonCollection,
        "xml" => OutputEncoding::Xml,
        "yaml" => OutputEncoding::Yaml,
        "string" => OutputEncoding::String,
        "negotiate" => OutputEncoding::Negotiate,
        "no-op" => OutputEncoding::NoOp,
        _ => return None,
    })
}

pub(super) fn parse_backend_encoding(name: &str) -> Option<BackendEncoding> {
    Some(match name {
        "json" => BackendEncoding::Json,
        "safejson" => BackendEncoding::SafeJson,
        "xml" => BackendEncoding::Xml,
        "rss" => BackendEncoding::Rss,
        "string" => BackendEncoding::String,
        "no-op" => BackendEncoding::NoOp,
        _ => return None,
    })
}

/// Validates the raw file into the compiled config.
pub fn validate(raw: RawService) -> Result<ServiceConfig, ConfigError> {
    let mut warnings = Warnings::default();
    let version = raw.version.unwrap_or(0);
    if version != CONFIG_VERSION {
        return Err(ConfigError::new(format!("unsupported version: {version} (want: {CONFIG_VERSION})")));
    }
    let listen_ip = match raw.listen_ip.as_str() {
        "" => None,
        text => Some(text.parse().map_err(|_| ConfigError::new(format!("listen_ip: invalid ip address {text}")))?),
    };
    let w = &mut warnings;
    let timeout = positive(nanos(&raw.timeout, "timeout", "", w)).unwrap_or(DEFAULT_TIMEOUT);
    let cache_ttl = positive(nanos(&raw.cache_ttl, "cache_ttl", "", w)).unwrap_or_default();
    let output_encoding = parse_output_encoding(&raw.output_encoding).unwrap_or(OutputEncoding::Json);
    if !raw.output_encoding.is_empty() && parse_output_encoding(&raw.output_encoding).is_none() {
        w.push(format!(
            "output_encoding: unknown value '{}'; endpoints use their single backend's encoding or json",
            raw.output_encoding
        ));
    }
    let read = positive(nanos(&raw.read_timeout, "read_timeout", "", w));
    let server = ServerTimeouts {
        read,
        read_header: positive(nanos(&raw.read_header_timeout, "read_header_timeout", "", w)),
        write: positive(nanos(&raw.write_timeout, "write_timeout", "", w)),
        idle: positive(nanos(&raw.idle_timeout, "idle_timeout", "", w)).or(read),
    };
    let keep_alive = nanos(&raw.dialer_keep_alive, "dialer_keep_alive", "", w);
    let mut client = HttpClientConfig {
        dialer_timeout: positive(nanos(&raw.dialer_timeout, "dialer_timeout", "", w)),
        dialer_keep_alive: match keep_alive {
            0 => Some(DEFAULT_DIALER_KEEP_ALIVE),
            n => positive(n),
        },
        disable_compression: raw.disable_compression,
        disable_keep_alives: raw.disable_keep_alives,
        max_idle_connections: usize::try_from(raw.max_idle_connections).unwrap_or(usize::MAX),
        max_idle_connections_per_host: match raw.max_idle_connections_per_host {
            0 => DEFAULT_MAX_IDLE_CONNECTIONS_PER_HOST,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        },
        idle_connection_timeout: positive(nanos(&raw.idle_connection_timeout, "idle_connection_timeout", "", w)),
        response_header_timeout: positive(nanos(&raw.response_header_timeout, "response_header_timeout", "", w)),
        expect_continue_timeout: positive(nanos(&raw.expect_continue_timeout, "expect_continue_timeout", "", w)),
        tls: super::client_tls::parse(raw.client_tls, raw.allow_insecure_connections, w).map_err(ConfigError::new)?,
        has_https_hosts: false,
        tls_slot: Default::default(),
    };
    let max_shutdown_wait_time = positive(nanos(&raw.max_shutdown_wait_time, "max_shutdown_wait_time", "", w));
    for (value, key) in [(&raw.dns_cache_ttl, "dns_cache_ttl"), (&raw.dialer_fallback_delay, "dialer_fallback_delay")] {
        nanos(value, key, "", w);
    }
    let tls = super::server_tls::parse(raw.tls, w).map_err(ConfigError::new)?;
    let extra_config = namespaces::normalize(raw.extra_config, "the root extra_config", w);
    super::support::check(&extra_config, super::support::Level::Service, "the root extra_config", w)
        .map_err(ConfigError::new)?;
    let mut security_warnings = Vec::new();
    crate::security::check_service(&extra_config, &mut security_warnings).map_err(ConfigError::new)?;
    security_warnings.into_iter().for_each(|m| w.push(m));
    let (router, router_h2c) = namespaces::router(&extra_config).map_err(ConfigError::new)?;
    let static_filesystem = namespaces::server_static_filesystem(&extra_config).map_err(ConfigError::new)?;

    let root = Root {
        timeout,
        cache_ttl,
        output_encoding: &raw.output_encoding,
        hosts: &raw.host,
        disable_rest: raw.disable_rest,
    };
    let mut endpoints = Vec::with_capacity(raw.endpoints.len());
    for (index, endpoint) in raw.endpoints.into_iter().enumerate() {
        endpoints.push(super::endpoint::build_endpoint(index, endpoint, &root, &mut warnings)?);
    }

    client.has_https_hosts = endpoints
        .iter()
        .flat_map(|e| &e.backends)
        .flat_map(|b| &b.hosts)
        .chain(&raw.host)
        .any(|h| h.starts_with("https://"));

    Ok(ServiceConfig {
        name: raw.name,
        port: if raw.port == 0 { 8080 } else { raw.port },
        listen_ip,
        hosts: raw.host,
        timeout,
        cache_ttl,
        output_encoding,
        endpoints,
        disable_rest: raw.disable_rest,
        debug_endpoint: raw.debug_endpoint,
        echo_endpoint: raw.echo_endpoint,
        server,
        max_header_bytes: match raw.max_header_bytes {
            0 => DEFAULT_MAX_HEADER_BYTES,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        },
        use_h2c: raw.use_h2c || router_h2c,
        tls,
        max_shutdown_wait_time,
        client,
        router,
        static_filesystem,
        extra_config,
        warnings: warnings.into_vec(),
    })
}

/// What endpoints inherit from the root.
pub(super) struct Root<'a> {
    pub(super) timeout: Duration,
    pub(super) cache_ttl: Duration,
    pub(super) output_encoding: &'a str,
    pub(super) hosts: &'a [String],
    pub(super) disable_rest: bool,
}

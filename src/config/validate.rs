//! Raw file → compiled [`ServiceConfig`]: KrakenD's defaults and inheritance, derived data (compiled url patterns,
//! canonical header names), and startup validation (§2.5) with errors that say where.

use super::duration::parse_go_duration;
use super::host::{canonical_header, sanitize_host};
use super::model::*;
use super::namespaces;
use super::raw::{RawBackend, RawDuration, RawEndpoint, RawService};
use super::url_pattern::{
    check_endpoint_path, compile_url_pattern, endpoint_params, with_leading_slash, UrlPatternError,
};
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
const ENDPOINT_METHODS: [Method; 5] = [
    Method::Get,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
];

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
            self.push(format!(
                "unknown extra_config namespace '{namespace}' ignored (first seen in {place})"
            ));
        }
    }

    pub fn into_vec(self) -> Vec<String> {
        self.list
    }
}

/// A duration key read as signed nanoseconds; unparsable text is 0 plus a warning (KrakenD is silent about it).
fn nanos(raw: &Option<RawDuration>, key: &str, place: &str, warnings: &mut Warnings) -> i64 {
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

fn positive(nanos: i64) -> Option<Duration> {
    u64::try_from(nanos)
        .ok()
        .filter(|n| *n > 0)
        .map(Duration::from_nanos)
}

fn parse_output_encoding(name: &str) -> Option<OutputEncoding> {
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

fn parse_backend_encoding(name: &str) -> Option<BackendEncoding> {
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
        return Err(ConfigError::new(format!(
            "unsupported version: {version} (want: {CONFIG_VERSION})"
        )));
    }
    let listen_ip = match raw.listen_ip.as_str() {
        "" => None,
        text => Some(
            text.parse()
                .map_err(|_| ConfigError::new(format!("listen_ip: invalid ip address {text}")))?,
        ),
    };
    let w = &mut warnings;
    let timeout = positive(nanos(&raw.timeout, "timeout", "", w)).unwrap_or(DEFAULT_TIMEOUT);
    let cache_ttl = positive(nanos(&raw.cache_ttl, "cache_ttl", "", w)).unwrap_or_default();
    let output_encoding =
        parse_output_encoding(&raw.output_encoding).unwrap_or(OutputEncoding::Json);
    if !raw.output_encoding.is_empty() && parse_output_encoding(&raw.output_encoding).is_none() {
        w.push(format!(
            "output_encoding: unknown value '{}'; endpoints use their single backend's encoding or json",
            raw.output_encoding
        ));
    }
    let read = positive(nanos(&raw.read_timeout, "read_timeout", "", w));
    let server = ServerTimeouts {
        read,
        read_header: positive(nanos(
            &raw.read_header_timeout,
            "read_header_timeout",
            "",
            w,
        )),
        write: positive(nanos(&raw.write_timeout, "write_timeout", "", w)),
        idle: positive(nanos(&raw.idle_timeout, "idle_timeout", "", w)).or(read),
    };
    let keep_alive = nanos(&raw.dialer_keep_alive, "dialer_keep_alive", "", w);
    let client = HttpClientConfig {
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
        idle_connection_timeout: positive(nanos(
            &raw.idle_connection_timeout,
            "idle_connection_timeout",
            "",
            w,
        )),
        response_header_timeout: positive(nanos(
            &raw.response_header_timeout,
            "response_header_timeout",
            "",
            w,
        )),
        expect_continue_timeout: positive(nanos(
            &raw.expect_continue_timeout,
            "expect_continue_timeout",
            "",
            w,
        )),
    };
    let max_shutdown_wait_time = positive(nanos(
        &raw.max_shutdown_wait_time,
        "max_shutdown_wait_time",
        "",
        w,
    ));
    for (value, key) in [
        (&raw.dns_cache_ttl, "dns_cache_ttl"),
        (&raw.dialer_fallback_delay, "dialer_fallback_delay"),
    ] {
        nanos(value, key, "", w);
    }
    let extra_config = namespaces::normalize(raw.extra_config, "the root extra_config", w);
    let (router, router_h2c) = namespaces::router(&extra_config).map_err(ConfigError::new)?;
    let static_filesystem =
        namespaces::server_static_filesystem(&extra_config).map_err(ConfigError::new)?;

    let root = Root {
        timeout,
        cache_ttl,
        output_encoding: &raw.output_encoding,
        hosts: &raw.host,
        disable_rest: raw.disable_rest,
    };
    let mut endpoints = Vec::with_capacity(raw.endpoints.len());
    for (index, endpoint) in raw.endpoints.into_iter().enumerate() {
        endpoints.push(build_endpoint(index, endpoint, &root, &mut warnings)?);
    }

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
        max_shutdown_wait_time,
        client,
        router,
        static_filesystem,
        extra_config,
        warnings: warnings.into_vec(),
    })
}

/// What endpoints inherit from the root.
struct Root<'a> {
    timeout: Duration,
    cache_ttl: Duration,
    output_encoding: &'a str,
    hosts: &'a [String],
    disable_rest: bool,
}

/// Lura's reserved-path rule: `/__debug`, `/__echo` or `/__health` as the last segment or followed by `/…`.
fn is_reserved(path: &str) -> bool {
    ["/__debug", "/__echo", "/__health"].iter().any(|reserved| {
        path.match_indices(reserved)
            .any(|(at, _)| matches!(path.as_bytes().get(at + reserved.len()), None | Some(b'/')))
    })
}

fn build_endpoint(
    index: usize,
    raw: RawEndpoint,
    root: &Root<'_>,
    w: &mut Warnings,
) -> Result<EndpointConfig, ConfigError> {
    if raw.endpoint.is_empty() {
        return Err(ConfigError::new(format!(
            "endpoints[{index}].endpoint: missing (every endpoint needs a path)"
        )));
    }
    let path = with_leading_slash(&raw.endpoint);
    let method_name = if raw.method.is_empty() {
        "GET".to_owned()
    } else {
        raw.method.to_uppercase()
    };
    let label = format!("endpoint {method_name} {path}");
    check_endpoint_path(&path).map_err(|e| ConfigError::new(format!("{label}: endpoint: {e}")))?;
    if is_reserved(&path) {
        return Err(ConfigError::new(format!(
            "ignoring the '{method_name} {path}' endpoint, since it is invalid!!! (endpoint: /__health, /__debug and /__echo paths are reserved)"
        )));
    }
    if raw.backend.is_empty() {
        return Err(ConfigError::new(format!(
            "ignoring the '{method_name} {path}' endpoint, since it has 0 backends defined! (backend: declare at least one)"
        )));
    }
    let method = Method::parse(&method_name)
        .filter(|m| ENDPOINT_METHODS.contains(m))
        .ok_or_else(|| {
            ConfigError::new(format!(
                "{label}: method: unsupported method '{}' (want GET, POST, PUT, PATCH or DELETE)",
                raw.method
            ))
        })?;
    let place = format!("{label}: ");
    let timeout = positive(nanos(&raw.timeout, "timeout", &place, w)).unwrap_or(root.timeout);
    let cache_ttl =
        positive(nanos(&raw.cache_ttl, "cache_ttl", &place, w)).unwrap_or(root.cache_ttl);
    let concurrent_calls = match raw.concurrent_calls {
        0 => 1,
        n @ 1..=MAX_CONCURRENT_CALLS => n as u8,
        n => {
            return Err(ConfigError::new(format!(
                "{label}: concurrent_calls: {n} is out of range (want 1 to {MAX_CONCURRENT_CALLS})"
            )))
        }
    };
    let encoding_name = match (raw.output_encoding.as_str(), root.output_encoding) {
        ("", "") => "json",
        ("", inherited) => inherited,
        (own, _) => own,
    };
    let output_encoding = match parse_output_encoding(encoding_name) {
        Some(encoding) => encoding,
        None => fallback_output_encoding(encoding_name, &raw.backend, &label, w),
    };
    if output_encoding == OutputEncoding::NoOp && raw.backend.len() > 1 {
        return Err(ConfigError::new(format!(
            "{label}: can not use NoOp encoding with more than one backends connected to the same endpoint (output_encoding: no-op, {} backends)",
            raw.backend.len()
        )));
    }
    let params = endpoint_params(&path, root.disable_rest);
    let extra_config = namespaces::normalize(raw.extra_config, &label, w);
    namespaces::check_endpoint_proxy(&extra_config)
        .map_err(|e| ConfigError::new(format!("{label}: {e}")))?;
    let endpoint = EndpointShape {
        label: &label,
        path: &path,
        method,
        params: &params,
        output_encoding,
    };
    let mut backends = Vec::with_capacity(raw.backend.len());
    for (i, backend) in raw.backend.into_iter().enumerate() {
        backends.push(build_backend(i, backend, &endpoint, root, w)?);
    }
    Ok(EndpointConfig {
        path,
        method,
        params,
        timeout,
        cache_ttl,
        concurrent_calls,
        input_query_strings: raw.input_query_strings,
        input_headers: raw
            .input_headers
            .iter()
            .map(|h| canonical_header(h))
            .collect(),
        output_encoding,
        backends,
        extra_config,
    })
}

/// §15: an unknown `output_encoding` uses the renderer named like the single backend's `encoding`, else json.
fn fallback_output_encoding(
    name: &str,
    backends: &[RawBackend],
    label: &str,
    w: &mut Warnings,
) -> OutputEncoding {
    let by_backend = match backends {
        [only] => match only.encoding.as_str() {
            "json" | "" => Some(OutputEncoding::Json),
            "string" => Some(OutputEncoding::String),
            "xml" => Some(OutputEncoding::Xml),
            "no-op" => Some(OutputEncoding::NoOp),
            "yaml" => Some(OutputEncoding::Yaml),
            _ => None,
        },
        _ => None,
    };
    let chosen = by_backend.unwrap_or(OutputEncoding::Json);
    w.push(format!(
        "{label}: output_encoding: unknown value '{name}'; rendering as {chosen:?}"
    ));
    chosen
}

/// What a backend needs to know about its endpoint.
struct EndpointShape<'a> {
    label: &'a str,
    path: &'a str,
    method: Method,
    params: &'a [String],
    output_encoding: OutputEncoding,
}

/// How to fix a url_pattern placeholder the endpoint does not declare.
fn undeclared_hint(endpoint: &EndpointShape<'_>, output: &[String]) -> String {
    let Some(param) = output
        .iter()
        .find(|o| !endpoint.params.iter().any(|p| p.eq_ignore_ascii_case(o)))
    else {
        return String::new();
    };
    if endpoint.path.contains(&format!("{{{param}}}")) {
        format!(" ({{{param}}} sits inside a path segment of the endpoint, which makes it a variable only with disable_rest: true)")
    } else {
        format!(" (declare {{{param}}} in the endpoint path)")
    }
}

fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

fn build_backend(
    index: usize,
    raw: RawBackend,
    endpoint: &EndpointShape<'_>,
    root: &Root<'_>,
    w: &mut Warnings,
) -> Result<BackendConfig, ConfigError> {
    let label = format!("{}, backend #{index}", endpoint.label);
    let err = |message: String| ConfigError::new(format!("{label}: {message}"));
    let (written, origin) = if raw.host.is_empty() {
        (root.hosts, " (from the root host list)")
    } else {
        (&raw.host[..], "")
    };
    let mut hosts = Vec::with_capacity(written.len());
    for host in written {
        if raw.disable_host_sanitize {
            hosts.push(host.clone());
            continue;
        }
        let clean = sanitize_host(host).ok_or_else(|| {
            err(format!(
                "host {host}{origin} not valid: invalid host (want [http(s)://]name[:port]; set disable_host_sanitize: true for other forms)"
            ))
        })?;
        hosts.push(clean);
    }
    let method = if raw.method.is_empty() {
        endpoint.method
    } else {
        Method::parse(&raw.method.to_uppercase())
            .ok_or_else(|| {
                err(format!(
                    "method: unsupported method '{}' (want GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, CONNECT or TRACE)",
                    raw.method
                ))
            })?
    };
    let mut encoding = parse_backend_encoding(&raw.encoding).unwrap_or(BackendEncoding::Json);
    if !raw.encoding.is_empty() && parse_backend_encoding(&raw.encoding).is_none() {
        w.push(format!(
            "{label}: encoding: unknown value '{}'; decoding as json",
            raw.encoding
        ));
    }
    if endpoint.output_encoding == OutputEncoding::NoOp {
        encoding = BackendEncoding::NoOp;
    }
    let url_pattern = compile_url_pattern(&raw.url_pattern, endpoint.params).map_err(|e| {
        let (head, output) = match e {
            UrlPatternError::Count { output } => {
                ("input and output params do not match.".to_owned(), output)
            }
            UrlPatternError::Undefined { param, output } => {
                (format!("undefined output param '{param}'!"), output)
            }
        };
        err(format!(
            "url_pattern: {head} endpoint: {} {}, backend: {index}. input: {}, output: {}{}",
            endpoint.method.as_str(),
            endpoint.path,
            go_list(endpoint.params),
            go_list(&output),
            undeclared_hint(endpoint, &output)
        ))
    })?;
    let extra_config = namespaces::normalize(raw.extra_config, &label, w);
    let shadow = namespaces::backend_shadow(&extra_config).map_err(err)?;
    let (return_error_code, return_error_details) =
        namespaces::backend_http(&extra_config).map_err(err)?;
    let static_filesystem = namespaces::backend_static_filesystem(&extra_config).map_err(err)?;
    Ok(BackendConfig {
        url_pattern,
        hosts,
        method,
        encoding,
        is_collection: raw.is_collection,
        target: Some(raw.target).filter(|t| !t.is_empty()),
        allow: raw.allow,
        deny: raw.deny,
        mapping: raw.mapping,
        group: Some(raw.group).filter(|g| !g.is_empty()),
        input_headers: raw
            .input_headers
            .iter()
            .map(|h| canonical_header(h))
            .collect(),
        input_query_strings: raw.input_query_strings,
        return_error_code,
        return_error_details,
        shadow,
        static_filesystem,
        extra_config,
    })
}

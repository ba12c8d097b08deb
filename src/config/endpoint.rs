//! Endpoint and backend objects compiled with what they inherit (§6, §7): paths and variables, methods, timeouts,
//! encodings, hosts, url patterns and their namespaces, with errors that name the endpoint and backend.

use super::host::{canonical_header, sanitize_host};
use super::model::*;
use super::namespaces;
use super::raw::{RawBackend, RawEndpoint};
use super::url_pattern::{
    check_endpoint_path, compile_url_pattern, endpoint_params, with_leading_slash, UrlPatternError,
};
use super::validate::{
    nanos, parse_backend_encoding, parse_output_encoding, positive, Root, Warnings, ENDPOINT_METHODS,
    MAX_CONCURRENT_CALLS,
};
use super::ConfigError;

/// Lura's reserved-path rule: `/__debug`, `/__echo` or `/__health` as the last segment or followed by `/…`.
fn is_reserved(path: &str) -> bool {
    ["/__debug", "/__echo", "/__health"].iter().any(|reserved| {
        path.match_indices(reserved)
            .any(|(at, _)| matches!(path.as_bytes().get(at + reserved.len()), None | Some(b'/')))
    })
}

pub(super) fn build_endpoint(
    index: usize,
    raw: RawEndpoint,
    root: &Root<'_>,
    w: &mut Warnings,
) -> Result<EndpointConfig, ConfigError> {
    if raw.endpoint.is_empty() {
        return Err(ConfigError::new(format!("endpoints[{index}].endpoint: missing (every endpoint needs a path)")));
    }
    let path = with_leading_slash(&raw.endpoint);
    let method_name = if raw.method.is_empty() { "GET".to_owned() } else { raw.method.to_uppercase() };
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
    let method = Method::parse(&method_name).filter(|m| ENDPOINT_METHODS.contains(m)).ok_or_else(|| {
        ConfigError::new(format!(
            "{label}: method: unsupported method '{}' (want GET, POST, PUT, PATCH or DELETE)",
            raw.method
        ))
    })?;
    let place = format!("{label}: ");
    let timeout = positive(nanos(&raw.timeout, "timeout", &place, w)).unwrap_or(root.timeout);
    let cache_ttl = positive(nanos(&raw.cache_ttl, "cache_ttl", &place, w)).unwrap_or(root.cache_ttl);
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
    super::support::check(&extra_config, super::support::Level::Endpoint, &label, w).map_err(ConfigError::new)?;
    crate::security::check_endpoint(&extra_config, &path).map_err(|e| ConfigError::new(format!("{label}: {e}")))?;
    namespaces::check_endpoint_proxy(&extra_config, &label, w)
        .map_err(|e| ConfigError::new(format!("{label}: {e}")))?;
    let endpoint = EndpointShape { label: &label, path: &path, method, params: &params, output_encoding };
    let mut backends = Vec::with_capacity(raw.backend.len());
    for (i, backend) in raw.backend.into_iter().enumerate() {
        backends.push(build_backend(i, backend, &endpoint, root, w)?);
    }
    check_sequential_references(&label, &extra_config, &backends, w);
    Ok(EndpointConfig {
        path,
        method,
        params,
        timeout,
        cache_ttl,
        concurrent_calls,
        input_query_strings: raw.input_query_strings,
        input_headers: raw.input_headers.iter().map(|h| canonical_header(h)).collect(),
        output_encoding,
        backends,
        extra_config,
    })
}

/// `{respN_…}` placeholders KrakenD accepts at start-up but never fills (§11): a reference to the backend itself or a
/// later one (lura skips `N >= i`), or any of them on an endpoint without `proxy.sequential`. They stay in the URL
/// in lura's internal form (`{{.Resp0_id}}`); warned about, not refused, since KrakenD starts with them.
fn check_sequential_references(label: &str, extra: &ExtraConfig, backends: &[BackendConfig], w: &mut Warnings) {
    let sequential =
        extra.get(namespaces::PROXY).and_then(|p| p.get("sequential")).and_then(serde_json::Value::as_bool)
            == Some(true);
    // Indices count the regular backends only: KrakenD removes shadow backends before building the sequence.
    let mut regular = 0;
    for (i, b) in backends.iter().enumerate() {
        let own = if b.shadow { None } else { Some(regular) };
        regular += usize::from(!b.shadow);
        for part in &b.url_pattern.parts {
            let UrlPart::Dynamic(name) = part else { continue };
            let Some(n) = name
                .strip_prefix("resp")
                .and_then(|r| r.split_once('_'))
                .and_then(|(digits, _)| digits.parse::<usize>().ok())
            else {
                continue;
            };
            let why = match own {
                _ if !sequential => "the endpoint has no extra_config.proxy.sequential: true",
                None => "shadow backends are not part of the sequence",
                Some(own) if n >= own => "only earlier backends' answers can fill it (resp0 is the first backend)",
                Some(_) => continue,
            };
            w.push(format!(
                "{label}, backend #{i}: url_pattern placeholder {{{name}}} is never filled ({why}); it is sent as \
                 {{{{.{}}}}}, as KrakenD does",
                capitalised(name)
            ));
        }
    }
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// §15: an unknown `output_encoding` uses the renderer named like the single backend's `encoding`, else json.
fn fallback_output_encoding(name: &str, backends: &[RawBackend], label: &str, w: &mut Warnings) -> OutputEncoding {
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
    w.push(format!("{label}: output_encoding: unknown value '{name}'; rendering as {chosen:?}"));
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
    let Some(param) = output.iter().find(|o| !endpoint.params.iter().any(|p| p.eq_ignore_ascii_case(o))) else {
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
    let (written, origin) =
        if raw.host.is_empty() { (root.hosts, " (from the root host list)") } else { (&raw.host[..], "") };
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
        Method::parse(&raw.method.to_uppercase()).ok_or_else(|| {
            err(format!(
                "method: unsupported method '{}' (want GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, CONNECT or TRACE)",
                raw.method
            ))
        })?
    };
    let mut encoding = parse_backend_encoding(&raw.encoding).unwrap_or(BackendEncoding::Json);
    if !raw.encoding.is_empty() && parse_backend_encoding(&raw.encoding).is_none() {
        w.push(format!("{label}: encoding: unknown value '{}'; decoding as json", raw.encoding));
    }
    if endpoint.output_encoding == OutputEncoding::NoOp {
        encoding = BackendEncoding::NoOp;
    }
    let url_pattern = compile_url_pattern(&raw.url_pattern, endpoint.params).map_err(|e| {
        let (head, output) = match e {
            UrlPatternError::Count { output } => ("input and output params do not match.".to_owned(), output),
            UrlPatternError::Undefined { param, output } => (format!("undefined output param '{param}'!"), output),
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
    match raw.sd.as_str() {
        "" | "static" => {}
        "dns" | "dns-shared" => {
            return Err(ConfigError::new(format!(
                "{label}: sd: \"{}\" (DNS SRV service discovery) is not supported by this Ringway version yet; use \"static\"",
                raw.sd
            )))
        }
        other => return Err(ConfigError::new(format!("{label}: sd: unknown service discovery \"{other}\" (want static or dns)"))),
    }
    let extra_config = namespaces::normalize(raw.extra_config, &label, w);
    super::support::check(&extra_config, super::support::Level::Backend, &label, w).map_err(ConfigError::new)?;
    let shadow = namespaces::backend_shadow(&extra_config).map_err(err)?;
    let (return_error_code, return_error_details) = namespaces::backend_http(&extra_config).map_err(err)?;
    let static_filesystem = namespaces::backend_static_filesystem(&extra_config).map_err(err)?;
    let http_cache = namespaces::http_cache(&extra_config).map_err(err)?;
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
        input_headers: raw.input_headers.iter().map(|h| canonical_header(h)).collect(),
        input_query_strings: raw.input_query_strings,
        return_error_code,
        return_error_details,
        shadow,
        static_filesystem,
        http_cache,
        extra_config,
    })
}

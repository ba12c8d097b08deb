//! `extra_config` namespaces: legacy long names mapped once to the short ones (§2.6), and the namespaces the core
//! reads decoded into typed values. Unknown namespaces are kept and warned about once; a known one with a bad value
//! fails.

use super::aliases::{ALIASES, KNOWN};
use super::host::{canonical_header, parse_ip_net};
use super::model::{CacheCaps, ExtraConfig, HttpCacheConfig, RouterOptions, StaticFilesystem};
use super::raw::from_value;
use super::validate::Warnings;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub const ROUTER: &str = "router";
pub const PROXY: &str = "proxy";
pub const BACKEND_HTTP: &str = "backend/http";
pub const SERVER_STATIC_FILESYSTEM: &str = "server/static-filesystem";
pub const BACKEND_STATIC_FILESYSTEM: &str = "backend/static-filesystem";
pub const HTTP_CACHE: &str = "qos/http-cache";

/// Keys the schema allows anywhere as comments (`@comment`, `$id`, `_note`, `#x`).
fn is_comment(key: &str) -> bool {
    key.starts_with(['@', '$', '_', '#'])
}

/// Resolves aliases, drops comment keys, and warns once per unknown namespace. `place` says where (for warnings).
pub fn normalize(raw: BTreeMap<String, serde_json::Value>, place: &str, warnings: &mut Warnings) -> ExtraConfig {
    let mut out = ExtraConfig::new();
    let mut aliased = Vec::new();
    for (key, value) in raw {
        if is_comment(&key) {
            continue;
        }
        match ALIASES.iter().find(|(alias, _)| *alias == key) {
            Some((_, short)) => aliased.push((key, *short, value)),
            None => {
                if !KNOWN.contains(&key.as_str()) {
                    warnings.unknown_namespace(&key, place);
                }
                out.insert(key, value);
            }
        }
    }
    for (alias, short, value) in aliased {
        if out.contains_key(short) {
            warnings.push(format!("{place}: extra_config has both '{alias}' and '{short}'; using '{short}'"));
        } else {
            out.insert(short.to_owned(), value);
        }
    }
    out
}

fn key_path(namespace: &str) -> String {
    if namespace.contains('/') || namespace.contains('.') {
        format!("extra_config.\"{namespace}\"")
    } else {
        format!("extra_config.{namespace}")
    }
}

fn decode<T: for<'de> Deserialize<'de>>(extra: &ExtraConfig, namespace: &str) -> Result<Option<T>, String> {
    extra.get(namespace).map(|value| from_value(value.clone(), &key_path(namespace))).transpose()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawRouter {
    return_error_msg: bool,
    error_body: BTreeMap<String, serde_json::Value>,
    hide_version_header: bool,
    auto_options: bool,
    disable_redirect_trailing_slash: bool,
    disable_redirect_fixed_path: bool,
    disable_handle_method_not_allowed: bool,
    remove_extra_slash: bool,
    disable_path_decoding: bool,
    health_path: String,
    disable_health: bool,
    logger_skip_paths: Vec<String>,
    disable_access_log: bool,
    forwarded_by_client_ip: bool,
    remote_ip_headers: Option<Vec<String>>,
    trusted_proxies: Vec<String>,
    app_engine: bool,
    max_multipart_memory: i64,
    use_h2c: bool,
}

/// Root `router` options (§5.4); also says whether the deprecated `router.use_h2c` is set.
pub fn router(extra: &ExtraConfig) -> Result<(RouterOptions, bool), String> {
    let Some(raw) = decode::<RawRouter>(extra, ROUTER)? else {
        return Ok((RouterOptions::default(), false));
    };
    let mut trusted_proxies = Vec::with_capacity(raw.trusted_proxies.len());
    for (i, text) in raw.trusted_proxies.iter().enumerate() {
        let net = parse_ip_net(text)
            .ok_or_else(|| format!("extra_config.router.trusted_proxies[{i}]: invalid IP address or CIDR '{text}'"))?;
        trusted_proxies.push(net);
    }
    let body = |code: &str| raw.error_body.get(code).map(crate::encoding::json::encode_config_value);
    let defaults = RouterOptions::default();
    let options = RouterOptions {
        return_error_msg: raw.return_error_msg,
        error_body_404: body("404"),
        error_body_405: body("405"),
        hide_version_header: raw.hide_version_header,
        auto_options: raw.auto_options,
        disable_redirect_trailing_slash: raw.disable_redirect_trailing_slash,
        disable_redirect_fixed_path: raw.disable_redirect_fixed_path,
        disable_handle_method_not_allowed: raw.disable_handle_method_not_allowed,
        remove_extra_slash: raw.remove_extra_slash,
        disable_path_decoding: raw.disable_path_decoding,
        health_path: if raw.health_path.is_empty() { defaults.health_path } else { raw.health_path },
        disable_health: raw.disable_health,
        logger_skip_paths: raw.logger_skip_paths,
        disable_access_log: raw.disable_access_log,
        forwarded_by_client_ip: raw.forwarded_by_client_ip,
        remote_ip_headers: raw
            .remote_ip_headers
            .map_or(defaults.remote_ip_headers, |list| list.iter().map(|h| canonical_header(h)).collect()),
        trusted_proxies,
        app_engine: raw.app_engine,
    };
    Ok((options, raw.use_h2c))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawStaticFilesystem {
    prefix: String,
    path: String,
    skip: Vec<String>,
    directory_listing: bool,
}

/// Root `server/static-filesystem` (EE web server for a path prefix).
pub fn server_static_filesystem(extra: &ExtraConfig) -> Result<Option<StaticFilesystem>, String> {
    let Some(raw) = decode::<RawStaticFilesystem>(extra, SERVER_STATIC_FILESYSTEM)? else {
        return Ok(None);
    };
    let at = key_path(SERVER_STATIC_FILESYSTEM);
    if raw.prefix.is_empty() {
        return Err(format!("{at}.prefix: missing (the URL prefix to serve, e.g. \"/media/\")"));
    }
    if raw.path.is_empty() {
        return Err(format!("{at}.path: missing (the directory to serve files from)"));
    }
    Ok(Some(StaticFilesystem {
        prefix: raw.prefix,
        path: PathBuf::from(raw.path),
        skip: raw.skip,
        directory_listing: raw.directory_listing,
    }))
}

/// Endpoint `proxy`: only checked here; the proxy components decode it when they are built.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[allow(dead_code)]
struct RawEndpointProxy {
    sequential: bool,
    /// Parsed and validated only: its consumers (CEL, Lua, the body generator, plugins) are not in this build yet,
    /// and `url_pattern` placeholders do not need it (§11).
    sequential_propagated_params: Vec<String>,
    #[serde(rename = "static")]
    static_response: Option<serde_json::Value>,
    flatmap_filter: Vec<serde_json::Map<String, serde_json::Value>>,
    combiner: String,
}

/// The schema pattern of `sequential_propagated_params` items: `^resp[0-9]+(_[^\s]+)?$`.
fn is_propagated_param(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("resp") else { return false };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    match rest[digits..].strip_prefix('_') {
        None => rest.len() == digits,
        Some(field) => !field.is_empty() && !field.chars().any(char::is_whitespace),
    }
}

/// Checks the endpoint `proxy` namespace. `static` follows lura's reading (`proxy/static.go`): a `static` or
/// `data` that is not an object silently disables it there, and a missing or unknown `strategy` is `always`; both
/// draw a warning here.
pub fn check_endpoint_proxy(extra: &ExtraConfig, label: &str, warnings: &mut Warnings) -> Result<(), String> {
    let Some(raw) = decode::<RawEndpointProxy>(extra, PROXY)? else { return Ok(()) };
    for (i, name) in raw.sequential_propagated_params.iter().enumerate() {
        if !is_propagated_param(name) {
            return Err(format!(
                "extra_config.proxy.sequential_propagated_params[{i}]: '{name}' does not match ^resp[0-9]+(_[^\\s]+)?$ \
                 (want e.g. \"resp0_user.id\" or \"resp0\")"
            ));
        }
    }
    let Some(st) = raw.static_response.filter(|s| !s.is_null()) else { return Ok(()) };
    let at = format!("{label}: extra_config.proxy.static");
    let Some(obj) = st.as_object() else {
        warnings.push(format!("{at}: not an object; the static proxy is disabled, as KrakenD does"));
        return Ok(());
    };
    if !obj.get("data").is_some_and(serde_json::Value::is_object) {
        warnings.push(format!("{at}.data: missing or not an object; the static proxy is disabled, as KrakenD does"));
        return Ok(());
    }
    match obj.get("strategy").map(|s| s.as_str()) {
        Some(Some("always" | "success" | "complete" | "errored" | "incomplete")) => {}
        None => warnings.push(format!("{at}.strategy: missing; using \"always\", as KrakenD does")),
        Some(_) => warnings.push(format!(
            "{at}.strategy: unknown value {}; using \"always\", as KrakenD does (want always, success, complete, \
             errored or incomplete)",
            obj.get("strategy").map_or(String::new(), |s| s.to_string())
        )),
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[allow(dead_code)]
struct RawBackendProxy {
    shadow: bool,
    flatmap_filter: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// Backend `proxy.shadow`.
pub fn backend_shadow(extra: &ExtraConfig) -> Result<bool, String> {
    Ok(decode::<RawBackendProxy>(extra, PROXY)?.is_some_and(|p| p.shadow))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawBackendHttp {
    return_error_code: bool,
    return_error_details: String,
}

/// Backend `backend/http`: (`return_error_code`, `return_error_details`).
pub fn backend_http(extra: &ExtraConfig) -> Result<(bool, Option<String>), String> {
    let raw = decode::<RawBackendHttp>(extra, BACKEND_HTTP)?.unwrap_or_default();
    let details = Some(raw.return_error_details).filter(|d| !d.is_empty());
    Ok((raw.return_error_code, details))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawBackendStatic {
    path: String,
}

/// Backend `backend/static-filesystem.path`.
pub fn backend_static_filesystem(extra: &ExtraConfig) -> Result<Option<PathBuf>, String> {
    let Some(raw) = decode::<RawBackendStatic>(extra, BACKEND_STATIC_FILESYSTEM)? else {
        return Ok(None);
    };
    if raw.path.is_empty() {
        return Err(format!(
            "{}.path: missing (the directory to read files from)",
            key_path(BACKEND_STATIC_FILESYSTEM)
        ));
    }
    Ok(Some(PathBuf::from(raw.path)))
}

/// Smallest `max_size` the schema accepts (bytes).
const HTTP_CACHE_MIN_SIZE: u64 = 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawHttpCache {
    shared: bool,
    max_items: Option<u64>,
    max_size: Option<u64>,
}

/// Backend `qos/http-cache` (§20): `{}` is a private, uncapped bucket.
pub fn http_cache(extra: &ExtraConfig) -> Result<Option<HttpCacheConfig>, String> {
    let Some(raw) = decode::<RawHttpCache>(extra, HTTP_CACHE)? else {
        return Ok(None);
    };
    let at = key_path(HTTP_CACHE);
    let caps = match (raw.max_items, raw.max_size) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(format!("{at}.max_size: missing; max_items and max_size must be set together (or neither)"))
        }
        (None, Some(_)) => {
            return Err(format!("{at}.max_items: missing; max_items and max_size must be set together (or neither)"))
        }
        (Some(0), _) => return Err(format!("{at}.max_items: must be at least 1")),
        (_, Some(size)) if size < HTTP_CACHE_MIN_SIZE => {
            return Err(format!("{at}.max_size: must be at least {HTTP_CACHE_MIN_SIZE} (bytes), got {size}"))
        }
        (Some(items), Some(size)) => Some(CacheCaps {
            max_items: usize::try_from(items).unwrap_or(usize::MAX),
            max_size: usize::try_from(size).unwrap_or(usize::MAX),
        }),
    };
    Ok(Some(HttpCacheConfig { shared: raw.shared, caps }))
}

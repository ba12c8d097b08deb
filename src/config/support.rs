//! What this build does with each `extra_config` namespace KrakenD documents.
//!
//! A namespace that decides who may call an endpoint or what reaches a backend (auth, security, rate limits,
//! validation, request modifiers, custom backends) must not be silently ignored: serving the endpoint without it
//! would open or change it. Until its component exists, such a config is refused at start-up with a message that
//! names the namespace. Namespaces that only observe (telemetry, documentation) or tune (the circuit breaker) draw a
//! warning instead.
//!
//! Some namespaces are read only at some levels: KrakenD CE reads `security/cors` and `security/http` in the root
//! `extra_config` only and the bot detector at service and endpoint level, so elsewhere they are ignored, with a
//! warning. Plugin namespaces are implemented per plugin `name`: only the built-in `ip-filter`, at the levels it runs.

use super::model::ExtraConfig;
use super::validate::Warnings;

/// Where an `extra_config` sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Service,
    Endpoint,
    Backend,
}

use Level::{Backend, Endpoint, Service};

/// Namespaces this build implements (the keys that it reads are listed in the README).
const IMPLEMENTED: &[&str] =
    &["router", "proxy", "backend/http", "server/static-filesystem", "backend/static-filesystem", "qos/http-cache"];

/// Namespaces this build implements at the levels KrakenD reads them; elsewhere they are ignored with a warning.
const IMPLEMENTED_AT: &[(&str, &[Level])] =
    &[("security/cors", &[Service]), ("security/http", &[Service]), ("security/bot-detector", &[Service, Endpoint])];

/// Plugin namespaces, the level where this build runs some of their plugins, and those plugins' names.
const PLUGINS: &[(&str, Level, &[&str])] =
    &[("plugin/http-server", Service, &["ip-filter"]), ("plugin/req-resp-modifier", Endpoint, &["ip-filter"])];

/// Recognised namespaces that only observe or tune: ignored with a warning until implemented.
const ADVISORY_PREFIXES: &[&str] =
    &["telemetry/", "documentation/", "qos/circuit-breaker", "redis", "backend/http/client"];

/// `proxy` keys whose components are not in this build yet; each changes the answer, so each is refused.
const PROXY_KEYS_NOT_YET: &[&str] = &["combiner"];

/// Checks one `extra_config` (after alias resolution) at `level` against what this build implements.
pub fn check(extra: &ExtraConfig, level: Level, place: &str, warnings: &mut Warnings) -> Result<(), String> {
    for (namespace, value) in extra {
        if let Some((_, levels)) = IMPLEMENTED_AT.iter().find(|(n, _)| n == namespace) {
            if !levels.contains(&level) {
                warnings.push(format!(
                    "{place}: extra_config namespace '{namespace}' is not read at this level by KrakenD (only {}); \
                     ignored",
                    levels.iter().map(|l| l.name()).collect::<Vec<_>>().join(" and ")
                ));
            }
            continue;
        }
        if let Some((_, _, names)) = PLUGINS.iter().find(|(n, at, _)| n == namespace && *at == level) {
            check_plugin_names(namespace, value, names, place)?;
            continue;
        }
        if namespace == "proxy" {
            if let Some(obj) = value.as_object() {
                for key in PROXY_KEYS_NOT_YET {
                    let set = match obj.get(*key) {
                        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => false,
                        Some(_) => true,
                    };
                    if set {
                        return Err(format!(
                            "{place}: extra_config.proxy.{key} is not supported by this Ringway version yet; \
                             refusing to start rather than answer differently from KrakenD"
                        ));
                    }
                }
            }
            continue;
        }
        if IMPLEMENTED.contains(&namespace.as_str()) || !super::aliases::KNOWN.contains(&namespace.as_str()) {
            continue;
        }
        if ADVISORY_PREFIXES.iter().any(|p| namespace.starts_with(p)) {
            warnings.push(format!(
                "{place}: extra_config namespace '{namespace}' is recognised but not implemented by this Ringway version; ignored"
            ));
            continue;
        }
        return Err(format!(
            "{place}: extra_config namespace '{namespace}' is not supported by this Ringway version yet; refusing to \
             start, since serving without it would change who may call the endpoint or what reaches the backend"
        ));
    }
    Ok(())
}

/// A plugin namespace's `name` list may only name plugins this build runs there.
fn check_plugin_names(namespace: &str, value: &serde_json::Value, names: &[&str], place: &str) -> Result<(), String> {
    let at = format!("{place}: extra_config.\"{namespace}\".name");
    let listed = match value.get("name") {
        Some(serde_json::Value::Array(list)) => list,
        Some(serde_json::Value::String(one)) => {
            return Err(format!("{at}: want a list of plugin names, e.g. [\"{one}\"]"));
        }
        _ => return Err(format!("{at}: missing (the list of plugins to run, e.g. [\"{}\"])", names[0])),
    };
    for (i, name) in listed.iter().enumerate() {
        match name.as_str() {
            Some(n) if names.contains(&n) => {}
            Some(n) => {
                return Err(format!(
                    "{at}[{i}]: plugin '{n}' is not supported by this Ringway version (it runs only {} here); \
                     refusing to start rather than serve without it",
                    names.join(", ")
                ))
            }
            None => return Err(format!("{at}[{i}]: want a plugin name (a string), got {name}")),
        }
    }
    Ok(())
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Service => "the root extra_config",
            Endpoint => "endpoints",
            Backend => "backends",
        }
    }
}

//! What this build does with each `extra_config` namespace KrakenD documents.
//!
//! A namespace that decides who may call an endpoint or what reaches a backend (auth, security, rate limits,
//! validation, request modifiers, custom backends) must not be silently ignored: serving the endpoint without it
//! would open or change it. Until its component exists, such a config is refused at start-up with a message that
//! names the namespace. Namespaces that only observe (telemetry, documentation) or tune (the circuit breaker) draw a
//! warning instead.

use super::model::ExtraConfig;
use super::validate::Warnings;

/// Namespaces this build implements (the keys that it reads are listed in the README).
const IMPLEMENTED: &[&str] =
    &["router", "proxy", "backend/http", "server/static-filesystem", "backend/static-filesystem", "qos/http-cache"];

/// Recognised namespaces that only observe or tune: ignored with a warning until implemented.
const ADVISORY_PREFIXES: &[&str] =
    &["telemetry/", "documentation/", "qos/circuit-breaker", "redis", "backend/http/client"];

/// `proxy` keys whose components are not in this build yet; each changes the answer, so each is refused.
const PROXY_KEYS_NOT_YET: &[&str] = &["combiner"];

/// Checks one `extra_config` (after alias resolution) against what this build implements.
pub fn check(extra: &ExtraConfig, place: &str, warnings: &mut Warnings) -> Result<(), String> {
    for (namespace, value) in extra {
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

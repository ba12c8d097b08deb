//! `KRAKEND_*` environment overrides of root keys (§2.7), coerced to each key's type as koanf's weak typing does.
//!
//! Like the reference parser (not the docs), every `KRAKEND_<KEY>` variable sets root key `<key>` lowercased, even
//! when the file does not declare it. Precedence: file < env; the CLI `-p` is applied by the caller afterwards.

use super::duration::parse_go_duration;
use super::Env;
use serde_json::Value;

/// The prefix of override variables.
pub const ENV_PREFIX: &str = "KRAKEND_";

/// How a root key's string value is coerced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyType {
    Int,
    Bool,
    Duration,
    StringList,
    Text,
}

fn key_type(key: &str) -> KeyType {
    match key {
        "version" | "port" | "max_header_bytes" | "max_idle_connections" | "max_idle_connections_per_host" => {
            KeyType::Int
        }
        "disable_rest"
        | "debug_endpoint"
        | "echo_endpoint"
        | "use_h2c"
        | "sequential_start"
        | "disable_compression"
        | "disable_keep_alives"
        | "allow_insecure_connections" => KeyType::Bool,
        "timeout"
        | "cache_ttl"
        | "read_timeout"
        | "write_timeout"
        | "idle_timeout"
        | "read_header_timeout"
        | "max_shutdown_wait_time"
        | "dns_cache_ttl"
        | "dialer_timeout"
        | "dialer_keep_alive"
        | "dialer_fallback_delay"
        | "idle_connection_timeout"
        | "response_header_timeout"
        | "expect_continue_timeout" => KeyType::Duration,
        "host" => KeyType::StringList,
        _ => KeyType::Text,
    }
}

/// Go's `strconv.ParseBool` (what mapstructure's weak decoding uses); an empty string is `false`.
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "" | "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Coerces one variable's value to the type of root key `key`.
pub fn coerce(var: &str, key: &str, text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    match key_type(key) {
        KeyType::Int if trimmed.is_empty() => Ok(Value::from(0)),
        KeyType::Int => {
            trimmed.parse::<i64>().map(Value::from).map_err(|_| format!("{var}={text}: {key} must be an integer"))
        }
        KeyType::Bool => parse_bool(trimmed)
            .map(Value::Bool)
            .ok_or_else(|| format!("{var}={text}: {key} must be a boolean (true or false)")),
        KeyType::Duration => {
            if !trimmed.is_empty() && parse_go_duration(trimmed).is_none() {
                return Err(format!("{var}={text}: {key} must be a duration like \"2s\" or \"500ms\""));
            }
            Ok(Value::String(trimmed.to_owned()))
        }
        // Weak typing turns a single value into a one-element list.
        KeyType::StringList => Ok(Value::Array(vec![Value::String(text.to_owned())])),
        KeyType::Text => Ok(Value::String(text.to_owned())),
    }
}

/// Applies every `KRAKEND_*` variable of `env` to the root object `root`.
pub fn apply_overrides(root: &mut Value, env: &dyn Env) -> Result<(), String> {
    let Value::Object(map) = root else {
        return Ok(());
    };
    let mut vars = env.vars();
    vars.sort();
    for (var, text) in vars {
        let Some(name) = var.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        let key = name.to_lowercase();
        let value = coerce(&var, &key, &text)?;
        map.insert(key, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::MapEnv;

    fn env(pairs: &[(&str, &str)]) -> MapEnv {
        MapEnv::from_pairs(pairs)
    }

    #[test]
    fn coerces_by_key_type() {
        assert_eq!(coerce("KRAKEND_PORT", "port", "9000"), Ok(Value::from(9000)));
        assert_eq!(coerce("KRAKEND_USE_H2C", "use_h2c", "true"), Ok(Value::Bool(true)));
        assert_eq!(coerce("KRAKEND_TIMEOUT", "timeout", "500ms"), Ok(Value::from("500ms")));
        assert_eq!(coerce("KRAKEND_NAME", "name", "gw"), Ok(Value::from("gw")));
        assert_eq!(coerce("KRAKEND_HOST", "host", "http://a"), Ok(serde_json::json!(["http://a"])));
        assert!(coerce("KRAKEND_PORT", "port", "abc").is_err_and(|e| e.contains("KRAKEND_PORT") && e.contains("port")));
        assert!(coerce("KRAKEND_TIMEOUT", "timeout", "soon").is_err());
        assert!(coerce("KRAKEND_USE_H2C", "use_h2c", "yes").is_err());
    }

    #[test]
    fn overrides_even_absent_keys() {
        let mut root = serde_json::json!({"version": 3, "port": 8000});
        let vars = env(&[("KRAKEND_PORT", "9000"), ("KRAKEND_NAME", "x"), ("PATH", "/bin")]);
        apply_overrides(&mut root, &vars).expect("valid overrides");
        assert_eq!(root, serde_json::json!({"version": 3, "port": 9000, "name": "x"}));
    }
}

//! Loading a KrakenD `version: 3` configuration (JSON, YAML or TOML) into a typed [`ServiceConfig`].
//!
//! The file is parsed into one `serde_json::Value` ([`syntax`]), `KRAKEND_*` overrides are applied ([`env`]), the
//! value is deserialized into the raw serde types ([`raw`]) and validated into the compiled model ([`validate`]).

pub mod aliases;
pub mod client_tls;
pub mod dump;
pub mod duration;
pub mod endpoint;
pub mod env;
pub mod error;
pub mod host;
pub mod model;
pub mod namespaces;
pub mod raw;
pub mod server_tls;
pub mod support;
pub mod syntax;
pub mod url_pattern;
pub mod validate;

pub use dump::dump;
pub use error::ConfigError;
pub use model::*;
pub use syntax::Format;

use std::path::Path;

/// Where `KRAKEND_*` overrides come from; tests pass a map instead of touching the process environment.
pub trait Env {
    fn get(&self, key: &str) -> Option<String>;
    /// Every variable, for the `KRAKEND_*` scan.
    fn vars(&self) -> Vec<(String, String)>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
    fn vars(&self) -> Vec<(String, String)> {
        std::env::vars().collect()
    }
}

/// No environment at all (tests, golden fixtures).
pub struct NoEnv;

impl Env for NoEnv {
    fn get(&self, _key: &str) -> Option<String> {
        None
    }
    fn vars(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// A fixed set of variables (tests, embedding): `MapEnv::from_pairs(&[("KRAKEND_PORT", "9000")])`.
pub struct MapEnv(pub Vec<(String, String)>);

impl MapEnv {
    pub fn from_pairs(pairs: &[(&str, &str)]) -> MapEnv {
        MapEnv(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }
}

impl Env for MapEnv {
    fn get(&self, key: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }
    fn vars(&self) -> Vec<(String, String)> {
        self.0.clone()
    }
}

/// Go's wording for the common `open` failures, as KrakenD prints them.
pub(crate) fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        _ => err.to_string(),
    }
}

/// Reads, parses and validates the file at `path` (format from the extension).
pub fn load(path: &Path, env: &dyn Env) -> Result<ServiceConfig, ConfigError> {
    let bytes =
        std::fs::read(path).map_err(|e| ConfigError::new(format!("open {}: {}", path.display(), io_reason(&e))))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        ConfigError::new(format!("'{}': not valid UTF-8 (byte {})", path.display(), e.utf8_error().valid_up_to()))
    })?;
    let file_name = path.display().to_string();
    parse_str(&text, Format::from_path(path), &file_name, env)
}

/// Parses and validates config text; `file_name` is only used in error messages.
pub fn parse_str(text: &str, format: Format, file_name: &str, env: &dyn Env) -> Result<ServiceConfig, ConfigError> {
    let mut value = syntax::parse(text, format, file_name).map_err(ConfigError::new)?;
    if !value.is_object() {
        return Err(ConfigError::new(format!(
            "'{file_name}': the configuration must be an object with \"version\": 3"
        )));
    }
    env::apply_overrides(&mut value, env).map_err(ConfigError::new)?;
    let raw: raw::RawService = raw::from_value(value, "").map_err(ConfigError::new)?;
    validate::validate(raw)
}

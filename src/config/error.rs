//! Configuration errors: one clear line that says where (file, line, endpoint, backend, key) and what.

/// A configuration that cannot be used. The text is the whole message, ready to print after
/// `ERROR parsing the configuration file: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl ConfigError {
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError(message.into())
    }
}

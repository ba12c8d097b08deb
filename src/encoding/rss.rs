//! Backend decoder for `encoding: rss` (krakend-rss over gofeed).

use sonic_rs::Value;

use super::decode::DecodeError;

/// `encoding: rss`.
pub fn decode_rss(_body: &[u8]) -> Result<Value, DecodeError> {
    Err(DecodeError::Feed("Failed to detect feed type".to_owned()))
}

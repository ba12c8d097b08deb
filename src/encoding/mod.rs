//! Response bodies: decoding what backends send and rendering what clients get.

pub mod canonical;
pub mod decode;
pub mod json;
pub mod render;
pub mod rss;
pub mod xml;
pub mod xml_decode;
pub mod yaml;

pub use decode::{decode_json, decode_safejson, decode_string, DecodeError};
pub use json::{encode_config_value, write_str, write_value};
pub use render::{render_json, render_json_collection, render_string};
pub use rss::decode_rss;
pub use xml::render_xml;
pub use xml_decode::decode_xml;
pub use yaml::render_yaml;

#[cfg(test)]
mod canonical_tests;
#[cfg(test)]
mod output_tests;
#[cfg(test)]
mod tests;

//! Backend data manipulation and the merge of an endpoint's backends (lura `proxy/formatter.go`, `proxy/merging.go`).
//!
//! Everything that depends only on the config is compiled once per backend into a [`Manipulation`] (paths pre-split,
//! allow lists turned into trees); per request the decoded data is moved through it, taking values out of their
//! parents instead of cloning them.

pub mod combine;
pub mod details;
pub mod filter;
pub mod flatmap;

pub use combine::merge_into;
pub use details::error_details;
pub use filter::Filter;
pub use flatmap::Flatmap;

use sonic_rs::Value;

use crate::config::BackendConfig;

/// A backend's response manipulation, in KrakenD's fixed order: `target` → `allow` | `deny` → `mapping` → `group`,
/// or `target` → flatmap → `group` when the backend has a `proxy.flatmap_filter` (which disables allow, deny and
/// mapping, as lura's `NewEntityFormatter` does).
#[derive(Debug, Clone, Default)]
pub struct Manipulation {
    filter: Filter,
    flatmap: Option<Flatmap>,
}

impl Manipulation {
    /// Compiles the backend's manipulation; a malformed `proxy.flatmap_filter` is an error naming the key.
    pub fn build(backend: &BackendConfig) -> Result<Manipulation, String> {
        let flatmap = Flatmap::build(&backend.extra_config)?;
        let mut filter = Filter::build(backend);
        if flatmap.is_some() {
            filter = filter.without_shape();
        }
        Ok(Manipulation { filter, flatmap })
    }

    /// Whether applying this manipulation can change anything (so a pass-through backend skips it).
    pub fn is_identity(&self) -> bool {
        self.flatmap.is_none() && self.filter.is_identity()
    }

    /// Applies the manipulation to a backend's decoded data (`None` is a backend `null`).
    pub fn apply(&self, data: Option<Value>) -> Option<Value> {
        if self.is_identity() {
            return data;
        }
        let mut data = self.filter.target(data);
        match &self.flatmap {
            Some(flatmap) => {
                if let Some(v) = data.as_mut() {
                    flatmap.apply(v);
                }
            }
            None => {
                if let Some(v) = data.as_mut() {
                    self.filter.shape(v);
                }
            }
        }
        self.filter.group(data)
    }
}

#[cfg(test)]
mod tests;

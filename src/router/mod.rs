//! Route matching: endpoint paths, built-in endpoints, 404/405 answers and redirects (spec §5).
//!
//! [`Router::build`] registers, in KrakenD's order, the health endpoint (`GET`), `/__debug/` and `/__echo/` (every
//! method, gin's `Any` order), every endpoint, then the `auto_options` routes; one matchit tree per method, in the
//! order the methods were first used (that order is the `Allow` order of a 405). [`Router::lookup`] then follows
//! gin's `handleHTTPRequest`: match the decoded path in the method's tree; on a miss try the trailing-slash and
//! fixed-path redirects, then 405, then 404. A matched route's variables go through KrakenD's path-param check.
//!
//! Deviations from KrakenD, on purpose: route conflicts are a [`ConfigError`] instead of a panic; redirect locations
//! are always cleaned (Go skips that for a location starting with `//`, an open redirect); decoded path bytes that
//! are not UTF-8 become U+FFFD.

mod client_ip;
mod params;
mod redirect;
mod tree;

#[cfg(test)]
mod tests;

pub use client_ip::{client_ip, ClientIp, APP_ENGINE_HEADER};
pub use params::Params;

use crate::config::{ConfigError, Method, ServiceConfig};
use smallvec::SmallVec;
use std::collections::BTreeMap;
use tree::{MethodTree, Pattern, Target};

/// What a request is routed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// `config.endpoints[index]`, with its variables in the order of `EndpointConfig::params`.
    Endpoint {
        index: usize,
        params: Params,
    },
    /// `GET router.health_path`.
    Health,
    /// `/__debug/…` (`debug_endpoint`), any method.
    Debug,
    /// `/__echo/…` (`echo_endpoint`), any method.
    Echo,
    /// `router.auto_options`: `OPTIONS` on a registered endpoint path → 200, empty body, this `Allow` (sorted
    /// methods, `", "`-separated) and `X-Krakend`.
    AutoOptions {
        allow: &'a str,
    },
    /// Trailing-slash or fixed-path redirect: `301` for `GET`, `307` otherwise, answered before any middleware
    /// (the caller adds the HTML body for `GET` and the `Content-Type` for `GET`/`HEAD`, §5.3).
    Redirect {
        status: u16,
        location: String,
    },
    /// 405 with this `Allow` value (methods in route-tree creation order).
    MethodNotAllowed {
        allow: &'a str,
    },
    NotFound,
    /// The path-param check failed: 400 with this body (`error: encoded url params` or `error: <unescape error>`).
    BadParams {
        message: String,
    },
    /// The request path has an invalid `%` escape: Go's server answers `400 Bad Request` before routing.
    BadRequest,
}

/// gin's `anyMethods`: the trees `Any` registers into, in this order.
const ANY_METHODS: [Method; 9] = [
    Method::Get,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Head,
    Method::Options,
    Method::Delete,
    Method::Connect,
    Method::Trace,
];

/// The status of a redirect for a `GET` request (`301`); every other method gets `307` so the body is replayed.
const REDIRECT_GET: u16 = 301;
const REDIRECT_OTHER: u16 = 307;

/// The routes of a service, built once per worker.
#[derive(Debug)]
pub struct Router {
    /// In creation order.
    trees: Vec<MethodTree>,
    /// `Allow` values by bit set of tree indices (bit `i` = `trees[i]`).
    allow: Vec<Box<str>>,
    redirect_trailing_slash: bool,
    redirect_fixed_path: bool,
    handle_method_not_allowed: bool,
    remove_extra_slash: bool,
    check_params: bool,
}

impl Router {
    /// Registers every route of `config`. Fails on route conflicts (different variable names at the same position of
    /// routes sharing a prefix, or the same method and path twice).
    pub fn build(config: &ServiceConfig) -> Result<Router, ConfigError> {
        let opts = &config.router;
        let mut trees: Vec<MethodTree> = Vec::new();
        let mut insert = |method: Method, pattern: Pattern, owner: String, target: Target| {
            let i = match trees.iter().position(|t| t.method == method) {
                Some(i) => i,
                None => {
                    trees.push(MethodTree::new(method));
                    trees.len() - 1
                }
            };
            trees[i].insert(pattern, owner, target)
        };

        if !opts.disable_health {
            let owner = format!("the health endpoint GET {}", opts.health_path);
            insert(Method::Get, Pattern::literal(&opts.health_path), owner, Target::Health)?;
        }
        for (enabled, name) in [(config.debug_endpoint, "__debug"), (config.echo_endpoint, "__echo")] {
            if !enabled {
                continue;
            }
            for m in ANY_METHODS {
                for catch_all in [false, true] {
                    let owner = format!("the built-in endpoint {} /{name}/", m.as_str());
                    let target = if name == "__debug" { Target::Debug } else { Target::Echo };
                    insert(m, Pattern::builtin(name, catch_all), owner, target)?;
                }
            }
        }
        for (index, e) in config.endpoints.iter().enumerate() {
            let pattern = Pattern::parse(&e.path, config.disable_rest);
            let owner = format!("endpoint {} {}", e.method.as_str(), e.path);
            let slots = pattern
                .var_names()
                .map(|name| {
                    e.params.iter().position(|p| p == name).ok_or_else(|| {
                        ConfigError::new(format!(
                            "{owner}: the path variable {{{name}}} is missing from the endpoint's parameter list"
                        ))
                    })
                })
                .collect::<Result<Box<[usize]>, _>>()?;
            let target = Target::Endpoint { index, slots, param_count: e.params.len() };
            insert(e.method, pattern, owner, target)?;
        }
        if opts.auto_options {
            let mut catalog: BTreeMap<&str, Vec<&'static str>> = BTreeMap::new();
            for e in &config.endpoints {
                catalog.entry(e.path.as_str()).or_default().push(e.method.as_str());
            }
            for (path, mut methods) in catalog {
                methods.sort_unstable();
                methods.dedup();
                let allow = methods.join(", ").into_boxed_str();
                let owner = format!("the auto_options route OPTIONS {path}");
                insert(
                    Method::Options,
                    Pattern::parse(path, config.disable_rest),
                    owner,
                    Target::AutoOptions { allow },
                )?;
            }
        }

        let allow = (0..1usize << trees.len())
            .map(|mask| {
                let names: Vec<&str> = trees
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, t)| t.method.as_str())
                    .collect();
                names.join(", ").into_boxed_str()
            })
            .collect();
        Ok(Router {
            trees,
            allow,
            redirect_trailing_slash: !opts.disable_redirect_trailing_slash,
            redirect_fixed_path: !opts.disable_redirect_fixed_path,
            handle_method_not_allowed: !opts.disable_handle_method_not_allowed,
            remove_extra_slash: opts.remove_extra_slash,
            check_params: !opts.disable_path_decoding,
        })
    }

    /// Routes a request. `raw_path` is the request-target path as received (percent-encoded, no query); `query`
    /// the raw query without `?` (`Some("")` for a bare `?`), or `None`; `forwarded_prefix` the `X-Forwarded-Prefix`
    /// header (its first line, as gin's `Header.Get`), used in trailing-slash redirects.
    ///
    /// A matched endpoint costs one allocation for its variable values (none without variables), plus one for the
    /// decoded path when it contains `%`.
    pub fn lookup(
        &self,
        method: &str,
        raw_path: &str,
        query: Option<&str>,
        forwarded_prefix: Option<&str>,
    ) -> Route<'_> {
        let Ok(decoded) = params::decode_path(raw_path) else {
            return Route::BadRequest;
        };
        let cleaned = if self.remove_extra_slash { redirect::clean_path(&decoded) } else { None };
        let path: &str = cleaned.as_deref().unwrap_or(&decoded);
        let tree = Method::parse(method).and_then(|m| self.trees.iter().position(|t| t.method == m));

        if let Some(ti) = tree {
            let t = &self.trees[ti];
            if let Ok(m) = t.router.at(path) {
                if self.check_params {
                    for (_, value) in m.params.iter() {
                        if let Err(message) = params::check_param(value) {
                            return Route::BadParams { message };
                        }
                    }
                }
                return match m.value {
                    Target::Endpoint { index, slots, param_count } => {
                        let mut values: SmallVec<[&str; 4]> = SmallVec::from_elem("", *param_count);
                        for ((_, value), &slot) in m.params.iter().zip(slots.iter()) {
                            if let Some(v) = values.get_mut(slot) {
                                *v = value;
                            }
                        }
                        Route::Endpoint { index: *index, params: collect_params(&values) }
                    }
                    Target::Health => Route::Health,
                    Target::Debug => Route::Debug,
                    Target::Echo => Route::Echo,
                    Target::AutoOptions { allow } => Route::AutoOptions { allow },
                };
            }
            if method != "CONNECT" && path != "/" {
                let status = if method == "GET" { REDIRECT_GET } else { REDIRECT_OTHER };
                if self.redirect_trailing_slash {
                    let toggled = match path.strip_suffix('/') {
                        Some(p) => std::borrow::Cow::Borrowed(p),
                        None => std::borrow::Cow::Owned(format!("{path}/")),
                    };
                    if t.router.at(&toggled).is_ok() {
                        // gin builds the target from the request's URL.Path, not the cleaned lookup path.
                        let target = redirect::trailing_slash_target(&decoded, forwarded_prefix);
                        return Route::Redirect { status, location: redirect::location(&target, query) };
                    }
                }
                if self.redirect_fixed_path {
                    let clean = redirect::clean_path(&decoded);
                    let clean = clean.as_deref().unwrap_or(&decoded);
                    if let Some(fixed) = t.find_case_insensitive(clean, self.redirect_trailing_slash) {
                        // Never redirect to the path just requested (a redirect loop), should the case-insensitive
                        // walk accept a path the tree rejects.
                        if fixed != *decoded {
                            return Route::Redirect { status, location: redirect::location(&fixed, query) };
                        }
                    }
                }
            }
        }

        if self.handle_method_not_allowed {
            let mut mask = 0usize;
            for (i, t) in self.trees.iter().enumerate() {
                if Some(i) != tree && t.router.at(path).is_ok() {
                    mask |= 1 << i;
                }
            }
            if mask != 0 {
                if let Some(allow) = self.allow.get(mask) {
                    return Route::MethodNotAllowed { allow };
                }
            }
        }
        Route::NotFound
    }
}

/// Copies the matched values into one buffer.
fn collect_params(values: &[&str]) -> Params {
    let mut buf = SmallVec::with_capacity(values.iter().map(|v| v.len()).sum());
    let mut spans = SmallVec::with_capacity(values.len());
    for v in values {
        let start = params::offset(buf.len());
        buf.extend_from_slice(v.as_bytes());
        spans.push((start, params::offset(buf.len())));
    }
    Params::from_parts(buf, spans)
}

//! The compiled configuration: what `validate` produces from the raw file and what every worker builds its pipes from.
//!
//! Everything here is typed (durations, methods, encodings, compiled url patterns); no string that needs parsing again
//! at request time. Defaults from KrakenD are already applied.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

/// The product version written where KrakenD writes its own (`X-Krakend: Version X`, `User-Agent`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The whole service (the root of `krakend.json`), with KrakenD's defaults applied.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// `name`, used by telemetry only.
    pub name: String,
    /// `port` (default 8080; 0 means 8080).
    pub port: u16,
    /// `listen_ip`; `None` binds all addresses.
    pub listen_ip: Option<IpAddr>,
    /// Default backend hosts (`host`).
    pub hosts: Vec<String>,
    /// Default endpoint timeout (`timeout`, 2s).
    pub timeout: Duration,
    /// Default endpoint `cache_ttl` (0 = none).
    pub cache_ttl: Duration,
    /// Default endpoint `output_encoding`.
    pub output_encoding: OutputEncoding,
    pub endpoints: Vec<EndpointConfig>,
    /// `disable_rest`.
    pub disable_rest: bool,
    /// `debug_endpoint` (or `run -d`).
    pub debug_endpoint: bool,
    /// `echo_endpoint`.
    pub echo_endpoint: bool,
    pub server: ServerTimeouts,
    /// `max_header_bytes` (0 in the file means 1 MiB = 1,048,576, as Go does).
    pub max_header_bytes: usize,
    /// `use_h2c`: HTTP/2 with prior knowledge on the cleartext listener.
    pub use_h2c: bool,
    /// The root `tls` block; `None` = plain HTTP.
    pub tls: Option<super::server_tls::TlsSettings>,
    /// `max_shutdown_wait_time`; `None` = wait for in-flight requests forever.
    pub max_shutdown_wait_time: Option<Duration>,
    pub client: HttpClientConfig,
    /// `extra_config.router`.
    pub router: RouterOptions,
    /// `extra_config."server/static-filesystem"`.
    pub static_filesystem: Option<StaticFilesystem>,
    /// The whole root `extra_config`, normalised to short namespace names (aliases resolved), unknown namespaces kept.
    pub extra_config: ExtraConfig,
    /// Non-fatal findings while loading (unknown namespaces, unparsable durations, unknown encodings), for the
    /// caller to print: library code does not write to stderr.
    pub warnings: Vec<String>,
}

/// Namespace → raw JSON value. Components decode their own namespace from here when they are built.
pub type ExtraConfig = BTreeMap<String, serde_json::Value>;

/// Server-side timeouts. `None` means no timeout (KrakenD's `0s`).
#[derive(Debug, Clone, Default)]
pub struct ServerTimeouts {
    /// `read_timeout`: whole request, body included.
    pub read: Option<Duration>,
    /// `read_header_timeout`: the request head.
    pub read_header: Option<Duration>,
    /// `write_timeout`: writing the response.
    pub write: Option<Duration>,
    /// `idle_timeout` (falls back to `read_timeout` as Go does).
    pub idle: Option<Duration>,
}

/// Root transport keys for the HTTP client to backends (§19.1).
#[derive(Debug, Clone)]
pub struct HttpClientConfig {
    /// `dialer_timeout`; `None` = no connect timeout.
    pub dialer_timeout: Option<Duration>,
    /// `dialer_keep_alive` (15s; negative disables → `None`).
    pub dialer_keep_alive: Option<Duration>,
    /// `disable_compression`: don't send `Accept-Encoding: gzip`.
    pub disable_compression: bool,
    /// `disable_keep_alives`: one request per backend connection.
    pub disable_keep_alives: bool,
    /// `max_idle_connections` (0 = unlimited), counted per worker.
    pub max_idle_connections: usize,
    /// `max_idle_connections_per_host` (250), counted per worker.
    pub max_idle_connections_per_host: usize,
    /// `idle_connection_timeout`; `None` = keep forever.
    pub idle_connection_timeout: Option<Duration>,
    /// `response_header_timeout`; `None` = none.
    pub response_header_timeout: Option<Duration>,
    /// `expect_continue_timeout`.
    pub expect_continue_timeout: Option<Duration>,
    /// `client_tls` (or the legacy root `allow_insecure_connections: true`); `None` = rustls's client defaults.
    pub tls: Option<super::client_tls::ClientTls>,
    /// Whether some backend `host` is `https://`: the TLS config is then built at start-up rather than on the
    /// first redirect to an https host.
    pub has_https_hosts: bool,
    /// The one `rustls::ClientConfig`, built from `tls` by `backend::tls` and shared by every worker.
    pub tls_slot: super::client_tls::ClientTlsSlot,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        Self {
            dialer_timeout: None,
            dialer_keep_alive: Some(Duration::from_secs(15)),
            disable_compression: false,
            disable_keep_alives: false,
            max_idle_connections: 0,
            max_idle_connections_per_host: 250,
            idle_connection_timeout: None,
            response_header_timeout: None,
            expect_continue_timeout: None,
            tls: None,
            has_https_hosts: false,
            tls_slot: super::client_tls::ClientTlsSlot::default(),
        }
    }
}

/// `extra_config.router` (§5.4).
#[derive(Debug, Clone)]
pub struct RouterOptions {
    pub return_error_msg: bool,
    /// `error_body."404"`, already encoded in KrakenD's JSON wire form.
    pub error_body_404: Option<Vec<u8>>,
    /// `error_body."405"`, already encoded in KrakenD's JSON wire form.
    pub error_body_405: Option<Vec<u8>>,
    pub hide_version_header: bool,
    pub auto_options: bool,
    pub disable_redirect_trailing_slash: bool,
    pub disable_redirect_fixed_path: bool,
    pub disable_handle_method_not_allowed: bool,
    pub remove_extra_slash: bool,
    pub disable_path_decoding: bool,
    /// `health_path` (`/__health`).
    pub health_path: String,
    pub disable_health: bool,
    pub logger_skip_paths: Vec<String>,
    pub disable_access_log: bool,
    pub forwarded_by_client_ip: bool,
    /// Canonical header names (`X-Forwarded-For`, `X-Real-Ip`).
    pub remote_ip_headers: Vec<String>,
    /// `trusted_proxies`; empty = none trusted (the schema's default, see README).
    pub trusted_proxies: Vec<IpNet>,
    pub app_engine: bool,
}

impl Default for RouterOptions {
    fn default() -> Self {
        Self {
            return_error_msg: false,
            error_body_404: None,
            error_body_405: None,
            hide_version_header: false,
            auto_options: false,
            disable_redirect_trailing_slash: false,
            disable_redirect_fixed_path: false,
            disable_handle_method_not_allowed: false,
            remove_extra_slash: false,
            disable_path_decoding: false,
            health_path: "/__health".to_owned(),
            disable_health: false,
            logger_skip_paths: Vec::new(),
            disable_access_log: false,
            forwarded_by_client_ip: false,
            remote_ip_headers: vec!["X-Forwarded-For".to_owned(), "X-Real-Ip".to_owned()],
            trusted_proxies: Vec::new(),
            app_engine: false,
        }
    }
}

/// An IP network (`10.0.0.0/8`, or a bare address as a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    /// Whether `ip` lies in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// `server/static-filesystem` (EE): a static web server for paths under `prefix`, answered before the router.
#[derive(Debug, Clone)]
pub struct StaticFilesystem {
    /// URL prefix, e.g. `/media/`.
    pub prefix: String,
    /// Directory on disk (relative paths resolve against the working directory).
    pub path: std::path::PathBuf,
    /// Paths under the prefix that go to the router instead.
    pub skip: Vec<String>,
    pub directory_listing: bool,
}

/// HTTP methods an endpoint or backend may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
    Connect,
    Trace,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Connect => "CONNECT",
            Method::Trace => "TRACE",
        }
    }

    /// Parses an uppercase method name.
    pub fn parse(s: &str) -> Option<Method> {
        Some(match s {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            "OPTIONS" => Method::Options,
            "CONNECT" => Method::Connect,
            "TRACE" => Method::Trace,
            _ => return None,
        })
    }
}

/// Endpoint `output_encoding` (§15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputEncoding {
    Json,
    JsonCollection,
    Xml,
    Yaml,
    String,
    Negotiate,
    NoOp,
}

/// Backend `encoding` (§9.2). Unknown names (and EE's `fast-json`/`yaml`) decode as `Json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendEncoding {
    Json,
    SafeJson,
    Xml,
    Rss,
    String,
    NoOp,
}

/// One endpoint, with the service defaults it inherits already applied.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// The public path as written (`/users/{id}`), with a leading `/`.
    pub path: String,
    pub method: Method,
    /// Names of the `{vars}` in `path`, in order.
    pub params: Vec<String>,
    pub timeout: Duration,
    /// `cache_ttl`; zero = no `Cache-Control` header.
    pub cache_ttl: Duration,
    /// `concurrent_calls` (1–5).
    pub concurrent_calls: u8,
    /// `input_query_strings` as written (`*` = all).
    pub input_query_strings: Vec<String>,
    /// `input_headers`, canonicalised (`*` = all). Empty means only `Content-Type` (§8.2).
    pub input_headers: Vec<String>,
    pub output_encoding: OutputEncoding,
    /// The regular backends, in declaration order (shadow backends included, flagged).
    pub backends: Vec<BackendConfig>,
    /// The endpoint `extra_config`, namespaces normalised.
    pub extra_config: ExtraConfig,
}

/// One backend of an endpoint.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    pub url_pattern: UrlPattern,
    /// Sanitised hosts (`http://host:port`, no trailing slash), from the backend or the root `host`.
    pub hosts: Vec<String>,
    pub method: Method,
    pub encoding: BackendEncoding,
    pub is_collection: bool,
    /// `target` dot path, `None` when empty.
    pub target: Option<String>,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    /// `mapping` old → new, top-level keys.
    pub mapping: BTreeMap<String, String>,
    /// `group`, `None` when empty.
    pub group: Option<String>,
    /// Backend `input_headers` (canonicalised); empty = same as the endpoint.
    pub input_headers: Vec<String>,
    /// Backend `input_query_strings`; empty = same as the endpoint.
    pub input_query_strings: Vec<String>,
    /// `backend/http.return_error_code`.
    pub return_error_code: bool,
    /// `backend/http.return_error_details` alias.
    pub return_error_details: Option<String>,
    /// `proxy.shadow`.
    pub shadow: bool,
    /// `backend/static-filesystem.path`: read `url_pattern` from this directory instead of calling a host.
    pub static_filesystem: Option<std::path::PathBuf>,
    /// `qos/http-cache`: cache this backend's responses (§20); `None` when the namespace is absent.
    pub http_cache: Option<HttpCacheConfig>,
    /// The backend `extra_config`, namespaces normalised.
    pub extra_config: ExtraConfig,
}

/// Backend `qos/http-cache` (§20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpCacheConfig {
    /// `shared`: one bucket for every backend with `shared: true` (per worker, see `backend::cache`).
    pub shared: bool,
    /// `max_items` + `max_size` (bytes, approximate): an LRU-capped bucket; `None` = uncapped.
    pub caps: Option<CacheCaps>,
}

/// The LRU caps of a cache bucket; both are set or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheCaps {
    /// `max_items` (≥ 1).
    pub max_items: usize,
    /// `max_size` in bytes (≥ 1024), counted approximately (body + headers + key).
    pub max_size: usize,
}

impl BackendConfig {
    /// A backend with KrakenD's defaults for everything but its `url_pattern` and hosts: `GET`, `json`, no
    /// manipulation, no namespaces (tests and benches build on it, then set what they need).
    pub fn with_defaults(url_pattern: UrlPattern, hosts: Vec<String>) -> BackendConfig {
        BackendConfig {
            url_pattern,
            hosts,
            method: Method::Get,
            encoding: BackendEncoding::Json,
            is_collection: false,
            target: None,
            allow: Vec::new(),
            deny: Vec::new(),
            mapping: BTreeMap::new(),
            group: None,
            input_headers: Vec::new(),
            input_query_strings: Vec::new(),
            return_error_code: false,
            return_error_details: None,
            shadow: false,
            static_filesystem: None,
            http_cache: None,
            extra_config: ExtraConfig::new(),
        }
    }
}

/// A compiled `url_pattern`: literal pieces and placeholders, so building a URL is one pass with no parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPattern {
    /// The pattern as written (with a leading `/`), for logs and error texts.
    pub source: String,
    pub parts: Vec<UrlPart>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlPart {
    /// Literal text copied as is.
    Literal(String),
    /// `{name}`: the endpoint parameter at this index of `EndpointConfig::params`.
    Param(usize),
    /// `{respN_field.sub}` or `{JWT.claim}`, kept for the sequential proxy / JWT components.
    Dynamic(String),
}

//! The Enterprise `ip-filter` plugin (spec §3.9): allows (`allow: true`) or denies the client IPs in `CIDR`, for the
//! whole gateway (`plugin/http-server`, rejected with a router-layer `403`) or one endpoint
//! (`plugin/req-resp-modifier`, rejected as a proxy-layer error: `500`, or `403` with `return_error_code`).
//!
//! The client IP is the socket peer (at endpoint level: the client IP the gateway resolved, what it sends upstream
//! in `X-Forwarded-For`). Only when that address is one of `trusted_proxies` are `client_ip_headers` read, in order:
//! the first one present gives the IP, walking its list right to left past trusted proxies. An entry that is not an
//! IP makes the address unparseable, which passes in deny mode and is blocked in allow mode (as KrakenD documents).

use std::fmt;
use std::net::IpAddr;

use serde::Deserialize;
use smallvec::SmallVec;

use crate::config::host::{canonical_header, parse_ip_net};
use crate::config::raw::from_value;
use crate::config::{ExtraConfig, IpNet};
use crate::telemetry::logging;

/// The global placement: root `plugin/http-server`.
pub const SERVICE_NAMESPACE: &str = "plugin/http-server";
/// The endpoint placement: endpoint `plugin/req-resp-modifier`.
pub const ENDPOINT_NAMESPACE: &str = "plugin/req-resp-modifier";
/// The plugin's name in `name` and its config key.
pub const PLUGIN: &str = "ip-filter";

/// Headers read for the client IP when `client_ip_headers` is not set, in this order.
const DEFAULT_CLIENT_IP_HEADERS: [&str; 3] = ["X-Forwarded-For", "X-Real-Ip", "X-Appengine-Remote-Addr"];

/// The plugin's config as written.
#[derive(Debug, Deserialize)]
struct IpFilterConfig {
    /// Networks (or bare IPs) to allow or deny; required.
    #[serde(rename = "CIDR")]
    cidr: Option<Vec<String>>,
    /// `true` = only `CIDR` may pass; `false` (default) = `CIDR` is blocked.
    #[serde(default)]
    allow: bool,
    client_ip_headers: Option<Vec<String>>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
}

/// The `ip-filter` plugin, compiled.
#[derive(Debug)]
pub struct IpFilter {
    nets: Vec<IpNet>,
    allow: bool,
    /// Canonical header names.
    headers: Vec<String>,
    trusted: Vec<IpNet>,
}

/// The client address the filter decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAddr<'h> {
    Ip(IpAddr),
    /// Not an IP address: the text found.
    Unparseable(&'h str),
}

impl fmt::Display for ClientAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientAddr::Ip(ip) => ip.fmt(f),
            ClientAddr::Unparseable(text) => f.write_str(text),
        }
    }
}

/// The `ip-filter` of a plugin namespace (`{"name": ["ip-filter"], "ip-filter": {…}}`), if it lists it. Which plugin
/// names a namespace may list is checked in `config::support`.
pub fn from_plugin(extra: &ExtraConfig, namespace: &str) -> Result<Option<IpFilter>, String> {
    let Some(plugin) = extra.get(namespace) else { return Ok(None) };
    let listed = plugin.get("name").and_then(|n| n.as_array()).is_some_and(|names| names.iter().any(|n| n == PLUGIN));
    if !listed {
        return Ok(None);
    }
    let at = format!("{}.{PLUGIN}", super::key_path(namespace));
    let value = plugin.get(PLUGIN).ok_or_else(|| format!("{at}: missing (the plugin's settings: CIDR, allow, …)"))?;
    IpFilter::build(value, &at).map(Some)
}

impl IpFilter {
    /// `at` is the key path of the plugin's settings, for errors.
    pub fn build(value: &serde_json::Value, at: &str) -> Result<IpFilter, String> {
        let raw: IpFilterConfig = from_value(value.clone(), at)?;
        let cidr = raw.cidr.ok_or_else(|| format!("{at}.CIDR: missing (the networks to allow or deny)"))?;
        let nets = |list: &[String], key: &str| {
            list.iter()
                .enumerate()
                .map(|(i, text)| {
                    parse_ip_net(text.trim())
                        .ok_or_else(|| format!("{at}.{key}[{i}]: invalid IP address or CIDR '{text}'"))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(IpFilter {
            nets: nets(&cidr, "CIDR")?,
            allow: raw.allow,
            headers: match raw.client_ip_headers {
                Some(list) => list.iter().map(|h| canonical_header(h)).collect(),
                None => DEFAULT_CLIENT_IP_HEADERS.iter().map(|h| (*h).to_owned()).collect(),
            },
            trusted: nets(&raw.trusted_proxies, "trusted_proxies")?,
        })
    }

    /// The client address: `peer` (`None` when it is not an IP), or what `client_ip_headers` say when `peer` is a
    /// trusted proxy. `header_values(name)` gives every line of a header in order.
    pub fn client<'o, 'h, F, I>(&'o self, peer: Option<IpAddr>, header_values: F) -> ClientAddr<'h>
    where
        F: Fn(&'o str) -> I,
        I: Iterator<Item = &'h [u8]>,
    {
        let Some(peer) = peer.map(|p| p.to_canonical()) else { return ClientAddr::Unparseable("") };
        if !self.is_trusted(peer) {
            return ClientAddr::Ip(peer);
        }
        for name in &self.headers {
            let entries: SmallVec<[&str; 8]> = header_values(name)
                .filter(|v| !v.is_empty())
                .flat_map(|v| std::str::from_utf8(v).unwrap_or("\u{fffd}").split(','))
                .map(str::trim)
                .collect();
            let Some(first) = entries.first() else { continue };
            for entry in entries.iter().rev() {
                match entry.parse::<IpAddr>() {
                    Err(_) => return ClientAddr::Unparseable(entry),
                    Ok(ip) if !self.is_trusted(ip) => return ClientAddr::Ip(ip.to_canonical()),
                    Ok(_) => {}
                }
            }
            // Every entry is a trusted proxy: the left-most is the client.
            return first
                .parse::<IpAddr>()
                .map_or(ClientAddr::Unparseable(first), |ip| ClientAddr::Ip(ip.to_canonical()));
        }
        ClientAddr::Ip(peer)
    }

    /// Whether a request from `client` may pass.
    pub fn allows(&self, client: &ClientAddr<'_>) -> bool {
        match client {
            ClientAddr::Ip(ip) => self.nets.iter().any(|n| n.contains(*ip)) == self.allow,
            ClientAddr::Unparseable(_) => !self.allow,
        }
    }

    /// KrakenD's INFO line for a blocked request.
    pub fn log_block(&self, path: &str, client: &ClientAddr<'_>) {
        logging::info(&format!("[PLUGIN: {PLUGIN}] blocking access to endpoint {path} from IP {client}"));
    }

    /// The error text of an endpoint-level rejection (shown with `return_error_msg`).
    pub fn error_message(client: &ClientAddr<'_>) -> String {
        format!("ip-filter: access from IP {client} is not allowed")
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(ip.to_canonical()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(value: serde_json::Value) -> IpFilter {
        IpFilter::build(&value, "ip-filter").expect("valid config")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn client<'h>(f: &IpFilter, peer: &str, headers: &'h [(&'h str, &'h str)]) -> ClientAddr<'h> {
        f.client(Some(ip(peer)), |name| {
            let name = name.to_owned();
            headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(&name)).map(|(_, v)| v.as_bytes())
        })
    }

    #[test]
    fn allow_and_deny_modes() {
        let allow = filter(serde_json::json!({"CIDR": ["192.168.0.0/24", "127.0.0.1"], "allow": true}));
        assert!(allow.allows(&ClientAddr::Ip(ip("192.168.0.7"))));
        assert!(allow.allows(&ClientAddr::Ip(ip("127.0.0.1"))));
        assert!(!allow.allows(&ClientAddr::Ip(ip("10.0.0.1"))));
        assert!(!allow.allows(&ClientAddr::Unparseable("x")));
        let deny = filter(serde_json::json!({"CIDR": ["192.168.0.0/24"]}));
        assert!(!deny.allows(&ClientAddr::Ip(ip("192.168.0.7"))));
        assert!(deny.allows(&ClientAddr::Ip(ip("10.0.0.1"))));
        assert!(deny.allows(&ClientAddr::Unparseable("x")));
    }

    #[test]
    fn headers_only_from_trusted_proxies() {
        let f = filter(serde_json::json!({"CIDR": [], "trusted_proxies": ["10.0.0.0/8"]}));
        let h = [("X-Forwarded-For", "1.2.3.4, 10.0.0.2")];
        assert_eq!(client(&f, "9.9.9.9", &h), ClientAddr::Ip(ip("9.9.9.9")), "untrusted peer: headers ignored");
        assert_eq!(client(&f, "10.0.0.1", &h), ClientAddr::Ip(ip("1.2.3.4")));
        assert_eq!(client(&f, "10.0.0.1", &[("X-Real-Ip", "5.5.5.5")]), ClientAddr::Ip(ip("5.5.5.5")));
        assert_eq!(client(&f, "10.0.0.1", &[]), ClientAddr::Ip(ip("10.0.0.1")));
        assert_eq!(client(&f, "10.0.0.1", &[("X-Forwarded-For", "10.0.0.3")]), ClientAddr::Ip(ip("10.0.0.3")));
        assert_eq!(
            client(&f, "10.0.0.1", &[("X-Forwarded-For", "1.1.1.1, garbage")]),
            ClientAddr::Unparseable("garbage")
        );
    }

    #[test]
    fn custom_headers_in_order() {
        let f = filter(serde_json::json!({
            "CIDR": [], "trusted_proxies": ["127.0.0.1"], "client_ip_headers": ["x-user-ip", "X-MyCompany-Client-IP"]
        }));
        let h = [("X-Forwarded-For", "1.1.1.1"), ("X-Mycompany-Client-Ip", "2.2.2.2")];
        assert_eq!(client(&f, "127.0.0.1", &h), ClientAddr::Ip(ip("2.2.2.2")));
        let h = [("X-User-IP", "3.3.3.3"), ("X-Mycompany-Client-Ip", "2.2.2.2")];
        assert_eq!(client(&f, "127.0.0.1", &h), ClientAddr::Ip(ip("3.3.3.3")));
    }

    #[test]
    fn config_errors_name_the_key() {
        let e = IpFilter::build(&serde_json::json!({"allow": true}), "at").unwrap_err();
        assert_eq!(e, "at.CIDR: missing (the networks to allow or deny)");
        let e = IpFilter::build(&serde_json::json!({"CIDR": ["10.0.0.0/33"]}), "at").unwrap_err();
        assert_eq!(e, "at.CIDR[0]: invalid IP address or CIDR '10.0.0.0/33'");
        let e = IpFilter::build(&serde_json::json!({"CIDR": [], "trusted_proxies": ["x"]}), "at").unwrap_err();
        assert_eq!(e, "at.trusted_proxies[0]: invalid IP address or CIDR 'x'");
    }
}

//! The client IP (spec §5.6, gin's `Context.ClientIP`), used for the `X-Forwarded-For` sent upstream, the access log
//! and IP-keyed components.
//!
//! Project decision (§25 #7): the socket peer is the client unless `forwarded_by_client_ip` is on **and** the peer
//! is in `trusted_proxies`; an empty `trusted_proxies` trusts nobody (gin trusts everybody).

use crate::config::{IpNet, RouterOptions};
use std::fmt;
use std::net::IpAddr;

/// The header Google App Engine puts the client address in (`router.app_engine`).
pub const APP_ENGINE_HEADER: &str = "X-Appengine-Remote-Addr";

/// The resolved client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientIp<'h> {
    /// The socket peer (IPv4-mapped IPv6 addresses shown as IPv4, as Go does).
    Peer(IpAddr),
    /// An address from a forwarding header, as written (trimmed); always a valid IP.
    Forwarded(&'h str),
    /// `X-Appengine-Remote-Addr` as sent; gin does not validate it.
    AppEngine(&'h str),
}

impl ClientIp<'_> {
    /// The address as an IP, when it is one (`AppEngine` values may not be).
    pub fn ip(&self) -> Option<IpAddr> {
        match *self {
            ClientIp::Peer(ip) => Some(ip),
            ClientIp::Forwarded(s) | ClientIp::AppEngine(s) => s.parse::<IpAddr>().ok().map(|ip| ip.to_canonical()),
        }
    }
}

impl fmt::Display for ClientIp<'_> {
    /// The text gin's `ClientIP()` returns (what goes into the upstream `X-Forwarded-For`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientIp::Peer(ip) => ip.fmt(f),
            ClientIp::Forwarded(s) | ClientIp::AppEngine(s) => f.write_str(s),
        }
    }
}

/// Resolves the client IP of a request from `peer` (the socket's remote address) and its headers.
///
/// `header_values(name)` returns every value of the header `name` (matched case-insensitively; names come from
/// `remote_ip_headers`, already canonical, and [`APP_ENGINE_HEADER`]) in the order received. Several lines of one
/// header count as their values joined with `,`, as the spec says. Nothing is allocated.
pub fn client_ip<'o, 'h, F, I>(opts: &'o RouterOptions, peer: IpAddr, header_values: F) -> ClientIp<'h>
where
    F: Fn(&'o str) -> I,
    I: IntoIterator<Item = &'h str>,
{
    if opts.app_engine {
        // gin reads `Header.Get`: the first line, if it is not empty.
        if let Some(addr) = header_values(APP_ENGINE_HEADER).into_iter().next().filter(|v| !v.is_empty()) {
            return ClientIp::AppEngine(addr);
        }
    }
    let peer = peer.to_canonical();
    if opts.forwarded_by_client_ip && is_trusted(&opts.trusted_proxies, peer) {
        for name in &opts.remote_ip_headers {
            if let Some(ip) = from_header(&opts.trusted_proxies, header_values(name.as_str())) {
                return ClientIp::Forwarded(ip);
            }
        }
    }
    ClientIp::Peer(peer)
}

fn is_trusted(trusted: &[IpNet], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    trusted.iter().any(|net| net.contains(ip))
}

/// gin's `validateHeader` over the joined values: walking the entries right to left, stop at the first one that is
/// not an IP (the header is invalid) and return the first one that is not a trusted proxy, or the left-most entry
/// when all are trusted. Computed in one left-to-right pass, so header storage need not iterate backwards.
fn from_header<'h>(trusted: &[IpNet], values: impl IntoIterator<Item = &'h str>) -> Option<&'h str> {
    let mut any = false;
    let mut seen_invalid = false;
    let mut first: Option<&'h str> = None;
    // The right-most untrusted IP after the last invalid entry.
    let mut untrusted: Option<&'h str> = None;
    for value in values {
        for entry in value.split(',') {
            let entry = entry.trim_matches(|c: char| c.is_ascii_whitespace());
            if !any {
                first = Some(entry);
                any = true;
            }
            match entry.parse::<IpAddr>() {
                Ok(ip) => {
                    if !is_trusted(trusted, ip) {
                        untrusted = Some(entry);
                    }
                }
                Err(_) => {
                    seen_invalid = true;
                    untrusted = None;
                }
            }
        }
    }
    // An absent header is Go's "" (invalid); a present one with no invalid entry falls back to its left-most entry.
    untrusted.or(if seen_invalid { None } else { first })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn net(s: &str) -> IpNet {
        let (addr, prefix) = s.split_once('/').unwrap_or((s, if s.contains(':') { "128" } else { "32" }));
        IpNet { addr: addr.parse().unwrap(), prefix: prefix.parse().unwrap() }
    }

    fn opts(forwarded: bool, trusted: &[&str]) -> RouterOptions {
        RouterOptions {
            forwarded_by_client_ip: forwarded,
            trusted_proxies: trusted.iter().map(|s| net(s)).collect(),
            ..RouterOptions::default()
        }
    }

    fn lookup<'h>(headers: &'h [(&'h str, &'h str)]) -> impl Fn(&str) -> Vec<&'h str> + 'h {
        move |name| headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ac_44_doc_example() {
        let o =
            RouterOptions { remote_ip_headers: vec!["X-Forwarded-For".to_owned()], ..opts(true, &["172.16.0.1/12"]) };
        let h = [("X-Forwarded-For", "1.2.3.4,172.20.0.1")];
        let got = client_ip(&o, ip("172.20.0.1"), lookup(&h));
        assert_eq!(got, ClientIp::Forwarded("1.2.3.4"));
        assert_eq!(got.to_string(), "1.2.3.4");
        assert_eq!(got.ip(), Some(ip("1.2.3.4")));
    }

    #[test]
    fn walks_right_to_left_skipping_trusted() {
        // A,B,C,D with C and D trusted → B.
        let o = opts(true, &["10.0.0.3", "10.0.0.4", "192.168.0.1"]);
        let h = [("x-forwarded-for", "10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4")];
        assert_eq!(client_ip(&o, ip("192.168.0.1"), lookup(&h)), ClientIp::Forwarded("10.0.0.2"));
        // All trusted → the left-most entry.
        let o = opts(true, &["10.0.0.0/8", "192.168.0.1"]);
        assert_eq!(client_ip(&o, ip("192.168.0.1"), lookup(&h)), ClientIp::Forwarded("10.0.0.1"));
    }

    #[test]
    fn multiple_lines_are_joined() {
        let o = opts(true, &["10.0.0.0/8"]);
        let h = [("X-Forwarded-For", "1.1.1.1, 2.2.2.2"), ("X-Forwarded-For", "10.0.0.9")];
        assert_eq!(client_ip(&o, ip("10.0.0.1"), lookup(&h)), ClientIp::Forwarded("2.2.2.2"));
    }

    #[test]
    fn invalid_entries_stop_the_walk() {
        let o = opts(true, &["10.0.0.0/8"]);
        // Invalid entry to the left of an untrusted IP: that IP is still found first.
        let h = [("X-Forwarded-For", "garbage, 3.3.3.3, 10.0.0.2")];
        assert_eq!(client_ip(&o, ip("10.0.0.1"), lookup(&h)), ClientIp::Forwarded("3.3.3.3"));
        // Invalid entry reached before any untrusted IP: header invalid → next header (X-Real-Ip).
        let h = [("X-Forwarded-For", "3.3.3.3, garbage, 10.0.0.2"), ("X-Real-Ip", "4.4.4.4")];
        assert_eq!(client_ip(&o, ip("10.0.0.1"), lookup(&h)), ClientIp::Forwarded("4.4.4.4"));
        // Empty header → invalid → peer.
        let h = [("X-Forwarded-For", "")];
        assert_eq!(client_ip(&o, ip("10.0.0.1"), lookup(&h)), ClientIp::Peer(ip("10.0.0.1")));
        // Trailing comma → empty last entry → invalid.
        let h = [("X-Forwarded-For", "5.5.5.5,")];
        assert_eq!(client_ip(&o, ip("10.0.0.1"), lookup(&h)), ClientIp::Peer(ip("10.0.0.1")));
    }

    #[test]
    fn untrusted_peer_or_flag_off_gives_peer() {
        let h = [("X-Forwarded-For", "1.2.3.4")];
        // Project default: flag off, nobody trusted.
        let o = RouterOptions::default();
        assert_eq!(client_ip(&o, ip("10.0.0.1"), lookup(&h)), ClientIp::Peer(ip("10.0.0.1")));
        // Flag on but empty trusted_proxies: nobody trusted.
        let o = opts(true, &[]);
        assert_eq!(client_ip(&o, ip("10.0.0.1"), lookup(&h)), ClientIp::Peer(ip("10.0.0.1")));
        // Trusted but flag off.
        let o = opts(false, &["10.0.0.0/8"]);
        assert_eq!(client_ip(&o, ip("10.0.0.1"), lookup(&h)), ClientIp::Peer(ip("10.0.0.1")));
        // Peer outside the trusted range.
        let o = opts(true, &["10.0.0.0/8"]);
        assert_eq!(client_ip(&o, ip("11.0.0.1"), lookup(&h)), ClientIp::Peer(ip("11.0.0.1")));
    }

    #[test]
    fn ipv4_mapped_peer_is_canonical() {
        let o = opts(true, &["10.0.0.0/8"]);
        let h = [("X-Real-Ip", "1.2.3.4")];
        let mapped = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped());
        assert_eq!(client_ip(&o, mapped, lookup(&h)), ClientIp::Forwarded("1.2.3.4"));
        let got = client_ip(&o, IpAddr::V6(Ipv4Addr::new(8, 8, 8, 8).to_ipv6_mapped()), lookup(&h));
        assert_eq!(got.to_string(), "8.8.8.8");
    }

    #[test]
    fn app_engine() {
        let h = [("X-Appengine-Remote-Addr", "9.9.9.9"), ("X-Forwarded-For", "1.2.3.4")];
        let o = RouterOptions { app_engine: true, ..RouterOptions::default() };
        assert_eq!(client_ip(&o, ip("10.0.0.1"), lookup(&h)), ClientIp::AppEngine("9.9.9.9"));
        let h = [("X-Appengine-Remote-Addr", "")];
        assert_eq!(client_ip(&o, ip("10.0.0.1"), lookup(&h)), ClientIp::Peer(ip("10.0.0.1")));
        let o = RouterOptions::default();
        let h = [("X-Appengine-Remote-Addr", "9.9.9.9")];
        assert_eq!(client_ip(&o, ip("10.0.0.1"), lookup(&h)), ClientIp::Peer(ip("10.0.0.1")));
    }
}

//! Backend host sanitization (§7.2), IP networks for `trusted_proxies`, and canonical header names.

use super::model::IpNet;
use std::net::IpAddr;

/// Sanitizes one backend host the way Lura does: `(https?://)?([a-zA-Z0-9._-]+)(:[0-9]{2,6})?/?`, scheme defaulting
/// to `http://`, trailing slash dropped.
///
/// Lura runs the regex unanchored and requires exactly one match; we require the whole string to match, which
/// rejects the same hosts (paths, IPv6 literals, other schemes) and also stray characters Lura would drop.
pub fn sanitize_host(host: &str) -> Option<String> {
    let (scheme, rest) = if let Some(rest) = host.strip_prefix("https://") {
        ("https://", rest)
    } else if let Some(rest) = host.strip_prefix("http://") {
        ("http://", rest)
    } else {
        ("http://", host)
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (name, port) = match rest.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (rest, None),
    };
    let name_ok =
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    let port_ok = port.is_none_or(|p| (2..=6).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    if !name_ok || !port_ok {
        return None;
    }
    Some(match port {
        Some(port) => format!("{scheme}{name}:{port}"),
        None => format!("{scheme}{name}"),
    })
}

/// Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or /128 network).
pub fn parse_ip_net(text: &str) -> Option<IpNet> {
    let (addr, prefix) = match text.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (text, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse::<u8>().ok()?,
        Some(_) => return None,
        None => max,
    };
    (prefix <= max).then_some(IpNet { addr, prefix })
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: `ACCept-enCODING` → `Accept-Encoding`. Names with characters that are
/// not valid in a header token (and `*`, which has no letters) come back unchanged.
pub fn canonical_header(name: &str) -> String {
    let valid = name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return name.to_owned();
    }
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
            upper = c == '-';
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_hosts_like_lura() {
        assert_eq!(sanitize_host("localhost:8080").as_deref(), Some("http://localhost:8080"));
        assert_eq!(sanitize_host("https://api.example.com/").as_deref(), Some("https://api.example.com"));
        assert_eq!(sanitize_host("http://a_b-c.d").as_deref(), Some("http://a_b-c.d"));
        for bad in ["http://example.com/api", "[::1]", "amqp://x", "ws://x", "", "host:1", "host:1234567", "h st"] {
            assert_eq!(sanitize_host(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_networks() {
        let net = parse_ip_net("10.0.0.0/8").expect("valid cidr");
        assert!(net.contains("10.1.2.3".parse().expect("ip")));
        assert_eq!(parse_ip_net("1.2.3.4").map(|n| n.prefix), Some(32));
        assert_eq!(parse_ip_net("::1").map(|n| n.prefix), Some(128));
        for bad in ["10.0.0.0/33", "10.0.0/8", "x", "1.2.3.4/", "::/129"] {
            assert_eq!(parse_ip_net(bad), None, "{bad}");
        }
    }

    #[test]
    fn canonicalises_header_names() {
        assert_eq!(canonical_header("ACCept-enCODING"), "Accept-Encoding");
        assert_eq!(canonical_header("x-real-ip"), "X-Real-Ip");
        assert_eq!(canonical_header("*"), "*");
        assert_eq!(canonical_header("bad header"), "bad header");
    }
}

//! A backend host parsed once at start-up: scheme, the `Host` header value and the socket address to dial.

use std::net::{SocketAddr, ToSocketAddrs};

/// One entry of a backend's `host` list.
#[derive(Debug, Clone)]
pub struct Target {
    /// The host as configured (`http://127.0.0.1:8080`), used to build URLs for logs, `Referer` and error texts.
    pub base: String,
    pub tls: bool,
    /// `host[:port]` as the `Host` header carries it (the port omitted when it is the scheme's default).
    pub authority: String,
    /// Host name and port to dial.
    pub host: String,
    pub port: u16,
    /// The address resolved at start-up; `None` when resolution failed then (retried per call).
    pub addr: Option<SocketAddr>,
}

impl Target {
    /// Parses `scheme://host[:port]` (a missing scheme means `http`). Resolves names once, here, so that request
    /// time never blocks a worker on DNS.
    pub fn parse(base: &str) -> Result<Target, String> {
        let (tls, rest) = if let Some(r) = base.strip_prefix("http://") {
            (false, r)
        } else if let Some(r) = base.strip_prefix("https://") {
            (true, r)
        } else if base.contains("://") {
            return Err(format!("host {base}: only http:// and https:// backends are supported"));
        } else {
            (false, base)
        };
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') {
            return Err(format!("host {base}: invalid host"));
        }
        let default_port = if tls { 443 } else { 80 };
        let (host, port) = split_host_port(rest).ok_or_else(|| format!("host {base}: invalid port"))?;
        let port = port.unwrap_or(default_port);
        let authority = if port == default_port { host.to_owned() } else { rest.to_owned() };
        let host_only = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let addr = resolve(&host_only, port);
        Ok(Target {
            base: format!("{}://{}", if tls { "https" } else { "http" }, rest),
            tls,
            authority,
            host: host_only,
            port,
            addr,
        })
    }

    /// The address to dial, resolving again if start-up could not.
    pub fn socket_addr(&self) -> std::io::Result<SocketAddr> {
        match self.addr {
            Some(a) => Ok(a),
            None => resolve(&self.host, self.port).ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, format!("lookup {}: no such host", self.host))
            }),
        }
    }
}

fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    if s.starts_with('[') {
        let end = s.find(']')?;
        let host = &s[..=end];
        return match &s[end + 1..] {
            "" => Some((host, None)),
            p => Some((host, Some(p.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match s.rsplit_once(':') {
        Some((h, p)) => Some((h, Some(p.parse().ok()?))),
        None => Some((s, None)),
    }
}

/// Resolves preferring IPv4, as most backends listen there and Go's dialer tries it first for `localhost`.
fn resolve(host: &str, port: u16) -> Option<SocketAddr> {
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs().ok()?.collect();
    addrs.iter().find(|a| a.is_ipv4()).or(addrs.first()).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts() {
        let t = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(t.authority, "127.0.0.1:8080");
        assert_eq!(t.port, 8080);
        assert_eq!(t.addr.unwrap().to_string(), "127.0.0.1:8080");
        let t = Target::parse("localhost").unwrap();
        assert_eq!((t.authority.as_str(), t.port, t.tls), ("localhost", 80, false));
        let t = Target::parse("https://127.0.0.1:443/").unwrap();
        assert_eq!((t.authority.as_str(), t.tls, t.base.as_str()), ("127.0.0.1", true, "https://127.0.0.1:443"));
        assert!(Target::parse("amqp://x").is_err());
        assert!(Target::parse("http://x/api").is_err());
        assert!(Target::parse("http://x:notaport").is_err());
    }
}

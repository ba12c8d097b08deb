//! TLS termination (the root `tls` block): the rustls server configuration built once at start-up from the PEM
//! files, a per-core copy of it for each worker, and the handshake of one accepted connection.
//!
//! Certificate choice follows Go's `crypto/tls` as KrakenD uses it: one pair is always served; with several, the
//! first (in `keys` order) whose leaf suits the ClientHello (valid for the SNI name, key usable with the client's
//! signature schemes), else the first. Session resumption: each core keeps its own session-ID cache, and all cores
//! share one ticket key (rustls' `Ticketer`, behind a lock taken only while a handshake issues or opens a ticket),
//! so a client that reconnects to another core still resumes.

use std::io::Cursor;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use monoio::io::{AsyncWriteRentExt, PrefixedReadIo};
use monoio::net::TcpStream;
use monoio_rustls::TlsAcceptor;
use rustls::crypto::{aws_lc_rs, CryptoProvider, SupportedKxGroup};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::{
    ClientHello, ParsedCertificate, ResolvesServerCert, ServerSessionMemoryCache, WebPkiClientVerifier,
};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig, SupportedCipherSuite, SupportedProtocolVersion};

use super::stream::ClientStream;
use crate::config::server_tls::{KeyPair, TlsSettings, TlsVersion, TLS13_SUITES};
use crate::telemetry::logging;

/// TLS session-ID cache entries per core (TLS 1.2 resumption without tickets).
const SESSION_CACHE_PER_CORE: usize = 4096;

/// What Go's server answers to plain HTTP on a TLS port, before closing.
const HTTP_ON_HTTPS: &[u8] = b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// ALPN protocols offered, most preferred first.
pub const ALPN_H2: &[u8] = b"h2";
const ALPN_HTTP11: &[u8] = b"http/1.1";

/// Builds the server configuration shared by the workers, reading every file: the start-up errors for missing,
/// unreadable, malformed or mismatched keys come from here, each naming its key and file.
pub fn server_config(settings: &TlsSettings) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(provider(settings));
    let mut keys = Vec::with_capacity(settings.keys.len());
    for (i, pair) in settings.keys.iter().enumerate() {
        keys.push(Arc::new(load_pair(pair, i, &provider)?));
    }
    let versions = versions(settings.min_version, settings.max_version);
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| format!("tls: {e}"))?;
    let builder = if settings.enable_mtls {
        let roots = client_roots(settings, &keys)?;
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| format!("tls.enable_mtls: {e}"))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder.with_cert_resolver(Arc::new(CertChoice { keys }));
    config.ticketer = aws_lc_rs::Ticketer::new().map_err(|e| format!("tls: session tickets: {e}"))?;
    config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
    Ok(Arc::new(config))
}

/// A worker's own acceptor: the shared configuration with a session cache of its own.
pub struct Acceptor(TlsAcceptor);

impl Acceptor {
    pub fn for_core(shared: &ServerConfig) -> Acceptor {
        let mut config = shared.clone();
        config.session_storage = ServerSessionMemoryCache::new(SESSION_CACHE_PER_CORE);
        Acceptor(TlsAcceptor::from(config))
    }
}

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Acceptor")
    }
}

/// The crypto provider restricted to the configured TLS 1.2 suites and curves. TLS 1.3 suites are always all on, as
/// in Go.
fn provider(settings: &TlsSettings) -> CryptoProvider {
    let mut provider = aws_lc_rs::default_provider();
    provider.cipher_suites = cipher_suites(settings.cipher_suites.as_deref());
    provider.kx_groups = kx_groups(settings.curve_preferences.as_deref());
    provider
}

/// TLS 1.3 suites plus the listed TLS 1.2 ones (all six ECDHE suites when unset), in rustls' preference order.
pub fn cipher_suites(tls12: Option<&[u16]>) -> Vec<SupportedCipherSuite> {
    aws_lc_rs::ALL_CIPHER_SUITES
        .iter()
        .filter(|s| {
            let id = u16::from(s.suite());
            TLS13_SUITES.contains(&id) || tls12.is_none_or(|list| list.contains(&id))
        })
        .copied()
        .collect()
}

/// Key exchange groups by Go `CurveID`, in the listed order; unset = P-256 and P-384 (KrakenD offers no X25519
/// unless listed; P-521 is not in rustls).
pub fn kx_groups(curves: Option<&[u16]>) -> Vec<&'static dyn SupportedKxGroup> {
    let ids = curves.unwrap_or(&[23, 24]);
    ids.iter()
        .filter_map(|id| -> Option<&'static dyn SupportedKxGroup> {
            match id {
                23 => Some(aws_lc_rs::kx_group::SECP256R1),
                24 => Some(aws_lc_rs::kx_group::SECP384R1),
                29 => Some(aws_lc_rs::kx_group::X25519),
                4588 => Some(aws_lc_rs::kx_group::X25519MLKEM768),
                _ => None,
            }
        })
        .collect()
}

/// The protocol versions between `min` and `max` (validated: `min <= max`).
pub fn versions(min: TlsVersion, max: TlsVersion) -> Vec<&'static SupportedProtocolVersion> {
    let mut v = Vec::with_capacity(2);
    if max >= TlsVersion::Tls13 {
        v.push(&rustls::version::TLS13);
    }
    if min <= TlsVersion::Tls12 {
        v.push(&rustls::version::TLS12);
    }
    v
}

fn read_file(path: &str, key: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{key}: open {path}: {e}"))
}

/// Every certificate in a PEM file.
pub fn load_certs(path: &str, key: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read_file(path, key)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{key}: {path}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{key}: {path}: no certificate found in the PEM data"));
    }
    Ok(certs)
}

fn load_pair(pair: &KeyPair, index: usize, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let place = if pair.legacy { "tls".to_owned() } else { format!("tls.keys[{index}]") };
    let certs = load_certs(&pair.public_key, &format!("{place}.public_key"))?;
    let key_pem = read_file(&pair.private_key, &format!("{place}.private_key"))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| format!("{place}.private_key: {}: {e}", pair.private_key))?;
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("{place}.private_key: {}: {e}", pair.private_key))?;
    let certified = CertifiedKey::new(certs, signing);
    certified.keys_match().map_err(|_| {
        format!("{place}: tls: private key does not match public key ({} and {})", pair.public_key, pair.private_key)
    })?;
    Ok(certified)
}

/// The client-certificate trust pool of mTLS: the system pool (unless disabled), `ca_certs`, and the server's own
/// `keys` certificates (not the legacy pair), as lura builds it.
fn client_roots(settings: &TlsSettings, keys: &[Arc<CertifiedKey>]) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    if !settings.disable_system_ca_pool {
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
    }
    for path in &settings.ca_certs {
        // KrakenD logs an unreadable CA file and goes on.
        match load_certs(path, "tls.ca_certs") {
            Ok(certs) => {
                roots.add_parsable_certificates(certs);
            }
            Err(e) => logging::error(&format!("[SERVICE: HTTP Server] Cannot load certificate CA {path}: {e}")),
        }
    }
    for (pair, key) in settings.keys.iter().zip(keys) {
        if !pair.legacy {
            roots.add_parsable_certificates(key.cert.iter().cloned());
        }
    }
    if roots.is_empty() {
        return Err("tls.enable_mtls: no certificate authority to verify client certificates with (ca_certs \
                    unreadable and disable_system_ca_pool set)"
            .to_owned());
    }
    Ok(roots)
}

/// Picks the certificate for a handshake (see the module doc).
#[derive(Debug)]
struct CertChoice {
    keys: Vec<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for CertChoice {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if self.keys.len() > 1 {
            if let Some(found) = self.keys.iter().find(|k| suits(k, &hello)) {
                return Some(found.clone());
            }
        }
        self.keys.first().cloned()
    }
}

fn suits(key: &CertifiedKey, hello: &ClientHello<'_>) -> bool {
    if key.key.choose_scheme(hello.signature_schemes()).is_none() {
        return false;
    }
    let Some(sni) = hello.server_name() else { return true };
    let (Some(leaf), Ok(name)) = (key.cert.first(), ServerName::try_from(sni)) else { return false };
    ParsedCertificate::try_from(leaf).is_ok_and(|parsed| rustls::client::verify_server_name(&parsed, &name).is_ok())
}

/// Handshakes one accepted connection, giving up at `deadline`. Plain HTTP gets Go's one-line 400 and the
/// connection is closed; anything else that is not TLS is closed without a word. `None` when the connection ends
/// here.
pub async fn handshake(
    acceptor: &Acceptor,
    mut tcp: TcpStream,
    peer: SocketAddr,
    deadline: Option<Instant>,
) -> Option<ClientStream> {
    // A TLS record header is 5 bytes; Go looks at exactly those to recognise plain HTTP.
    let mut first = BytesMut::with_capacity(1024);
    while first.len() < 5 && first.first().is_none_or(|&b| b != 0x16) {
        match super::body::fill(&mut tcp, &mut first, deadline).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
    if first[0] != 0x16 {
        if looks_like_http(&first) {
            let _ = tcp.write_all(HTTP_ON_HTTPS).await;
        }
        return None;
    }
    let io = PrefixedReadIo::new(tcp, Cursor::new(first.freeze()));
    let accept = acceptor.0.accept(io);
    let result = match deadline {
        Some(d) => match monoio::time::timeout_at(d.into(), accept).await {
            Ok(r) => r,
            Err(_) => return None,
        },
        None => accept.await,
    };
    match result {
        Ok(tls) => Some(ClientStream::Tls(Box::new(tls))),
        Err(e) => {
            if logging::enabled(logging::Level::Debug) {
                logging::debug(&format!("http: TLS handshake error from {peer}: {e}"));
            }
            None
        }
    }
}

/// Go's `tlsRecordHeaderLooksLikeHTTP`.
fn looks_like_http(header: &[u8]) -> bool {
    let Some(start) = header.get(..5) else { return false };
    matches!(start, b"GET /" | b"HEAD " | b"POST " | b"PUT /" | b"OPTIO")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_recognised_like_go() {
        assert!(looks_like_http(b"GET / HTTP/1.1"));
        assert!(looks_like_http(b"OPTIONS * HTTP/1.1"));
        assert!(!looks_like_http(b"DELETE /x"));
        assert!(!looks_like_http(b"GET"));
    }

    #[test]
    fn suites_keep_tls13_and_filter_tls12() {
        let all = cipher_suites(None);
        assert_eq!(all.len(), 9);
        let only13 = cipher_suites(Some(&[4865]));
        assert_eq!(only13.len(), 3);
        let some12 = cipher_suites(Some(&[49199, 5]));
        assert_eq!(some12.len(), 4);
    }

    #[test]
    fn versions_between_bounds() {
        assert_eq!(versions(TlsVersion::Tls13, TlsVersion::Tls13).len(), 1);
        assert_eq!(versions(TlsVersion::Tls12, TlsVersion::Tls13).len(), 2);
        assert_eq!(versions(TlsVersion::Tls12, TlsVersion::Tls12)[0].version, rustls::ProtocolVersion::TLSv1_2);
    }

    #[test]
    fn default_curves_are_krakends_less_p521() {
        let names: Vec<_> = kx_groups(None).iter().map(|g| g.name()).collect();
        assert_eq!(names, vec![rustls::NamedGroup::secp256r1, rustls::NamedGroup::secp384r1]);
        assert_eq!(kx_groups(Some(&[29, 25])).len(), 1);
    }
}

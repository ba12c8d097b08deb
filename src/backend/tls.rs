//! Client TLS to `https://` backends: the process's one `rustls::ClientConfig`, built from `client_tls` at start-up
//! and shared read-only by every worker, which does its own handshakes and keeps its own pool of TLS connections.
//!
//! Session resumption is off: Go's client (KrakenD) has no session cache unless one is configured, and rustls's
//! cache would be a `Mutex` shared by every core.

use std::io;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ResolvesClientCert, Resumption, WebPkiServerVerifier};
use rustls::crypto::{aws_lc_rs, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::client_tls::ClientTls;
use crate::config::HttpClientConfig;
// The server's rules for suites, curves and versions, so that `tls` and `client_tls` mean the same.
use crate::server::tls::{cipher_suites, kx_groups, load_certs};
use crate::telemetry::logging;

/// Log prefix of the start-up messages about CA files and client certificates.
const LOG_PREFIX: &str = "[SERVICE: HTTP Client]";

/// The shared client config, built on first use (at start-up when some backend is `https://` or `client_tls` is
/// set, see `Client::new`). An error means no handshake can ever succeed: it is logged once, and every https call
/// reports it.
pub fn client_config(http: &HttpClientConfig) -> Result<Arc<ClientConfig>, String> {
    let built = http.tls_slot.0.get_or_init(|| {
        let built = build(http.tls.as_ref());
        if let Err(e) = &built {
            logging::error(&format!("{LOG_PREFIX} client_tls: {e}"));
        }
        built
    });
    built.clone()
}

/// Builds the rustls config: rustls's defaults without `client_tls` (TLS 1.2–1.3, its suites and groups, the system
/// pool), KrakenD's `client_tls` semantics with it.
pub fn build(settings: Option<&ClientTls>) -> Result<Arc<ClientConfig>, String> {
    let mut provider = aws_lc_rs::default_provider();
    let mut versions = rustls::DEFAULT_VERSIONS.to_vec();
    if let Some(s) = settings {
        if s.min_version > s.max_version {
            // Go's words for a MinVersion above MaxVersion.
            return Err("tls: no supported versions satisfy MinVersion and MaxVersion".to_owned());
        }
        versions = crate::server::tls::versions(s.min_version, s.max_version);
        provider.cipher_suites = cipher_suites(s.cipher_suites.as_deref());
        provider.kx_groups = kx_groups(s.curve_preferences.as_deref());
    }
    let algorithms = provider.signature_verification_algorithms;
    let provider = Arc::new(provider);
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| format!("tls: {e}"))?;
    let verifier = if settings.is_some_and(|s| s.allow_insecure_connections) {
        Verifier { webpki: None, trusted: Vec::new(), algorithms }
    } else {
        let (roots, trusted) = roots(settings);
        let roots = Arc::new(roots);
        match WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone()).build() {
            Ok(webpki) => Verifier { webpki: Some(webpki), trusted, algorithms },
            // An empty pool makes no webpki verifier; rustls's own then refuses every certificate (unknown issuer).
            Err(_) => return Ok(finish(builder.with_root_certificates(roots), settings, &provider)),
        }
    };
    Ok(finish(builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)), settings, &provider))
}

/// Adds the client certificates and turns session resumption off.
fn finish(
    builder: rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>,
    settings: Option<&ClientTls>,
    provider: &CryptoProvider,
) -> Arc<ClientConfig> {
    let certs = settings.map(|s| client_certs(s, provider)).unwrap_or_default();
    let mut config = if certs.is_empty() {
        builder.with_no_client_auth()
    } else {
        builder.with_client_cert_resolver(Arc::new(ClientCerts(certs)))
    };
    config.resumption = Resumption::disabled();
    Arc::new(config)
}

/// The system pool (unless `disable_system_ca_pool`) plus `ca_certs`, and the certificates themselves (see
/// [`Verifier`]). Missing or unreadable files are logged and skipped, as KrakenD does; an empty pool is allowed
/// (every verification then fails with an unknown issuer).
fn roots(settings: Option<&ClientTls>) -> (RootCertStore, Vec<CertificateDer<'static>>) {
    let mut roots = RootCertStore::empty();
    let mut trusted = Vec::new();
    if !settings.is_some_and(|s| s.disable_system_ca_pool) {
        let native = rustls_native_certs::load_native_certs();
        for e in &native.errors {
            logging::warn(&format!("{LOG_PREFIX} system CA pool: {e}"));
        }
        trusted.extend(native.certs.iter().cloned());
        let (added, _) = roots.add_parsable_certificates(native.certs);
        if added == 0 {
            logging::warn(&format!(
                "{LOG_PREFIX} no system CA certificates found; only client_tls.ca_certs are trusted"
            ));
        }
    }
    for path in settings.map_or(&[][..], |s| &s.ca_certs) {
        match load_certs(path, "client_tls.ca_certs") {
            Ok(certs) => {
                trusted.extend(certs.iter().cloned());
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    logging::warn(&format!("{LOG_PREFIX} no usable CA certificate in {path}"));
                }
            }
            Err(e) => logging::error(&format!("{LOG_PREFIX} Cannot load certificate CA {path}: {e}")),
        }
    }
    (roots, trusted)
}

/// `client_certs` that load; the others are logged and skipped, as KrakenD does.
fn client_certs(settings: &ClientTls, provider: &CryptoProvider) -> Vec<Arc<CertifiedKey>> {
    let mut out = Vec::new();
    for pair in &settings.client_certs {
        let loaded = load_certs(&pair.certificate, "client_tls.client_certs").and_then(|chain| {
            let pem = std::fs::read(&pair.private_key).map_err(|e| format!("open {}: {e}", pair.private_key))?;
            let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| format!("{}: {e}", pair.private_key))?;
            let signer = provider.key_provider.load_private_key(key).map_err(|e| e.to_string())?;
            let certified = CertifiedKey::new(chain, signer);
            certified.keys_match().map_err(|_| "tls: private key does not match public key".to_owned())?;
            Ok(certified)
        });
        match loaded {
            Ok(c) => out.push(Arc::new(c)),
            Err(e) => logging::error(&format!(
                "{LOG_PREFIX} Cannot load client certificate {} / {}: {e}",
                pair.certificate, pair.private_key
            )),
        }
    }
    out
}

/// The name the certificate is checked against and SNI carries: the URL's host (an IP address gets no SNI and is
/// matched against the certificate's IP addresses).
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_owned()).map_err(|_| format!("tls: invalid server name {host:?}"))
}

/// A handshake failure in Go's words where they are well known (they reach clients with `return_error_msg`), else
/// rustls's text.
pub fn handshake_error(e: &io::Error) -> String {
    error_text(e).unwrap_or_else(|| format!("tls: handshake: {e}"))
}

/// The text of a TLS error carried by an `io::Error` (handshake, or an alert read later: a TLS 1.3 server checks
/// the client certificate after the client has finished); `None` for plain IO errors.
pub fn error_text(e: &io::Error) -> Option<String> {
    use rustls::CertificateError as C;
    let tls = e.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(match tls {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => {
            "tls: failed to verify certificate: x509: certificate signed by unknown authority".to_owned()
        }
        rustls::Error::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => "tls: failed to verify certificate: x509: certificate has expired or is not yet valid".to_owned(),
        rustls::Error::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            format!("tls: failed to verify certificate: x509: {tls}")
        }
        rustls::Error::AlertReceived(alert) => format!("remote error: tls: {}", words(&format!("{alert:?}"))),
        other => format!("tls: {other}"),
    })
}

/// `CertificateRequired` → `certificate required`, as Go names alerts.
fn words(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// How a backend's certificate is checked. With `allow_insecure_connections` (`webpki: None`) it is not (Go's
/// `InsecureSkipVerify`); otherwise webpki checks it, plus Go's rule that a certificate which is itself in the pool
/// is trusted for its names: KrakenD's docs have users put a self-signed backend's certificate in `ca_certs`, and the
/// usual self-signed certificate (`openssl req -x509`) says `CA:TRUE`, which webpki refuses as a server's own
/// (`CaUsedAsEndEntity`; webpki checks the validity period before that flag, so such a certificate is in date). The
/// handshake signatures are always checked against the certificate's key.
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    /// The pool's certificates as they were read.
    trusted: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else { return Ok(ServerCertVerified::assertion()) };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            // webpki's error type is not re-exported by rustls: its name is the only handle on it.
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(e)))
                if format!("{e:?}").contains("CaUsedAsEndEntity")
                    && self.trusted.iter().any(|c| c.as_ref() == end_entity.as_ref()) =>
            {
                let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&parsed, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `client_certs`: the first pair whose key can sign with a scheme the backend accepts, as Go's client picks
/// (the backend's list of acceptable CAs is not consulted); none ⇒ no certificate is sent.
#[derive(Debug)]
struct ClientCerts(Vec<Arc<CertifiedKey>>);

impl ResolvesClientCert for ClientCerts {
    fn resolve(&self, _root_hint_subjects: &[&[u8]], sigschemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.0.iter().find(|c| c.key.choose_scheme(sigschemes).is_some()).cloned()
    }

    fn has_certs(&self) -> bool {
        !self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::server_tls::TlsVersion;

    fn settings() -> ClientTls {
        let mut w = crate::config::validate::Warnings::default();
        crate::config::client_tls::parse(Some(serde_json::json!({"disable_system_ca_pool": true})), false, &mut w)
            .expect("valid")
            .expect("a client_tls")
    }

    #[test]
    fn defaults_and_settings_build() {
        assert!(build(None).is_ok(), "rustls defaults with the system pool (or none) build");
        let config = build(Some(&settings())).expect("client_tls builds");
        assert!(config.alpn_protocols.is_empty(), "HTTP/1.1 only: no ALPN");
        assert!(!config.client_auth_cert_resolver.has_certs());
    }

    #[test]
    fn no_version_left_fails_every_call() {
        let mut s = settings();
        s.max_version = TlsVersion::Tls12;
        assert_eq!(build(Some(&s)).unwrap_err(), "tls: no supported versions satisfy MinVersion and MaxVersion");
    }

    #[test]
    fn alerts_read_as_go_writes_them() {
        assert_eq!(words("CertificateRequired"), "certificate required");
        let e = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
        );
        assert_eq!(error_text(&e).as_deref(), Some("remote error: tls: handshake failure"));
        assert_eq!(error_text(&io::Error::other("plain")), None);
    }

    #[test]
    fn ip_addresses_are_server_names_too() {
        assert!(matches!(server_name("127.0.0.1"), Ok(ServerName::IpAddress(_))));
        assert!(matches!(server_name("localhost"), Ok(ServerName::DnsName(_))));
    }
}

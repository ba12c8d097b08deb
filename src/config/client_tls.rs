//! The root `client_tls` object (gateway → backends, extensions spec §1.2), and the legacy root
//! `allow_insecure_connections` that creates one. Versions, cipher suites and curves follow the rules of the
//! server's `tls` block (`server_tls`), so both sides warn and default alike; files (CAs, client certificates) are
//! read once at start-up by `backend::tls`, so `check` works without them.

use std::sync::{Arc, OnceLock};

use serde::Deserialize;

use super::raw::from_value;
use super::server_tls::{check_curves, cipher_warnings, version, version_name, TlsVersion};
use super::validate::Warnings;

/// `client_tls` as written (schema `client_tls.json`); unknown keys ignored, as KrakenD does.
#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "an object")]
struct RawClientTls {
    allow_insecure_connections: bool,
    ca_certs: Vec<String>,
    disable_system_ca_pool: bool,
    min_version: Option<String>,
    max_version: Option<String>,
    cipher_suites: Option<Vec<u16>>,
    curve_preferences: Option<Vec<u16>>,
    client_certs: Vec<RawClientCert>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, expecting = "an object with certificate and private_key")]
struct RawClientCert {
    certificate: String,
    private_key: String,
}

/// A client certificate and its key, as PEM file paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    pub certificate: String,
    pub private_key: String,
}

/// Client TLS settings for every HTTP backend, with KrakenD's `client_tls` defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientTls {
    /// `allow_insecure_connections`: no certificate verification at all.
    pub allow_insecure_connections: bool,
    /// `ca_certs`: PEM files trusted on top of (or, with `disable_system_ca_pool`, instead of) the system pool.
    pub ca_certs: Vec<String>,
    pub disable_system_ca_pool: bool,
    /// `min_version`/`max_version`: TLS13 each by default, so TLS 1.3 only, as in KrakenD.
    pub min_version: TlsVersion,
    pub max_version: TlsVersion,
    /// IANA ids of the TLS 1.2 suites to offer; `None` = the six ECDHE AEAD suites. TLS 1.3 suites are always on.
    pub cipher_suites: Option<Vec<u16>>,
    /// Go `CurveID`s in preference order; `None` = P-256 and P-384 (KrakenD's set less P-521; no X25519).
    pub curve_preferences: Option<Vec<u16>>,
    /// `client_certs`: offered to backends that ask for a client certificate (upstream mTLS).
    pub client_certs: Vec<ClientCert>,
}

/// Where the process's one `rustls::ClientConfig` is kept once `backend::tls` has built it: every worker's copy of
/// [`super::HttpClientConfig`] shares this slot, so CA files are read and the system pool loaded once, at start-up.
/// The error is kept too (a config that can never handshake), so every call reports it.
#[derive(Clone, Default)]
pub struct ClientTlsSlot(pub Arc<OnceLock<Result<Arc<rustls::ClientConfig>, String>>>);

impl std::fmt::Debug for ClientTlsSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() { "ClientTlsSlot(built)" } else { "ClientTlsSlot(empty)" })
    }
}

/// Reads the root `client_tls` (a JSON value, `None` when absent) and the legacy root `allow_insecure_connections`.
/// Neither ⇒ `None`: rustls's client defaults apply (TLS 1.2–1.3, its suites and groups, the system pool), as Go's
/// do for KrakenD.
pub fn parse(
    value: Option<serde_json::Value>,
    legacy_insecure: bool,
    warnings: &mut Warnings,
) -> Result<Option<ClientTls>, String> {
    let raw: RawClientTls = match value.filter(|v| !v.is_null()) {
        None if !legacy_insecure => return Ok(None),
        None => RawClientTls::default(),
        Some(v) => from_value(v, "client_tls")?,
    };
    let min_version = version(raw.min_version.as_deref(), "client_tls.min_version", warnings);
    let max_version = version(raw.max_version.as_deref(), "client_tls.max_version", warnings);
    if min_version > max_version {
        // The server refuses such a listener; a backend call is one failure among others, so only warn.
        warnings.push(format!(
            "client_tls: min_version {} is above max_version {}: no version is left and every https backend call \
             fails, as in KrakenD (set min_version too)",
            version_name(min_version),
            version_name(max_version)
        ));
    }
    check_curves(raw.curve_preferences.as_deref(), "client_tls.curve_preferences", warnings)?;
    if let Some(suites) = &raw.cipher_suites {
        cipher_warnings(suites, "client_tls.cipher_suites", warnings);
    }
    let mut client_certs = Vec::with_capacity(raw.client_certs.len());
    for (i, pair) in raw.client_certs.into_iter().enumerate() {
        let missing = match (pair.certificate.is_empty(), pair.private_key.is_empty()) {
            (true, _) => Some("certificate"),
            (_, true) => Some("private_key"),
            _ => None,
        };
        match missing {
            // KrakenD logs such a pair when it fails to load it and goes on without it.
            Some(key) => {
                warnings.push(format!("client_tls.client_certs[{i}]: {key} not defined; this pair is skipped"))
            }
            None => client_certs.push(ClientCert { certificate: pair.certificate, private_key: pair.private_key }),
        }
    }
    Ok(Some(ClientTls {
        allow_insecure_connections: raw.allow_insecure_connections || legacy_insecure,
        ca_certs: raw.ca_certs,
        disable_system_ca_pool: raw.disable_system_ca_pool,
        min_version,
        max_version,
        cipher_suites: raw.cipher_suites,
        curve_preferences: raw.curve_preferences,
        client_certs,
    }))
}

#[cfg(test)]
mod tests;

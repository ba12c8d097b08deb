//! The root `tls` block: the listener's certificates, TLS versions, cipher suites, curves and mTLS (extensions spec
//! §1.1 and §2.6). Only the shape is checked here; the files are read when the listener is built
//! (`server::tls`), so `check` works on a machine without the certificates, as KrakenD's does.

use serde::Deserialize;

use super::raw::from_value;
use super::validate::Warnings;

/// A TLS protocol version as KrakenD names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

/// The `tls` block, with KrakenD's defaults applied. `None` at the root when absent or `disabled`.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsSettings {
    /// Certificate/key pairs in handshake preference order: `keys` first, the legacy pair last.
    pub keys: Vec<KeyPair>,
    pub min_version: TlsVersion,
    pub max_version: TlsVersion,
    /// IANA ids of the TLS 1.2 suites to offer; `None` = KrakenD's six ECDHE suites. TLS 1.3 suites are always on.
    pub cipher_suites: Option<Vec<u16>>,
    /// Go `CurveID`s in preference order; `None` = P-256 and P-384 (KrakenD's set less P-521, which rustls lacks).
    pub curve_preferences: Option<Vec<u16>>,
    pub enable_mtls: bool,
    pub ca_certs: Vec<String>,
    pub disable_system_ca_pool: bool,
}

/// One certificate chain and its private key, as PEM file paths.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPair {
    pub public_key: String,
    pub private_key: String,
    /// The legacy top-level pair: served, but never trusted for client certificates (lura appends it after the
    /// mTLS pool is built).
    pub legacy: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawTls {
    disabled: bool,
    public_key: String,
    private_key: String,
    keys: Vec<RawKeyPair>,
    min_version: Option<String>,
    max_version: Option<String>,
    cipher_suites: Option<Vec<u16>>,
    curve_preferences: Option<Vec<u16>>,
    enable_mtls: bool,
    ca_certs: Vec<String>,
    disable_system_ca_pool: bool,
    /// Parsed and never applied, as in KrakenD.
    #[allow(dead_code)]
    prefer_server_cipher_suites: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawKeyPair {
    public_key: String,
    private_key: String,
}

/// The curves rustls (aws-lc-rs) can offer, by Go `CurveID`.
pub const SUPPORTED_CURVES: &[u16] = &[23, 24, 29, 4588];

/// Reads the root `tls` value.
pub fn parse(value: Option<serde_json::Value>, warnings: &mut Warnings) -> Result<Option<TlsSettings>, String> {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(None) };
    let raw: RawTls = from_value(value, "tls")?;
    if raw.disabled {
        return Ok(None);
    }
    let mut keys = Vec::with_capacity(raw.keys.len() + 1);
    for (i, pair) in raw.keys.into_iter().enumerate() {
        keys.push(key_pair(pair.public_key, pair.private_key, &format!("tls.keys[{i}]"), false)?);
    }
    if !raw.public_key.is_empty() || !raw.private_key.is_empty() || keys.is_empty() {
        keys.push(key_pair(raw.public_key, raw.private_key, "tls", true)?);
    }
    let min_version = version(raw.min_version.as_deref(), "tls.min_version", warnings);
    let max_version = version(raw.max_version.as_deref(), "tls.max_version", warnings);
    if min_version > max_version {
        // KrakenD starts and fails every handshake; an HTTPS listener that can never answer is refused instead.
        return Err(format!(
            "tls: min_version ({}) is above max_version ({}): no TLS version is left to negotiate",
            version_name(min_version),
            version_name(max_version)
        ));
    }
    check_curves(raw.curve_preferences.as_deref(), "tls.curve_preferences", warnings)?;
    if let Some(suites) = &raw.cipher_suites {
        cipher_warnings(suites, "tls.cipher_suites", warnings);
    }
    Ok(Some(TlsSettings {
        keys,
        min_version,
        max_version,
        cipher_suites: raw.cipher_suites,
        curve_preferences: raw.curve_preferences,
        enable_mtls: raw.enable_mtls,
        ca_certs: raw.ca_certs,
        disable_system_ca_pool: raw.disable_system_ca_pool,
    }))
}

fn key_pair(public_key: String, private_key: String, place: &str, legacy: bool) -> Result<KeyPair, String> {
    // KrakenD's own messages for an empty path.
    if public_key.is_empty() {
        return Err(format!("{place}.public_key: public key not defined"));
    }
    if private_key.is_empty() {
        return Err(format!("{place}.private_key: private key not defined"));
    }
    Ok(KeyPair { public_key, private_key, legacy })
}

/// KrakenD's version names; an unknown name is TLS 1.3, as in lura. rustls has no TLS below 1.2.
pub fn version(name: Option<&str>, key: &str, warnings: &mut Warnings) -> TlsVersion {
    match name {
        None | Some("TLS13") => TlsVersion::Tls13,
        Some("TLS12") => TlsVersion::Tls12,
        Some(old @ ("SSL3.0" | "TLS10" | "TLS11")) => {
            warnings.push(format!(
                "{key}: {old} is not available (TLS 1.2 is the oldest version Ringway speaks); using TLS12"
            ));
            TlsVersion::Tls12
        }
        Some(other) => {
            warnings.push(format!("{key}: unknown version '{other}'; using TLS13 as KrakenD does"));
            TlsVersion::Tls13
        }
    }
}

pub fn version_name(v: TlsVersion) -> &'static str {
    match v {
        TlsVersion::Tls12 => "TLS12",
        TlsVersion::Tls13 => "TLS13",
    }
}

/// TLS 1.3 suites (always on) and the TLS 1.2 suites rustls implements, by IANA id.
pub const TLS13_SUITES: &[u16] = &[4865, 4866, 4867];
pub const TLS12_SUITES: &[u16] = &[49195, 49196, 49199, 49200, 52392, 52393];

/// Warns about each listed suite rustls lacks (shared with `client_tls`).
pub(crate) fn cipher_warnings(suites: &[u16], key: &str, warnings: &mut Warnings) {
    for id in suites {
        if !TLS13_SUITES.contains(id) && !TLS12_SUITES.contains(id) {
            warnings.push(format!("{key}: cipher suite {id} is not available in Ringway (rustls); skipped"));
        }
    }
}

/// Warns about each listed curve rustls lacks; a list with none it has is an error naming `key` (shared with
/// `client_tls`).
pub(crate) fn check_curves(curves: Option<&[u16]>, key: &str, warnings: &mut Warnings) -> Result<(), String> {
    let Some(curves) = curves else { return Ok(()) };
    curve_warnings(curves, key, warnings);
    if !curves.iter().any(|c| SUPPORTED_CURVES.contains(c)) {
        return Err(format!(
            "{key}: none of the listed curves is supported (23 P-256, 24 P-384, 29 X25519, 4588 X25519MLKEM768)"
        ));
    }
    Ok(())
}

fn curve_warnings(curves: &[u16], key: &str, warnings: &mut Warnings) {
    for id in curves {
        if !SUPPORTED_CURVES.contains(id) {
            warnings.push(format!("{key}: curve {id} is not available in Ringway (rustls: no P-521); skipped"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_ok(v: serde_json::Value) -> (Option<TlsSettings>, Vec<String>) {
        let mut w = Warnings::default();
        let s = parse(Some(v), &mut w).unwrap();
        (s, w.into_vec())
    }

    #[test]
    fn defaults_are_tls13_only_and_legacy_pair_is_last() {
        let (s, w) = parse_ok(
            json!({"public_key":"l.pem","private_key":"l.key","keys":[{"public_key":"a.pem","private_key":"a.key"}]}),
        );
        let s = s.unwrap();
        assert!(w.is_empty());
        assert_eq!((s.min_version, s.max_version), (TlsVersion::Tls13, TlsVersion::Tls13));
        assert_eq!(s.keys.len(), 2);
        assert_eq!((s.keys[0].public_key.as_str(), s.keys[0].legacy), ("a.pem", false));
        assert_eq!((s.keys[1].public_key.as_str(), s.keys[1].legacy), ("l.pem", true));
    }

    #[test]
    fn disabled_and_absent_mean_plain_http() {
        assert_eq!(parse_ok(json!({"disabled": true})).0, None);
        assert_eq!(parse(None, &mut Warnings::default()).unwrap(), None);
    }

    #[test]
    fn missing_keys_use_krakends_messages() {
        let mut w = Warnings::default();
        assert_eq!(parse(Some(json!({})), &mut w).unwrap_err(), "tls.public_key: public key not defined");
        assert_eq!(
            parse(Some(json!({"keys":[{"public_key":"a.pem"}]})), &mut w).unwrap_err(),
            "tls.keys[0].private_key: private key not defined"
        );
    }

    #[test]
    fn versions_and_their_errors() {
        let (s, w) = parse_ok(json!({"public_key":"a","private_key":"b","min_version":"TLS10"}));
        assert_eq!(s.unwrap().min_version, TlsVersion::Tls12);
        assert_eq!(w.len(), 1);
        let (s, w) = parse_ok(json!({"public_key":"a","private_key":"b","min_version":"bogus"}));
        assert_eq!(s.unwrap().min_version, TlsVersion::Tls13);
        assert!(w[0].contains("unknown version 'bogus'"));
        let err =
            parse(Some(json!({"public_key":"a","private_key":"b","max_version":"TLS12"})), &mut Warnings::default());
        assert!(err.unwrap_err().contains("no TLS version is left"));
        let err = parse(Some(json!({"public_key":"a","private_key":"b","min_version":12})), &mut Warnings::default());
        assert!(err.unwrap_err().starts_with("tls.min_version: invalid type"));
    }

    #[test]
    fn unsupported_curves_and_suites_warn() {
        let (_, w) =
            parse_ok(json!({"public_key":"a","private_key":"b","curve_preferences":[25,23],"cipher_suites":[5,4865]}));
        assert_eq!(w.len(), 2, "{w:?}");
        let err =
            parse(Some(json!({"public_key":"a","private_key":"b","curve_preferences":[25]})), &mut Warnings::default());
        assert!(err.unwrap_err().starts_with("tls.curve_preferences: none"));
    }
}

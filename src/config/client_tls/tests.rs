use serde_json::json;

use super::*;

fn parse_ok(value: serde_json::Value) -> (ClientTls, Vec<String>) {
    let mut w = Warnings::default();
    let t = parse(Some(value), false, &mut w).expect("valid").expect("a client_tls");
    (t, w.into_vec())
}

fn parse_err(value: serde_json::Value) -> String {
    parse(Some(value), false, &mut Warnings::default()).expect_err("invalid")
}

#[test]
fn absent_means_rustls_defaults() {
    let mut w = Warnings::default();
    assert_eq!(parse(None, false, &mut w).unwrap(), None);
    assert_eq!(parse(Some(serde_json::Value::Null), false, &mut w).unwrap(), None);
}

#[test]
fn legacy_allow_insecure_creates_a_client_tls_with_krakend_defaults() {
    let mut w = Warnings::default();
    let t = parse(None, true, &mut w).unwrap().expect("a client_tls");
    assert!(t.allow_insecure_connections);
    assert_eq!((t.min_version, t.max_version), (TlsVersion::Tls13, TlsVersion::Tls13));
    assert_eq!((t.cipher_suites, t.curve_preferences), (None, None));
    assert!(w.into_vec().is_empty());
}

#[test]
fn empty_object_defaults() {
    let (t, w) = parse_ok(json!({}));
    assert!(!t.allow_insecure_connections && !t.disable_system_ca_pool);
    assert_eq!((t.min_version, t.max_version), (TlsVersion::Tls13, TlsVersion::Tls13));
    assert!(w.is_empty());
}

#[test]
fn versions_follow_the_server_rules() {
    let (t, w) = parse_ok(json!({"min_version": "TLS10", "max_version": "TLS12"}));
    assert_eq!((t.min_version, t.max_version), (TlsVersion::Tls12, TlsVersion::Tls12));
    assert!(w[0].starts_with("client_tls.min_version: TLS10 is not available"), "{w:?}");
    // KrakenD maps an unknown version to TLS13.
    let (t, w) = parse_ok(json!({"min_version": "TLS1.2"}));
    assert_eq!(t.min_version, TlsVersion::Tls13);
    assert!(w[0].starts_with("client_tls.min_version: unknown version 'TLS1.2'"), "{w:?}");
    // max below the default min leaves nothing, as in KrakenD: a warning, not an error.
    let (_, w) = parse_ok(json!({"max_version": "TLS12"}));
    assert!(w[0].contains("every https backend call fails"), "{w:?}");
}

#[test]
fn suites_and_curves_warn_like_the_server() {
    let (t, w) = parse_ok(json!({"cipher_suites": [49199, 47], "curve_preferences": [29, 25, 23]}));
    assert_eq!(t.cipher_suites.as_deref(), Some(&[49199, 47][..]));
    assert_eq!(t.curve_preferences.as_deref(), Some(&[29, 25, 23][..]));
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(parse_err(json!({"curve_preferences": [25]})).starts_with("client_tls.curve_preferences: none"));
}

#[test]
fn type_errors_name_the_key() {
    assert_eq!(
        parse_err(json!({"allow_insecure_connections": "yes"})),
        "client_tls.allow_insecure_connections: invalid type: string \"yes\", expected a boolean"
    );
    assert_eq!(
        parse_err(json!({"min_version": 12})),
        "client_tls.min_version: invalid type: integer `12`, expected a string"
    );
    assert_eq!(
        parse_err(json!({"cipher_suites": ["4865"]})),
        "client_tls.cipher_suites[0]: invalid type: string \"4865\", expected u16"
    );
    assert_eq!(parse_err(json!(true)), "client_tls: invalid type: boolean `true`, expected an object");
}

#[test]
fn client_certs_without_a_path_are_skipped() {
    let (t, w) =
        parse_ok(json!({"client_certs": [{"certificate": "c.pem"}, {"certificate": "a.pem", "private_key": "a.key"}]}));
    assert_eq!(t.client_certs, [ClientCert { certificate: "a.pem".into(), private_key: "a.key".into() }]);
    assert_eq!(w, ["client_tls.client_certs[0]: private_key not defined; this pair is skipped"]);
}

//! TLS termination (root `tls`): versions, SNI certificate choice, mTLS, plain HTTP and garbage on the TLS port,
//! session resumption and start-up errors, against the real binary with certificates made by the test.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use support::pki::{client_config, handshake, https, Ca, PemDir, Versions};
use support::{bin, Gateway, TempConfig};

/// A CA, a `localhost` certificate signed by it, and their files.
struct Setup {
    ca: Ca,
    dir: PemDir,
    cert: String,
    key: String,
}

fn setup() -> Setup {
    let ca = Ca::new("Ringway Test CA");
    let dir = PemDir::new();
    let leaf = ca.server(&["localhost", "127.0.0.1"]);
    let cert = dir.write("server.crt", &leaf.cert_pem);
    let key = dir.write("server.key", &leaf.key_pem);
    Setup { ca, dir, cert, key }
}

fn config(tls: &str) -> String {
    format!(r#"{{"version":3,"echo_endpoint":true,"tls":{tls},"endpoints":[]}}"#)
}

fn keys(s: &Setup) -> String {
    format!(r#""keys":[{{"public_key":"{}","private_key":"{}"}}]"#, s.cert, s.key)
}

/// GET over a fresh TLS connection; the status, or the TLS/IO error.
fn get_status(port: u16, config: std::sync::Arc<rustls::ClientConfig>, sni: &str, path: &str) -> Result<u16, String> {
    let mut c = https(port, config, sni)?;
    c.try_send(format!("GET {path} HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    c.try_read_response(false).map(|r| r.status)
}

#[test]
fn tls13_only_by_default() {
    let s = setup();
    let g = Gateway::start(&config(&format!("{{{}}}", keys(&s))));
    let ca = s.ca.pem();
    let mut c = https(g.port, client_config(&ca, Versions::Both, None, &[]), "localhost").expect("TLS 1.3 handshake");
    // Keep-alive and a request body over TLS.
    for _ in 0..2 {
        c.send(b"POST /__echo/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello");
        let res = c.read_response();
        assert_eq!(res.status, 200, "{res:?}");
        assert_eq!(res.json()["req_body"], "hello");
    }
    let err = handshake(g.port, client_config(&ca, Versions::Only12, None, &[]), "localhost").err();
    assert!(err.as_deref().is_some_and(|e| e.contains("ProtocolVersion")), "TLS 1.2 must be refused: {err:?}");
}

#[test]
fn tls12_when_configured() {
    let s = setup();
    let g = Gateway::start(&config(&format!(r#"{{{},"min_version":"TLS12"}}"#, keys(&s))));
    let cfg = client_config(&s.ca.pem(), Versions::Only12, None, &[]);
    let stream = handshake(g.port, cfg.clone(), "localhost").expect("TLS 1.2 handshake");
    assert_eq!(stream.conn.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_2));
    assert_eq!(get_status(g.port, cfg, "localhost", "/__health"), Ok(200));
}

#[test]
fn plain_http_gets_gos_answer_and_garbage_is_closed() {
    let s = setup();
    let g = Gateway::start(&config(&format!("{{{}}}", keys(&s))));
    let mut plain = TcpStream::connect(("127.0.0.1", g.port)).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    plain.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    plain.read_to_end(&mut answer).expect("closed after the answer");
    assert_eq!(answer, b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n");

    let mut garbage = TcpStream::connect(("127.0.0.1", g.port)).unwrap();
    garbage.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    garbage.write_all(b"\x00\x01\x02\x03\x04\x05garbage").unwrap();
    let mut answer = Vec::new();
    let _ = garbage.read_to_end(&mut answer);
    assert!(answer.is_empty(), "no answer to garbage: {answer:?}");

    // A TLS record header that promises a ClientHello and then stalls, and one with a broken body: neither stops
    // the worker from serving others.
    let mut stalled = TcpStream::connect(("127.0.0.1", g.port)).unwrap();
    stalled.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).unwrap();
    let mut broken = TcpStream::connect(("127.0.0.1", g.port)).unwrap();
    broken.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff]).unwrap();
    let cfg = client_config(&s.ca.pem(), Versions::Both, None, &[]);
    for _ in 0..4 {
        assert_eq!(get_status(g.port, cfg.clone(), "localhost", "/__health"), Ok(200));
    }
    drop(stalled);
}

#[test]
fn sni_picks_the_matching_certificate_else_the_first() {
    let ca = Ca::new("SNI CA");
    let dir = PemDir::new();
    let a = ca.server(&["a.test"]);
    let b = ca.server(&["b.test"]);
    let tls = format!(
        r#"{{"keys":[{{"public_key":"{}","private_key":"{}"}},{{"public_key":"{}","private_key":"{}"}}]}}"#,
        dir.write("a.crt", &a.cert_pem),
        dir.write("a.key", &a.key_pem),
        dir.write("b.crt", &b.cert_pem),
        dir.write("b.key", &b.key_pem)
    );
    let g = Gateway::start(&config(&tls));
    let cfg = client_config(&ca.pem(), Versions::Both, None, &[]);
    // rustls verifies the name: a handshake that succeeds for `b.test` got b's certificate.
    assert_eq!(get_status(g.port, cfg.clone(), "b.test", "/__health"), Ok(200));
    assert_eq!(get_status(g.port, cfg.clone(), "a.test", "/__health"), Ok(200));
    // An unknown name gets the first pair, which then fails the client's name check.
    let err = handshake(g.port, cfg, "c.test").err().unwrap_or_default();
    assert!(err.contains("not valid for name"), "{err}");
}

#[test]
fn legacy_pair_is_served() {
    let s = setup();
    let tls = format!(r#"{{"public_key":"{}","private_key":"{}"}}"#, s.cert, s.key);
    let g = Gateway::start(&config(&tls));
    let cfg = client_config(&s.ca.pem(), Versions::Both, None, &[]);
    assert_eq!(get_status(g.port, cfg, "localhost", "/__health"), Ok(200));
}

#[test]
fn mtls_accepts_known_clients_only() {
    let s = setup();
    let ca_file = s.dir.write("ca.pem", &s.ca.pem());
    let tls = format!(r#"{{{},"enable_mtls":true,"ca_certs":["{ca_file}"],"disable_system_ca_pool":true}}"#, keys(&s));
    let g = Gateway::start(&config(&tls));
    let ca = s.ca.pem();

    let client = s.ca.client("client-1");
    let with_cert = client_config(&ca, Versions::Both, Some(&client), &[]);
    assert_eq!(get_status(g.port, with_cert, "localhost", "/__health"), Ok(200));

    // TLS 1.3 clients finish their side first; the refusal arrives as an alert on the first read.
    let without = client_config(&ca, Versions::Both, None, &[]);
    let err = get_status(g.port, without, "localhost", "/__health").unwrap_err();
    assert!(err.contains("CertificateRequired"), "no client certificate: {err}");

    let stranger = Ca::new("Other CA").client("intruder");
    let other = client_config(&ca, Versions::Both, Some(&stranger), &[]);
    let err = get_status(g.port, other, "localhost", "/__health").unwrap_err();
    assert!(err.contains("UnknownCA"), "unknown issuer: {err}");
}

#[test]
fn session_resumption_works() {
    let s = setup();
    let g = Gateway::start(&config(&format!("{{{}}}", keys(&s))));
    let cfg = client_config(&s.ca.pem(), Versions::Both, None, &[]);
    // The first connection receives tickets (they arrive with the first response); each next one resumes with a
    // ticket (single use) and gets new ones, whichever of the two workers accepts it.
    assert_eq!(get_status(g.port, cfg.clone(), "localhost", "/__health"), Ok(200));
    for _ in 0..4 {
        let stream = handshake(g.port, cfg.clone(), "localhost").expect("handshake");
        assert_eq!(stream.conn.handshake_kind(), Some(rustls::HandshakeKind::Resumed));
        let mut c = support::ClientConn::over(Box::new(stream));
        c.send(b"GET /__health HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assert_eq!(c.read_response().status, 200);
    }
}

/// Runs `ringway <args>` on `config` and returns (exit code, stdout + stderr).
fn run_binary(config: &str, args: &[&str]) -> (i32, String) {
    let file = TempConfig::new(config, "json");
    let out = Command::new(bin())
        .args(args)
        .arg("-c")
        .arg(&file.path)
        .args(if args[0] == "run" { vec!["-p", "0"] } else { vec![] })
        .output()
        .expect("run the binary");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn bad_key_files_stop_the_start_with_a_clear_error() {
    let s = setup();
    let other = s.ca.server(&["localhost"]);
    let other_key = s.dir.write("other.key", &other.key_pem);
    let not_pem = s.dir.write("junk.pem", "not a certificate");
    let cases = [
        (
            r#"{"keys":[{"public_key":"/nonexistent/cert.pem","private_key":"/nonexistent/key.pem"}]}"#.to_owned(),
            "tls.keys[0].public_key: open /nonexistent/cert.pem: No such file or directory",
        ),
        (
            format!(r#"{{"keys":[{{"public_key":"{}","private_key":"{other_key}"}}]}}"#, s.cert),
            "tls.keys[0]: tls: private key does not match public key",
        ),
        (format!(r#"{{"keys":[{{"public_key":"{not_pem}","private_key":"{}"}}]}}"#, s.key), "tls.keys[0].public_key: "),
        (
            format!(r#"{{"keys":[{{"public_key":"{}","private_key":"{not_pem}"}}]}}"#, s.cert),
            "tls.keys[0].private_key: ",
        ),
    ];
    for (tls, expected) in cases {
        let cfg = config(&tls);
        let (code, out) = run_binary(&cfg, &["run"]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains(expected), "run: expected {expected:?} in {out}");
        let (code, out) = run_binary(&cfg, &["check", "-t"]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains(expected), "check -t: expected {expected:?} in {out}");
        // Plain `check` reads no files, as KrakenD's.
        let (code, out) = run_binary(&cfg, &["check"]);
        assert_eq!(code, 0, "{out}");
    }
}

/// AE-48 over a real TLS connection: HSTS is sent because the connection is HTTPS (no proxy header); plain HTTP on
/// the same config would not get it (tests/security_http.rs).
#[test]
fn ae48_hsts_over_tls() {
    let s = setup();
    let cfg = format!(
        r#"{{"version":3,"debug_endpoint":true,"tls":{{{}}},"extra_config":{{"security/http":{{"sts_seconds":300,
        "sts_include_subdomains":true,"frame_deny":true,"ssl_redirect":true}}}},"endpoints":[]}}"#,
        keys(&s)
    );
    let g = Gateway::start(&cfg);
    let mut c = https(g.port, client_config(&s.ca.pem(), Versions::Both, None, &[]), "localhost").unwrap();
    c.send(b"GET /__debug/x HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let res = c.read_response();
    // No redirect either: the request is already HTTPS.
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.header("Strict-Transport-Security"), Some("max-age=300; includeSubDomains"));
    assert_eq!(res.header("X-Frame-Options"), Some("DENY"));
}

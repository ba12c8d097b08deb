//! `https://` backends over real TLS on loopback: trust (`ca_certs`, `allow_insecure_connections`, the system pool),
//! client certificates, versions, SNI, pooling, redirects between http and https, and backends that do not speak TLS.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::pki::{self_signed, server_config, Ca, Leaf, PemDir, Versions};
use support::{assert_empty_error, assert_json, Backend, Gateway, Reply, RunningBackend};

const USERS: &str = r#"{"id":1,"name":"ada"}"#;

/// A private CA with a `localhost`/`127.0.0.1` server certificate and a client certificate, as PEM files.
struct Pki {
    dir: PemDir,
    ca: Ca,
    server: Leaf,
    ca_pem: String,
    client_cert_pem: String,
    client_key_pem: String,
}

impl Pki {
    fn new() -> Pki {
        let dir = PemDir::new();
        let ca = Ca::new("Ringway test CA");
        let client = ca.client("ringway client");
        Pki {
            ca_pem: dir.write("ca.pem", &ca.pem()),
            client_cert_pem: dir.write("client.pem", &client.cert_pem),
            client_key_pem: dir.write("client.key", &client.key_pem),
            server: ca.server(&["localhost", "127.0.0.1"]),
            ca,
            dir,
        }
    }

    /// The `localhost` certificate, TLS 1.2 and 1.3, no client certificate asked.
    fn server(&self) -> Arc<rustls::ServerConfig> {
        server_config(&self.server, Versions::Both, None)
    }

    fn missing(&self, name: &str) -> String {
        self.dir.path.join(name).to_string_lossy().into_owned()
    }
}

fn users(tls: Arc<rustls::ServerConfig>) -> RunningBackend {
    Backend::new().route("/users/1", Reply::json(200, USERS)).tls(tls).start()
}

fn path(p: &str) -> String {
    serde_json::to_string(p).expect("a JSON string")
}

/// One endpoint `/e` on `host`, with root keys `root` (each followed by a comma) and `return_error_msg`.
fn gateway(root: &str, host: &str) -> Gateway {
    let cfg = format!(
        r#"{{"version":3,{root}"extra_config":{{"router":{{"return_error_msg":true}}}},"endpoints":[
            {{"endpoint":"/e","backend":[{{"host":["{host}"],"url_pattern":"/users/1"}}]}}]}}"#
    );
    Gateway::start(&cfg)
}

fn ca_certs(pki: &Pki) -> String {
    format!(r#""client_tls":{{"ca_certs":[{}]}},"#, path(&pki.ca_pem))
}

#[test]
fn ca_certs_trust_a_private_ca() {
    let pki = Pki::new();
    let b = users(pki.server());
    let gw = gateway(&ca_certs(&pki), &b.localhost_url());
    let res = gw.get("/e");
    assert_eq!(res.status, 200, "{res:?}\n{}", gw.stderr());
    assert_json(&res, true);
    assert_eq!(res.json(), serde_json::json!({"id":1,"name":"ada"}));
    let req = b.single();
    assert_eq!(req.sni.as_deref(), Some("localhost"), "SNI is the URL's host name");
    assert_eq!(req.header("Host"), Some(format!("localhost:{}", b.addr().port()).as_str()));

    // An IP address: no SNI, the certificate's IP address is checked.
    let gw = gateway(&ca_certs(&pki), &b.url());
    assert_eq!(gw.get("/e").status, 200, "{}", gw.stderr());
    assert_eq!(b.requests()[1].sni, None);
}

#[test]
fn an_unknown_ca_fails_the_backend_and_is_logged() {
    let pki = Pki::new();
    let b = users(pki.server());
    let gw = gateway("", &b.localhost_url());
    let res = gw.get("/e");
    assert_eq!(res.status, 500);
    assert_eq!(res.header("X-Krakend-Completed"), Some("false"));
    let expected = format!(
        "Get \"{}/users/1\": tls: failed to verify certificate: x509: certificate signed by unknown authority",
        b.localhost_url()
    );
    assert_eq!(res.body_str(), expected);
    assert!(gw.wait_stderr("certificate signed by unknown authority", Duration::from_secs(2)), "{}", gw.stderr());
    assert!(b.requests().is_empty(), "no request reaches an unverified backend");

    // Without return_error_msg: KrakenD's empty 500.
    let cfg = format!(
        r#"{{"version":3,"endpoints":[{{"endpoint":"/e","backend":[{{"host":["{}"],"url_pattern":"/users/1"}}]}}]}}"#,
        b.localhost_url()
    );
    assert_empty_error(&Gateway::start(&cfg).get("/e"), 500);
}

#[test]
fn a_certificate_for_another_name_fails() {
    let pki = Pki::new();
    let b = users(server_config(&pki.ca.server(&["other.example"]), Versions::Both, None));
    let res = gateway(&ca_certs(&pki), &b.localhost_url()).get("/e");
    assert_eq!(res.status, 500);
    assert!(res.body_str().contains("tls: failed to verify certificate: x509:"), "{}", res.body_str());
}

#[test]
fn a_self_signed_certificate_in_ca_certs_is_trusted_for_its_names() {
    // The usual self-signed certificate says CA:TRUE; Go trusts a server certificate that is in the pool itself.
    let dir = PemDir::new();
    let leaf = self_signed(&["localhost", "127.0.0.1"]);
    let b = users(server_config(&leaf, Versions::Both, None));
    let root = format!(r#""client_tls":{{"ca_certs":[{}]}},"#, path(&dir.write("self.pem", &leaf.cert_pem)));
    let gw = gateway(&root, &b.localhost_url());
    assert_eq!(gw.get("/e").status, 200, "{}", gw.stderr());

    // Its names are still checked.
    let other = self_signed(&["other.example"]);
    let b = users(server_config(&other, Versions::Both, None));
    let root = format!(r#""client_tls":{{"ca_certs":[{}]}},"#, path(&dir.write("other.pem", &other.cert_pem)));
    let res = gateway(&root, &b.localhost_url()).get("/e");
    assert_eq!(res.status, 500);
    assert!(res.body_str().contains("x509:"), "{}", res.body_str());
}

#[test]
fn allow_insecure_connections_skips_verification() {
    let pki = Pki::new();
    let b = users(pki.server());
    let gw = gateway(r#""client_tls":{"allow_insecure_connections":true},"#, &b.localhost_url());
    assert_eq!(gw.get("/e").status, 200, "{}", gw.stderr());

    // The legacy root key creates a client_tls with the flag set.
    let gw = gateway(r#""allow_insecure_connections":true,"#, &b.localhost_url());
    assert_eq!(gw.get("/e").status, 200, "{}", gw.stderr());
}

#[test]
fn without_client_tls_the_system_pool_and_tls12_are_used() {
    let pki = Pki::new();
    // rustls-native-certs reads SSL_CERT_FILE as the system pool.
    let b = users(server_config(&pki.server, Versions::Only12, None));
    let cfg = format!(
        r#"{{"version":3,"endpoints":[{{"endpoint":"/e","backend":[{{"host":["{}"],"url_pattern":"/users/1"}}]}}]}}"#,
        b.localhost_url()
    );
    let gw = Gateway::new(&cfg).env("SSL_CERT_FILE", &pki.ca_pem).start();
    assert_eq!(gw.get("/e").status, 200, "{}", gw.stderr());

    // disable_system_ca_pool leaves nothing to trust.
    let root = r#""client_tls":{"disable_system_ca_pool":true,"min_version":"TLS12"},"#;
    let cfg = format!(
        r#"{{"version":3,{root}"endpoints":[{{"endpoint":"/e","backend":[{{"host":["{}"],"url_pattern":"/users/1"}}]}}]}}"#,
        b.localhost_url()
    );
    let gw = Gateway::new(&cfg).env("SSL_CERT_FILE", &pki.ca_pem).start();
    assert_eq!(gw.get("/e").status, 500);
}

#[test]
fn client_certificates_are_sent_to_backends_that_require_one() {
    let pki = Pki::new();
    let b = users(server_config(&pki.server, Versions::Both, Some(&pki.ca.pem())));
    let without = gateway(&ca_certs(&pki), &b.localhost_url()).get("/e");
    assert_eq!(without.status, 500, "the backend refuses a client without a certificate");
    assert!(without.body_str().ends_with(": remote error: tls: certificate required"), "{}", without.body_str());

    let root = format!(
        r#""client_tls":{{"ca_certs":[{}],"client_certs":[{{"certificate":{},"private_key":{}}}]}},"#,
        path(&pki.ca_pem),
        path(&pki.client_cert_pem),
        path(&pki.client_key_pem)
    );
    let gw = gateway(&root, &b.localhost_url());
    assert_eq!(gw.get("/e").status, 200, "{}", gw.stderr());
}

#[test]
fn unloadable_files_are_logged_and_skipped() {
    let pki = Pki::new();
    let b = users(pki.server());
    let missing = pki.missing("nope.pem");
    let root = format!(
        r#""client_tls":{{"ca_certs":[{},{}],"client_certs":[{{"certificate":{},"private_key":{}}}]}},"#,
        path(&missing),
        path(&pki.ca_pem),
        path(&missing),
        path(&pki.client_key_pem)
    );
    let gw = gateway(&root, &b.localhost_url());
    assert_eq!(gw.get("/e").status, 200, "{}", gw.stderr());
    let log = gw.stderr();
    assert!(log.contains(&format!("ERROR: [SERVICE: HTTP Client] Cannot load certificate CA {missing}: ")), "{log}");
    assert!(log.contains("Cannot load client certificate"), "{log}");
}

#[test]
fn min_version_decides_whether_a_tls12_backend_works() {
    let pki = Pki::new();
    let b = users(server_config(&pki.server, Versions::Only12, None));
    // A client_tls without min_version means TLS 1.3 only, as in KrakenD.
    let res = gateway(&ca_certs(&pki), &b.localhost_url()).get("/e");
    assert_eq!(res.status, 500);
    assert!(res.body_str().contains("tls:"), "{}", res.body_str());

    let root = format!(r#""client_tls":{{"ca_certs":[{}],"min_version":"TLS12"}},"#, path(&pki.ca_pem));
    let gw = gateway(&root, &b.localhost_url());
    assert_eq!(gw.get("/e").status, 200, "{}", gw.stderr());
}

#[test]
fn tls_connections_are_pooled() {
    let pki = Pki::new();
    let b = users(pki.server());
    let gw = gateway(&ca_certs(&pki), &b.localhost_url());
    // One client connection: both requests are served by the same worker, hence the same pool.
    let mut c = gw.conn();
    for _ in 0..2 {
        c.send(b"GET /e HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(c.read_response().status, 200);
    }
    assert_eq!(b.requests().len(), 2);
    assert_eq!(b.connections(), 1, "one TLS connection (one handshake) for both requests");
    assert_eq!(b.requests()[1].conn, 0);
}

#[test]
fn redirects_cross_between_http_and_https() {
    let pki = Pki::new();
    let secure = users(pki.server());
    let to_https = format!("{}/users/1", secure.localhost_url());
    let plain = Backend::new().route("/users/1", Reply::redirect(302, &to_https)).start();
    let gw = gateway(&ca_certs(&pki), &plain.url());
    assert_eq!(gw.get("/e").status, 200, "{}", gw.stderr());
    assert_eq!(secure.single().header("Referer"), Some(format!("{}/users/1", plain.url()).as_str()));

    // https → http: followed, without a Referer (Go drops it on a downgrade).
    let plain = Backend::new().route("/users/1", Reply::json(200, USERS)).start();
    let back = Backend::new()
        .route("/users/1", Reply::redirect(302, &format!("{}/users/1", plain.url())))
        .tls(pki.server())
        .start();
    let gw = gateway(&ca_certs(&pki), &back.localhost_url());
    assert_eq!(gw.get("/e").status, 200, "{}", gw.stderr());
    assert_eq!(plain.single().header("Referer"), None);
}

#[test]
fn a_plain_http_backend_on_an_https_url_fails_cleanly() {
    // A plain HTTP backend (it closes on the binary ClientHello).
    let plain = Backend::new().route("/users/1", Reply::json(200, USERS)).start();
    let host = format!("https://{}", plain.addr());
    let gw = gateway("", &host);
    let started = Instant::now();
    let res = gw.get("/e");
    assert_eq!(res.status, 500);
    assert!(res.body_str().contains("tls:"), "{}", res.body_str());
    assert!(started.elapsed() < Duration::from_secs(1), "no hang: {:?}", started.elapsed());

    // A server that answers the ClientHello with an HTTP error page.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut s) = stream else { continue };
            let mut hello = [0u8; 512];
            let _ = s.read(&mut hello);
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    let gw = gateway("", &format!("https://127.0.0.1:{port}"));
    let started = Instant::now();
    let res = gw.get("/e");
    assert_eq!(res.status, 500);
    assert!(res.body_str().contains("tls:"), "{}", res.body_str());
    assert!(started.elapsed() < Duration::from_secs(1), "no hang: {:?}", started.elapsed());
    assert_eq!(gw.get("/__health").status, 200, "the gateway is still up");
}

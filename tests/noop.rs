//! `no-op` passthrough: status, headers and body verbatim, streaming, gzip, failures (AC-32, §16).

mod support;

use std::time::{Duration, Instant};

use support::{assert_empty_error, Backend, ClientConn, Gateway, Reply, X_KRAKEND};

fn login_gateway(b: &support::RunningBackend) -> Gateway {
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/auth/login","method":"POST","output_encoding":"no-op",
        "backend":[{"encoding":"no-op","host":["{{b}}"],"url_pattern":"/login"}]}]}"#;
    Gateway::new(cfg).with("b", &b.url()).start()
}

#[test]
fn ac32_passthrough() {
    let b = Backend::new()
        .route(
            "/login",
            Reply::status(201)
                .header("Set-Cookie", "session=abc")
                .header("Content-Type", "application/json")
                .body(br#"{"ok": true}"#),
        )
        .start();
    let gw = login_gateway(&b);
    let res = gw.send("POST", "/auth/login", &[("Content-Type", "application/json")], br#"{"user":"u"}"#);
    assert_eq!(res.status, 201);
    assert_eq!(res.header("Set-Cookie"), Some("session=abc"));
    assert_eq!(res.header("Content-Type"), Some("application/json"));
    assert_eq!(res.header("X-Krakend"), Some(X_KRAKEND));
    assert_eq!(res.header("X-Krakend-Completed"), Some("false"));
    assert_eq!(res.header("Content-Length"), Some("12"));
    assert_eq!(res.body, br#"{"ok": true}"#);
    let r = b.single();
    assert_eq!(r.method, "POST");
    assert_eq!(r.body, br#"{"user":"u"}"#);
}

#[test]
fn ac32_error_status_passthrough() {
    let html = b"<html><body>nope</body></html>";
    let b = Backend::new().route("/login", Reply::status(404).header("Content-Type", "text/html").body(html)).start();
    let gw = login_gateway(&b);
    let res = gw.send("POST", "/auth/login", &[], b"");
    assert_eq!(res.status, 404);
    assert_eq!(res.header("Content-Type"), Some("text/html"));
    assert_eq!(res.header("X-Krakend-Completed"), Some("false"));
    assert_eq!(res.body, html);
}

#[test]
fn ac32_two_noop_backends_fail_startup() {
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/x","output_encoding":"no-op","backend":[
        {"host":["http://127.0.0.1:9"],"url_pattern":"/a"},{"host":["http://127.0.0.1:9"],"url_pattern":"/b"}]}]}"#;
    let file = support::TempConfig::new(cfg, "json");
    let out =
        std::process::Command::new(support::bin()).args(["check", "-c"]).arg(&file.path).output().expect("run check");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("can not use NoOp encoding with more than one backends connected to the same endpoint"),
        "{stdout}"
    );
}

#[test]
fn no_content_passthrough() {
    let b = Backend::new().route("/login", Reply::status(204).header("X-Extra", "1")).start();
    let gw = login_gateway(&b);
    let res = gw.send("POST", "/auth/login", &[], b"");
    assert_eq!(res.status, 204);
    assert_eq!(res.header("X-Extra"), Some("1"));
    assert!(res.body.is_empty());
}

#[test]
fn large_chunked_body_is_streamed() {
    // 64 pieces of 64 KiB: the first bytes must reach the client before the backend has sent the last ones.
    let piece: Vec<u8> = (0..64 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let pieces: Vec<&[u8]> = (0..64).map(|_| piece.as_slice()).collect();
    let pause = Duration::from_millis(10);
    let b = Backend::new()
        .route("/big", Reply::status(200).header("Content-Type", "text/plain").chunked(&pieces, pause))
        .start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/big","output_encoding":"no-op",
        "backend":[{"host":["{{b}}"],"url_pattern":"/big"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();

    let started = Instant::now();
    let mut c = ClientConn::open(gw.port);
    c.send(format!("GET /big HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n", gw.port).as_bytes());
    let first = c.read_response();
    let total = started.elapsed();
    assert_eq!(first.status, 200);
    assert!(first.chunked, "an unknown length is re-framed as chunked: {:?}", first.headers);
    assert_eq!(first.body.len(), 64 * piece.len());
    assert!(first.body.chunks(piece.len()).all(|c| c == piece.as_slice()), "body bytes differ");
    // At least 63 pauses happened on the backend side, so the whole exchange cannot be faster than that.
    assert!(total >= pause * 60, "{total:?}");

    // The connection is still usable after a streamed body.
    c.send(format!("GET /big HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", gw.port).as_bytes());
    assert_eq!(c.read_response().body.len(), 64 * piece.len());
}

#[test]
fn large_sized_body_passes_through_whole_and_the_connections_stay_usable() {
    // 3 MB with a known length: read in growing pieces and written on as they came (no re-framing, no copy);
    // bytes that never repeat with a short period, so a piece out of place or written twice shows.
    let body: Vec<u8> = (0u32..3 * 1024 * 1024).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let b = Backend::new()
        .route("/big", Reply::status(200).header("Content-Type", "application/octet-stream").body(&body))
        .route("/small", Reply::json(200, r#"{"ok":true}"#))
        .start();
    let cfg = r#"{"version":3,"endpoints":[
        {"endpoint":"/big","output_encoding":"no-op","backend":[{"host":["{{b}}"],"url_pattern":"/big"}]},
        {"endpoint":"/small","output_encoding":"no-op","backend":[{"host":["{{b}}"],"url_pattern":"/small"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();

    let mut c = ClientConn::open(gw.port);
    for path in ["/big", "/small", "/big"] {
        c.send(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n", gw.port).as_bytes());
        let res = c.read_response();
        assert_eq!(res.status, 200, "{path}");
        assert!(!res.chunked, "{path}: a known length stays a Content-Length answer");
        if path == "/big" {
            assert_eq!(res.body.len(), body.len());
            assert!(res.body == body, "{path}: body bytes differ");
        } else {
            assert_eq!(res.body, br#"{"ok":true}"#);
        }
    }
    // Each body was read to its end, so the worker's one backend connection served all three.
    assert_eq!(b.connections(), 1);
}

#[test]
fn first_bytes_arrive_before_the_body_ends() {
    let b = Backend::new()
        .route("/slow", Reply::status(200).chunked(&[b"first-", b"second"], Duration::from_millis(600)))
        .start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/slow","output_encoding":"no-op",
        "backend":[{"host":["{{b}}"],"url_pattern":"/slow"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let mut c = ClientConn::open(gw.port);
    c.send(format!("GET /slow HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", gw.port).as_bytes());
    // Read raw bytes: the head and the first chunk come well before the second one (600 ms later).
    let raw = c.raw_read_until(b"first-", Duration::from_millis(400));
    assert!(raw.windows(6).any(|w| w == b"first-"), "{}", String::from_utf8_lossy(&raw));
    assert!(!raw.windows(6).any(|w| w == b"second"), "the second chunk came early");
    assert_eq!(c.read_response().body, b"first-second");
}

#[test]
fn gzip_decoded_when_the_gateway_asked() {
    let b = Backend::new()
        .route("/z", Reply::status(200).header("Content-Type", "text/plain").body(b"plain text body").gzip())
        .start();
    let cfg = r#"{"version":3,"endpoints":[
        {"endpoint":"/z","output_encoding":"no-op","backend":[{"host":["{{b}}"],"url_pattern":"/z"}]},
        {"endpoint":"/zz","output_encoding":"no-op","input_headers":["Accept-Encoding"],
         "backend":[{"host":["{{b}}"],"url_pattern":"/z"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();

    let res = gw.get("/z");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("Content-Encoding"), None);
    assert_eq!(res.body, b"plain text body");

    // The client asked for gzip itself: the compressed body passes through.
    let res = gw.get_with("/zz", &[("Accept-Encoding", "gzip")]);
    assert_eq!(res.header("Content-Encoding"), Some("gzip"));
    let mut plain = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(res.body.as_slice()), &mut plain)
        .expect("valid gzip");
    assert_eq!(plain, "plain text body");
}

#[test]
fn connection_refused_is_500() {
    let port = support::free_port();
    let cfg = format!(
        r#"{{"version":3,"endpoints":[{{"endpoint":"/x","output_encoding":"no-op",
            "backend":[{{"host":["http://127.0.0.1:{port}"],"url_pattern":"/x"}}]}}]}}"#
    );
    let gw = Gateway::start(&cfg);
    assert_empty_error(&gw.get("/x"), 500);
}

#[test]
fn redirects_are_followed() {
    let b = Backend::new().route("/old", Reply::redirect(301, "/new")).route("/new", Reply::text(200, "here")).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/x","output_encoding":"no-op",
        "backend":[{"host":["{{b}}"],"url_pattern":"/old"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let res = gw.get("/x");
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), "here");
}

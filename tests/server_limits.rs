//! The client side of the server: malformed requests, size limits, pipelining, keep-alive, header timeouts,
//! graceful shutdown.

mod support;

use std::time::{Duration, Instant};

use support::{Backend, ClientConn, Gateway, Reply};

const HEALTH_ONLY: &str = r#"{"version":3}"#;

fn health(port: u16) -> String {
    format!("GET /__health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n")
}

#[test]
fn malformed_request_line_is_400_and_close() {
    let gw = Gateway::start(HEALTH_ONLY);
    for raw in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET\r\n\r\n",
        b"GET nopath HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nbad header\r\n\r\n",
    ] {
        let mut c = ClientConn::open(gw.port);
        c.send(raw);
        let res = c.read_response();
        assert_eq!(res.status, 400, "{:?} → {res:?}", String::from_utf8_lossy(raw));
        assert_eq!(res.header("Connection"), Some("close"));
        assert!(c.is_closed_within(Duration::from_secs(2)), "the connection is closed after a 400");
    }
}

#[test]
fn missing_host_on_http11_is_400() {
    let gw = Gateway::start(HEALTH_ONLY);
    let res = support::request(gw.port, b"GET /__health HTTP/1.1\r\n\r\n");
    assert_eq!(res.status, 400);
}

#[test]
fn unsupported_version_is_505() {
    let gw = Gateway::start(HEALTH_ONLY);
    let res = support::request(gw.port, b"GET /__health HTTP/2.0\r\nHost: x\r\n\r\n");
    assert_eq!(res.status, 505, "{res:?}");
}

#[test]
fn http10_closes_after_answer() {
    let gw = Gateway::start(HEALTH_ONLY);
    let mut c = ClientConn::open(gw.port);
    c.send(b"GET /__health HTTP/1.0\r\n\r\n");
    assert_eq!(c.read_response().status, 200);
    assert!(c.is_closed_within(Duration::from_secs(2)));
}

#[test]
fn header_too_large_is_431() {
    let gw = Gateway::start(r#"{"version":3,"max_header_bytes":1024}"#);
    let big = "a".repeat(2048);
    let mut c = ClientConn::open(gw.port);
    c.send(format!("GET /__health HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n").as_bytes());
    let res = c.read_response();
    assert_eq!(res.status, 431);
    assert_eq!(res.header("Connection"), Some("close"));
    // Just under the limit is fine.
    let res = support::request(
        gw.port,
        format!("GET /__health HTTP/1.1\r\nHost: x\r\nX-S: {}\r\n\r\n", "a".repeat(512)).as_bytes(),
    );
    assert_eq!(res.status, 200);
}

#[test]
fn too_many_headers_is_431() {
    let gw = Gateway::start(HEALTH_ONLY);
    let mut raw = String::from("GET /__health HTTP/1.1\r\nHost: x\r\n");
    for i in 0..150 {
        raw.push_str(&format!("X-H{i}: v\r\n"));
    }
    raw.push_str("\r\n");
    assert_eq!(support::request(gw.port, raw.as_bytes()).status, 431);
}

#[test]
fn body_over_the_limit_is_413() {
    // Two backends each need a copy, so the body is held in memory and bounded (a single backend streams it).
    let b = Backend::new().route("/b", Reply::json(200, "{}")).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/up","method":"POST","backend":[
        {"host":["{{b}}"],"url_pattern":"/b"},{"host":["{{b}}"],"url_pattern":"/b"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    // Claims 64 MiB + 1 without sending it: refused from the header alone.
    let claim = 64 * 1024 * 1024 + 1;
    let mut c = ClientConn::open(gw.port);
    c.send(format!("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: {claim}\r\n\r\nabc").as_bytes());
    let res = c.read_response();
    assert_eq!(res.status, 413);
    assert!(c.is_closed_within(Duration::from_secs(2)));
    assert!(b.requests().is_empty());
}

#[test]
fn conflicting_framing_is_400() {
    let gw = Gateway::start(HEALTH_ONLY);
    let res = support::request(
        gw.port,
        b"POST /__health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    assert_eq!(res.status, 400);
}

#[test]
fn bad_chunked_body_is_400() {
    let b = Backend::new().route("/b", Reply::json(200, "{}")).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/up","method":"POST","backend":[{"host":["{{b}}"],"url_pattern":"/b"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let res = support::request(
        gw.port,
        b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    );
    assert_eq!(res.status, 400);
    assert!(b.requests().is_empty());
}

#[test]
fn pipelined_requests_answered_in_order() {
    let b = Backend::new()
        .route("/slow", Reply::json(200, r#"{"n":"slow"}"#).delay(Duration::from_millis(100)))
        .route("/fast", Reply::json(200, r#"{"n":"fast"}"#))
        .start();
    let cfg = r#"{"version":3,"endpoints":[
        {"endpoint":"/slow","backend":[{"host":["{{b}}"],"url_pattern":"/slow"}]},
        {"endpoint":"/fast","backend":[{"host":["{{b}}"],"url_pattern":"/fast"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let mut c = ClientConn::open(gw.port);
    let h = format!("Host: 127.0.0.1:{}", gw.port);
    c.send(
        format!(
            "GET /slow HTTP/1.1\r\n{h}\r\n\r\nGET /fast HTTP/1.1\r\n{h}\r\n\r\nGET /nope HTTP/1.1\r\n{h}\r\n\r\n\
             GET /__health HTTP/1.1\r\n{h}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(c.read_response().body_str(), r#"{"n":"slow"}"#);
    assert_eq!(c.read_response().body_str(), r#"{"n":"fast"}"#);
    assert_eq!(c.read_response().status, 404);
    assert_eq!(c.read_response().status, 200);
    assert!(c.is_closed_within(Duration::from_secs(2)));
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let gw = Gateway::start(HEALTH_ONLY);
    let mut c = ClientConn::open(gw.port);
    for _ in 0..20 {
        c.send(health(gw.port).as_bytes());
        let res = c.read_response();
        assert_eq!(res.status, 200);
        assert_eq!(res.header("Connection"), None);
    }
}

#[test]
fn request_split_across_writes() {
    let gw = Gateway::start(HEALTH_ONLY);
    let mut c = ClientConn::open(gw.port);
    let raw = health(gw.port);
    for piece in raw.as_bytes().chunks(3) {
        c.send(piece);
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(c.read_response().status, 200);
}

#[test]
fn expect_continue_gets_100_first() {
    let b = Backend::new().route("/b", Reply::json(200, r#"{"ok":1}"#)).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/up","method":"POST","backend":[{"host":["{{b}}"],"url_pattern":"/b"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let mut c = ClientConn::open(gw.port);
    c.send(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    let interim = c.read_response();
    assert_eq!(interim.status, 100);
    c.send(b"data");
    let res = c.read_response();
    assert_eq!(res.status, 200);
    assert_eq!(b.single().body, b"data");
}

#[test]
fn read_header_timeout_closes_slow_clients() {
    let gw = Gateway::start(r#"{"version":3,"read_header_timeout":"300ms"}"#);
    let mut c = ClientConn::open(gw.port);
    let started = Instant::now();
    c.send(b"GET /__health HTTP/1.1\r\nHost: x\r\n");
    assert!(c.is_closed_within(Duration::from_secs(3)), "a head that never ends is cut");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(2), "{took:?}");
    // A prompt client is still served.
    assert_eq!(gw.get("/__health").status, 200);
}

#[test]
fn idle_timeout_closes_idle_keep_alive() {
    let gw = Gateway::start(r#"{"version":3,"idle_timeout":"300ms"}"#);
    let mut c = ClientConn::open(gw.port);
    c.send(health(gw.port).as_bytes());
    assert_eq!(c.read_response().status, 200);
    let started = Instant::now();
    assert!(c.is_closed_within(Duration::from_secs(3)));
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[test]
fn large_request_body_over_many_writes() {
    let b = Backend::new().route("/b", Reply::json(200, r#"{"ok":1}"#)).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/up","method":"POST","backend":[{"host":["{{b}}"],"url_pattern":"/b"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let body: Vec<u8> = (0..2 * 1024 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let mut c = ClientConn::open(gw.port);
    c.send(
        format!("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
            .as_bytes(),
    );
    for piece in body.chunks(256 * 1024) {
        c.send(piece);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(c.read_response().status, 200);
    assert!(b.single().body == body, "the backend got the body byte for byte");
}

#[test]
fn graceful_shutdown_finishes_in_flight_requests() {
    let b =
        Backend::new().route("/slow", Reply::json(200, r#"{"done":true}"#).delay(Duration::from_millis(500))).start();
    let cfg =
        r#"{"version":3,"endpoints":[{"endpoint":"/slow","backend":[{"host":["{{b}}"],"url_pattern":"/slow"}]}]}"#;
    let mut gw = Gateway::new(cfg).with("b", &b.url()).start();
    let port = gw.port;
    let mut c = ClientConn::open(port);
    c.send(format!("GET /slow HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes());
    assert!(!b.wait_requests(1, Duration::from_secs(2)).is_empty(), "the request reached the backend");
    gw.terminate();
    let res = c.read_response();
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), r#"{"done":true}"#);
    assert_eq!(res.header("Connection"), Some("close"), "no keep-alive while shutting down");
    let status = gw.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "stderr:\n{}", gw.stderr());
    assert!(gw.stderr().contains("Server stopped"));
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "nothing listens after exit");
}

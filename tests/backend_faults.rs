//! Backends that misbehave: hang, refuse, reset, send garbage or too much; plus connection reuse and request
//! bodies on the way out. The gateway answers 500 and stays up.

mod support;

use std::time::{Duration, Instant};

use support::{assert_empty_error, Backend, ClientConn, Gateway, Reply};

fn gateway(b: &support::RunningBackend, router: &str, endpoint_extra: &str) -> Gateway {
    let cfg = format!(
        r#"{{"version":3,"extra_config":{{"router":{{{router}}}}},"endpoints":[
            {{"endpoint":"/e"{endpoint_extra},"backend":[{{"host":["{{{{b}}}}"],"url_pattern":"/b"}}]}},
            {{"endpoint":"/raw"{endpoint_extra},"output_encoding":"no-op","backend":[{{"host":["{{{{b}}}}"],"url_pattern":"/b"}}]}}]}}"#
    );
    Gateway::new(&cfg).with("b", &b.url()).start()
}

#[test]
fn hanging_backend_times_out() {
    let b = Backend::new().route("/b", Reply::hang()).start();
    let gw = gateway(&b, r#""return_error_msg":true"#, r#","timeout":"300ms""#);
    let started = Instant::now();
    let res = gw.get("/e");
    let took = started.elapsed();
    assert_eq!(res.status, 500);
    assert_eq!(res.body_str(), "context deadline exceeded");
    assert!(took >= Duration::from_millis(290) && took < Duration::from_millis(1500), "{took:?}");

    let started = Instant::now();
    let res = gw.get("/raw");
    assert_eq!(res.status, 500);
    assert_eq!(res.body_str(), "context deadline exceeded");
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[test]
fn slow_backend_without_msg_is_empty_500() {
    let b = Backend::new().route("/b", Reply::json(200, "{}").delay(Duration::from_secs(2))).start();
    let gw = gateway(&b, "", r#","timeout":"200ms""#);
    assert_empty_error(&gw.get("/e"), 500);
}

#[test]
fn connection_refused_is_500() {
    let port = support::free_port();
    let cfg = format!(
        r#"{{"version":3,"extra_config":{{"router":{{"return_error_msg":true}}}},
            "endpoints":[{{"endpoint":"/e","backend":[{{"host":["http://127.0.0.1:{port}"],"url_pattern":"/b"}}]}}]}}"#
    );
    let gw = Gateway::start(&cfg);
    let res = gw.get("/e");
    assert_eq!(res.status, 500);
    assert_eq!(
        res.body_str(),
        format!("Get \"http://127.0.0.1:{port}/b\": dial tcp 127.0.0.1:{port}: connect: connection refused")
    );
}

#[test]
fn reset_mid_body_is_500() {
    let b = Backend::new().route("/b", Reply::raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\":")).start();
    let gw = gateway(&b, "", "");
    assert_empty_error(&gw.get("/e"), 500);
    assert_eq!(gw.get("/__health").status, 200);
}

#[test]
fn noop_body_cut_mid_way_cuts_the_client() {
    let b = Backend::new().route("/b", Reply::raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")).start();
    let gw = gateway(&b, "", "");
    let mut c = ClientConn::open(gw.port);
    c.send(format!("GET /raw HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n", gw.port).as_bytes());
    let res = c.try_read_response(false);
    assert!(res.is_err(), "a short body must not look complete: {res:?}");
    assert_eq!(gw.get("/__health").status, 200);
}

#[test]
fn garbage_answer_is_500() {
    let b = Backend::new().route("/b", Reply::raw(b"this is not http\r\n\r\n")).start();
    let gw = gateway(&b, "", "");
    assert_empty_error(&gw.get("/e"), 500);
    assert_empty_error(&gw.get("/raw"), 500);
}

#[test]
fn closed_without_answer_is_500() {
    let b = Backend::new().route("/b", Reply::raw(b"")).start();
    let gw = gateway(&b, "", "");
    assert_empty_error(&gw.get("/e"), 500);
}

#[test]
fn short_content_length_truncates_json() {
    // The backend lies: it says 5 bytes, so `{"a":` is all the gateway may read, which is not JSON.
    let b = Backend::new().route("/b", Reply::raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{\"a\":1}")).start();
    let gw = gateway(&b, "", "");
    assert_empty_error(&gw.get("/e"), 500);
}

#[test]
fn huge_json_body_is_refused() {
    // 70 MB, over MAX_BACKEND_BODY (64 MiB).
    let mut body = Vec::with_capacity(70_000_020);
    body.extend_from_slice(b"{\"a\":\"");
    body.resize(70_000_000, b'x');
    body.extend_from_slice(b"\"}");
    let b =
        Backend::new().route("/b", Reply::status(200).header("Content-Type", "application/json").body(&body)).start();
    drop(body);
    let gw = gateway(&b, "", r#","timeout":"5s""#);
    assert_empty_error(&gw.get("/e"), 500);
    assert_eq!(gw.get("/__health").status, 200, "the gateway is still alive");
}

#[test]
fn backend_connections_are_reused() {
    let b = Backend::new().route("/b", Reply::json(200, r#"{"a":1}"#)).start();
    let gw = gateway(&b, "", "");
    for _ in 0..8 {
        assert_eq!(gw.get("/e").status, 200);
    }
    assert_eq!(b.requests().len(), 8);
    // Two workers, one pool each: at most two backend connections.
    assert!(b.connections() <= 2, "{} connections for 8 requests", b.connections());
}

#[test]
fn backend_closing_after_each_answer_is_handled() {
    let b = Backend::new().route("/b", Reply::json(200, r#"{"a":1}"#).close()).start();
    let gw = gateway(&b, "", "");
    for _ in 0..4 {
        assert_eq!(gw.get("/e").status, 200);
    }
    assert_eq!(b.connections(), 4);
}

#[test]
fn chunked_request_body_is_streamed_chunked_to_a_single_backend() {
    let b = Backend::new().route("/b", Reply::json(200, r#"{"ok":true}"#)).start();
    let gw = gateway(&b, "", r#","method":"POST""#);
    let mut c = ClientConn::open(gw.port);
    c.send(
        format!(
            "POST /e HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
             5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
            gw.port
        )
        .as_bytes(),
    );
    let res = c.read_response();
    assert_eq!(res.status, 200, "{res:?}");
    let r = b.single();
    assert_eq!(r.method, "POST");
    assert_eq!(r.body, b"hello world");
    // Streamed as it arrives: a body of unknown length goes on chunked, as Go's client sends it.
    assert!(r.chunked);
    assert_eq!(r.header("Content-Length"), None);
}

#[test]
fn chunked_request_body_is_buffered_for_two_backends() {
    let a = Backend::new().route("/a", Reply::json(200, r#"{"a":1}"#)).start();
    let b = Backend::new().route("/b", Reply::json(200, r#"{"b":2}"#)).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/e","method":"POST","backend":[
        {"host":["{{a}}"],"url_pattern":"/a"},{"host":["{{b}}"],"url_pattern":"/b"}]}]}"#;
    let gw = Gateway::new(cfg).with("a", &a.url()).with("b", &b.url()).start();
    let mut c = ClientConn::open(gw.port);
    c.send(b"POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    let res = c.read_response();
    assert_eq!(res.status, 200, "{res:?}");
    for backend in [&a, &b] {
        let r = backend.single();
        assert_eq!(r.body, b"hello", "each backend gets its own full copy");
        assert_eq!(r.header("Content-Length"), Some("5"));
    }
}

#[test]
fn single_backend_upload_is_streamed_without_the_memory_limit() {
    let b = Backend::new().route("/b", Reply::json(200, r#"{"ok":true}"#)).start();
    let gw = gateway(&b, "", r#","method":"POST""#);
    // Larger than MAX_REQUEST_BODY (64 MiB), which only bounds bodies held in memory.
    let size = 64 * 1024 * 1024 + 1;
    let mut c = ClientConn::open(gw.port);
    c.send(format!("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n").as_bytes());
    let piece = vec![b'x'; 1 << 20];
    let mut sent = 0;
    while sent < size {
        let n = piece.len().min(size - sent);
        c.send(&piece[..n]);
        sent += n;
    }
    let res = c.read_response();
    assert_eq!(res.status, 200, "{res:?}");
    let r = b.single();
    assert_eq!(r.body.len(), size);
    assert_eq!(r.header("Content-Length"), Some(size.to_string().as_str()));
}

#[test]
fn gateway_survives_a_mix_of_faults() {
    let b = Backend::new()
        .route_seq(
            "/b",
            vec![
                Reply::raw(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"),
                Reply::raw(b"\x00\x01\x02"),
                Reply::json(200, r#"{"fine":true}"#),
            ],
        )
        .start();
    let gw = gateway(&b, "", "");
    assert_eq!(gw.get("/e").status, 500);
    assert_eq!(gw.get("/e").status, 500);
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), r#"{"fine":true}"#);
}

#[test]
fn backend_answer_split_across_reads() {
    // Head and body arrive in several TCP segments: the gateway must append, not overwrite, what it read.
    let pieces: [&[u8]; 5] = [b"HTTP/1.1 20", b"0 OK\r\nContent-Le", b"ngth: 15\r\n\r\n", b"{\"split\":", b"\"yes\"}"];
    let b = Backend::new().route("/b", Reply::raw_pieces(&pieces, Duration::from_millis(15))).start();
    let gw = gateway(&b, r#""return_error_msg":true"#, "");
    let res = gw.get("/e");
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.body_str(), r#"{"split":"yes"}"#);
    let res = gw.get("/raw");
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.body_str(), r#"{"split":"yes"}"#);
}

#[test]
fn large_backend_body_over_many_reads() {
    let mut body = b"{\"a\":\"".to_vec();
    body.resize(3 * 1024 * 1024, b'y');
    body.extend_from_slice(b"\"}");
    let b = Backend::new().route("/b", Reply::json(200, std::str::from_utf8(&body).expect("ascii"))).start();
    let gw = gateway(&b, "", "");
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert_eq!(res.body, body);
    assert_eq!(gw.get("/raw").body, body);
}

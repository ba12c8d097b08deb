//! `security/cors` over the wire (spec §1.3, AE-11..AE-15): preflights answered before routing on every path,
//! actual requests with their CORS headers, rs/cors v1.11.1's rules.

mod support;

use support::{Backend, Gateway, Reply, RunningBackend};

/// The spec's CORS fixture: root CORS plus `/param_forwarding/some/{foo}/{bar}` → `/param_forwarding/{bar}?foo={foo}`.
const FIXTURE: &str = r#"{"version":3,
    "extra_config":{"security/cors":{"allow_origins":["*"],"allow_methods":["POST","GET"],
        "allow_headers":["Origin","Authorization","Content-Type"],"expose_headers":["Content-Length"],"max_age":"12h"}},
    "endpoints":[{"endpoint":"/param_forwarding/some/{foo}/{bar}",
        "backend":[{"host":["{{b}}"],"url_pattern":"/param_forwarding/{bar}?foo={foo}"}]}]}"#;

const PREFLIGHT_VARY: &str = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

fn fixture() -> (RunningBackend, Gateway) {
    let b = Backend::new().fallback(Reply::json(200, r#"{"echo":"mock"}"#)).start();
    let gw = Gateway::new(FIXTURE).with("b", &b.url()).start();
    (b, gw)
}

#[track_caller]
fn assert_no_allow_headers(res: &support::Response) {
    for (name, _) in &res.headers {
        assert!(!name.to_ascii_lowercase().starts_with("access-control-allow-"), "{name} in {res:?}");
    }
}

#[test]
fn ae11_allowed_preflight() {
    let (b, gw) = fixture();
    let res = gw.send(
        "OPTIONS",
        "/param_forwarding/some/foo/bar?a=1&b=2",
        &[
            ("Origin", "http://foo.example"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "content-type,origin"),
        ],
        b"",
    );
    assert_eq!(res.status, 204, "{res:?}");
    assert_eq!(res.body_str(), "");
    assert_eq!(res.header("Content-Type"), None);
    assert_eq!(res.header("Content-Length"), None, "204 carries no framing");
    assert_eq!(res.header("X-Krakend"), None);
    assert_eq!(res.header("X-Krakend-Completed"), None);
    assert_eq!(res.header("Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(res.header("Access-Control-Allow-Methods"), Some("GET"));
    assert_eq!(res.header("Access-Control-Allow-Headers"), Some("content-type,origin"));
    assert_eq!(res.header("Access-Control-Max-Age"), Some("43200"));
    assert_eq!(res.header("Vary"), Some(PREFLIGHT_VARY));
    assert_eq!(res.header("Access-Control-Allow-Credentials"), None);
    assert!(b.requests().is_empty(), "a preflight never reaches the backend");
}

#[test]
fn ae12_ae13_refused_preflights_are_still_204() {
    let (_b, gw) = fixture();
    let origin = ("Origin", "http://foo.example");
    let cases: [&[(&str, &str)]; 5] = [
        // AE-12: method not allowed.
        &[origin, ("Access-Control-Request-Method", "PUT")],
        // AE-13: header not allowed; an allowed name not in lower case; names out of order.
        &[origin, ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "X-PINGOTHER")],
        &[origin, ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "Content-Type")],
        &[origin, ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "origin,content-type")],
        // No Origin at all.
        &[("Access-Control-Request-Method", "GET")],
    ];
    for headers in cases {
        let res = gw.send("OPTIONS", "/param_forwarding/some/foo/bar", headers, b"");
        assert_eq!(res.status, 204, "{headers:?}: {res:?}");
        assert_eq!(res.body_str(), "");
        assert_eq!(res.header("Vary"), Some(PREFLIGHT_VARY), "{headers:?}");
        assert_no_allow_headers(&res);
    }
}

#[test]
fn ae14_actual_request() {
    let (b, gw) = fixture();
    let res = gw.get_with("/param_forwarding/some/foo/bar", &[("Origin", "http://foo.example.tld")]);
    assert_eq!(res.status, 200, "{res:?}");
    support::assert_json(&res, true);
    assert_eq!(res.header("Vary"), Some("Origin"));
    assert_eq!(res.header("Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(res.header("Access-Control-Expose-Headers"), Some("Content-Length"));
    assert_eq!(res.header("Access-Control-Allow-Methods"), None, "only on preflights");
    assert_eq!(res.json(), serde_json::json!({"echo": "mock"}));
    assert_eq!(b.single().target, "/param_forwarding/bar?foo=foo");

    // Without Origin: just `Vary`.
    let res = gw.get("/param_forwarding/some/foo/bar");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("Vary"), Some("Origin"));
    assert_eq!(res.header("Access-Control-Allow-Origin"), None);
}

#[test]
fn ae15_actual_request_from_a_disallowed_origin_is_not_rejected() {
    let cfg = r#"{"version":3,"extra_config":{"security/cors":{"allow_origins":["https://a.example"]}},
        "endpoints":[{"endpoint":"/x","backend":[{"host":["{{b}}"],"url_pattern":"/x"}]}]}"#;
    let b = Backend::new().route("/x", Reply::json(200, r#"{"a":1}"#)).start();
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let res = gw.get_with("/x", &[("Origin", "https://evil.example")]);
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.header("Vary"), Some("Origin"));
    assert_eq!(res.header("Access-Control-Allow-Origin"), None);
    assert_eq!(res.body_str(), r#"{"a":1}"#);
    // An allowed origin (any case) is echoed as sent.
    let res = gw.get_with("/x", &[("Origin", "https://A.example")]);
    assert_eq!(res.header("Access-Control-Allow-Origin"), Some("https://A.example"));
    assert_eq!(res.header("Access-Control-Expose-Headers"), None, "none configured");
}

#[test]
fn preflight_is_answered_before_routing_on_any_path_and_skips_the_access_log() {
    let (_b, gw) = fixture();
    let preflight = [("Origin", "http://foo.example"), ("Access-Control-Request-Method", "GET")];
    for path in ["/no/such/route", "/__health", "/__debug/x", "/param_forwarding/some/foo/bar/"] {
        let res = gw.send("OPTIONS", path, &preflight, b"");
        assert_eq!(res.status, 204, "{path}: {res:?}");
        assert_eq!(res.header("Access-Control-Allow-Origin"), Some("*"), "{path}");
    }
    // CORS wraps everything: its headers are on the 404, the health answer and the redirects too.
    let origin = [("Origin", "http://foo.example")];
    for (path, status) in [("/no/such/route", 404), ("/__health", 200), ("/param_forwarding/some/foo/bar/", 301)] {
        let res = gw.get_with(path, &origin);
        assert_eq!(res.status, status, "{path}: {res:?}");
        assert_eq!(res.header("Vary"), Some("Origin"), "{path}");
        assert_eq!(res.header("Access-Control-Allow-Origin"), Some("*"), "{path}");
    }
    // `OPTIONS` without `Access-Control-Request-Method` is no preflight: the router answers (405 here).
    let res = gw.send("OPTIONS", "/param_forwarding/some/foo/bar", &origin, b"");
    assert_eq!(res.status, 405, "{res:?}");
    assert_eq!(res.header("Vary"), Some("Origin"));
    // Access-log lines: the 404 and the 405, never the preflights.
    assert!(gw.wait_stderr("\"/no/such/route\"", std::time::Duration::from_secs(3)), "{}", gw.stderr());
    // Each worker flushes its access log within a second.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let log = gw.stderr();
    assert!(!log.contains("| 204 |"), "preflights are not logged: {log}");
}

#[test]
fn passthrough_status_credentials_private_network_and_verbatim_echoes() {
    let cfg = r#"{"version":3,"extra_config":{
        "router":{"auto_options":true},
        "security/cors":{"allow_origins":["https://*.example.com"],"allow_methods":["GET"],"allow_credentials":true,
            "allow_private_network":true,"options_passthrough":true,"debug":true}},
        "endpoints":[{"endpoint":"/x","backend":[{"host":["{{b}}"],"url_pattern":"/x"}]}]}"#;
    let b = Backend::new().route("/x", Reply::json(200, r#"{"a":1}"#)).start();
    let gw = Gateway::new(cfg).with("b", &b.url()).arg("-d").start();
    let res = gw.send(
        "OPTIONS",
        "/x",
        &[
            ("Origin", "https://api.example.com"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "X-Anything, Whatever"),
            ("Access-Control-Request-Private-Network", "true"),
        ],
        b"",
    );
    // Passed through to the router: `auto_options` answers 200 with `Allow`, and the CORS headers are on it.
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.header("Allow"), Some("GET"));
    assert_eq!(res.header("Access-Control-Allow-Origin"), Some("https://api.example.com"));
    assert_eq!(res.header("Access-Control-Allow-Headers"), Some("X-Anything, Whatever"), "any header: echoed verbatim");
    assert_eq!(res.header("Access-Control-Allow-Credentials"), Some("true"));
    assert_eq!(res.header("Access-Control-Allow-Private-Network"), Some("true"));
    assert_eq!(
        res.header("Vary"),
        Some("Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network")
    );
    assert_eq!(res.header("Access-Control-Max-Age"), None, "no max_age");
    assert!(gw.wait_stderr("[CORS] Handler: Preflight request", std::time::Duration::from_secs(3)), "{}", gw.stderr());
    // Actual request with credentials; a method outside allow_methods gets no CORS headers (but is served).
    let res = gw.get_with("/x", &[("Origin", "https://api.example.com")]);
    assert_eq!(res.header("Access-Control-Allow-Credentials"), Some("true"));
    let res = gw.send("POST", "/x", &[("Origin", "https://api.example.com")], b"");
    assert_eq!(res.status, 405);
    assert_eq!(res.header("Access-Control-Allow-Origin"), None);
}

#[test]
fn options_success_status() {
    let cfg = r#"{"version":3,"extra_config":{"security/cors":{"options_success_status":200}}}"#;
    let gw = Gateway::start(cfg);
    let res = gw.send("OPTIONS", "/x", &[("Origin", "https://a"), ("Access-Control-Request-Method", "GET")], b"");
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.header("Content-Length"), Some("0"));
    assert_eq!(res.header("Access-Control-Allow-Origin"), Some("*"), "empty allow_origins = any");
}

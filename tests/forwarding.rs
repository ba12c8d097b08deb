//! Zero-trust forwarding: which query strings and headers reach a backend, the client IP, echo as a backend
//! (AC-20..24, AC-44).

mod support;

use support::{assert_json, Backend, Gateway, Reply, UA};

fn ok() -> Reply {
    Reply::json(200, r#"{"ok":true}"#)
}

/// Endpoint `/v1/foo` → backend `/catalog`, with `endpoint_extra` spliced into the endpoint.
fn catalog(endpoint_extra: &str) -> (Gateway, support::RunningBackend) {
    let b = Backend::new().route("/catalog", ok()).start();
    let cfg = format!(
        r#"{{"version":3,"endpoints":[{{"endpoint":"/v1/foo"{endpoint_extra},
            "backend":[{{"host":["{{{{b}}}}"],"url_pattern":"/catalog"}}]}}]}}"#
    );
    (Gateway::new(&cfg).with("b", &b.url()).start(), b)
}

/// The sorted header names a backend saw.
fn names(r: &support::Recorded) -> Vec<String> {
    let mut n: Vec<String> = r.headers.iter().map(|(k, _)| k.clone()).collect();
    n.sort();
    n
}

#[test]
fn ac20_declared_query_strings_only() {
    let (gw, b) = catalog(r#","input_query_strings":["items","page"]"#);
    gw.get("/v1/foo?items=10&page=2&evil=here");
    gw.get("/v1/foo?items=10");
    gw.get("/v1/foo?Page=1");
    gw.get("/v1/foo?page=2&items=1&items=2");
    let seen: Vec<String> = b.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(seen, ["/catalog?items=10&page=2", "/catalog?items=10", "/catalog", "/catalog?items=1&items=2&page=2"]);
}

#[test]
fn ac20_no_query_strings_by_default() {
    let (gw, b) = catalog("");
    assert_eq!(gw.get("/v1/foo?items=10&page=2").status, 200);
    assert_eq!(b.single().target, "/catalog");
}

#[test]
fn ac20_wildcard_forwards_all_sorted() {
    let (gw, b) = catalog(r#","input_query_strings":["*"]"#);
    gw.get("/v1/foo?page=2&items=10&evil=here");
    gw.get("/v1/foo?q=a+b&r=%2F");
    let seen: Vec<String> = b.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(seen, ["/catalog?evil=here&items=10&page=2", "/catalog?q=a+b&r=%2F"]);
}

#[test]
fn ac21_mandatory_query_via_variable() {
    let b = Backend::new().route("/foo", ok()).start();
    let cfg = r#"{"version":3,"endpoints":[
        {"endpoint":"/v3/{channel}/foo","backend":[{"host":["{{b}}"],"url_pattern":"/foo?channel={channel}"}]},
        {"endpoint":"/v4/{channel}/foo","input_query_strings":["page","limit"],
         "backend":[{"host":["{{b}}"],"url_pattern":"/foo?channel={channel}"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    assert_eq!(gw.get("/v3/iOS/foo?limit=10&evil=here").status, 200);
    assert_eq!(gw.get("/v3/foo").status, 404);
    // The reference source keeps both the pattern's query and the optional ones (the docs say otherwise).
    assert_eq!(gw.get("/v4/iOS/foo?limit=10&evil=here").status, 200);
    assert_eq!(gw.get("/v4/iOS/foo?evil=here").status, 200);
    let seen: Vec<String> = b.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(seen, ["/foo?channel=iOS", "/foo?channel=iOS&limit=10", "/foo?channel=iOS"]);
}

#[test]
fn ac22_default_headers() {
    let (gw, b) = catalog("");
    let res = gw.get_with(
        "/v1/foo?a=1&b=2&c=3",
        &[("User-Agent", "curl/7.54.0"), ("Accept", "*/*"), ("Cookie", "s=1"), ("X-Forwarded-For", "9.9.9.9")],
    );
    assert_eq!(res.status, 200);
    let r = b.single();
    assert_eq!(r.target, "/catalog");
    assert_eq!(names(&r), ["Accept-Encoding", "Host", "User-Agent", "X-Forwarded-For", "X-Forwarded-Host"]);
    assert_eq!(r.header("User-Agent"), Some(UA));
    assert_eq!(r.header("X-Forwarded-For"), Some("127.0.0.1"), "the gateway's own value, not the client's");
    assert_eq!(r.header("X-Forwarded-Host"), Some(format!("127.0.0.1:{}", gw.port).as_str()));
    assert_eq!(r.header("Accept-Encoding"), Some("gzip"));
    assert_eq!(r.header("Host"), Some(b.addr().to_string().as_str()));
}

#[test]
fn ac22_content_type_passes_by_default() {
    let b = Backend::new().route("/catalog", ok()).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/v1/foo","method":"POST",
        "backend":[{"host":["{{b}}"],"url_pattern":"/catalog"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let res = gw.send("POST", "/v1/foo", &[("Content-Type", "application/json")], br#"{"n":1}"#);
    assert_eq!(res.status, 200, "{res:?}");
    let r = b.single();
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.body, br#"{"n":1}"#);
    assert_eq!(r.header("Content-Length"), Some("7"));
}

#[test]
fn ac23_declared_headers_and_query() {
    let (gw, b) = catalog(r#","input_query_strings":["a","b"],"input_headers":["User-Agent","Accept"]"#);
    gw.get_with(
        "/v1/foo?a=1&b=2&c=3",
        &[("User-Agent", "curl/7.54.0"), ("accept", "*/*"), ("Content-Type", "text/plain")],
    );
    let r = b.single();
    assert_eq!(r.target, "/catalog?a=1&b=2");
    assert_eq!(r.header("User-Agent"), Some("curl/7.54.0"));
    assert_eq!(r.header("Accept"), Some("*/*"));
    assert_eq!(r.header("X-Forwarded-Via"), Some(UA));
    assert_eq!(r.header("Content-Type"), None, "not listed, so not forwarded");
    assert_eq!(
        names(&r),
        ["Accept", "Accept-Encoding", "Host", "User-Agent", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Via"]
    );
    assert!(r.header_names().contains(&"Accept"), "names are canonical on the wire: {:?}", r.header_names());
}

#[test]
fn wildcard_headers_include_cookies_but_not_forwarded_for() {
    let (gw, b) = catalog(r#","input_headers":["*"]"#);
    gw.get_with("/v1/foo", &[("Cookie", "session=abc"), ("X-Forwarded-For", "9.9.9.9"), ("x-custom", "1")]);
    let r = b.single();
    assert_eq!(r.header("Cookie"), Some("session=abc"));
    assert_eq!(r.header("X-Custom"), Some("1"));
    assert_eq!(r.header("X-Forwarded-For"), Some("127.0.0.1"));
    assert_eq!(r.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("x-forwarded-for")).count(), 1);
}

#[test]
fn client_accept_encoding_replaces_the_gateways() {
    let (gw, b) = catalog(r#","input_headers":["Accept-Encoding"]"#);
    gw.get_with("/v1/foo", &[("Accept-Encoding", "identity")]);
    assert_eq!(b.single().header("Accept-Encoding"), Some("identity"));
}

#[test]
fn ac24_echo_as_backend() {
    let cfg = r#"{"version":3,"echo_endpoint":true,"endpoints":[{"endpoint":"/test/{var}",
        "backend":[{"host":["http://127.0.0.1:{{port}}"],"url_pattern":"/__echo/{var}"}]}]}"#;
    let gw = Gateway::start(cfg);
    let res = gw.get_with("/test/one?a=1&b=2&c=3", &[("Test", "foo"), ("Accept", "*/*")]);
    assert_eq!(res.status, 200);
    assert_json(&res, true);
    let v = res.json();
    assert_eq!(v["req_uri"], "/__echo/one");
    assert_eq!(v["req_method"], "GET");
    assert_eq!(v["req_querystring"], serde_json::json!({}));
    let headers = v["req_headers"].as_object().expect("req_headers object");
    let mut keys: Vec<&str> = headers.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["Accept-Encoding", "User-Agent", "X-Forwarded-For", "X-Forwarded-Host"]);
    assert_eq!(v["req_headers"]["User-Agent"], serde_json::json!([UA]));
    // Rendered through the gateway: sorted keys.
    assert!(res.body_str().starts_with(r#"{"req_body":"#), "{}", res.body_str());
}

#[test]
fn ac44_client_ip_from_trusted_proxy() {
    let b = Backend::new().route("/ip", ok()).start();
    let cfg = r#"{"version":3,"extra_config":{"router":{"forwarded_by_client_ip":true,
        "remote_ip_headers":["X-Forwarded-For"],"trusted_proxies":["127.0.0.1/32"]}},
        "endpoints":[{"endpoint":"/ip","backend":[{"host":["{{b}}"],"url_pattern":"/ip"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    gw.get_with("/ip", &[("X-Forwarded-For", "1.2.3.4,127.0.0.1")]);
    gw.get_with("/ip", &[("X-Forwarded-For", "5.6.7.8, 1.2.3.4")]);
    gw.get_with("/ip", &[("X-Forwarded-For", "not-an-ip")]);
    gw.get("/ip");
    let ips: Vec<String> = b.requests().iter().map(|r| r.header("X-Forwarded-For").unwrap_or("").to_owned()).collect();
    assert_eq!(ips, ["1.2.3.4", "1.2.3.4", "127.0.0.1", "127.0.0.1"]);
}

#[test]
fn ac44_untrusted_peer_keeps_its_own_ip() {
    let b = Backend::new().route("/ip", ok()).start();
    let cfg = r#"{"version":3,"extra_config":{"router":{"forwarded_by_client_ip":true,
        "remote_ip_headers":["X-Forwarded-For"],"trusted_proxies":["10.0.0.0/8"]}},
        "endpoints":[{"endpoint":"/ip","backend":[{"host":["{{b}}"],"url_pattern":"/ip"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    gw.get_with("/ip", &[("X-Forwarded-For", "1.2.3.4")]);
    assert_eq!(b.single().header("X-Forwarded-For"), Some("127.0.0.1"));
}

#[test]
fn backend_method_and_body_forwarded() {
    let b = Backend::new().route("/things", ok()).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/t","method":"PUT",
        "backend":[{"host":["{{b}}"],"url_pattern":"/things","method":"POST"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let res = gw.send("PUT", "/t", &[], b"payload");
    assert_eq!(res.status, 200);
    let r = b.single();
    assert_eq!(r.method, "POST");
    assert_eq!(r.body, b"payload");
}

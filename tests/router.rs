//! Router behaviour over the wire: health, 404/405 (custom bodies), variables, redirects, encoded params,
//! built-in endpoints (AC-01..04, AC-41..43).

mod support;

use support::{assert_json, get, Backend, Gateway, Reply, JSON_CT, X_KRAKEND};

#[test]
fn ac01_health_on_minimal_config() {
    let gw = Gateway::start(r#"{"version":3}"#);
    let res = gw.get("/__health");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("Content-Type"), Some(JSON_CT));
    assert_eq!(res.header("X-Krakend"), None, "health carries no X-Krakend headers");
    let body = res.body_str();
    assert!(body.starts_with(r#"{"agents":{},"now":""#), "{body}");
    assert!(body.ends_with(r#"","status":"ok"}"#), "{body}");
    // Go's time.Time.String() with the monotonic suffix: `2026-01-02 15:04:05.123456789 +0000 UTC m=+12.345678901`.
    let now = res.json()["now"].as_str().expect("now is a string").to_owned();
    assert!(now.contains(" UTC m=+"), "{now}");
}

#[test]
fn ac02_unknown_route_is_404_text() {
    let gw = Gateway::start(r#"{"version":3}"#);
    let res = gw.get("/foo");
    assert_eq!(res.status, 404);
    assert_eq!(res.header("Content-Type"), Some("text/plain"));
    assert_eq!(res.header("X-Krakend"), Some(X_KRAKEND));
    assert_eq!(res.header("X-Krakend-Completed"), Some("false"));
    assert_eq!(res.body_str(), "404 page not found");
}

#[test]
fn ac03_custom_error_bodies_and_405_allow() {
    let cfg = r#"{"version":3,
        "extra_config":{"router":{"error_body":{"404":{"msg":"Unknown endpoint","status":404},
                                                "405":{"oh-my-god":"What on earth are you requesting?"}}}},
        "endpoints":[{"endpoint":"/foo","backend":[{"host":["{{b}}"],"url_pattern":"/foo"}]}]}"#;
    let b = Backend::new().route("/foo", Reply::json(200, r#"{"a":1}"#)).start();
    let gw = Gateway::new(cfg).with("b", &b.url()).start();

    let res = gw.get("/bar");
    assert_eq!(res.status, 404);
    assert_json(&res, false);
    assert_eq!(res.body_str(), r#"{"msg":"Unknown endpoint","status":404}"#);

    let res = gw.send("POST", "/foo", &[], b"");
    assert_eq!(res.status, 405);
    assert_json(&res, false);
    assert_eq!(res.header("Allow"), Some("GET"));
    assert_eq!(res.body_str(), r#"{"oh-my-god":"What on earth are you requesting?"}"#);
    assert!(b.requests().is_empty(), "a 405 never reaches the backend");
}

#[test]
fn ac03_default_405_text() {
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/foo","backend":[{"host":["{{b}}"],"url_pattern":"/foo"}]}]}"#;
    let b = Backend::new().start();
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let res = gw.send("POST", "/foo", &[], b"");
    assert_eq!(res.status, 405);
    assert_eq!(res.header("Allow"), Some("GET"));
    assert_eq!(res.header("Content-Type"), Some("text/plain"));
    assert_eq!(res.header("X-Krakend"), Some(X_KRAKEND));
    assert_eq!(res.header("X-Krakend-Completed"), Some("false"));
    assert_eq!(res.body_str(), "405 method not allowed");
    // No implicit HEAD on a GET endpoint (gin).
    let res = gw.send("HEAD", "/foo", &[], b"");
    assert_eq!(res.status, 405);
}

#[test]
fn ac04_variable_forwarded_and_extra_depth_404() {
    let users = Backend::new().route("/users/summary/42", Reply::json(200, r#"{"name":"Ann","id":42}"#)).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/v1/users/{user}","method":"GET",
        "backend":[{"url_pattern":"/users/summary/{user}","method":"GET","host":["{{users}}"]}]}]}"#;
    let gw = Gateway::new(cfg).with("users", &users.url()).start();

    let res = gw.get("/v1/users/42");
    assert_eq!(res.status, 200);
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"id":42,"name":"Ann"}"#);
    let seen = users.single();
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.target, "/users/summary/42");

    let res = gw.get("/v1/users/1/2");
    assert_eq!(res.status, 404);
    assert_eq!(res.body_str(), "404 page not found");
    assert_eq!(users.requests().len(), 1, "the 404 did not reach the backend");
}

#[test]
fn ac41_redirects() {
    let b = Backend::new().fallback(Reply::json(200, "{}")).start();
    let cfg = r#"{"version":3,"endpoints":[
        {"endpoint":"/foo","backend":[{"host":["{{b}}"],"url_pattern":"/foo"}]},
        {"endpoint":"/bar","method":"POST","backend":[{"host":["{{b}}"],"url_pattern":"/bar"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();

    let res = gw.get("/foo/");
    assert_eq!(res.status, 301);
    assert_eq!(res.header("Location"), Some("/foo"));
    assert_eq!(res.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert_eq!(res.body_str(), "<a href=\"/foo\">Moved Permanently</a>.\n\n");
    assert_eq!(res.header("X-Krakend"), None);
    assert_eq!(res.header("X-Krakend-Completed"), None);

    let res = gw.send("POST", "/bar/", &[], b"");
    assert_eq!(res.status, 307);
    assert_eq!(res.header("Location"), Some("/bar"));
    assert_eq!(res.header("Content-Type"), None);
    assert_eq!(res.body_str(), "");
    assert_eq!(res.header("X-Krakend"), None);

    let res = gw.get("/FOO");
    assert_eq!(res.status, 301);
    assert_eq!(res.header("Location"), Some("/foo"));

    // The query survives the redirect.
    let res = gw.get("/foo/?a=1");
    assert_eq!(res.status, 301);
    assert_eq!(res.header("Location"), Some("/foo?a=1"));

    // A method with no routes at all goes straight to 404.
    let res = gw.send("PUT", "/foo/", &[], b"");
    assert_eq!(res.status, 404);
    assert!(b.requests().is_empty());
}

#[test]
fn ac41_redirects_disabled() {
    let b = Backend::new().start();
    let cfg = r#"{"version":3,
        "extra_config":{"router":{"disable_redirect_fixed_path":true,"disable_redirect_trailing_slash":true}},
        "endpoints":[{"endpoint":"/foo","backend":[{"host":["{{b}}"],"url_pattern":"/foo"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    assert_eq!(gw.get("/foo/").status, 404);
    assert_eq!(gw.get("/FOO").status, 404);
}

#[test]
fn ac42_debug_endpoint_with_run_d() {
    let gw = Gateway::new(r#"{"version":3}"#).arg("-d").start();
    let res = gw.get("/__debug/anything");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("Content-Type"), Some(JSON_CT));
    assert_eq!(res.body_str(), r#"{"message":"pong"}"#);
    let res = gw.send("POST", "/__debug/", &[("Content-Type", "text/plain")], b"hello");
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), r#"{"message":"pong"}"#);
    // Without a trailing slash: the trailing-slash redirect.
    let res = gw.get("/__debug");
    assert_eq!(res.status, 301);
    assert_eq!(res.header("Location"), Some("/__debug/"));
}

#[test]
fn debug_endpoint_off_by_default() {
    let gw = Gateway::start(r#"{"version":3}"#);
    assert_eq!(gw.get("/__debug/anything").status, 404);
    assert_eq!(gw.get("/__echo/anything").status, 404);
}

#[test]
fn ac43_encoded_params() {
    let b = Backend::new().fallback(Reply::json(200, r#"{"ok":true}"#)).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/foo/{id}","backend":[{"host":["{{b}}"],"url_pattern":"/item/{id}"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();

    let res = gw.get("/foo/..%252Fbar");
    assert_eq!(res.status, 400);
    assert_eq!(res.body_str(), "error: encoded url params");
    assert_eq!(res.header("X-Krakend"), None);
    assert!(b.requests().is_empty(), "rejected before the backend");

    let res = gw.get("/foo/a%20b");
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(b.single().target, "/item/a%20b", "the decoded value is re-escaped for the backend");
}

#[test]
fn ac43_path_decoding_disabled() {
    let b = Backend::new().fallback(Reply::json(200, r#"{"ok":true}"#)).start();
    let cfg = r#"{"version":3,"extra_config":{"router":{"disable_path_decoding":true}},
        "endpoints":[{"endpoint":"/foo/{id}","backend":[{"host":["{{b}}"],"url_pattern":"/item/{id}"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let res = gw.get("/foo/..%252Fbar");
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(b.requests().len(), 1);
}

#[test]
fn static_segment_beats_variable() {
    let b = Backend::new()
        .route("/static", Reply::json(200, r#"{"kind":"static"}"#))
        .route("/var/x", Reply::json(200, r#"{"kind":"var"}"#))
        .start();
    let cfg = r#"{"version":3,"endpoints":[
        {"endpoint":"/foo/bar","backend":[{"host":["{{b}}"],"url_pattern":"/static"}]},
        {"endpoint":"/foo/{name}","backend":[{"host":["{{b}}"],"url_pattern":"/var/{name}"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    assert_eq!(gw.get("/foo/bar").body_str(), r#"{"kind":"static"}"#);
    assert_eq!(gw.get("/foo/x").body_str(), r#"{"kind":"var"}"#);
}

#[test]
fn hide_version_header() {
    let gw = Gateway::start(r#"{"version":3,"extra_config":{"router":{"hide_version_header":true}}}"#);
    assert_eq!(gw.get("/nope").header("X-Krakend"), Some("Version undefined"));
}

#[test]
fn custom_health_path() {
    let gw = Gateway::start(r#"{"version":3,"extra_config":{"router":{"health_path":"/ready"}}}"#);
    let res = get(gw.port, "/ready", &[]);
    assert_eq!(res.status, 200);
    assert!(res.body_str().contains(r#""status":"ok""#));
}

#[test]
fn echo_endpoint_direct() {
    let gw = Gateway::start(r#"{"version":3,"echo_endpoint":true}"#);
    let res = gw.send("POST", "/__echo/a?q=foo", &[("X-Test", "1")], b"hi");
    assert_eq!(res.status, 200);
    let v = res.json();
    assert_eq!(v["req_uri"], "/__echo/a?q=foo");
    assert_eq!(v["req_method"], "POST");
    assert_eq!(v["req_body"], "hi");
    assert_eq!(v["req_querystring"]["q"][0], "foo");
    assert_eq!(v["req_uri_details"]["query"], "q=foo");
    assert_eq!(v["req_headers"]["X-Test"][0], "1");
    // A direct answer keeps the struct order, not sorted keys.
    assert!(res.body_str().starts_with(r#"{"req_uri":"#), "{}", res.body_str());
}

#[test]
fn access_log_lines_in_gin_format_and_skip_paths() {
    let cfg = r#"{"version":3,"extra_config":{"router":{"logger_skip_paths":["/__health"]}}}"#;
    let gw = Gateway::start(cfg);
    assert_eq!(gw.get("/missing?x=1").status, 404);
    // The access log is flushed by each worker at least once a second.
    assert!(gw.wait_stderr("\"/missing?x=1\"", std::time::Duration::from_secs(3)), "{}", gw.stderr());
    let line = gw.stderr().lines().find(|l| l.contains("/missing")).unwrap_or_default().to_owned();
    assert!(line.starts_with("[GIN] "), "{line}");
    assert!(line.contains(" | 404 | "), "{line}");
    assert!(line.contains(" 127.0.0.1 | GET "), "{line}");
    assert!(!gw.stderr().contains("\"/__health\""), "logger_skip_paths: health checks are not logged");
}

#[test]
fn access_log_can_be_disabled() {
    let gw = Gateway::start(r#"{"version":3,"extra_config":{"router":{"disable_access_log":true}}}"#);
    assert_eq!(gw.get("/missing").status, 404);
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert!(!gw.stderr().contains("[GIN]"), "{}", gw.stderr());
}

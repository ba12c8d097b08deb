//! `qos/http-cache` (§20): backend responses served from the worker's cache, by the backend's `Cache-Control`.
//!
//! The gateway runs two workers and each has its own cache, so every case sends its requests on one keep-alive
//! connection: they land on the same core.

mod support;

use std::time::Duration;

use support::{Backend, ClientConn, Gateway, Reply, Response, RunningBackend};

/// One endpoint `/e` (and `/e/{id}`) over backend `/x` (and `/x/{id}`) with `cache` as the backend's
/// `qos/http-cache`, `input_headers` as the endpoint's.
fn gateway(b: &RunningBackend, cache: &str, input_headers: &str) -> Gateway {
    let cfg = r#"{"version":3,"endpoints":[
        {"endpoint":"/e","input_headers":INPUT,
         "backend":[{"host":["{{b}}"],"url_pattern":"/x","extra_config":{"qos/http-cache":CACHE}}]},
        {"endpoint":"/e/{id}","input_headers":INPUT,
         "backend":[{"host":["{{b}}"],"url_pattern":"/x/{id}","extra_config":{"qos/http-cache":CACHE}}]}]}"#
        .replace("CACHE", cache)
        .replace("INPUT", input_headers);
    Gateway::new(&cfg).with("b", &b.url()).start()
}

fn get(conn: &mut ClientConn, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut raw = format!("GET {path} HTTP/1.1\r\nHost: gw\r\n");
    for (n, v) in headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    raw.push_str("\r\n");
    conn.send(raw.as_bytes());
    conn.read_response()
}

fn cached_reply(cache_control: &str, body: &str) -> Reply {
    Reply::json(200, body).header("Cache-Control", cache_control)
}

#[test]
fn second_request_is_served_from_the_cache() {
    let b = Backend::new().route("/x", cached_reply("max-age=60", r#"{"n":1}"#)).start();
    let gw = gateway(&b, "{}", "[]");
    let mut conn = gw.conn();
    for _ in 0..3 {
        let res = get(&mut conn, "/e", &[]);
        assert_eq!(res.status, 200);
        assert_eq!(res.json(), serde_json::json!({"n": 1}));
        assert_eq!(res.header("X-Krakend-Completed"), Some("true"));
    }
    assert_eq!(b.requests().len(), 1, "the backend is called once");
}

#[test]
fn responses_without_a_lifetime_are_not_stored() {
    for cc in ["no-store, max-age=60", "max-age=0", "", "private, no-store", "s-maxage=60"] {
        let reply = if cc.is_empty() { Reply::json(200, "{}") } else { cached_reply(cc, "{}") };
        let b = Backend::new().route("/x", reply).start();
        let gw = gateway(&b, "{}", "[]");
        let mut conn = gw.conn();
        assert_eq!(get(&mut conn, "/e", &[]).status, 200);
        assert_eq!(get(&mut conn, "/e", &[]).status, 200);
        assert_eq!(b.requests().len(), 2, "Cache-Control {cc:?} must not be stored");
    }
}

#[test]
fn entries_expire() {
    let b = Backend::new().route("/x", cached_reply("max-age=1", "{}")).start();
    let gw = gateway(&b, "{}", "[]");
    let mut conn = gw.conn();
    get(&mut conn, "/e", &[]);
    get(&mut conn, "/e", &[]);
    assert_eq!(b.requests().len(), 1);
    std::thread::sleep(Duration::from_millis(1100));
    get(&mut conn, "/e", &[]);
    assert_eq!(b.requests().len(), 2, "a stale entry without validators is fetched again");
}

#[test]
fn stale_entries_are_revalidated_with_their_etag() {
    let b = Backend::new()
        .route_seq(
            "/x",
            vec![
                cached_reply("max-age=1", r#"{"v":1}"#).header("ETag", "\"v1\""),
                Reply::status(304).header("ETag", "\"v1\"").header("Cache-Control", "max-age=60"),
            ],
        )
        .start();
    let gw = gateway(&b, "{}", "[]");
    let mut conn = gw.conn();
    assert_eq!(get(&mut conn, "/e", &[]).json(), serde_json::json!({"v": 1}));
    std::thread::sleep(Duration::from_millis(1100));
    let res = get(&mut conn, "/e", &[]);
    assert_eq!(res.status, 200, "a 304 to the cache's own revalidation serves the stored body");
    assert_eq!(res.json(), serde_json::json!({"v": 1}));
    let seen = b.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("If-None-Match"), None);
    assert_eq!(seen[1].header("If-None-Match"), Some("\"v1\""));
    assert_eq!(get(&mut conn, "/e", &[]).json(), serde_json::json!({"v": 1}));
    assert_eq!(b.requests().len(), 2, "the 304's max-age=60 made the entry fresh again");
}

#[test]
fn last_modified_is_sent_as_if_modified_since() {
    let lm = "Mon, 01 Jan 2024 00:00:00 GMT";
    let b = Backend::new()
        .route_seq("/x", vec![cached_reply("no-cache", r#"{"v":1}"#).header("Last-Modified", lm), Reply::status(304)])
        .start();
    let gw = gateway(&b, "{}", "[]");
    let mut conn = gw.conn();
    get(&mut conn, "/e", &[]);
    let res = get(&mut conn, "/e", &[]);
    assert_eq!(res.json(), serde_json::json!({"v": 1}));
    let seen = b.requests();
    assert_eq!(seen.len(), 2, "no-cache: stored, but revalidated on every use");
    assert_eq!(seen[1].header("If-Modified-Since"), Some(lm));
}

#[test]
fn vary_keeps_one_variant_per_header_value() {
    let b = Backend::new()
        .route_seq(
            "/x",
            vec![
                cached_reply("max-age=60", r#"{"lang":"en"}"#).header("Vary", "Accept-Language"),
                cached_reply("max-age=60", r#"{"lang":"fr"}"#).header("Vary", "Accept-Language"),
            ],
        )
        .start();
    let gw = gateway(&b, "{}", r#"["Accept-Language"]"#);
    let mut conn = gw.conn();
    let lang = |conn: &mut ClientConn, l: &str| get(conn, "/e", &[("Accept-Language", l)]).json()["lang"].clone();
    assert_eq!(lang(&mut conn, "en"), "en");
    assert_eq!(lang(&mut conn, "fr"), "fr");
    assert_eq!(lang(&mut conn, "en"), "en");
    assert_eq!(lang(&mut conn, "fr"), "fr");
    assert_eq!(b.requests().len(), 2);
}

#[test]
fn post_backends_are_not_cached() {
    let b = Backend::new().route("/x", cached_reply("max-age=60", "{}")).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/e","backend":[{"host":["{{b}}"],"url_pattern":"/x",
        "method":"POST","extra_config":{"qos/http-cache":{}}}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let mut conn = gw.conn();
    get(&mut conn, "/e", &[]);
    get(&mut conn, "/e", &[]);
    assert_eq!(b.requests().len(), 2);
}

#[test]
fn lru_cap_evicts_the_least_recently_used() {
    let b = Backend::new().fallback(cached_reply("max-age=60", "{}")).start();
    let gw = gateway(&b, r#"{"max_items":2,"max_size":1048576}"#, "[]");
    let mut conn = gw.conn();
    for id in ["1", "2", "1", "3", "1", "2"] {
        assert_eq!(get(&mut conn, &format!("/e/{id}"), &[]).status, 200);
    }
    let paths: Vec<String> = b.requests().iter().map(|r| r.path().to_owned()).collect();
    assert_eq!(paths, ["/x/1", "/x/2", "/x/3", "/x/2"], "3 evicted 2 (1 was used more recently)");
}

#[test]
fn shared_bucket_serves_every_shared_backend() {
    let b = Backend::new().route("/x", cached_reply("max-age=60", r#"{"a":1}"#)).start();
    let cfg = r#"{"version":3,"endpoints":[
        {"endpoint":"/a","backend":[{"host":["{{b}}"],"url_pattern":"/x","extra_config":{"qos/http-cache":{"shared":true}}}]},
        {"endpoint":"/b","backend":[{"host":["{{b}}"],"url_pattern":"/x","extra_config":{"qos/http-cache":{"shared":true}}}]},
        {"endpoint":"/c","backend":[{"host":["{{b}}"],"url_pattern":"/x","extra_config":{"qos/http-cache":{}}}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let mut conn = gw.conn();
    assert_eq!(get(&mut conn, "/a", &[]).json(), serde_json::json!({"a": 1}));
    assert_eq!(get(&mut conn, "/b", &[]).json(), serde_json::json!({"a": 1}));
    assert_eq!(b.requests().len(), 1, "the second shared backend found the first one's entry");
    get(&mut conn, "/c", &[]);
    assert_eq!(b.requests().len(), 2, "a private bucket is its own");
}

#[test]
fn client_directives_count_only_when_cache_control_is_forwarded() {
    let b = Backend::new().route("/x", cached_reply("max-age=60", "{}")).start();
    let gw = gateway(&b, "{}", "[]");
    let mut conn = gw.conn();
    get(&mut conn, "/e", &[]);
    get(&mut conn, "/e", &[("Cache-Control", "no-cache")]);
    assert_eq!(b.requests().len(), 1, "not in input_headers: the client's no-cache is ignored");

    let b = Backend::new().route("/x", cached_reply("max-age=60", "{}")).start();
    let gw = gateway(&b, "{}", r#"["Cache-Control"]"#);
    let mut conn = gw.conn();
    get(&mut conn, "/e", &[]);
    get(&mut conn, "/e", &[("Cache-Control", "no-cache")]);
    assert_eq!(b.requests().len(), 2, "forwarded: the client's no-cache skips the stored answer");
    get(&mut conn, "/e", &[]);
    assert_eq!(b.requests().len(), 2);
    let res = get(&mut conn, "/e/9", &[("Cache-Control", "only-if-cached")]);
    assert_eq!(res.status, 500, "only-if-cached with nothing stored: the backend answer is a 504, a failure");
    assert_eq!(b.requests().len(), 2, "only-if-cached never reaches the backend");
}

#[test]
fn authenticated_requests_are_stored_only_when_public() {
    let b = Backend::new()
        .route("/x", cached_reply("max-age=60", "{}"))
        .route("/x/p", cached_reply("public, max-age=60", "{}"))
        .start();
    let gw = gateway(&b, "{}", r#"["Authorization"]"#);
    let mut conn = gw.conn();
    for path in ["/e", "/e", "/e/p", "/e/p"] {
        get(&mut conn, path, &[("Authorization", "Bearer t")]);
    }
    let paths: Vec<String> = b.requests().iter().map(|r| r.path().to_owned()).collect();
    assert_eq!(paths, ["/x", "/x", "/x/p"]);
}

#[test]
fn caps_must_come_together() {
    for (cache, needle) in [
        (r#"{"max_items":10}"#, "extra_config.\"qos/http-cache\".max_size: missing"),
        (r#"{"max_size":2048}"#, "extra_config.\"qos/http-cache\".max_items: missing"),
        (r#"{"max_items":0,"max_size":2048}"#, "max_items: must be at least 1"),
        (r#"{"max_items":1,"max_size":10}"#, "max_size: must be at least 1024"),
    ] {
        let cfg = format!(
            r#"{{"version":3,"endpoints":[{{"endpoint":"/e","backend":[{{"host":["http://backend:8080"],
            "url_pattern":"/x","extra_config":{{"qos/http-cache":{cache}}}}}]}}]}}"#
        );
        let file = support::TempConfig::new(&cfg, "json");
        let out = std::process::Command::new(support::bin())
            .args(["check", "-c"])
            .arg(&file.path)
            .output()
            .expect("run check");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{cache}: {text}");
        assert!(text.contains(needle), "{cache}: {text}");
    }
}

#[test]
fn the_namespace_is_no_longer_warned_about() {
    let b = Backend::new().route("/x", cached_reply("max-age=60", "{}")).start();
    let gw = gateway(&b, r#"{"shared":false,"max_items":10,"max_size":1024}"#, "[]");
    assert_eq!(gw.get("/e").status, 200);
    assert!(!gw.stderr().contains("qos/http-cache"), "{}", gw.stderr());
}

#[test]
fn stale_if_error_serves_the_stale_entry_when_the_backend_fails() {
    let b = Backend::new()
        .route_seq("/x", vec![cached_reply("max-age=1, stale-if-error=60", r#"{"v":1}"#), Reply::status(503)])
        .start();
    let gw = gateway(&b, "{}", "[]");
    let mut conn = gw.conn();
    get(&mut conn, "/e", &[]);
    std::thread::sleep(Duration::from_millis(1100));
    let res = get(&mut conn, "/e", &[]);
    assert_eq!(res.status, 200, "the backend's 503 is hidden by the stale entry");
    assert_eq!(res.json(), serde_json::json!({"v": 1}));
    assert_eq!(b.requests().len(), 2);
}

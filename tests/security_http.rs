//! `security/http` (spec §1.4, AE-46..AE-48) and `security/bot-detector` (§3.8, AE-41..AE-45) over the wire, with
//! their pipeline positions (§12.1): router middlewares on every route and the 404/405 answers, never on
//! `/__health` nor the trailing-slash redirects.
//!
//! HTTPS-ness is exercised here through `ssl_proxy_headers`; a real TLS connection in tests/tls_server.rs.

mod support;

use support::{request, Backend, Gateway, Reply, Response, RunningBackend, X_KRAKEND};

/// `GET path` with this `Host` and extra header lines.
fn get_host(gw: &Gateway, path: &str, host: &str, headers: &[(&str, &str)]) -> Response {
    let mut raw = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n");
    for (n, v) in headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    raw.push_str("Connection: close\r\n\r\n");
    request(gw.port, raw.as_bytes())
}

/// A gateway with `debug_endpoint`, one endpoint `/x` → a JSON backend, one `/broken` → a failing backend, and
/// `extra` merged into the root `extra_config`.
fn gateway(extra: &str) -> (RunningBackend, Gateway) {
    let cfg = format!(
        r#"{{"version":3,"debug_endpoint":true,"extra_config":{{{extra}}},
        "endpoints":[{{"endpoint":"/x","backend":[{{"host":["{{{{b}}}}"],"url_pattern":"/x"}}]}},
                     {{"endpoint":"/broken","backend":[{{"host":["{{{{b}}}}"],"url_pattern":"/broken"}}]}}]}}"#
    );
    let b = Backend::new().route("/x", Reply::json(200, r#"{"a":1}"#)).route("/broken", Reply::status(500)).start();
    let gw = Gateway::new(&cfg).with("b", &b.url()).start();
    (b, gw)
}

#[track_caller]
fn assert_router_abort(res: &Response, status: u16) {
    assert_eq!(res.status, status, "{res:?}");
    assert_eq!(res.body_str(), "", "{res:?}");
    assert_eq!(res.header("Content-Length"), Some("0"), "{res:?}");
    assert_eq!(res.header("Content-Type"), None, "{res:?}");
    assert_eq!(res.header("X-Krakend"), None, "{res:?}");
    assert_eq!(res.header("X-Krakend-Completed"), None, "{res:?}");
}

#[test]
fn ae46_bad_host() {
    let (_b, gw) = gateway(r#""security/http":{"allowed_hosts":["host.known.com:443"]}"#);
    let res = get_host(&gw, "/__debug/x", "evil.example", &[]);
    assert_eq!(res.status, 500, "{res:?}");
    assert_eq!(res.header("Content-Type"), Some("text/plain; charset=utf-8"));
    assert_eq!(res.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(res.header("X-Krakend"), None);
    assert_eq!(res.body_str(), "Bad Host\n");
    let res = get_host(&gw, "/__debug/x", "HOST.known.com:443", &[]);
    assert_eq!(res.status, 200, "case-insensitive: {res:?}");
    assert_eq!(res.body_str(), r#"{"message":"pong"}"#);
    // Not covered: /__health (D23) and the trailing-slash redirect. Covered: the 404.
    assert_eq!(get_host(&gw, "/__health", "evil.example", &[]).status, 200);
    assert_eq!(get_host(&gw, "/x/", "evil.example", &[]).status, 301);
    assert_eq!(get_host(&gw, "/nope", "evil.example", &[]).status, 500);
    assert_eq!(get_host(&gw, "/nope", "host.known.com:443", &[]).status, 404);
}

#[test]
fn allowed_hosts_regex_and_proxy_headers() {
    let (_b, gw) = gateway(
        r#""security/http":{"allowed_hosts":["(api|www)\\.known\\.com"],"allowed_hosts_are_regex":true,
            "host_proxy_headers":["X-Forwarded-Host"]}"#,
    );
    assert_eq!(get_host(&gw, "/x", "api.known.com", &[]).status, 200);
    assert_eq!(get_host(&gw, "/x", "www.known.com", &[]).status, 200);
    // The whole host must match (the alternation stays inside the anchors).
    assert_eq!(get_host(&gw, "/x", "xapi.known.com", &[]).status, 500);
    assert_eq!(get_host(&gw, "/x", "api.known.com.evil", &[]).status, 500);
    assert_eq!(get_host(&gw, "/x", "API.known.com", &[]).status, 500, "regexes are case-sensitive");
    // The first non-empty proxy header replaces Host.
    assert_eq!(get_host(&gw, "/x", "evil", &[("X-Forwarded-Host", "api.known.com")]).status, 200);
    assert_eq!(get_host(&gw, "/x", "api.known.com", &[("X-Forwarded-Host", "evil")]).status, 500);
}

#[test]
fn ae47_ssl_redirect() {
    let (_b, gw) = gateway(
        r#""security/http":{"ssl_redirect":true,"ssl_host":"ssl.host.domain",
            "ssl_proxy_headers":{"X-Forwarded-Proto":"https"}}"#,
    );
    let res = gw.get("/foo?x=1");
    assert_eq!(res.status, 301, "{res:?}");
    assert_eq!(res.header("Location"), Some("https://ssl.host.domain/foo?x=1"));
    assert_eq!(res.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert_eq!(res.body_str(), "<a href=\"https://ssl.host.domain/foo?x=1\">Moved Permanently</a>.\n\n");
    let res = gw.get_with("/x", &[("X-Forwarded-Proto", "https")]);
    assert_eq!(res.status, 200, "{res:?}");
    let res = gw.get_with("/x", &[("X-Forwarded-Proto", "HTTPS")]);
    assert_eq!(res.status, 301, "the proxy header value is compared exactly");
    // POST keeps 301 (not 307), without a body.
    let res = gw.send("POST", "/x", &[], b"");
    assert_eq!(res.status, 301);
    assert_eq!(res.body_str(), "");
    // Without ssl_host the request's host is kept; /__health is not redirected.
    let (_b2, gw2) = gateway(r#""security/http":{"ssl_redirect":true}"#);
    let res = get_host(&gw2, "/x", "api.example.com:8080", &[]);
    assert_eq!(res.header("Location"), Some("https://api.example.com:8080/x"));
    assert_eq!(gw2.get("/__health").status, 200);
}

const AE48: &str = r#""security/http":{"sts_seconds":300,"sts_include_subdomains":true,"frame_deny":true,
    "content_type_nosniff":true,"browser_xss_filter":true,"content_security_policy":"default-src 'self';",
    "referrer_policy":"same-origin","ssl_proxy_headers":{"X-Forwarded-Proto":"https"}}"#;

#[track_caller]
fn assert_security_headers(res: &Response, hsts: bool) {
    let sts = hsts.then_some("max-age=300; includeSubDomains");
    assert_eq!(res.header("Strict-Transport-Security"), sts, "{res:?}");
    assert_eq!(res.header("X-Frame-Options"), Some("DENY"), "{res:?}");
    assert_eq!(res.header("X-Content-Type-Options"), Some("nosniff"), "{res:?}");
    assert_eq!(res.header("X-XSS-Protection"), Some("1; mode=block"), "{res:?}");
    assert_eq!(res.header("Content-Security-Policy"), Some("default-src 'self';"), "{res:?}");
    assert_eq!(res.header("Referrer-Policy"), Some("same-origin"), "{res:?}");
}

#[test]
fn ae48_security_headers_on_every_covered_answer() {
    let (_b, gw) = gateway(AE48);
    let res = gw.get_with("/__debug/x", &[("X-Forwarded-Proto", "https")]);
    assert_eq!(res.status, 200);
    assert_security_headers(&res, true);
    // Plain HTTP: the same without HSTS.
    let res = gw.get("/__debug/x");
    assert_security_headers(&res, false);
    // Endpoint answers, endpoint errors, 404 and 405 carry them too.
    let res = gw.get("/x");
    assert_eq!(res.status, 200);
    support::assert_json(&res, true);
    assert_security_headers(&res, false);
    let res = gw.get("/broken");
    assert_eq!(res.status, 500);
    assert_security_headers(&res, false);
    let res = gw.get("/nope");
    assert_eq!((res.status, res.body_str()), (404, "404 page not found"));
    assert_security_headers(&res, false);
    let res = gw.send("POST", "/x", &[], b"");
    assert_eq!(res.status, 405);
    assert_security_headers(&res, false);
    // Not on /__health, not on the trailing-slash redirect.
    for (path, status) in [("/__health", 200), ("/x/", 301)] {
        let res = gw.get(path);
        assert_eq!(res.status, status, "{path}");
        assert_eq!(res.header("X-Frame-Options"), None, "{path}: {res:?}");
    }
}

#[test]
fn frame_option_value_force_sts_and_nonce() {
    let (_b, gw) = gateway(
        r#""security/http":{"frame_deny":true,"custom_frame_options_value":"SAMEORIGIN","sts_seconds":60,
            "force_sts_header":true,"content_security_policy":"script-src $NONCE; style-src $NONCE",
            "hpkp_public_key":"pin-sha256=\"x\""}"#,
    );
    let res = gw.get("/x");
    assert_eq!(res.header("X-Frame-Options"), Some("SAMEORIGIN"));
    assert_eq!(res.header("Strict-Transport-Security"), Some("max-age=60"), "forced on plain HTTP");
    assert_eq!(res.header("Public-Key-Pins"), None, "hpkp is ignored");
    let csp = |res: &Response| res.header("Content-Security-Policy").expect("a CSP").to_owned();
    let first = csp(&res);
    let nonce = first.strip_prefix("script-src 'nonce-").and_then(|r| r.split_once("'; style-src 'nonce-"));
    let (a, rest) = nonce.unwrap_or_else(|| panic!("nonce format: {first}"));
    assert_eq!(rest, format!("{a}'"), "one nonce per request, used at every $NONCE");
    assert_eq!(a.len(), 22, "16 bytes, unpadded base64: {a}");
    assert!(a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'), "{a}");
    assert_ne!(csp(&gw.get("/x")), first, "a fresh nonce per request");
}

#[test]
fn is_development_turns_off_hosts_redirect_and_hsts() {
    let (_b, gw) = gateway(
        r#""security/http":{"is_development":true,"allowed_hosts":["only.example"],"ssl_redirect":true,
            "sts_seconds":60,"force_sts_header":true,"frame_deny":true}"#,
    );
    let res = get_host(&gw, "/x", "other.example", &[]);
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.header("Strict-Transport-Security"), None);
    assert_eq!(res.header("X-Frame-Options"), Some("DENY"));
}

const BOTS: &str = r#""security/bot-detector":{"deny":["a","b"],"allow":["c","Pingdom.com_bot_version_1.1"],
    "patterns":["(Pingdom.com_bot_version_).*","(facebookexternalhit)/.*"],"cache_size":100}"#;

#[test]
fn ae41_to_ae44_service_bot_detector() {
    let (b, gw) = gateway(BOTS);
    for ua in ["a", "Pingdom.com_bot_version_1.14", "facebookexternalhit/1.2.3"] {
        for _ in 0..2 {
            assert_router_abort(&gw.get_with("/x", &[("User-Agent", ua)]), 403);
        }
    }
    assert!(b.requests().is_empty(), "bots never reach the backend");
    let res = gw.get_with("/x", &[("User-Agent", "Pingdom.com_bot_version_1.1")]);
    assert_eq!(res.status, 200, "AE-43: exact allow beats the pattern");
    assert_eq!(res.header("X-Krakend"), Some(X_KRAKEND));
    assert_eq!(gw.get("/x").status, 200, "no User-Agent is not a bot by default");
    // Covered: 404 and the built-in endpoints; not covered: /__health and the redirects.
    let bot = [("User-Agent", "a")];
    assert_router_abort(&gw.get_with("/nope", &bot), 403);
    assert_router_abort(&gw.get_with("/__debug/x", &bot), 403);
    assert_eq!(gw.get_with("/__health", &bot).status, 200);
    assert_eq!(gw.get_with("/x/", &bot).status, 301);
    assert!(gw.wait_stderr("[SERVICE][Botdetector] bot rejected", std::time::Duration::from_secs(3)));
}

#[test]
fn ae45_empty_user_agent_is_bot_and_security_headers_on_the_403() {
    let extra = r#""security/bot-detector":{"empty_user_agent_is_bot":true},"security/http":{"frame_deny":true}"#;
    let (_b, gw) = gateway(extra);
    let res = gw.get("/x");
    assert_router_abort(&res, 403);
    assert_eq!(res.header("X-Frame-Options"), Some("DENY"), "security/http runs before the bot detector");
    assert_eq!(gw.get_with("/x", &[("User-Agent", "curl/8")]).status, 200);
}

#[test]
fn endpoint_bot_detector_guards_its_endpoint_only() {
    let cfg = r#"{"version":3,"endpoints":[
        {"endpoint":"/guarded","extra_config":{"security/bot-detector":{"patterns":["(?i)crawler"]}},
         "backend":[{"host":["{{b}}"],"url_pattern":"/x"}]},
        {"endpoint":"/open","backend":[{"host":["{{b}}"],"url_pattern":"/x"}]}]}"#;
    let b = Backend::new().route("/x", Reply::json(200, r#"{"a":1}"#)).start();
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let crawler = [("User-Agent", "My-Crawler/2")];
    // Only the endpoint's own handler is guarded: the router's 405 for its path is not.
    assert_eq!(gw.send("POST", "/guarded", &crawler, b"").status, 405);
    assert_router_abort(&gw.get_with("/guarded", &crawler), 403);
    assert_eq!(gw.get_with("/open", &crawler).status, 200);
    assert_eq!(gw.get_with("/guarded", &[("User-Agent", "Mozilla/5.0")]).status, 200);
    assert!(gw.wait_stderr("[ENDPOINT: /guarded][Botdetector] bot rejected", std::time::Duration::from_secs(3)));
}

#[test]
fn static_files_are_served_before_the_router_middlewares_but_inside_cors() {
    let extra = r#""server/static-filesystem":{"prefix":"/data/","path":"./config-examples/data/"},
        "security/cors":{},"security/http":{"frame_deny":true},"security/bot-detector":{"deny":["a"]}"#;
    let (_b, gw) = gateway(extra);
    let res = gw.get_with("/data/motd.txt", &[("User-Agent", "a")]);
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.header("Vary"), Some("Origin"), "CORS wraps the server plugins");
    assert_eq!(res.header("X-Frame-Options"), None, "security/http runs after them");
    let res = gw.get_with("/x", &[("User-Agent", "a")]);
    assert_router_abort(&res, 403);
    assert_eq!((res.header("Vary"), res.header("X-Frame-Options")), (Some("Origin"), Some("DENY")));
}

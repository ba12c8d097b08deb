use std::collections::BTreeMap;

use super::*;
use crate::config::{BackendConfig, EndpointConfig, OutputEncoding};
use crate::router::Params;
use crate::server::h1::parse_request;

fn endpoint(path: &str, params: &[&str], query: &[&str], headers: &[&str]) -> EndpointConfig {
    EndpointConfig {
        path: path.to_owned(),
        method: Method::Get,
        params: params.iter().map(|s| s.to_string()).collect(),
        timeout: std::time::Duration::from_secs(2),
        cache_ttl: std::time::Duration::ZERO,
        concurrent_calls: 1,
        input_query_strings: query.iter().map(|s| s.to_string()).collect(),
        input_headers: headers.iter().map(|s| s.to_string()).collect(),
        output_encoding: OutputEncoding::Json,
        backends: Vec::new(),
        extra_config: BTreeMap::new(),
    }
}

fn backend(parts: Vec<UrlPart>) -> BackendConfig {
    BackendConfig::with_defaults(UrlPattern { source: String::new(), parts }, vec!["http://127.0.0.1:9".to_owned()])
}

fn head(raw: &str) -> RequestHead {
    let (len, parsed) = parse_request(raw.as_bytes(), 1 << 20).unwrap().unwrap();
    parsed.finish(Bytes::copy_from_slice(&raw.as_bytes()[..len]))
}

fn lines(req: &OutgoingRequest) -> Vec<String> {
    String::from_utf8(req.header_block().to_vec()).unwrap().lines().map(str::to_owned).collect()
}

#[test]
fn default_forwarding_is_zero_trust() {
    // AC-22: no query, no client headers; the gateway's own User-Agent, X-Forwarded-*, gzip.
    let e = endpoint("/default-behavior", &[], &[], &[]);
    let f = Forwarding::build(&e, &backend(vec![UrlPart::Literal("/__debug/default".into())]), false, false);
    let req = f.request(
        &head("GET /default-behavior?a=1&b=2 HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n"),
        &Params::new(),
        "127.0.0.1",
        Bytes::new(),
    );
    assert_eq!(req.path_and_query(), "/__debug/default");
    assert_eq!(
        lines(&req),
        [
            "X-Forwarded-For: 127.0.0.1",
            "X-Forwarded-Host: localhost:8080",
            &format!("User-Agent: {USER_AGENT}"),
            "Accept-Encoding: gzip"
        ]
    );
    assert!(req.gateway_gzip);
}

#[test]
fn declared_headers_and_query() {
    // AC-23.
    let e = endpoint("/optional-params", &[], &["a", "b"], &["User-Agent", "Accept"]);
    let f = Forwarding::build(&e, &backend(vec![UrlPart::Literal("/__debug/optional".into())]), false, false);
    let req = f.request(
        &head("GET /optional-params?c=3&b=2&a=1 HTTP/1.1\r\nHost: h\r\nuser-agent: curl/7.54.0\r\nAccept: */*\r\nContent-Type: x\r\n\r\n"),
        &Params::new(),
        "10.0.0.1",
        Bytes::new(),
    );
    assert_eq!(req.path_and_query(), "/__debug/optional?a=1&b=2");
    assert_eq!(
        lines(&req),
        [
            "User-Agent: curl/7.54.0",
            "Accept: */*",
            "X-Forwarded-For: 10.0.0.1",
            "X-Forwarded-Host: h",
            &format!("X-Forwarded-Via: {USER_AGENT}"),
            "Accept-Encoding: gzip"
        ]
    );
}

#[test]
fn query_strings_sorted_case_sensitive_and_repeated() {
    let e = endpoint("/v1/foo", &[], &["items", "page"], &[]);
    let f = Forwarding::build(&e, &backend(vec![UrlPart::Literal("/catalog".into())]), false, false);
    let h = |q: &str| head(&format!("GET /v1/foo?{q} HTTP/1.1\r\nHost: h\r\n\r\n"));
    assert_eq!(
        f.request(&h("items=10&page=2&evil=here"), &Params::new(), "ip", Bytes::new()).path_and_query(),
        "/catalog?items=10&page=2"
    );
    assert_eq!(f.request(&h("Page=1"), &Params::new(), "ip", Bytes::new()).path_and_query(), "/catalog");
    assert_eq!(
        f.request(&h("page=2&page=1&items=a+b%21"), &Params::new(), "ip", Bytes::new()).path_and_query(),
        "/catalog?items=a+b%21&page=2&page=1"
    );
    let all = Forwarding::build(
        &endpoint("/v1/foo", &[], &["*"], &[]),
        &backend(vec![UrlPart::Literal("/catalog".into())]),
        false,
        false,
    );
    assert_eq!(
        all.request(&h("page=2&items=10&evil=here"), &Params::new(), "ip", Bytes::new()).path_and_query(),
        "/catalog?evil=here&items=10&page=2"
    );
}

#[test]
fn url_pattern_params_and_mandatory_query() {
    // AC-21 (src behaviour: the pattern's query is kept and the optional ones appended).
    let e = endpoint("/v3/{channel}/foo", &["channel"], &["page", "limit"], &[]);
    let f = Forwarding::build(
        &e,
        &backend(vec![UrlPart::Literal("/foo?channel=".into()), UrlPart::Param(0)]),
        false,
        false,
    );
    let req = f.request(
        &head("GET /v3/iOS/foo?limit=10&evil=here HTTP/1.1\r\nHost: h\r\n\r\n"),
        &Params::from_values(["iOS"]),
        "ip",
        Bytes::new(),
    );
    assert_eq!(req.path_and_query(), "/foo?channel=iOS&limit=10");
    // Path values are escaped as Go's EscapedPath does.
    let f = Forwarding::build(&e, &backend(vec![UrlPart::Literal("/u/".into()), UrlPart::Param(0)]), false, false);
    let req =
        f.request(&head("GET /x HTTP/1.1\r\nHost: h\r\n\r\n"), &Params::from_values(["a b<nil>"]), "ip", Bytes::new());
    assert_eq!(req.path_and_query(), "/u/a%20b%3Cnil%3E");
}

#[test]
fn backend_level_filters() {
    let e = endpoint("/x", &[], &["a", "b"], &["*"]);
    let mut b = backend(vec![UrlPart::Literal("/y".into())]);
    b.input_headers = vec!["X-Keep".into()];
    b.input_query_strings = vec!["b".into()];
    let f = Forwarding::build(&e, &b, true, false);
    let req = f.request(
        &head("GET /x?a=1&b=2 HTTP/1.1\r\nHost: h\r\nX-Keep: 1\r\nX-Drop: 2\r\nCookie: c=1\r\n\r\n"),
        &Params::new(),
        "ip",
        Bytes::new(),
    );
    assert_eq!(req.path_and_query(), "/y?b=2");
    assert_eq!(lines(&req), ["X-Keep: 1", &format!("User-Agent: {USER_AGENT}")]);
    assert!(!req.gateway_gzip, "disable_compression");
}

#[test]
fn wildcard_headers_skip_hop_by_hop_and_client_forwarded_for() {
    let e = endpoint("/x", &[], &[], &["*"]);
    let f = Forwarding::build(&e, &backend(vec![UrlPart::Literal("/y".into())]), false, false);
    let req = f.request(
        &head("POST /x HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nX-Forwarded-For: 6.6.6.6\r\nCookie: a=1\r\nAccept-Encoding: br\r\nContent-Length: 2\r\n\r\n"),
        &Params::new(),
        "1.2.3.4",
        Bytes::from_static(b"{}"),
    );
    assert_eq!(
        lines(&req),
        [
            "Cookie: a=1",
            "Accept-Encoding: br",
            "X-Forwarded-For: 1.2.3.4",
            "X-Forwarded-Host: h",
            &format!("User-Agent: {USER_AGENT}")
        ]
    );
    assert!(!req.gateway_gzip, "the client's Accept-Encoding was forwarded: its answer passes through");
    let target = Target::parse("http://127.0.0.1:9000").unwrap();
    let mut bytes = Vec::new();
    req.encode(&target, &mut bytes);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("GET /y HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nCookie: a=1\r\n"));
    assert!(text.ends_with("Content-Length: 2\r\n\r\n{}"));
}

#[test]
fn canonical_names() {
    assert_eq!(canonical("ACCept-enCODING"), "Accept-Encoding");
    assert_eq!(canonical("x-forwarded-for"), "X-Forwarded-For");
    assert_eq!(canonical("bad header"), "bad header");
    assert!(matches!(canonical_cow("X-Forwarded-For"), std::borrow::Cow::Borrowed(_)));
    assert_eq!(canonical_cow("x-forwarded-for"), "X-Forwarded-For");
    assert_eq!(canonical_cow("X-FORWARDED-FOR"), "X-Forwarded-For");
    assert!(matches!(canonical_cow("Te"), std::borrow::Cow::Borrowed(_)));
}

proptest::proptest! {
    /// url_pattern substitution round-trips: whatever a path parameter holds (spaces, unicode, reserved characters),
    /// the backend path carries it escaped so that decoding the segment gives the value back, and nothing leaks
    /// into other segments or the query.
    #[test]
    fn url_pattern_substitution_round_trips(value in "[^/?#%]{1,24}") {
        let e = endpoint("/x/{id}", &["id"], &[], &[]);
        let f = Forwarding::build(
            &e,
            &backend(vec![UrlPart::Literal("/u/".into()), UrlPart::Param(0), UrlPart::Literal("/tail".into())]),
            false,
            false,
        );
        let req = f.request(&head("GET /x HTTP/1.1\r\nHost: h\r\n\r\n"), &Params::from_values([value.as_str()]), "ip", Bytes::new());
        let path = req.path_and_query();
        proptest::prop_assert!(!path.contains('?'), "{}", path);
        let segment = path.strip_prefix("/u/").and_then(|p| p.strip_suffix("/tail")).expect("pattern shape kept");
        proptest::prop_assert!(!segment.contains('/'), "{}", segment);
        proptest::prop_assert!(segment.bytes().all(|b| b.is_ascii_graphic()), "{}", segment);
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8().expect("utf-8");
        proptest::prop_assert_eq!(decoded.as_ref(), value.as_str());
    }
}

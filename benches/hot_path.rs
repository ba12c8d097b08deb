//! The per-request hot functions outside JSON: request-head parsing, router lookup, and building the backend
//! request from `url_pattern` and the forwarding rules.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use ringway::backend::request::Forwarding;
use ringway::config::{parse_str, Format, NoEnv};
use ringway::router::{Route, Router};
use ringway::server::h1::parse_request;

const REQUEST: &[u8] = b"GET /v1/users/42/posts?page=2&items=10&evil=here HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: wrk/4.2\r\nAccept: application/json\r\nAccept-Encoding: gzip, deflate\r\nX-Request-Id: 7d1f2c9e-1c1b-4a55-9a8e-1f7d2c3b4a5e\r\nConnection: keep-alive\r\n\r\n";

fn config() -> ringway::config::ServiceConfig {
    let mut endpoints = Vec::new();
    for i in 0..100 {
        endpoints.push(format!(
            r#"{{"endpoint":"/v1/things{i}/{{id}}","backend":[{{"host":["http://127.0.0.1:9000"],"url_pattern":"/things/{{id}}"}}]}}"#
        ));
    }
    endpoints.push(r#"{"endpoint":"/v1/users/{user}/posts","input_query_strings":["page","items"],"input_headers":["Accept"],"backend":[{"host":["http://127.0.0.1:9000"],"url_pattern":"/users/{user}/posts"}]}"#.to_owned());
    let text = format!(r#"{{"version":3,"endpoints":[{}]}}"#, endpoints.join(","));
    parse_str(&text, Format::Json, "bench.json", &NoEnv).expect("bench config is valid")
}

fn h1_parse(c: &mut Criterion) {
    c.bench_function("h1_parse/get_7_headers", |b| {
        b.iter(|| {
            let (len, parsed) = parse_request(black_box(REQUEST), 1 << 20).unwrap().unwrap();
            black_box((len, parsed));
        })
    });
}

fn router(c: &mut Criterion) {
    let config = config();
    let router = Router::build(&config).unwrap();
    c.bench_function("router/lookup_param_of_101_routes", |b| {
        b.iter(|| match router.lookup("GET", black_box("/v1/users/42/posts"), None, None) {
            Route::Endpoint { index, params } => black_box((index, params)),
            other => panic!("unexpected {other:?}"),
        })
    });
    c.bench_function("router/not_found", |b| {
        b.iter(|| black_box(router.lookup("GET", black_box("/nope/nothing/here"), None, None)))
    });
}

fn url_pattern(c: &mut Criterion) {
    let config = config();
    let endpoint = config.endpoints.last().unwrap();
    let forwarding = Forwarding::build(endpoint, &endpoint.backends[0], false, false);
    let (len, parsed) = parse_request(REQUEST, 1 << 20).unwrap().unwrap();
    let head = parsed.finish(Bytes::copy_from_slice(&REQUEST[..len]));
    let router = Router::build(&config).unwrap();
    let Route::Endpoint { params, .. } = router.lookup("GET", "/v1/users/42/posts", None, None) else { panic!() };
    c.bench_function("backend_request/build_with_query_and_headers", |b| {
        b.iter(|| black_box(forwarding.request(&head, &params, "127.0.0.1", Bytes::new())))
    });
}

criterion_group!(benches, h1_parse, router, url_pattern);
criterion_main!(benches);

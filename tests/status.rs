//! KrakenD's status rules and error exposure: 200/201 only, redirects followed, `return_error_code`,
//! `return_error_msg` (AC-28, AC-29, AC-31), and a merge with a failing part.

mod support;

use support::{assert_empty_error, assert_json, Backend, Gateway, Reply, TEXT_CT, X_KRAKEND};

fn one_backend(router: &str, backend_extra: &str, b: &support::RunningBackend, pattern: &str) -> Gateway {
    let cfg = format!(
        r#"{{"version":3,"extra_config":{{"router":{{{router}}}}},
            "endpoints":[{{"endpoint":"/e","backend":[{{"host":["{{{{b}}}}"],"url_pattern":"{pattern}"{backend_extra}}}]}}]}}"#
    );
    Gateway::new(&cfg).with("b", &b.url()).start()
}

#[test]
fn ac28_201_becomes_200() {
    let b = Backend::new().route("/foo", Reply::json(201, r#"{"id":7}"#)).start();
    let gw = one_backend("", "", &b, "/foo");
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"id":7}"#);
}

#[test]
fn ac28_204_and_other_statuses_are_500() {
    for status in [204, 202, 400, 404, 503] {
        let b = Backend::new().route("/foo", Reply::status(status)).start();
        let gw = one_backend("", "", &b, "/foo");
        assert_empty_error(&gw.get("/e"), 500);
    }
}

#[test]
fn ac28_302_followed_with_referer() {
    let b = Backend::new()
        .route("/foo", Reply::redirect(302, "/final?x=1").body(b"moved"))
        .route("/final", Reply::json(200, r#"{"landed":true}"#))
        .start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/e","input_headers":["X-Keep"],
        "backend":[{"host":["{{b}}"],"url_pattern":"/foo"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let res = gw.get_with("/e", &[("X-Keep", "yes")]);
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"landed":true}"#);
    let reqs = b.requests();
    assert_eq!(reqs.len(), 2, "{reqs:#?}");
    assert_eq!(reqs[1].target, "/final?x=1");
    assert_eq!(reqs[1].header("Referer"), Some(format!("{}/foo", b.url()).as_str()));
    assert_eq!(reqs[1].header("X-Keep"), Some("yes"), "the follow-up repeats the original headers");
    assert_eq!(reqs[0].header("Referer"), None);
}

#[test]
fn ac28_redirect_to_an_error_status_is_500() {
    let b = Backend::new().route("/foo", Reply::redirect(301, "/gone")).route("/gone", Reply::status(404)).start();
    let gw = one_backend("", "", &b, "/foo");
    assert_empty_error(&gw.get("/e"), 500);
}

#[test]
fn too_many_redirects_fail() {
    let b = Backend::new().route("/loop", Reply::redirect(302, "/loop")).start();
    let gw = one_backend(r#""return_error_msg":true"#, "", &b, "/loop");
    let res = gw.get("/e");
    assert_eq!(res.status, 500);
    assert!(res.body_str().contains("stopped after 10 redirects"), "{res:?}");
    assert_eq!(b.requests().len(), 11);
}

#[test]
fn ac29_return_error_code_without_msg() {
    let b = Backend::new().route("/404", Reply::text(404, "404 page not found\n")).start();
    let gw = one_backend("", r#","extra_config":{"backend/http":{"return_error_code":true}}"#, &b, "/404");
    assert_empty_error(&gw.get("/e"), 404);
}

#[test]
fn ac29_return_error_code_with_msg() {
    let b = Backend::new().route("/404", Reply::text(404, "404 page not found\n")).start();
    let gw = one_backend(
        r#""return_error_msg":true"#,
        r#","extra_config":{"backend/http":{"return_error_code":true}}"#,
        &b,
        "/404",
    );
    let res = gw.get("/e");
    assert_eq!(res.status, 404);
    assert_eq!(res.header("Content-Type"), Some(TEXT_CT));
    assert_eq!(res.header("X-Krakend"), Some(X_KRAKEND));
    assert_eq!(res.header("X-Krakend-Completed"), Some("false"));
    assert_eq!(res.body_str(), "404 page not found\n");
}

#[test]
fn ac31_return_error_msg_text() {
    let b = Backend::new().route("/foo", Reply::status(500)).start();
    let gw = one_backend(r#""return_error_msg":true"#, "", &b, "/foo");
    let res = gw.get("/e");
    assert_eq!(res.status, 500);
    assert_eq!(res.header("Content-Type"), Some(TEXT_CT));
    assert_eq!(res.header("X-Krakend"), Some(X_KRAKEND));
    assert_eq!(res.header("X-Krakend-Completed"), Some("false"));
    assert_eq!(res.body_str(), format!("invalid status code 500 [GET /foo]: http://127.0.0.1:{}/foo", b.addr().port()));
}

#[test]
fn ac31_without_flag_is_empty() {
    let b = Backend::new().route("/foo", Reply::status(500)).start();
    let gw = one_backend("", "", &b, "/foo");
    assert_empty_error(&gw.get("/e"), 500);
}

#[test]
fn return_error_msg_shows_internal_pattern() {
    let b = Backend::new().route("/users/42", Reply::status(500)).start();
    let cfg = r#"{"version":3,"extra_config":{"router":{"return_error_msg":true}},
        "endpoints":[{"endpoint":"/u/{id}","backend":[{"host":["{{b}}"],"url_pattern":"/users/{id}"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let res = gw.get("/u/42");
    assert_eq!(res.body_str(), format!("invalid status code 500 [GET /users/{{{{.Id}}}}]: {}/users/42", b.url()));
}

#[test]
fn ac25_partial_failure_is_200_incomplete() {
    let a = Backend::new().route("/a", Reply::json(200, r#"{"x":1}"#)).start();
    let bad = Backend::new().route("/b", Reply::status(503)).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/e","cache_ttl":"60s","backend":[
        {"host":["{{a}}"],"url_pattern":"/a"},
        {"host":["{{b}}"],"url_pattern":"/b"}]}]}"#;
    let gw = Gateway::new(cfg).with("a", &a.url()).with("b", &bad.url()).start();
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert_json(&res, false);
    assert_eq!(res.body_str(), r#"{"x":1}"#);
    assert_eq!(res.header("Cache-Control"), None, "incomplete answers get no cache header");
}

#[test]
fn merge_of_two_backends_is_complete() {
    let a = Backend::new().route("/a", Reply::json(200, r#"{"x":1,"same":"a"}"#)).start();
    let b = Backend::new().route("/b", Reply::json(200, r#"{"y":2}"#)).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/e","backend":[
        {"host":["{{a}}"],"url_pattern":"/a"},
        {"host":["{{b}}"],"url_pattern":"/b"}]}]}"#;
    let gw = Gateway::new(cfg).with("a", &a.url()).with("b", &b.url()).start();
    let res = gw.get("/e");
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"same":"a","x":1,"y":2}"#);
}

#[test]
fn ac26_all_backends_fail_joined_messages() {
    let a = Backend::new().route("/a", Reply::status(404)).start();
    let refused = support::free_port();
    let cfg = format!(
        r#"{{"version":3,"extra_config":{{"router":{{"return_error_msg":true}}}},"endpoints":[{{"endpoint":"/e","backend":[
        {{"host":["{{{{a}}}}"],"url_pattern":"/a"}},
        {{"host":["http://127.0.0.1:{refused}"],"url_pattern":"/b"}}]}}]}}"#
    );
    let gw = Gateway::new(&cfg).with("a", &a.url()).start();
    let res = gw.get("/e");
    assert_eq!(res.status, 500);
    assert_eq!(res.header("Content-Type"), Some(TEXT_CT));
    let body = res.body_str();
    let lines: Vec<&str> = body.split('\n').collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert!(lines.iter().any(|l| l.starts_with("invalid status code 404 [GET /a]: ")), "{body}");
    assert!(lines.iter().any(|l| l.contains("connection refused")), "{body}");
}

#[test]
fn ac36_concurrent_calls_first_complete_answer_wins() {
    // Three identical calls; the first to finish fails, a slower one succeeds: the success is returned.
    let b = Backend::new()
        .route_seq(
            "/foo",
            vec![
                Reply::status(500),
                Reply::json(200, r#"{"p":1}"#).delay(std::time::Duration::from_millis(50)),
                Reply::status(503).delay(std::time::Duration::from_millis(100)),
            ],
        )
        .start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/products","concurrent_calls":3,
        "backend":[{"host":["{{b}}"],"url_pattern":"/foo"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let res = gw.get("/products");
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"p":1}"#);
    assert_eq!(b.wait_requests(3, std::time::Duration::from_secs(2)).len(), 3, "three identical calls were sent");
}

#[test]
fn ac36_concurrent_calls_all_failing_is_500() {
    let b = Backend::new().route("/foo", Reply::status(500)).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/products","concurrent_calls":3,
        "backend":[{"host":["{{b}}"],"url_pattern":"/foo"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    assert_empty_error(&gw.get("/products"), 500);
}

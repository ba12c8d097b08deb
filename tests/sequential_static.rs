//! The sequential proxy (§11: AC-18, AC-19, placeholder stringification), the static proxy (§13: AC-33, AC-34,
//! every strategy) and shadow backends (§14: AC-35).

mod support;

use std::time::{Duration, Instant};

use support::{assert_empty_error, assert_json, Backend, Gateway, Reply, RunningBackend};

/// An endpoint `/e` with `proxy.sequential` and one backend per url pattern, all on `b`.
fn sequential(b: &RunningBackend, patterns: &[&str], endpoint_extra: &str) -> Gateway {
    let backends: Vec<String> =
        patterns.iter().map(|p| format!(r#"{{"host":["{{{{b}}}}"],"url_pattern":"{p}"}}"#)).collect();
    let cfg = format!(
        r#"{{"version":3,"endpoints":[{{"endpoint":"/e","extra_config":{{"proxy":{{"sequential":true{endpoint_extra}}}}},
            "backend":[{}]}}]}}"#,
        backends.join(",")
    );
    Gateway::new(&cfg).with("b", &b.url()).start()
}

fn targets(b: &RunningBackend) -> Vec<String> {
    b.requests().into_iter().map(|r| r.target).collect()
}

const AC18: &str = r#"{"version":3,"endpoints":[{"endpoint":"/hotel-destinations/{id}",
    "extra_config":{"proxy":{"sequential":true}},
    "backend":[{"host":["{{hotels}}"],"url_pattern":"/hotels/{id}"},
               {"host":["{{destinations}}"],"url_pattern":"/destinations/{resp0_destination_id}"}]}]}"#;

const HOTEL: &str = r#"{"hotel_id":25,"name":"Hotel California","destination_id":1034}"#;

fn ac18(hotels: &RunningBackend, destinations: &RunningBackend) -> Gateway {
    Gateway::new(AC18).with("hotels", &hotels.url()).with("destinations", &destinations.url()).start()
}

#[test]
fn ac18_sequence_fills_the_second_url_from_the_first_answer() {
    let hotels = Backend::new().route("/hotels/25", Reply::json(200, HOTEL)).start();
    let destinations = Backend::new()
        .route("/destinations/1034", Reply::json(200, r#"{"destination_id":1034,"destinations":["LAX","SFO","OAK"]}"#))
        .start();
    let gw = ac18(&hotels, &destinations);
    let res = gw.get("/hotel-destinations/25");
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, true);
    assert_eq!(
        res.body_str(),
        r#"{"destination_id":1034,"destinations":["LAX","SFO","OAK"],"hotel_id":25,"name":"Hotel California"}"#
    );
    assert_eq!(targets(&hotels), ["/hotels/25"]);
    let dest = destinations.single();
    assert_eq!(dest.target, "/destinations/1034");
    // The first answer is not sent on: the second backend gets the client's (empty) request.
    assert!(dest.body.is_empty());
    assert_eq!(dest.header("Content-Length"), None);
}

#[test]
fn ac18_first_backend_failing_fails_the_request_and_stops() {
    let hotels = Backend::new().route("/hotels/25", Reply::status(500)).start();
    let destinations = Backend::new().fallback(Reply::json(200, r#"{"x":1}"#)).start();
    let gw = ac18(&hotels, &destinations);
    assert_empty_error(&gw.get("/hotel-destinations/25"), 500);
    assert!(destinations.requests().is_empty(), "B1 is never called");
}

#[test]
fn ac18_later_backend_failing_gives_the_partial_merge() {
    let hotels = Backend::new().route("/hotels/25", Reply::json(200, HOTEL)).start();
    let destinations = Backend::new().route("/destinations/1034", Reply::status(500)).start();
    let gw = ac18(&hotels, &destinations);
    let res = gw.get("/hotel-destinations/25");
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, false);
    assert_eq!(res.body_str(), r#"{"destination_id":1034,"hotel_id":25,"name":"Hotel California"}"#);
    assert_eq!(targets(&destinations), ["/destinations/1034"]);
}

#[test]
fn a_failure_stops_the_sequence() {
    let b = Backend::new()
        .route("/one", Reply::json(200, r#"{"id":1}"#))
        .route("/two/1", Reply::status(404))
        .fallback(Reply::json(200, r#"{"three":true}"#))
        .start();
    let gw = sequential(&b, &["/one", "/two/{resp0_id}", "/three/{resp0_id}"], "");
    let res = gw.get("/e");
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, false);
    assert_eq!(res.body_str(), r#"{"id":1}"#);
    assert_eq!(targets(&b), ["/one", "/two/1"], "the third backend is never reached");
}

#[test]
fn ac19_null_is_nil_escaped_in_the_path_and_raw_in_the_query() {
    let b = Backend::new()
        .route("/first", Reply::json(200, r#"{"user":{"hash":null}}"#))
        .fallback(Reply::json(200, r#"{}"#))
        .start();
    let gw = sequential(&b, &["/first", "/user/{resp0_user.hash}", "/user?hash={resp0_user.hash}"], "");
    let res = gw.get("/e");
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(targets(&b), ["/first", "/user/%3Cnil%3E", "/user?hash=<nil>"]);
}

#[test]
fn values_are_stringified_as_krakend_does() {
    let first = r#"{"ids":[1,"a",true,null],"empty":[],"n":1.50,"t":false,"s":"x y","deep":{"er":{"v":"d"}},
        "obj":{"b":2,"a":"z"},"hash":"top"}"#;
    let b = Backend::new().route("/first", Reply::json(200, first)).fallback(Reply::json(200, "{}")).start();
    let gw = sequential(
        &b,
        &[
            "/first",
            "/p/{resp0_ids}/{resp0_n}/{resp0_t}/{resp0_s}/{resp0_deep.er.v}/{resp0_obj}/x{resp0_empty}x",
            "/q?ids={resp0_ids}&s={resp0_s}&deep={resp0_deep.er.v}",
            // A missing intermediate key: the last key is read at the level reached.
            "/fallback/{resp0_nobody.hash}",
            // A missing field stays in lura's internal form: escaped in the path, raw in the query.
            "/missing/{resp0_nope}?m={resp0_deep.nope}",
        ],
        "",
    );
    assert_eq!(gw.get("/e").status, 200);
    assert_eq!(
        targets(&b),
        [
            "/first",
            "/p/1,a,true,%3Cnil%3E/1.50/false/x%20y/d/map%5Ba:z%20b:2%5D/xx",
            "/q?ids=1,a,true,<nil>&s=x%20y&deep=d",
            "/fallback/top",
            "/missing/%7B%7B.Resp0_nope%7D%7D?m={{.Resp0_deep.nope}}",
        ]
    );
}

#[test]
fn values_come_from_the_manipulated_answer_and_later_backends_win() {
    let b = Backend::new()
        .route("/hotel", Reply::json(200, r#"{"destination_id":7,"k":"hotel"}"#))
        .route("/dest/7", Reply::json(200, r#"{"k":"dest","d":1}"#))
        .route("/last/7/1", Reply::json(200, r#"{"last":true}"#))
        .start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/e","extra_config":{"proxy":{"sequential":true}},
        "backend":[{"host":["{{b}}"],"url_pattern":"/hotel","group":"hotel"},
                   {"host":["{{b}}"],"url_pattern":"/dest/{resp0_hotel.destination_id}"},
                   {"host":["{{b}}"],"url_pattern":"/last/{resp0_hotel.destination_id}/{resp1_d}"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let res = gw.get("/e");
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"d":1,"hotel":{"destination_id":7,"k":"hotel"},"k":"dest","last":true}"#);
    assert_eq!(targets(&b), ["/hotel", "/dest/7", "/last/7/1"]);
}

#[test]
fn placeholders_of_later_backends_and_without_sequential_stay_literal() {
    let b = Backend::new().fallback(Reply::json(200, r#"{"id":1}"#)).start();
    // resp1 in backend 1 refers to itself: never filled.
    let gw = sequential(&b, &["/a", "/b/{resp1_id}"], "");
    assert_eq!(gw.get("/e").status, 200);
    assert_eq!(targets(&b), ["/a", "/b/%7B%7B.Resp1_id%7D%7D"]);
    assert!(gw.stderr().contains("never filled") || gw.stdout().contains("never filled"), "start-up warning");

    let b = Backend::new().fallback(Reply::json(200, r#"{"id":1}"#)).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/e",
        "backend":[{"host":["{{b}}"],"url_pattern":"/a"},{"host":["{{b}}"],"url_pattern":"/b/{resp0_id}"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    assert_eq!(gw.get("/e").status, 200);
    let mut got = targets(&b);
    got.sort();
    assert_eq!(got, ["/a", "/b/%7B%7B.Resp0_id%7D%7D"]);
}

#[test]
fn an_incomplete_answer_stops_the_sequence() {
    let b = Backend::new().route("/a", Reply::text(404, "nope")).fallback(Reply::json(200, r#"{"x":1}"#)).start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/e","extra_config":{"proxy":{"sequential":true}},
        "backend":[{"host":["{{b}}"],"url_pattern":"/a","extra_config":{"backend/http":{"return_error_details":"a"}}},
                   {"host":["{{b}}"],"url_pattern":"/b"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let res = gw.get("/e");
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, false);
    assert_eq!(
        res.body_str(),
        r#"{"error_a":{"http_status_code":404,"http_body":"nope","http_body_encoding":"text/plain; charset=utf-8"}}"#
    );
    assert_eq!(targets(&b), ["/a"]);
}

#[test]
fn the_whole_sequence_shares_the_merge_deadline() {
    // 85% of 600ms = 510ms for all calls together: 300ms + 300ms does not fit.
    let b = Backend::new()
        .route("/a", Reply::json(200, r#"{"a":1}"#).delay(Duration::from_millis(300)))
        .route("/b", Reply::json(200, r#"{"b":1}"#).delay(Duration::from_millis(300)))
        .route("/c", Reply::json(200, r#"{"c":1}"#))
        .start();
    let cfg = r#"{"version":3,"endpoints":[{"endpoint":"/e","timeout":"600ms","extra_config":{"proxy":{"sequential":true}},
        "backend":[{"host":["{{b}}"],"url_pattern":"/a"},{"host":["{{b}}"],"url_pattern":"/b"},
                   {"host":["{{b}}"],"url_pattern":"/c"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let started = Instant::now();
    let res = gw.get("/e");
    let took = started.elapsed();
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, false);
    assert_eq!(res.body_str(), r#"{"a":1}"#);
    // A 200 with the first part means the 85% deadline fired, not the endpoint timeout (that one gives a 500).
    assert!(took >= Duration::from_millis(480) && took < Duration::from_millis(1500), "took {took:?}");
    assert_eq!(targets(&b), ["/a", "/b"]);
}

#[test]
fn propagated_params_are_accepted() {
    let b = Backend::new().fallback(Reply::json(200, r#"{"id":1}"#)).start();
    let gw = sequential(&b, &["/a", "/b/{resp0_id}"], r#","sequential_propagated_params":["resp0_id","resp0"]"#);
    assert_eq!(gw.get("/e").status, 200);
    assert_eq!(targets(&b), ["/a", "/b/1"]);
}

// ---- static proxy ----

/// An endpoint `/e` with a `proxy.static` of `strategy` over backends `/foo` (group foo) and `/bar` (group bar).
fn with_static(b: &RunningBackend, strategy: &str, data: &str, extra_backend: &str) -> Gateway {
    let cfg = format!(
        r#"{{"version":3,"endpoints":[{{"endpoint":"/e","timeout":"1s",
            "extra_config":{{"proxy":{{"static":{{"strategy":"{strategy}","data":{data}}}}}}},
            "backend":[{{"host":["{{{{b}}}}"],"url_pattern":"/foo","group":"foo"{extra_backend}}},
                       {{"host":["{{{{b}}}}"],"url_pattern":"/bar","group":"bar"}}]}}]}}"#
    );
    Gateway::new(&cfg).with("b", &b.url()).start()
}

#[test]
fn ac33_errored_answers_200_with_the_static_data() {
    let b = Backend::new().fallback(Reply::status(500)).start();
    let gw = with_static(&b, "errored", r#"{"errors_happened":{"foo":42,"bar":"default bar"}}"#, "");
    let res = gw.get("/e");
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, false);
    assert_eq!(res.body_str(), r#"{"errors_happened":{"bar":"default bar","foo":42}}"#);
}

const DEFAULTS: &str = r#"{"defaults":{"foo":42,"bar":"default bar"}}"#;
const HEALTH: &str = r#"{"agents":{},"now":"2024-01-01 00:00:00","status":"ok"}"#;

#[test]
fn ac34_incomplete_adds_defaults_to_the_partial_answer() {
    let b = Backend::new().route("/foo", Reply::status(500)).route("/bar", Reply::json(200, HEALTH)).start();
    let gw = with_static(&b, "incomplete", DEFAULTS, "");
    let res = gw.get("/e");
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, false);
    assert_eq!(
        res.body_str(),
        r#"{"bar":{"agents":{},"now":"2024-01-01 00:00:00","status":"ok"},"defaults":{"bar":"default bar","foo":42}}"#
    );
}

#[test]
fn ac34_incomplete_leaves_a_complete_answer_alone() {
    let b =
        Backend::new().route("/foo", Reply::json(200, r#"{"f":1}"#)).route("/bar", Reply::json(200, HEALTH)).start();
    let gw = with_static(&b, "incomplete", DEFAULTS, "");
    let res = gw.get("/e");
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"bar":{"agents":{},"now":"2024-01-01 00:00:00","status":"ok"},"foo":{"f":1}}"#);
}

/// The three situations every strategy is checked against.
#[derive(Debug, Clone, Copy)]
enum Situation {
    /// Both backends answer.
    Good,
    /// `/foo` fails, `/bar` answers: a partial merge with an error.
    Partial,
    /// `/foo` answers with `return_error_details`: incomplete, but no error.
    Details,
    /// Both fail: no answer.
    Nothing,
}

fn run_strategy(strategy: &str, situation: Situation) -> support::Response {
    let (first, second) = match situation {
        Situation::Good | Situation::Details => (Reply::json(200, r#"{"f":1}"#), Reply::json(200, r#"{"b":1}"#)),
        Situation::Partial => (Reply::status(500), Reply::json(200, r#"{"b":1}"#)),
        Situation::Nothing => (Reply::status(500), Reply::status(500)),
    };
    let first = if matches!(situation, Situation::Details) { Reply::text(404, "x") } else { first };
    let b = Backend::new().route("/foo", first).route("/bar", second).start();
    let details = if matches!(situation, Situation::Details) {
        r#","extra_config":{"backend/http":{"return_error_details":"foo"}}"#
    } else {
        ""
    };
    // `bar` collides with the backend group and is overwritten: static wins every fight.
    let gw = with_static(&b, strategy, r#"{"s":1.0,"bar":"static"}"#, details);
    gw.get("/e")
}

#[test]
fn every_static_strategy() {
    use Situation::*;
    const GOOD: &str = r#"{"bar":{"b":1},"foo":{"f":1}}"#;
    const GOOD_S: &str = r#"{"bar":"static","foo":{"f":1},"s":1}"#;
    const PARTIAL: &str = r#"{"bar":{"b":1}}"#;
    const PARTIAL_S: &str = r#"{"bar":"static","s":1}"#;
    const DETAILS: &str = r#"{"bar":{"b":1},"error_foo":{"http_status_code":404,"http_body":"x","http_body_encoding":"text/plain; charset=utf-8"}}"#;
    const DETAILS_S: &str = r#"{"bar":"static","error_foo":{"http_status_code":404,"http_body":"x","http_body_encoding":"text/plain; charset=utf-8"},"s":1}"#;
    const ONLY_S: &str = r#"{"bar":"static","s":1}"#;
    // (strategy, situation, status, completed, body); a 500 is KrakenD's empty error.
    let cases: &[(&str, Situation, u16, bool, &str)] = &[
        ("always", Good, 200, true, GOOD_S),
        ("always", Partial, 200, false, PARTIAL_S),
        ("always", Details, 200, false, DETAILS_S),
        ("always", Nothing, 200, false, ONLY_S),
        ("success", Good, 200, true, GOOD_S),
        ("success", Partial, 200, false, PARTIAL),
        ("success", Details, 200, false, DETAILS_S),
        ("success", Nothing, 500, false, ""),
        ("complete", Good, 200, true, GOOD_S),
        ("complete", Partial, 200, false, PARTIAL),
        ("complete", Details, 200, false, DETAILS),
        ("complete", Nothing, 500, false, ""),
        ("errored", Good, 200, true, GOOD),
        ("errored", Partial, 200, false, PARTIAL_S),
        ("errored", Details, 200, false, DETAILS),
        ("errored", Nothing, 200, false, ONLY_S),
        ("incomplete", Good, 200, true, GOOD),
        ("incomplete", Partial, 200, false, PARTIAL_S),
        ("incomplete", Details, 200, false, DETAILS_S),
        ("incomplete", Nothing, 200, false, ONLY_S),
        // Unknown strategies are `always`.
        ("sometimes", Good, 200, true, GOOD_S),
        ("sometimes", Nothing, 200, false, ONLY_S),
    ];
    for &(strategy, situation, status, completed, body) in cases {
        let res = run_strategy(strategy, situation);
        let what = format!("{strategy} {situation:?}: {res:?}");
        assert_eq!(res.status, status, "{what}");
        if status == 500 {
            assert_empty_error(&res, 500);
        } else {
            assert_eq!(res.header("X-Krakend-Completed"), Some(if completed { "true" } else { "false" }), "{what}");
            assert_eq!(res.body_str(), body, "{what}");
        }
    }
}

#[test]
fn static_on_a_single_backend_and_on_the_endpoint_deadline() {
    let b = Backend::new()
        .route("/slow", Reply::json(200, r#"{"late":true}"#).delay(Duration::from_millis(600)))
        .route("/ok", Reply::json(200, r#"{"n":2}"#))
        .start();
    let cfg = r#"{"version":3,"endpoints":[
        {"endpoint":"/slow","timeout":"200ms","extra_config":{"proxy":{"static":{"strategy":"errored","data":{"fallback":true}}}},
         "backend":[{"host":["{{b}}"],"url_pattern":"/slow"}]},
        {"endpoint":"/ok","extra_config":{"proxy":{"static":{"strategy":"complete","data":{"n":1e3,"m":0.0000001}}}},
         "backend":[{"host":["{{b}}"],"url_pattern":"/ok"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    let res = gw.get("/slow");
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, false);
    assert_eq!(res.body_str(), r#"{"fallback":true}"#);
    let res = gw.get("/ok");
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, true);
    // Config numbers go through f64 and Go's float formatting.
    assert_eq!(res.body_str(), r#"{"m":1e-7,"n":1000}"#);
}

#[test]
fn static_with_sequential_partial() {
    let b = Backend::new().route("/a", Reply::json(200, r#"{"id":3}"#)).route("/b/3", Reply::status(503)).start();
    let gw = sequential(&b, &["/a", "/b/{resp0_id}"], r#","static":{"strategy":"errored","data":{"degraded":true}}"#);
    let res = gw.get("/e");
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, false);
    assert_eq!(res.body_str(), r#"{"degraded":true,"id":3}"#);
}

// ---- shadow backends ----

const AC35: &str = r#"{"version":3,"endpoints":[{"endpoint":"/user/{id}","timeout":"150ms",
    "backend":[{"host":["{{v1}}"],"url_pattern":"/v1/user/{id}"},
               {"host":["{{v2}}"],"url_pattern":"/v2/user/{id}","extra_config":{"proxy":{"shadow":true}}}]}]}"#;

fn ac35(v2_reply: Reply) -> (RunningBackend, RunningBackend, support::Response, Duration) {
    let v1 = Backend::new().route("/v1/user/1", Reply::json(200, r#"{"id":1,"v":1}"#)).start();
    let v2 = Backend::new().route("/v2/user/1", v2_reply).start();
    let gw = Gateway::new(AC35).with("v1", &v1.url()).with("v2", &v2.url()).start();
    let started = Instant::now();
    let res = gw.get("/user/1");
    let took = started.elapsed();
    let _ = v2.wait_requests(1, Duration::from_secs(2));
    (v1, v2, res, took)
}

#[test]
fn ac35_shadow_answer_is_ignored() {
    let (_v1, v2, res, _) = ac35(Reply::json(200, r#"{"id":1,"v":2}"#));
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"id":1,"v":1}"#);
    let got = v2.requests();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!((got[0].method.as_str(), got[0].target.as_str()), ("GET", "/v2/user/1"));
}

#[test]
fn ac35_failing_shadow_does_not_fail_the_client() {
    let (_v1, v2, res, _) = ac35(Reply::status(500));
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"id":1,"v":1}"#);
    assert_eq!(v2.requests().len(), 1);
}

#[test]
fn ac35_slow_shadow_does_not_slow_the_client() {
    let (_v1, v2, res, took) = ac35(Reply::json(200, r#"{"id":1,"v":2}"#).delay(Duration::from_millis(800)));
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"id":1,"v":1}"#);
    assert!(took < Duration::from_millis(400), "took {took:?}");
    assert_eq!(v2.requests().len(), 1, "the shadow still receives the request");
}

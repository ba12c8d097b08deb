//! The README's first command: the bundled playground answers offline, its backends being the gateway's own
//! static file server. Run on a free port, with `KRAKEND_HOST` pointing the backends at it.

mod support;

use support::{assert_json, Gateway};

fn playground() -> Gateway {
    let config = std::fs::read_to_string("config-examples/playground.json").expect("playground config");
    Gateway::new(&config).env("KRAKEND_HOST", "http://127.0.0.1:{{port}}").start()
}

#[test]
fn playground_answers_offline() {
    let gw = playground();

    let res = gw.get("/__health");
    assert_eq!(res.status, 200);

    let res = gw.get("/users/1");
    assert_eq!(res.status, 200, "{res:?}");
    assert_json(&res, true);
    assert_eq!(res.header("Cache-Control"), Some("public, max-age=30"));
    assert_eq!(
        res.body_str(),
        r#"{"address":{"city":"Gwenborough","geo":{"lat":"-37.3159","lng":"81.1496"},"street":"Kulas Light","zipcode":"92998-3874"},"email":"Sincere@april.biz","id":1,"name":"Leanne Graham","score":9.50,"username":"Bret","website":"hildegard.org"}"#
    );

    let res = gw.get("/users");
    assert_eq!(res.body_str(), r#"[{"id":1,"name":"Leanne Graham"},{"id":2,"name":"Ervin Howell"}]"#);

    let res = gw.get("/posts/1");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("X-Krakend-Completed"), Some("false"));
    assert_eq!(res.body, std::fs::read("config-examples/data/posts/1.json").unwrap(), "no-op: byte for byte");

    let res = gw.get("/users/2/with-post");
    assert_json(&res, true);
    assert!(
        res.body_str()
            .contains(r#""post":{"body":"est rerum tempore vitae","id":2,"title":"qui est esse","userId":2}"#),
        "{}",
        res.body_str()
    );
    assert!(res.body_str().starts_with(r#"{"address":"#));

    let res = gw.get("/motd");
    assert_eq!(res.header("Content-Type"), Some("text/plain; charset=utf-8"));
    assert_eq!(res.body_str(), "Hello from the Ringway playground!\n");

    let res = gw.get_with("/echo/hi?page=2&x=1", &[("X-Tenant", "acme"), ("X-Other", "no")]);
    let body = res.body_str();
    assert!(body.contains(r#""req_querystring":{"page":["2"]}"#), "{body}");
    assert!(body.contains(r#""X-Tenant":["acme"]"#), "{body}");
    assert!(!body.contains("X-Other"), "{body}");

    let res = gw.get("/users/99");
    assert_eq!(res.status, 500, "a missing mock file is a backend 404, hence 500");
}

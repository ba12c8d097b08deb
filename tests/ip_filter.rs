//! The Enterprise `ip-filter` plugin over the wire (spec §3.9): globally through `plugin/http-server` (a
//! router-layer 403 before routing) and per endpoint through `plugin/req-resp-modifier` (a proxy-layer error).

mod support;

use support::{assert_empty_error, Backend, Gateway, Reply, Response, RunningBackend, X_KRAKEND};

/// A gateway with the global filter `filter` and one endpoint `/x` → a JSON backend.
fn global(filter: &str) -> (RunningBackend, Gateway) {
    let cfg = format!(
        r#"{{"version":3,"extra_config":{{"plugin/http-server":{{"name":["ip-filter"],"ip-filter":{filter}}}}},
        "endpoints":[{{"endpoint":"/x","backend":[{{"host":["{{{{b}}}}"],"url_pattern":"/x"}}]}}]}}"#
    );
    let b = Backend::new().route("/x", Reply::json(200, r#"{"a":1}"#)).start();
    let gw = Gateway::new(&cfg).with("b", &b.url()).start();
    (b, gw)
}

#[track_caller]
fn assert_blocked(res: &Response) {
    assert_eq!(res.status, 403, "{res:?}");
    assert_eq!(res.body_str(), "");
    assert_eq!(res.header("Content-Length"), Some("0"));
    assert_eq!(res.header("Content-Type"), None);
    assert_eq!(res.header("X-Krakend"), None);
}

#[test]
fn global_allow_mode() {
    let (b, gw) = global(r#"{"allow":true,"CIDR":["192.168.0.0/24","10.0.0.0/16"]}"#);
    assert_blocked(&gw.get("/x"));
    // Before routing: every path, the health endpoint included.
    assert_blocked(&gw.get("/__health"));
    assert_blocked(&gw.get("/nope"));
    assert!(b.requests().is_empty());
    assert!(gw.wait_stderr(
        "INFO: [PLUGIN: ip-filter] blocking access to endpoint /x from IP 127.0.0.1",
        std::time::Duration::from_secs(3)
    ));
    let (_b, gw) = global(r#"{"allow":true,"CIDR":["10.0.0.0/16","127.0.0.1"]}"#);
    assert_eq!(gw.get("/x").status, 200);
}

#[test]
fn global_deny_mode() {
    let (_b, gw) = global(r#"{"CIDR":["127.0.0.0/8"]}"#);
    assert_blocked(&gw.get("/x"));
    let (_b, gw) = global(r#"{"allow":false,"CIDR":["10.0.0.0/8"]}"#);
    let res = gw.get("/x");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("X-Krakend"), Some(X_KRAKEND));
}

#[test]
fn trusted_proxies_and_client_ip_headers() {
    let (_b, gw) = global(r#"{"CIDR":["1.2.3.4"],"trusted_proxies":["127.0.0.1"],"client_ip_headers":["X-Real-IP"]}"#);
    assert_blocked(&gw.get_with("/x", &[("X-Real-IP", "1.2.3.4")]));
    assert_eq!(gw.get_with("/x", &[("X-Real-IP", "5.6.7.8")]).status, 200);
    // Only the configured headers count; without one, the peer (127.0.0.1) is the client.
    assert_eq!(gw.get_with("/x", &[("X-Forwarded-For", "1.2.3.4")]).status, 200);
    assert_eq!(gw.get("/x").status, 200);

    // Default headers, walked right to left past trusted proxies.
    let (_b, gw) = global(r#"{"CIDR":["1.2.3.4"],"trusted_proxies":["127.0.0.1","10.0.0.0/8"]}"#);
    assert_blocked(&gw.get_with("/x", &[("X-Forwarded-For", "1.2.3.4, 10.1.1.1")]));
    assert_eq!(gw.get_with("/x", &[("X-Forwarded-For", "1.2.3.4, 8.8.8.8")]).status, 200);

    // A peer outside trusted_proxies cannot pick its IP.
    let (_b, gw) = global(r#"{"CIDR":["1.2.3.4"],"trusted_proxies":["10.0.0.1"]}"#);
    assert_eq!(gw.get_with("/x", &[("X-Forwarded-For", "1.2.3.4")]).status, 200);
}

#[test]
fn unparseable_ip_passes_deny_mode_and_fails_allow_mode() {
    let garbage = [("X-Forwarded-For", "not-an-ip")];
    let (_b, gw) = global(r#"{"allow":true,"CIDR":["127.0.0.1"],"trusted_proxies":["127.0.0.1"]}"#);
    assert_eq!(gw.get("/x").status, 200);
    assert_blocked(&gw.get_with("/x", &garbage));
    let (_b, gw) = global(r#"{"allow":false,"CIDR":["127.0.0.1"],"trusted_proxies":["127.0.0.1"]}"#);
    assert_blocked(&gw.get("/x"));
    assert_eq!(gw.get_with("/x", &garbage).status, 200);
}

/// One filtered endpoint (`/filtered`, `filter` as its settings, `backend_extra` on its backend) and `/open`.
fn per_endpoint(root_extra: &str, filter: &str, backend_extra: &str) -> (RunningBackend, Gateway) {
    let cfg = format!(
        r#"{{"version":3,"extra_config":{{{root_extra}}},"endpoints":[
        {{"endpoint":"/filtered","input_headers":["X-User-Ip"],
          "extra_config":{{"plugin/req-resp-modifier":{{"name":["ip-filter"],"ip-filter":{filter}}}}},
          "backend":[{{"host":["{{{{b}}}}"],"url_pattern":"/x","extra_config":{{{backend_extra}}}}}]}},
        {{"endpoint":"/open","backend":[{{"host":["{{{{b}}}}"],"url_pattern":"/x"}}]}}]}}"#
    );
    let b = Backend::new().route("/x", Reply::json(200, r#"{"a":1}"#)).start();
    let gw = Gateway::new(&cfg).with("b", &b.url()).start();
    (b, gw)
}

#[test]
fn endpoint_filter_is_a_proxy_layer_error() {
    let (b, gw) = per_endpoint("", r#"{"CIDR":["127.0.0.1"]}"#, "");
    assert_empty_error(&gw.get("/filtered"), 500);
    assert!(b.requests().is_empty(), "a blocked request never reaches the backend");
    assert_eq!(gw.get("/open").status, 200);
    assert!(
        gw.wait_stderr("[PLUGIN: ip-filter] blocking access to endpoint /filtered", std::time::Duration::from_secs(3))
    );

    // With return_error_msg the error text is the body; with return_error_code the status is the filter's 403.
    let (_b, gw) = per_endpoint(r#""router":{"return_error_msg":true}"#, r#"{"CIDR":["127.0.0.1"]}"#, "");
    let res = gw.get("/filtered");
    assert_eq!(res.status, 500);
    assert_eq!(res.header("X-Krakend-Completed"), Some("false"));
    assert_eq!(res.body_str(), "ip-filter: access from IP 127.0.0.1 is not allowed");
    let code = r#""backend/http":{"return_error_code":true}"#;
    let (_b, gw) = per_endpoint("", r#"{"CIDR":["127.0.0.1"]}"#, code);
    assert_empty_error(&gw.get("/filtered"), 403);
}

#[test]
fn endpoint_filter_sees_the_gateway_client_ip_and_forwarded_headers() {
    // The router resolves the client IP from X-Forwarded-For (trusted local proxy): the filter sees 1.2.3.4.
    let router = r#""router":{"forwarded_by_client_ip":true,"trusted_proxies":["127.0.0.1"]}"#;
    let (_b, gw) = per_endpoint(router, r#"{"CIDR":["1.2.3.4"]}"#, "");
    assert_empty_error(&gw.get_with("/filtered", &[("X-Forwarded-For", "1.2.3.4")]), 500);
    assert_eq!(gw.get_with("/filtered", &[("X-Forwarded-For", "5.5.5.5")]).status, 200);
    assert_eq!(gw.get("/filtered").status, 200, "no header: the client is the peer, 127.0.0.1");

    // A custom header the endpoint forwards (input_headers), read when the gateway's client IP is trusted.
    let filter =
        r#"{"allow":true,"CIDR":["9.9.9.9"],"client_ip_headers":["X-User-Ip"],"trusted_proxies":["127.0.0.1"]}"#;
    let (_b, gw) = per_endpoint("", filter, "");
    assert_eq!(gw.get_with("/filtered", &[("X-User-Ip", "9.9.9.9")]).status, 200);
    assert_empty_error(&gw.get_with("/filtered", &[("X-User-Ip", "8.8.8.8")]), 500);
    assert_empty_error(&gw.get("/filtered"), 500);
}

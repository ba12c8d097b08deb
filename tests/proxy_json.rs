//! Backend decoding and endpoint rendering: collections, safejson, string, json-collection, the JSON wire form,
//! `cache_ttl` (AC-12..15, AC-37).

mod support;

use support::{assert_empty_error, assert_json, Backend, Gateway, Reply, TEXT_CT, X_KRAKEND};

/// One endpoint `/e` over one backend `/b`, with extra endpoint and backend keys spliced in.
fn single(endpoint_extra: &str, backend_extra: &str, reply: Reply) -> (Gateway, support::RunningBackend) {
    let b = Backend::new().route("/b", reply).start();
    let cfg = format!(
        r#"{{"version":3,"endpoints":[{{"endpoint":"/e"{endpoint_extra},
            "backend":[{{"host":["{{{{b}}}}"],"url_pattern":"/b"{backend_extra}}}]}}]}}"#
    );
    let gw = Gateway::new(&cfg).with("b", &b.url()).start();
    (gw, b)
}

#[test]
fn ac12_collection_wrapped() {
    let (gw, _b) = single("", r#","is_collection":true"#, Reply::json(200, r#"[{"id":1},{"id":2}]"#));
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"collection":[{"id":1},{"id":2}]}"#);
}

#[test]
fn ac12_collection_with_mapping() {
    let (gw, _b) = single(
        "",
        r#","sd":"static","is_collection":true,"mapping":{"collection":"myposts"}"#,
        Reply::json(200, r#"[{"id":1},{"id":2}]"#),
    );
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"myposts":[{"id":1},{"id":2}]}"#);
}

#[test]
fn ac12_array_without_is_collection_is_500() {
    let (gw, _b) = single("", "", Reply::json(200, r#"[{"id":1},{"id":2}]"#));
    assert_empty_error(&gw.get("/e"), 500);
}

#[test]
fn ac13_json_collection_output() {
    let (gw, _b) = single(
        r#","output_encoding":"json-collection""#,
        r#","is_collection":true"#,
        Reply::json(200, r#"[{"item": 1},{"item": 2}]"#),
    );
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"[{"item":1},{"item":2}]"#);
}

#[test]
fn ac14_safejson_wrappers() {
    let b = Backend::new()
        .route("/arr", Reply::json(200, r#"[{"item": 1},{"item": 2}]"#))
        .route("/bool", Reply::json(200, "true"))
        .route("/obj", Reply::json(200, r#"{"a":1}"#))
        .start();
    let cfg = r#"{"version":3,"endpoints":[
        {"endpoint":"/arr","backend":[{"host":["{{b}}"],"url_pattern":"/arr","encoding":"safejson"}]},
        {"endpoint":"/bool","backend":[{"host":["{{b}}"],"url_pattern":"/bool","encoding":"safejson"}]},
        {"endpoint":"/obj","backend":[{"host":["{{b}}"],"url_pattern":"/obj","encoding":"safejson"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();
    for (path, body) in [
        ("/arr", r#"{"collection":[{"item":1},{"item":2}]}"#),
        ("/bool", r#"{"content":true}"#),
        ("/obj", r#"{"a":1}"#),
    ] {
        let res = gw.get(path);
        assert_eq!(res.status, 200, "{path}");
        assert_json(&res, true);
        assert_eq!(res.body_str(), body, "{path}");
    }
}

#[test]
fn ac15_string_encoding_json_output() {
    let (gw, _b) = single(
        "",
        r#","encoding":"string""#,
        Reply::status(200).header("Content-Type", "text/plain").body(b"Hello World!"),
    );
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"content":"Hello World!"}"#);
}

#[test]
fn ac15_string_encoding_string_output() {
    let (gw, _b) = single(
        r#","output_encoding":"string""#,
        r#","encoding":"string""#,
        Reply::status(200).header("Content-Type", "text/plain").body(b"Hello World!"),
    );
    let res = gw.get("/e");
    assert_eq!(res.status, 200);
    assert_eq!(res.header("Content-Type"), Some(TEXT_CT));
    assert_eq!(res.header("X-Krakend"), Some(X_KRAKEND));
    assert_eq!(res.header("X-Krakend-Completed"), Some("true"));
    assert_eq!(res.body_str(), "Hello World!");
}

#[test]
fn json_wire_form_sorted_escaped_literal_numbers() {
    let (gw, _b) = single(
        "",
        "",
        Reply::json(200, r#"{"z":1, "a":{"y":"<b>&</b>","b":1.50}, "big":12345678901234567890123, "m":[3,1]}"#),
    );
    let res = gw.get("/e");
    assert_json(&res, true);
    assert_eq!(
        res.body_str(),
        r#"{"a":{"b":1.50,"y":"\u003cb\u003e\u0026\u003c/b\u003e"},"big":12345678901234567890123,"m":[3,1],"z":1}"#
    );
}

#[test]
fn json_trailing_bytes_after_first_value_are_ignored() {
    let (gw, _b) = single("", "", Reply::json(200, r#"{"a":1} xyz"#));
    let res = gw.get("/e");
    assert_eq!(res.status, 200, "{res:?}");
    assert_eq!(res.body_str(), r#"{"a":1}"#);
}

#[test]
fn invalid_json_is_500() {
    let (gw, _b) = single("", "", Reply::json(200, r#"{"a":"#));
    assert_empty_error(&gw.get("/e"), 500);
}

#[test]
fn empty_body_is_500() {
    let (gw, _b) = single("", "", Reply::status(200));
    assert_empty_error(&gw.get("/e"), 500);
}

#[test]
fn manipulation_target_allow_mapping_group() {
    let (gw, _b) = single(
        "",
        r#","target":"data","allow":["a","b"],"mapping":{"a":"alpha"},"group":"g""#,
        Reply::json(200, r#"{"apiVersion":"2.0","data":{"a":1,"b":{"x":2},"c":3}}"#),
    );
    let res = gw.get("/e");
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"g":{"alpha":1,"b":{"x":2}}}"#);
}

#[test]
fn ac37_cache_ttl_only_when_complete() {
    let b =
        Backend::new().route("/full", Reply::json(200, r#"{"a":1}"#)).route("/empty", Reply::json(200, "{}")).start();
    let cfg = r#"{"version":3,"endpoints":[
        {"endpoint":"/full","cache_ttl":"60s","backend":[{"host":["{{b}}"],"url_pattern":"/full"}]},
        {"endpoint":"/empty","cache_ttl":"60s","backend":[{"host":["{{b}}"],"url_pattern":"/empty"}]},
        {"endpoint":"/half","cache_ttl":"1500ms","backend":[{"host":["{{b}}"],"url_pattern":"/full"}]}]}"#;
    let gw = Gateway::new(cfg).with("b", &b.url()).start();

    let res = gw.get("/full");
    assert_json(&res, true);
    assert_eq!(res.header("Cache-Control"), Some("public, max-age=60"));

    let res = gw.get("/empty");
    assert_eq!(res.status, 200);
    assert_json(&res, false);
    assert_eq!(res.body_str(), "{}");
    assert_eq!(res.header("Cache-Control"), None);

    // Whole seconds, truncated.
    assert_eq!(gw.get("/half").header("Cache-Control"), Some("public, max-age=1"));
}

#[test]
fn cache_ttl_absent_on_errors() {
    let (gw, _b) = single(r#","cache_ttl":"60s""#, "", Reply::status(500));
    let res = gw.get("/e");
    assert_empty_error(&res, 500);
    assert_eq!(res.header("Cache-Control"), None);
}

#[test]
fn gzip_json_decoded_transparently() {
    let (gw, b) = single("", "", Reply::json(200, r#"{"zipped":true}"#).gzip());
    let res = gw.get("/e");
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"zipped":true}"#);
    assert_eq!(b.single().header("Accept-Encoding"), Some("gzip"));
}

#[test]
fn chunked_backend_body_is_decoded() {
    let (gw, _b) = single("", "", Reply::status(200).chunked(&[b"{\"a\":", b"[1,2", b"]}"], std::time::Duration::ZERO));
    let res = gw.get("/e");
    assert_json(&res, true);
    assert_eq!(res.body_str(), r#"{"a":[1,2]}"#);
}

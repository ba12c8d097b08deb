use proptest::prelude::*;
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use super::*;
use crate::config::{BackendConfig, UrlPattern};
use crate::encoding::write_value;

fn backend() -> BackendConfig {
    BackendConfig::with_defaults(UrlPattern { source: "/".to_owned(), parts: Vec::new() }, Vec::new())
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn parse(json: &str) -> Value {
    crate::encoding::decode_json(json.as_bytes(), false).expect("valid json").expect("an object")
}

fn wire(v: Option<&Value>) -> String {
    let mut out = Vec::new();
    match v {
        Some(v) => write_value(&mut out, v),
        None => out.extend_from_slice(b"null"),
    }
    String::from_utf8(out).expect("utf-8")
}

fn run(b: &BackendConfig, body: &str) -> String {
    let m = Manipulation::build(b).expect("valid manipulation");
    wire(m.apply(Some(parse(body))).as_ref())
}

fn with_flatmap(mut b: BackendConfig, ops: &str) -> BackendConfig {
    let ops: serde_json::Value = serde_json::from_str(ops).expect("valid ops");
    b.extra_config.insert("proxy".to_owned(), serde_json::json!({ "flatmap_filter": ops }));
    b
}

const B0: &str = r#"{"id":1,"name":"Leanne Graham","username":"Bret","email":"Sincere@april.biz","address":{"street":"Kulas Light","suite":"Apt. 556","city":"Gwenborough","zipcode":"92998-3874","geo":{"lat":"-37.3159","lng":"81.1496"}},"phone":"1-770-736-8031 x56442","website":"hildegard.org","company":{"name":"Romaguera-Crona","catchPhrase":"Multi-layered client-server neural-net","bs":"harness real-time e-markets"}}"#;
const B1: &str = r#"{"userId":1,"id":1,"title":"sunt aut facere repellat provident occaecati excepturi optio reprehenderit","body":"quia et suscipit\nsuscipit recusandae consequuntur expedita et cum\nreprehenderit molestiae ut ut quas totam\nnostrum rerum est autem sunt rem eveniet architecto"}"#;

#[test]
fn ac05_merge_of_two_backends() {
    let mut acc = None;
    merge_into(&mut acc, parse(B0));
    merge_into(&mut acc, parse(B1));
    assert_eq!(
        wire(acc.as_ref()),
        r#"{"address":{"city":"Gwenborough","geo":{"lat":"-37.3159","lng":"81.1496"},"street":"Kulas Light","suite":"Apt. 556","zipcode":"92998-3874"},"body":"quia et suscipit\nsuscipit recusandae consequuntur expedita et cum\nreprehenderit molestiae ut ut quas totam\nnostrum rerum est autem sunt rem eveniet architecto","company":{"bs":"harness real-time e-markets","catchPhrase":"Multi-layered client-server neural-net","name":"Romaguera-Crona"},"email":"Sincere@april.biz","id":1,"name":"Leanne Graham","phone":"1-770-736-8031 x56442","title":"sunt aut facere repellat provident occaecati excepturi optio reprehenderit","userId":1,"username":"Bret","website":"hildegard.org"}"#
    );
}

#[test]
fn merge_later_answer_wins_collisions() {
    let mut acc = None;
    merge_into(&mut acc, parse(r#"{"a":1,"b":{"x":1}}"#));
    merge_into(&mut acc, parse(r#"{"b":{"y":2},"c":3}"#));
    assert_eq!(wire(acc.as_ref()), r#"{"a":1,"b":{"y":2},"c":3}"#);
}

#[test]
fn ac06_group() {
    let mut b = backend();
    b.group = Some("last_post".to_owned());
    let mut acc = None;
    merge_into(&mut acc, parse(B0));
    merge_into(&mut acc, Manipulation::build(&b).unwrap().apply(Some(parse(B1))).unwrap());
    let merged = acc.unwrap();
    assert_eq!(wire(merged.get("last_post")), wire(Some(&parse(B1))));
    assert!(merged.get("userId").is_none() && merged.get("title").is_none() && merged.get("body").is_none());
    assert_eq!(merged.get("username").and_then(|v| v.as_str()), Some("Bret"));
}

#[test]
fn ac07_deny_and_ac08_allow() {
    let want = r#"{"id":1,"title":"sunt aut facere repellat provident occaecati excepturi optio reprehenderit"}"#;
    let mut b = backend();
    b.deny = strings(&["body", "userId"]);
    assert_eq!(run(&b, B1), want);
    let mut b = backend();
    b.allow = strings(&["id", "title"]);
    assert_eq!(run(&b, B1), want);
}

#[test]
fn ac09_nested_allow_deny_and_precedence() {
    let body = r#"{"a":{"a1":1,"a2":2},"b":[{"a1":1}],"c":3}"#;
    let mut b = backend();
    b.allow = strings(&["a.a1"]);
    assert_eq!(run(&b, body), r#"{"a":{"a1":1}}"#);
    let mut b = backend();
    b.deny = strings(&["a.a1"]);
    assert_eq!(run(&b, body), r#"{"a":{"a2":2},"b":[{"a1":1}],"c":3}"#);
    let mut b = backend();
    b.deny = strings(&["b.a1"]);
    assert_eq!(run(&b, body), r#"{"a":{"a1":1,"a2":2},"b":[{"a1":1}],"c":3}"#);
    let mut b = backend();
    b.allow = strings(&["c"]);
    b.deny = strings(&["c"]);
    assert_eq!(run(&b, body), r#"{"c":3}"#);
}

#[test]
fn allow_edge_cases() {
    let body = r#"{"a":{"a1":1,"a2":{"x":1,"y":2}},"b":[{"a1":1}],"c":3}"#;
    let mut b = backend();
    b.allow = strings(&["nope", "a.nope"]);
    assert_eq!(run(&b, body), "{}", "nothing matches → {{}}");
    b.allow = strings(&["b.a1"]);
    assert_eq!(run(&b, body), "{}", "dot paths never enter arrays");
    b.allow = strings(&["a.a2.y", "c"]);
    assert_eq!(run(&b, body), r#"{"a":{"a2":{"y":2}},"c":3}"#);
    b.allow = strings(&["a", "a.a1"]);
    assert_eq!(run(&b, body), r#"{"a":{"a1":1}}"#, "a later entry replaces an earlier one (lura buildDictPath)");
    b.allow = strings(&["a.a1", "a"]);
    assert_eq!(run(&b, body), r#"{"a":{"a1":1,"a2":{"x":1,"y":2}}}"#);
    b.allow = strings(&["A"]);
    assert_eq!(run(&b, body), "{}", "case-sensitive");
}

#[test]
fn deny_deep_and_missing() {
    let body = r#"{"a":{"b":{"c":1,"d":2}},"e":"x"}"#;
    let mut b = backend();
    b.deny = strings(&["a.b.c", "e.f", "zz", "a.zz.c"]);
    assert_eq!(run(&b, body), r#"{"a":{"b":{"d":2}},"e":"x"}"#);
}

#[test]
fn ac10_mapping() {
    let mut b = backend();
    b.mapping.insert("email".to_owned(), "personal_email".to_owned());
    b.mapping.insert("missing".to_owned(), "ignored".to_owned());
    let out = Manipulation::build(&b).unwrap().apply(Some(parse(B0))).unwrap();
    assert!(out.get("email").is_none() && out.get("ignored").is_none());
    assert_eq!(out.get("personal_email").and_then(|v| v.as_str()), Some("Sincere@april.biz"));
    assert_eq!(out.as_object().map(|o| o.len()), Some(8));
}

#[test]
fn ac11_target() {
    let mut b = backend();
    b.target = Some("data".to_owned());
    let body = r#"{"apiVersion":"2.0","data":{"updated":"2010-01-07T19:58:42.949Z","totalItems":800,"startIndex":1,"itemsPerPage":1,"items":[]}}"#;
    assert_eq!(
        run(&b, body),
        r#"{"items":[],"itemsPerPage":1,"startIndex":1,"totalItems":800,"updated":"2010-01-07T19:58:42.949Z"}"#
    );
    b.target = Some("data.items".to_owned());
    assert_eq!(run(&b, body), "{}", "target on an array → {{}}");
    b.target = Some("nope".to_owned());
    assert_eq!(run(&b, body), "{}");
    b.target = Some("a.b".to_owned());
    assert_eq!(run(&b, r#"{"a":{"b":{"c":1}}}"#), r#"{"c":1}"#);
}

#[test]
fn order_target_then_allow_then_mapping_then_group() {
    let mut b = backend();
    b.target = Some("data".to_owned());
    b.allow = strings(&["x", "y.z"]);
    b.mapping.insert("x".to_owned(), "renamed".to_owned());
    b.group = Some("g".to_owned());
    assert_eq!(run(&b, r#"{"data":{"x":1,"y":{"z":2,"w":3},"q":4},"x":9}"#), r#"{"g":{"renamed":1,"y":{"z":2}}}"#);
}

#[test]
fn ac12_collection_mapping() {
    let mut b = backend();
    b.is_collection = true;
    b.mapping.insert("collection".to_owned(), "myposts".to_owned());
    let data = crate::encoding::decode_json(br#"[{"id":1},{"id":2}]"#, true).unwrap();
    let out = Manipulation::build(&b).unwrap().apply(data);
    assert_eq!(wire(out.as_ref()), r#"{"myposts":[{"id":1},{"id":2}]}"#);
}

#[test]
fn null_data_with_group_and_target() {
    let mut b = backend();
    b.group = Some("g".to_owned());
    assert_eq!(wire(Manipulation::build(&b).unwrap().apply(None).as_ref()), r#"{"g":null}"#);
    b.target = Some("t".to_owned());
    assert_eq!(wire(Manipulation::build(&b).unwrap().apply(None).as_ref()), r#"{"g":{}}"#);
    assert!(Manipulation::build(&backend()).unwrap().apply(None).is_none());
}

#[test]
fn ac16_flatmap_extract() {
    let b = with_flatmap(
        backend(),
        r#"[{"type":"move","args":["zone.state","shipping_state"]},{"type":"move","args":["zone.zip","shipping_zip"]},{"type":"del","args":["zone"]}]"#,
    );
    assert_eq!(
        run(&b, r#"{"shipping_id":"f15f8c62-8c63-46de-a7f6-a08f131848c5","zone":{"state":"NY","zip":"10001"}}"#),
        r#"{"shipping_id":"f15f8c62-8c63-46de-a7f6-a08f131848c5","shipping_state":"NY","shipping_zip":"10001"}"#
    );
}

/// AC-17 follows the flatmap library (`dst ++ src`), not the documentation's example (src items first).
#[test]
fn ac17_flatmap_arrays() {
    let b = with_flatmap(
        backend(),
        r#"[{"type":"del","args":["kindergarten.0"]},{"type":"move","args":["schools.*.title","schools.*.name"]},{"type":"append","args":["kindergarten","schools"]}]"#,
    );
    assert_eq!(
        run(
            &b,
            r#"{"kindergarten":[{"name":"TEST Kinder"},{"name":"Lil' Elephants"},{"name":"Bright Rainbows"}],"schools":[{"title":"Brookside Elementary"},{"title":"Oak Tree School"}]}"#
        ),
        r#"{"schools":[{"name":"Brookside Elementary"},{"name":"Oak Tree School"},{"name":"Lil' Elephants"},{"name":"Bright Rainbows"}]}"#
    );
}

const SAMPLE: &str = r#"{"a":[{"b1":[{"c":1,"d":"foo"},{"c":2,"d":"bar"}],"b2":true},{"b1":[{"c":3,"d":"vaz"}]}]}"#;

fn flat(ops: &str) -> String {
    run(&with_flatmap(backend(), ops), SAMPLE)
}

fn mv(src: &str, dst: &str) -> String {
    flat(&format!(r#"[{{"type":"move","args":["{src}","{dst}"]}}]"#))
}

/// The documentation's move table, with the results the library gives (spec §9.5).
#[test]
fn flatmap_move_table() {
    assert_eq!(
        mv("a.*.b1.*.c", "a.*.b1.*.e"),
        r#"{"a":[{"b1":[{"d":"foo","e":1},{"d":"bar","e":2}],"b2":true},{"b1":[{"d":"vaz","e":3}]}]}"#
    );
    for (src, dst) in [("a.b1.c", "c"), ("a.*.b1.c", "c"), ("a.*.b1.c", "a.*.b1.*.d.*.e"), ("a.*.b1.*.c", "a.*.x.*.c")]
    {
        assert_eq!(mv(src, dst), SAMPLE, "{src} → {dst} leaves the data unchanged");
    }
    assert_eq!(
        mv("a.0.b1.0.c", "c"),
        r#"{"a":[{"b1":[{"d":"foo"},{"c":2,"d":"bar"}],"b2":true},{"b1":[{"c":3,"d":"vaz"}]}],"c":1}"#
    );
    assert_eq!(
        mv("a.*.b1.*.c", "a.*.c"),
        r#"{"a":[{"b1":[{"d":"foo"},{"d":"bar"}],"b2":true,"c":2},{"b1":[{"d":"vaz"}],"c":3}]}"#
    );
    let deeper = r#"{"a":[{"b1":[{"c":{"d":{"e":{"f":{"g":1}}}},"d":"foo"},{"c":{"d":{"e":{"f":{"g":2}}}},"d":"bar"}],"b2":true},{"b1":[{"c":{"d":{"e":{"f":{"g":3}}}},"d":"vaz"}]}]}"#;
    assert_eq!(mv("a.*.b1.*.c", "a.*.b1.*.c.d.e.f.g"), deeper);
    assert_eq!(mv("a.*.b1.*.c", "a.*.x.*.c.d.e.f.g"), deeper);
    assert_eq!(
        mv("a.*.b1.*.c", "a.*.b1.*.d.*.e"),
        r#"{"a":[{"b1":[{"d":{"*":{"e":1}}},{"d":{"*":{"e":2}}}],"b2":true},{"b1":[{"d":{"*":{"e":3}}}]}]}"#
    );
}

#[test]
fn flatmap_del_with_wildcards_and_indexes() {
    assert_eq!(
        flat(r#"[{"type":"del","args":["a.*.b1.*.d","a.0.b2"]}]"#),
        r#"{"a":[{"b1":[{"c":1},{"c":2}]},{"b1":[{"c":3}]}]}"#
    );
    assert_eq!(flat(r#"[{"type":"del","args":["a.*.*.*.d"]}]"#), flat(r#"[{"type":"del","args":["a.*.b1.*.d"]}]"#));
    assert_eq!(
        flat(r#"[{"type":"del","args":["a.1","a.9","nope.x"]}]"#),
        r#"{"a":[{"b1":[{"c":1,"d":"foo"},{"c":2,"d":"bar"}],"b2":true}]}"#
    );
    assert_eq!(flat(r#"[{"type":"del","args":["a.*"]}]"#), r#"{"a":[]}"#);
}

#[test]
fn flatmap_append_needs_two_arrays() {
    let b = with_flatmap(backend(), r#"[{"type":"append","args":["x","y"]}]"#);
    assert_eq!(run(&b, r#"{"x":[1],"y":{"k":1}}"#), r#"{"x":[1],"y":{"k":1}}"#);
    assert_eq!(run(&b, r#"{"x":[1]}"#), r#"{"x":[1]}"#);
    assert_eq!(run(&b, r#"{"x":[1,2],"y":[0]}"#), r#"{"y":[0,1,2]}"#);
    let b = with_flatmap(backend(), r#"[{"type":"append","args":["a.*.x","a.*.y"]}]"#);
    assert_eq!(run(&b, r#"{"a":[{"x":[1],"y":[0]},{"x":[2],"y":[]}]}"#), r#"{"a":[{"y":[0,1]},{"y":[2]}]}"#);
}

#[test]
fn flatmap_ignores_allow_deny_mapping_keeps_target_and_group() {
    let mut b = backend();
    b.target = Some("data".to_owned());
    b.group = Some("g".to_owned());
    b.allow = strings(&["nothing"]);
    b.mapping.insert("x".to_owned(), "y".to_owned());
    let b = with_flatmap(b, r#"[{"type":"move","args":["x","z"]}]"#);
    assert_eq!(run(&b, r#"{"data":{"x":1,"w":2}}"#), r#"{"g":{"w":2,"z":1}}"#);
}

#[test]
fn flatmap_config_errors() {
    let bad = [
        (
            r#"[{"type":"copy","args":["a","b"]}]"#,
            r#"proxy.flatmap_filter[0]: unknown type "copy" (want move, del or append)"#,
        ),
        (
            r#"[{"type":"move","args":["a"]}]"#,
            "proxy.flatmap_filter[0]: move takes 2 args (source, destination), got 1",
        ),
        (r#"[{"type":"del","args":[]}]"#, "proxy.flatmap_filter[0]: del takes at least 1 arg"),
        (r#"[{"args":["a"]}]"#, r#"proxy.flatmap_filter[0]: missing "type""#),
        (r#"[{"type":"del","args":[1]}]"#, "proxy.flatmap_filter[0].args: expected strings, got 1"),
        (r#"{"type":"del"}"#, r#"proxy.flatmap_filter: expected an array of {"type", "args"} objects"#),
    ];
    for (ops, want) in bad {
        assert_eq!(Manipulation::build(&with_flatmap(backend(), ops)).unwrap_err(), want, "{ops}");
    }
    assert!(Manipulation::build(&with_flatmap(backend(), "[]")).unwrap().is_identity(), "an empty list is no flatmap");
}

#[test]
fn ac30_error_details_keep_struct_order() {
    let v = error_details("backend_b", 404, b"404 page not found\n", Some(b"text/plain; charset=utf-8"));
    let mut acc = Some(parse(r#"{"foo":42}"#));
    merge_into(&mut acc, v);
    assert_eq!(
        wire(acc.as_ref()),
        r#"{"error_backend_b":{"http_status_code":404,"http_body":"404 page not found\n","http_body_encoding":"text/plain; charset=utf-8"},"foo":42}"#
    );
    assert_eq!(wire(Some(&error_details("a", 500, b"", None))), r#"{"error_a":{"http_status_code":500}}"#);
    assert_eq!(
        wire(Some(&error_details("a", 503, b"<b>&", Some(b"")))),
        r#"{"error_a":{"http_status_code":503,"http_body":"\u003cb\u003e\u0026"}}"#
    );
}

#[test]
fn verbatim_node_is_written_as_is() {
    let v = crate::encoding::json::verbatim(r#"{"z":1,"a":[2]}"#);
    assert_eq!(wire(Some(&v)), r#"{"z":1,"a":[2]}"#);
    assert!(crate::encoding::json::as_verbatim(&v).is_some());
    assert!(crate::encoding::json::as_verbatim(&parse(r#"{"n":1}"#)["n"]).is_none());
}

fn object() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![Just("1".to_owned()), Just("\"s\"".to_owned()), Just("[1,{\"k\":2}]".to_owned())];
    let inner = prop::collection::btree_map("[a-d]{1,2}", leaf.clone(), 0..4).prop_map(|m| {
        let fields: Vec<String> = m.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", fields.join(","))
    });
    let value = prop_oneof![leaf, inner];
    prop::collection::btree_map("[a-d]{1,2}", value, 0..6).prop_map(|m| {
        let fields: Vec<String> = m.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", fields.join(","))
    })
}

/// Every (dot path, value) leaf of an object, descending into objects only.
fn paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Some(obj) = v.as_object() {
        for (k, child) in obj.iter() {
            let p = if prefix.is_empty() { k.to_owned() } else { format!("{prefix}.{k}") };
            out.push(format!("{p}={}", wire(Some(child))));
            paths(child, &p, out);
        }
    }
}

fn filter_paths() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-d]{1,2}(\\.[a-d]{1,2}){0,2}", 1..5)
}

proptest! {
    #[test]
    fn allow_and_deny_never_add_keys(body in object(), list in filter_paths(), use_allow in any::<bool>()) {
        let mut b = backend();
        if use_allow { b.allow = list } else { b.deny = list }
        let before = parse(&body);
        let mut before_paths = Vec::new();
        paths(&before, "", &mut before_paths);
        let after = Manipulation::build(&b).unwrap().apply(Some(before)).unwrap();
        let mut after_paths = Vec::new();
        paths(&after, "", &mut after_paths);
        for p in after_paths.iter().filter(|p| !p.contains("={")) {
            prop_assert!(before_paths.contains(p), "{} appeared", p);
        }
    }

    #[test]
    fn merging_disjoint_objects_is_order_independent(a in object(), b in object()) {
        let (a, b) = (parse(&a), parse(&b));
        let b_only: Vec<(String, Value)> = b.as_object().unwrap().iter()
            .filter(|(k, _)| a.get(k).is_none())
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect();
        let mut disjoint = sonic_rs::Object::new();
        for (k, v) in &b_only {
            disjoint.insert(k, v.clone());
        }
        let disjoint = disjoint.into_value();
        let mut ab = None;
        merge_into(&mut ab, a.clone());
        merge_into(&mut ab, disjoint.clone());
        let mut ba = None;
        merge_into(&mut ba, disjoint);
        merge_into(&mut ba, a);
        prop_assert_eq!(wire(ab.as_ref()), wire(ba.as_ref()));
    }
}

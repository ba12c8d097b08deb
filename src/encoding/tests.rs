use super::*;
use proptest::prelude::*;
use sonic_rs::{JsonContainerTrait, JsonValueMutTrait, Value};

/// Decodes with `encoding: json` and returns the wire form.
fn wire(body: &str) -> String {
    let v = decode_json(body.as_bytes(), false).expect("decodes").expect("not null");
    enc(&v)
}

fn enc(v: &Value) -> String {
    let mut out = Vec::new();
    write_value(&mut out, v);
    String::from_utf8(out).expect("writer emits UTF-8")
}

fn str_lit(s: &str) -> String {
    let mut out = Vec::new();
    write_str(&mut out, s);
    String::from_utf8(out).expect("writer emits UTF-8")
}

fn safe(body: &str) -> String {
    enc(&decode_safejson(body.as_bytes()).expect("decodes"))
}

#[test]
fn keys_sorted_by_bytes_nested() {
    assert_eq!(
        wire(r#"{"b":{"z":1,"a":2},"a":[{"y":1,"x":2}],"B":0}"#),
        r#"{"B":0,"a":[{"x":2,"y":1}],"b":{"a":2,"z":1}}"#
    );
    // UTF-8 byte order: "é" (C3 A9) after "z" (7A), "€" (E2 82 AC) after "é", "😀" (F0 ..) last.
    assert_eq!(wire(r#"{"😀":4,"€":3,"é":2,"z":1,"":0}"#), r#"{"":0,"z":1,"é":2,"€":3,"😀":4}"#);
    assert_eq!(wire(r#"{"ab":1,"a":2,"a\u0000":3}"#), "{\"a\":2,\"a\\u0000\":3,\"ab\":1}");
}

#[test]
fn duplicate_keys_keep_last() {
    assert_eq!(wire(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
    assert_eq!(wire(r#"{"a":1,"a":2,"a":{"c":1,"c":[]}}"#), r#"{"a":{"c":[]}}"#);
}

#[test]
fn escaping_like_go() {
    assert_eq!(str_lit("<a href=\"x\">&</a>"), r#""\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e""#);
    assert_eq!(str_lit("\n\r\t\\\"/"), r#""\n\r\t\\\"/""#);
    assert_eq!(str_lit("\u{8}\u{c}"), r#""\b\f""#);
    assert_eq!(str_lit("\u{0}\u{1}\u{1f}\u{7f}"), "\"\\u0000\\u0001\\u001f\u{7f}\"");
    assert_eq!(str_lit("a\u{2028}b\u{2029}c\u{2027}€"), "\"a\\u2028b\\u2029c\u{2027}€\"");
    assert_eq!(str_lit("héllo wörld 😀"), "\"héllo wörld 😀\"");
    assert_eq!(str_lit(""), r#""""#);
    // Escapes in the input are decoded, then re-escaped Go's way.
    assert_eq!(wire(r#"{"k\u003c":"\u0026\/\u00e9\ud83d\ude00\u2028"}"#), "{\"k\\u003c\":\"\\u0026/é😀\\u2028\"}");
}

#[test]
fn number_literals_preserved() {
    let body = r#"{"a":1.00,"b":1e400,"c":-0,"d":12345678901234567890123,"e":1.5E-7,"f":0.1,"g":-12,"h":[1E+2]}"#;
    assert_eq!(wire(body), body);
}

#[test]
fn numbers_built_in_code() {
    let mut obj = sonic_rs::Object::new();
    obj.insert("u", Value::new_u64(18446744073709551615));
    obj.insert("i", Value::new_i64(-7));
    obj.insert("f", Value::new_f64(0.0000001).expect("finite"));
    obj.insert("g", Value::new_f64(1.5).expect("finite"));
    assert_eq!(enc(&obj.into_value()), r#"{"f":1e-7,"g":1.5,"i":-7,"u":18446744073709551615}"#);
}

#[test]
fn first_value_only() {
    assert_eq!(wire(r#"{"a":1} xyz"#), r#"{"a":1}"#);
    assert_eq!(wire(r#"{"a":1}xyz"#), r#"{"a":1}"#);
    assert_eq!(wire("  \n{\"a\":1}{\"b\":2}"), r#"{"a":1}"#);
    assert_eq!(wire("{\"a\":1}\n\u{ff}\u{0}garbage"), r#"{"a":1}"#);
    assert_eq!(safe("[1] [2]"), r#"{"collection":[1]}"#);
    assert_eq!(safe("true xyz"), r#"{"content":true}"#);
    assert_eq!(safe("12\n"), r#"{"content":12}"#);
    assert_eq!(safe(r#""a\"b" x"#), r#"{"content":"a\"b"}"#);
    // Go only knows a top-level scalar ended when the next byte is whitespace.
    for body in ["truex", "123abc", "12.5]", r#""s"x"#, "null,"] {
        assert!(matches!(decode_safejson(body.as_bytes()), Err(DecodeError::Invalid(_))), "{body}");
    }
}

#[test]
fn invalid_trailing_utf8_is_ignored() {
    let body = b"{\"a\":1} \xff\xfe";
    let v = decode_json(body, false).expect("decodes").expect("not null");
    assert_eq!(enc(&v), r#"{"a":1}"#);
}

#[test]
fn null_body() {
    assert_eq!(decode_json(b"null", false), Ok(None));
    assert_eq!(decode_json(b" null ", false), Ok(None));
    let col = decode_json(b"null", true).expect("decodes").expect("wrapped");
    assert_eq!(enc(&col), r#"{"collection":null}"#);
    assert_eq!(safe("null"), r#"{"content":null}"#);
}

#[test]
fn wrong_types() {
    for body in ["[1,2]", "true", "1", r#""s""#] {
        let err = decode_json(body.as_bytes(), false).expect_err(body);
        assert!(matches!(err, DecodeError::WrongType { expected: "an object", .. }), "{body}: {err}");
    }
    let err = decode_json(br#"{"a":1}"#, true).expect_err("object with is_collection");
    assert_eq!(err.to_string(), "cannot decode a JSON object here: expected an array (is_collection)");
}

#[test]
fn is_collection() {
    let v = decode_json(br#"[{"id":1},{"id":2}]"#, true).expect("decodes").expect("not null");
    assert_eq!(enc(&v), r#"{"collection":[{"id":1},{"id":2}]}"#);
    let mut out = Vec::new();
    render_json_collection(&mut out, Some(&v));
    assert_eq!(out, br#"[{"id":1},{"id":2}]"#);
}

#[test]
fn safejson_wrappers_ac14() {
    assert_eq!(safe(r#"[{"item": 1},{"item": 2}]"#), r#"{"collection":[{"item":1},{"item":2}]}"#);
    assert_eq!(safe("true"), r#"{"content":true}"#);
    assert_eq!(safe(r#"{"a":1}"#), r#"{"a":1}"#);
    assert_eq!(safe(r#""<b>""#), r#"{"content":"\u003cb\u003e"}"#);
    assert_eq!(safe("-1.50"), r#"{"content":-1.50}"#);
}

#[test]
fn string_decode_ac15() {
    let v = decode_string(b"Hello World!");
    assert_eq!(enc(&v), r#"{"content":"Hello World!"}"#);
    let mut out = Vec::new();
    render_string(&mut out, Some(&v));
    assert_eq!(out, b"Hello World!");
    assert_eq!(enc(&decode_string(b"a\xffb")), "{\"content\":\"a\u{fffd}b\"}");
    assert_eq!(enc(&decode_string(b"")), r#"{"content":""}"#);
}

#[test]
fn renderers() {
    let mut out = Vec::new();
    render_json(&mut out, None);
    assert_eq!(out, b"{}");
    out.clear();
    render_json(&mut out, Some(&Value::new_null()));
    assert_eq!(out, b"null");
    out.clear();
    render_json_collection(&mut out, None);
    assert_eq!(out, b"[]");
    out.clear();
    let no_col = decode_json(br#"{"a":1}"#, false).expect("decodes");
    render_json_collection(&mut out, no_col.as_ref());
    assert_eq!(out, b"[]");
    out.clear();
    render_string(&mut out, no_col.as_ref());
    assert_eq!(out, b"");
    let num = decode_safejson(b"5").expect("decodes");
    render_string(&mut out, Some(&num));
    assert_eq!(out, b"");
}

#[test]
fn merge_ac05() {
    let b0 = r#"{"id":1,"name":"Leanne Graham","username":"Bret","email":"Sincere@april.biz","address":{"street":"Kulas Light","suite":"Apt. 556","city":"Gwenborough","zipcode":"92998-3874","geo":{"lat":"-37.3159","lng":"81.1496"}},"phone":"1-770-736-8031 x56442","website":"hildegard.org","company":{"name":"Romaguera-Crona","catchPhrase":"Multi-layered client-server neural-net","bs":"harness real-time e-markets"}}"#;
    let b1 = r#"{"userId":1,"id":1,"title":"sunt aut facere repellat provident occaecati excepturi optio reprehenderit","body":"quia et suscipit\nsuscipit recusandae consequuntur expedita et cum\nreprehenderit molestiae ut ut quas totam\nnostrum rerum est autem sunt rem eveniet architecto"}"#;
    let mut merged = decode_json(b0.as_bytes(), false).expect("b0").expect("object");
    let d1 = decode_json(b1.as_bytes(), false).expect("b1").expect("object");
    let target = merged.as_object_mut().expect("object");
    for (k, v) in d1.as_object().expect("object").iter() {
        target.insert(k, v.clone());
    }
    let expected = r#"{"address":{"city":"Gwenborough","geo":{"lat":"-37.3159","lng":"81.1496"},"street":"Kulas Light","suite":"Apt. 556","zipcode":"92998-3874"},"body":"quia et suscipit\nsuscipit recusandae consequuntur expedita et cum\nreprehenderit molestiae ut ut quas totam\nnostrum rerum est autem sunt rem eveniet architecto","company":{"bs":"harness real-time e-markets","catchPhrase":"Multi-layered client-server neural-net","name":"Romaguera-Crona"},"email":"Sincere@april.biz","id":1,"name":"Leanne Graham","phone":"1-770-736-8031 x56442","title":"sunt aut facere repellat provident occaecati excepturi optio reprehenderit","userId":1,"username":"Bret","website":"hildegard.org"}"#;
    let mut out = Vec::new();
    render_json(&mut out, Some(&merged));
    assert_eq!(String::from_utf8(out).expect("utf-8"), expected);
}

#[test]
fn config_numbers_through_f64() {
    let cases = [
        ("1.0", "1"),
        ("1.50", "1.5"),
        ("1e3", "1000"),
        ("0.0000001", "1e-7"),
        ("0.000001", "0.000001"),
        ("1e21", "1e+21"),
        ("1e20", "100000000000000000000"),
        ("123456789e-20", "1.23456789e-12"),
        ("-0.0", "-0"),
        ("0", "0"),
        ("-2.5e300", "-2.5e+300"),
        ("9007199254740993", "9007199254740992"),
        ("12345678901234567890123", "1.2345678901234568e+22"),
        ("0.1", "0.1"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("5e-324", "5e-324"),
    ];
    for (input, want) in cases {
        let v: serde_json::Value = serde_json::from_str(input).expect(input);
        assert_eq!(String::from_utf8(encode_config_value(&v)).expect("utf-8"), want, "{input}");
    }
    let v: serde_json::Value =
        serde_json::from_str(r#"{"status":404,"msg":"<Unknown> & more","b":[1.0,true,null],"a":{"z":2.50,"y":{}}}"#)
            .expect("json");
    assert_eq!(
        String::from_utf8(encode_config_value(&v)).expect("utf-8"),
        r#"{"a":{"y":{},"z":2.5},"b":[1,true,null],"msg":"\u003cUnknown\u003e \u0026 more","status":404}"#
    );
}

/// Runs on the test thread's 2 MiB stack, like a worker thread's (sonic-rs is optimised in dev
/// builds too, see Cargo.toml).
#[test]
fn deep_nesting_does_not_overflow() {
    for depth in [10_000usize, 100_000] {
        let body = "[".repeat(depth);
        assert!(decode_safejson(body.as_bytes()).is_err(), "unterminated {depth}");
    }
    // Balanced at the limit (the wrapper object adds none): decodes and encodes.
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH_FOR_TEST), "]".repeat(MAX_DEPTH_FOR_TEST));
    match decode_safejson(ok.as_bytes()) {
        Ok(v) => assert_eq!(enc(&v), format!("{{\"collection\":{ok}}}")),
        Err(e) => panic!("depth {MAX_DEPTH_FOR_TEST}: {e}"),
    }
    let too_deep = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH_FOR_TEST), "]".repeat(MAX_DEPTH_FOR_TEST));
    assert_eq!(decode_json(too_deep.as_bytes(), false), Err(DecodeError::TooDeep));
    // Brackets inside strings do not count.
    let in_string = format!(r#"{{"a":"{}"}}"#, "[".repeat(20_000));
    assert!(decode_json(in_string.as_bytes(), false).is_ok());
}

const MAX_DEPTH_FOR_TEST: usize = decode::MAX_NESTING_DEPTH;

#[test]
fn invalid_json() {
    for body in ["{", r#"{"a":}"#, r#"{"a":1,}"#, "{'a':1}", "nul", r#"{"a":01}"#, "\u{feff}{}", r#"{"a":"\x"}"#] {
        let err = decode_json(body.as_bytes(), false).expect_err(body);
        assert!(matches!(err, DecodeError::Invalid(_)), "{body}: {err:?}");
        assert!(!err.to_string().contains('\n'), "one line: {err}");
    }
    assert_eq!(decode_json(b"", false), Err(DecodeError::Empty));
    assert_eq!(decode_json(b" \r\n\t", false), Err(DecodeError::Empty));
    assert_eq!(decode_safejson(b""), Err(DecodeError::Empty));
}

#[test]
fn invalid_utf8_becomes_replacement_char() {
    // Go's decoder replaces invalid UTF-8 (and lone surrogates) in strings with U+FFFD.
    let v = decode_json(b"{\"a\":\"x\xffy\",\"k\xfe\":\"\\ud800\"}", false).expect("decodes").expect("object");
    assert_eq!(enc(&v), "{\"a\":\"x\u{fffd}y\",\"k\u{fffd}\":\"\u{fffd}\"}");
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::String),
        "[<>&\u{2028}\u{2029}\"\\\\\u{0}-\u{1f}a-z]{0,8}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..8)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn write_value_round_trips(v in arb_json()) {
        let text = serde_json::to_string(&v).expect("serializable");
        let decoded = decode_safejson(text.as_bytes()).expect("decodes");
        let mut out = Vec::new();
        write_value(&mut out, &decoded);
        let reparsed: serde_json::Value = serde_json::from_slice(&out).expect("re-parses");
        // Compare with serde_json's own parse of the text: without its `float_roundtrip` feature it
        // may round a float literal differently from the value it printed.
        let v: serde_json::Value = serde_json::from_str(&text).expect("re-parses");
        let wrapped = match v {
            serde_json::Value::Object(_) => v,
            serde_json::Value::Array(_) => serde_json::json!({ "collection": v }),
            other => serde_json::json!({ "content": other }),
        };
        prop_assert_eq!(reparsed, wrapped);
        // Keys come out sorted at every level, and no raw `<`, `>`, `&` survive.
        prop_assert!(!out.iter().any(|b| matches!(b, b'<' | b'>' | b'&')));
    }

    #[test]
    fn write_str_round_trips(s in any::<String>()) {
        let mut out = Vec::new();
        write_str(&mut out, &s);
        let back: String = serde_json::from_slice(&out).expect("valid JSON string");
        prop_assert_eq!(back, s);
    }
}

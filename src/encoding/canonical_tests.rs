//! The one-pass transcoder against the tree path it replaces: for any JSON object, `transcode` writes exactly what
//! `decode_json` + `write_value` write, and for any other input it either does the same or falls back.

use proptest::prelude::*;

use super::canonical::{transcode, Canonical, Fallback};
use super::{decode_json, write_value};

/// The tree path's answer: the wire form and whether the object has members, or `None` when it gives no object.
fn tree(body: &[u8]) -> Option<(Vec<u8>, bool)> {
    let value = decode_json(body, false).ok()??;
    let mut out = Vec::new();
    write_value(&mut out, &value);
    let members = crate::proxy::render::has_content(Some(&value));
    Some((out, members))
}

fn fast(body: &[u8]) -> Result<(Vec<u8>, bool), Fallback> {
    let mut out = b"prefix".to_vec();
    let Canonical { has_content } = transcode(body, &mut out).inspect_err(|_| assert_eq!(out, b"prefix"))?;
    Ok((out[6..].to_vec(), has_content))
}

fn assert_same(body: &str) {
    let want = tree(body.as_bytes()).unwrap_or_else(|| panic!("tree path rejects {body:?}"));
    let got = fast(body.as_bytes()).unwrap_or_else(|_| panic!("transcoder falls back on {body:?}"));
    assert_eq!((String::from_utf8_lossy(&got.0), got.1), (String::from_utf8_lossy(&want.0), want.1), "input {body:?}");
}

#[test]
fn documents_like_the_tree_path() {
    for body in [
        r#"{}"#,
        r#"  {"b":1,"a":2}  "#,
        r#"{"a":1,"a":2,"b":{"y":[1,{"d":0,"c":null}],"x":true},"a":3}"#,
        r#"{"n":[1.0,-0,1e5,1E+05,-12.50e-3,12345678901234567890123,0.0000001]}"#,
        r#"{"s":"<a href=\"x\">&amp;</a>","t":"\u2028\u2029 \/ \b\f\n\r\t \u0000\u001f \ud83d\ude00 é"}"#,
        r#"{"\u0061":1,"a":2,"<":3,"\u003c":4,"\"":5,"é":6,"\u00e9":7,"":8}"#,
        "{\"k\":\"raw \u{2028} and \u{e9}\u{1F600}\"}",
        r#"{"a":{},"b":[],"c":[[],{}],"d":{"e":{"f":{}}}}"#,
        r#"{"a":1} trailing garbage ]]]"#,
        "\r\n\t{ \"a\" : [ 1 , 2 ] , \"b\" : { } }",
    ] {
        assert_same(body);
    }
}

#[test]
fn completed_needs_members() {
    assert_eq!(fast(b"{}"), Ok((b"{}".to_vec(), false)));
    assert_eq!(fast(br#"{"a":1,"a":2}"#), Ok((br#"{"a":2}"#.to_vec(), true)));
}

#[test]
fn unusual_bodies_fall_back() {
    for body in [
        "",
        "   ",
        "null",
        "[1,2]",
        "\"text\"",
        "42",
        r#"{"a":1"#,
        r#"{"a":01}"#,
        r#"{"a":1.}"#,
        r#"{"a":-}"#,
        r#"{"a":tru}"#,
        r#"{"a":"\x"}"#,
        r#"{"a":"\ud800"}"#,
        r#"{"a":"\udc00\ud800"}"#,
        "{\"a\":\"tab\there\"}",
        r#"{"a" 1}"#,
        r#"{"a":1,}"#,
        r#"{a:1}"#,
    ] {
        assert_eq!(fast(body.as_bytes()), Err(Fallback), "{body:?}");
    }
    // Invalid UTF-8 is the general decoder's to replace: overlong forms, surrogates, past U+10FFFF, stray or
    // missing continuation bytes.
    for bad in [
        &b"\xff"[..],
        b"\xc0\x80",
        b"\xc1\xbf",
        b"\xe0\x80\x80",
        b"\xed\xa0\x80",
        b"\xf0\x80\x80\x80",
        b"\xf4\x90\x80\x80",
        b"\xf5\x80\x80\x80",
        b"\x80",
        b"\xe2\x82",
        b"\xe2\x82x",
    ] {
        let body = [&b"{\"a\":\""[..], bad, b"\"}"].concat();
        assert_eq!(fast(&body), Err(Fallback), "{body:?}");
    }
    let valid = "{\"a\":\"\u{80}\u{7ff}\u{800}\u{d7ff}\u{e000}\u{ffff}\u{10000}\u{10ffff}\"}";
    assert_same(valid);
}

#[test]
fn nesting_limit_like_the_decoder() {
    let limit = super::decode::MAX_NESTING_DEPTH;
    let nest = |depth: usize| format!("{}{}", "{\"a\":".repeat(depth - 1) + "{", "}".repeat(depth));
    assert_same(&nest(limit));
    assert_eq!(fast(nest(limit + 1).as_bytes()), Err(Fallback));
    assert!(tree(nest(limit + 1).as_bytes()).is_none());
}

// === generators ===

/// Characters that exercise every escaping rule, plus plain text.
fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'e'),
        1 => proptest::sample::select(vec![
            '<', '>', '&', '"', '\\', '/', '\n', '\r', '\t', '\u{8}', '\u{c}', '\u{0}', '\u{1f}', '\u{7f}',
            'é', 'ß', '€', '\u{2028}', '\u{2029}', '\u{2027}', '\u{fffd}', '😀', '\u{10ffff}', 'A', 'Z', ' ',
        ]),
        1 => any::<char>(),
    ]
}

/// One character as it may appear in a JSON string: raw when allowed, or one of its escapes.
fn encode_char(c: char, how: u8) -> String {
    let unicode = |upper: bool| {
        let mut units = [0u16; 2];
        c.encode_utf16(&mut units)
            .iter()
            .map(|u| if upper { format!("\\u{u:04X}") } else { format!("\\u{u:04x}") })
            .collect::<String>()
    };
    match (c, how % 4) {
        ('"', 0 | 1) => "\\\"".to_owned(),
        ('\\', 0 | 1) => "\\\\".to_owned(),
        ('/', 1) => "\\/".to_owned(),
        ('\n', 0 | 1) => "\\n".to_owned(),
        ('\r', 0 | 1) => "\\r".to_owned(),
        ('\t', 0 | 1) => "\\t".to_owned(),
        ('\u{8}', 0 | 1) => "\\b".to_owned(),
        ('\u{c}', 0 | 1) => "\\f".to_owned(),
        (c, _) if (c as u32) < 0x20 || c == '"' || c == '\\' => unicode(how % 2 == 0),
        (c, 0 | 1) => c.to_string(),
        (_, how) => unicode(how == 2),
    }
}

fn json_string(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec((any_char(), any::<u8>()), 0..max).prop_map(|chars| {
        let body: String = chars.into_iter().map(|(c, how)| encode_char(c, how)).collect();
        format!("\"{body}\"")
    })
}

/// Keys from a small pool (so objects get duplicates and unsorted keys), or arbitrary.
fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(vec![
            r#""a""#, r#""b""#, r#""\u0061""#, r#""A""#, r#""""#, r#""ab""#, r#""a<""#, r#""a\u003c""#, r#""é""#,
            r#""\u00e9""#, r#""\"""#, r#""z""#, r#""\u2028""#,
        ])
        .prop_map(str::to_owned),
        1 => json_string(6),
    ]
}

fn json_number() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "0",
            "-0",
            "1.0",
            "1e5",
            "1E+05",
            "2e-3",
            "-12.50e-3",
            "0.0",
            "12345678901234567890123",
            "1.5E300",
        ])
        .prop_map(str::to_owned),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:?}")),
    ]
}

fn ws() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(vec!["", "", "", " ", "\n  ", "\t", "\r\n"])
}

fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        json_number(),
        json_string(12),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec((ws(), inner.clone(), ws()), 0..6).prop_map(|items| format!(
                "[{}]",
                items.iter().map(|(a, v, b)| format!("{a}{v}{b}")).collect::<Vec<_>>().join(",")
            )),
            json_object(inner),
        ]
    })
}

fn json_object(value: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    proptest::collection::vec((ws(), json_key(), ws(), ws(), value, ws()), 0..8).prop_map(|members| {
        let inner: Vec<String> = members.iter().map(|(a, k, b, c, v, d)| format!("{a}{k}{b}:{c}{v}{d}")).collect();
        format!("{{{}}}", inner.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_object_transcodes_like_the_tree_path(doc in json_object(json_value()), lead in ws(), tail in ws()) {
        assert_same(&format!("{lead}{doc}{tail}"));
    }

    /// Broken documents: whatever the transcoder accepts, the tree path accepts and writes the same.
    #[test]
    fn never_more_lenient_than_the_decoder(doc in json_object(json_value()), at in any::<usize>(), byte in any::<u8>(), cut in any::<bool>()) {
        let mut body = doc.into_bytes();
        let at = at % body.len();
        if cut {
            body.truncate(at);
        } else {
            body[at] = byte;
        }
        if let Ok(got) = fast(&body) {
            prop_assert_eq!(Some(got), tree(&body), "input {:?}", String::from_utf8_lossy(&body));
        }
    }
}

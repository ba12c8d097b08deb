//! XML and YAML renderers.

use sonic_rs::Value;

use super::{render_xml, render_yaml};
use crate::merge::error_details;

fn parse(json: &str) -> Value {
    super::decode_json(json.as_bytes(), false).expect("valid json").expect("an object")
}

fn xml(json: &str) -> String {
    let mut out = Vec::new();
    render_xml(&mut out, Some(&parse(json)));
    String::from_utf8(out).expect("utf-8")
}

fn yaml(json: &str) -> String {
    let mut out = Vec::new();
    render_yaml(&mut out, Some(&parse(json)));
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn xml_single_key_is_the_root() {
    assert_eq!(
        xml(r#"{"user":{"name":"Ann","id":42,"ok":true}}"#),
        "<user><id>42</id><name>Ann</name><ok>true</ok></user>"
    );
}

#[test]
fn xml_several_keys_are_wrapped_in_doc() {
    assert_eq!(xml(r#"{"b":1.50,"a":"x","n":null,"e":"","o":{}}"#), "<doc><a>x</a><b>1.50</b><e/><n/><o/></doc>");
    assert_eq!(xml("{}"), "<doc/>");
}

#[test]
fn xml_arrays_repeat_the_element() {
    assert_eq!(xml(r#"{"item":[{"a":1},{"a":2}]}"#), "<item><a>1</a></item><item><a>2</a></item>");
    assert_eq!(xml(r#"{"collection":[1,2]}"#), "<doc><collection>1</collection><collection>2</collection></doc>");
    assert_eq!(xml(r#"{"x":{"l":[1,"b"],"m":[]}}"#), "<x><l>1</l><l>b</l><m/></x>");
}

#[test]
fn xml_attributes_text_and_escaping() {
    assert_eq!(xml(r##"{"a":{"-id":"7","-k":1,"#text":"hi"}}"##), r#"<a id="7" k="1">hi</a>"#);
    assert_eq!(xml(r#"{"a":{"-id":"7"}}"#), r#"<a id="7"/>"#);
    assert_eq!(xml(r#"{"a":{"-id":"7","b":"x"}}"#), r#"<a id="7"><b>x</b></a>"#);
    assert_eq!(xml(r#"{"a":"<&>\"'"}"#), "<a>&lt;&amp;&gt;&quot;&apos;</a>");
}

#[test]
fn xml_of_error_details() {
    let v = error_details("b", 404, b"nope", Some(b"text/plain"));
    let mut out = Vec::new();
    render_xml(&mut out, Some(&v));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "<error_b><http_body>nope</http_body><http_body_encoding>text/plain</http_body_encoding><http_status_code>404</http_status_code></error_b>"
    );
}

#[test]
fn xml_without_response_is_empty() {
    let mut out = Vec::new();
    render_xml(&mut out, None);
    assert!(out.is_empty());
}

/// `y` is a YAML 1.1 boolean, which yaml.v3 quotes (`isOldBool`).
#[test]
fn yaml_layout_like_yaml_v3() {
    assert_eq!(
        yaml(r#"{"b":{"c":1,"d":[1,{"x":true,"y":null}],"e":[[1,2]]},"a":"text","z":{},"l":[]}"#),
        "a: text\nb:\n    c: 1\n    d:\n        - 1\n        - x: true\n          \"y\": null\n    e:\n        - - 1\n          - 2\nl: []\nz: {}\n"
    );
    let mut out = Vec::new();
    render_yaml(&mut out, None);
    assert_eq!(out, b"{}\n");
    assert_eq!(yaml("{}"), "{}\n");
}

#[test]
fn yaml_numbers_follow_json_number_rules() {
    assert_eq!(
        yaml(r#"{"a":42,"b":1.50,"c":1e3,"d":1234567.0,"e":0.00001,"f":-7,"g":123456789012345678901234}"#),
        "a: 42\nb: 1.5\nc: 1000\nd: 1.234567e+06\ne: 1e-05\nf: -7\ng: 1.2345678901234569e+23\n"
    );
}

#[test]
fn yaml_quotes_only_when_needed() {
    assert_eq!(
        yaml(
            r#"{"a":"true","b":"123","c":"","d":"- x","e":"a: b","f":"it's","g":"plain text","h":"x #y","i":"tab\there"}"#
        ),
        "a: \"true\"\nb: \"123\"\nc: \"\"\nd: '- x'\ne: 'a: b'\nf: it's\ng: plain text\nh: 'x #y'\ni: \"tab\\there\"\n"
    );
    assert_eq!(yaml(r#"{"m":"one\ntwo"}"#), "m: |-\n    one\n    two\n");
    assert_eq!(yaml(r#"{"m":"one\ntwo\n"}"#), "m: |\n    one\n    two\n");
}

#[test]
fn yaml_keys_in_natural_order() {
    assert_eq!(yaml(r#"{"a10":1,"a2":2,"B":3,"a":4}"#), "B: 3\na: 4\na2: 2\na10: 1\n");
}

use super::*;

#[test]
fn smoke() {
    let v = decode_json(br#"{"b":1,"a":[1.00,"<x>"]}"#, false)
        .unwrap()
        .unwrap();
    let mut out = Vec::new();
    write_value(&mut out, &v);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"a":[1.00,"\u003cx\u003e"],"b":1}"#
    );
}

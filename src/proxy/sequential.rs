//! The sequential proxy (`extra_config.proxy.sequential`, core spec §11; lura `proxy/merging.go` `sequentialMerge`):
//! backends are called one at a time in declaration order, and a backend's `url_pattern` may use values of the
//! answers before it as `{respN_field.sub}`.
//!
//! Values are read from the data each earlier backend *returned*, that is after its own manipulation (`target`,
//! `allow`/`deny`, `mapping`, `group`, flatmap), as lura reads them from the response its backend pipe produced:
//! with `"group": "hotel"` the id is `{resp0_hotel.id}`.

use std::fmt::Write as _;

use sonic_rs::{JsonContainerTrait, JsonNumberTrait, JsonType, JsonValueTrait, Value};

use crate::backend::request::DynamicValue;
use crate::config::{ExtraConfig, UrlPart, UrlPattern};
use crate::encoding::json::{as_verbatim, write_f64};

/// Whether the endpoint's `proxy.sequential` is `true` (lura reads only a boolean `true`).
pub fn enabled(extra: &ExtraConfig) -> bool {
    extra.get("proxy").and_then(|p| p.get("sequential")).and_then(serde_json::Value::as_bool) == Some(true)
}

/// One `{respN_a.b}` placeholder of a backend's `url_pattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    /// The placeholder as written, without braces (`resp0_user.hash`): the key [`DynamicValue`]s are looked up by.
    name: String,
    /// `N`: the (non-shadow) backend whose answer holds the value.
    from: usize,
    /// The dot path inside that answer (`["user", "hash"]`).
    path: Vec<String>,
}

/// The placeholders of every (non-shadow) backend of a sequential endpoint, parsed once.
#[derive(Debug, Clone, Default)]
pub struct Sequence {
    /// Per backend, in declaration order.
    references: Vec<Vec<Reference>>,
}

impl Sequence {
    /// Parses the `{respN_…}` placeholders of the url patterns of the regular backends, in order.
    pub fn build<'a>(patterns: impl IntoIterator<Item = &'a UrlPattern>) -> Sequence {
        let references = patterns
            .into_iter()
            .map(|pattern| {
                pattern
                    .parts
                    .iter()
                    .filter_map(|p| match p {
                        UrlPart::Dynamic(name) => parse_reference(name),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        Sequence { references }
    }

    /// The placeholder values for backend `index`, from the answers `parts` of the backends before it (`None` for a
    /// backend `null`). A reference to itself or a later backend, or to a field that is missing, gets no value, so
    /// the placeholder stays in the URL in lura's internal form (lura skips `rNum >= i` and missing keys alike).
    pub fn values<'s>(&'s self, index: usize, parts: &[Option<Value>]) -> Vec<DynamicValue<'s>> {
        let Some(refs) = self.references.get(index) else { return Vec::new() };
        let mut out = Vec::with_capacity(refs.len());
        for r in refs {
            if r.from >= index || out.iter().any(|(n, _): &DynamicValue<'_>| *n == r.name) {
                continue;
            }
            let Some(Some(data)) = parts.get(r.from) else { continue };
            if let Some(v) = lookup(data, &r.path) {
                out.push((r.name.as_str(), stringify(v)));
            }
        }
        out
    }
}

/// `resp12_a.b` → backend 12, path `a.b`; anything else (`JWT.sub`) is not a sequential reference.
fn parse_reference(name: &str) -> Option<Reference> {
    let rest = name.strip_prefix("resp")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let field = rest[digits..].strip_prefix('_')?;
    let from = rest[..digits].parse().ok()?;
    Some(Reference { name: name.to_owned(), from, path: field.split('.').map(str::to_owned).collect() })
}

/// lura's descent: every key but the last is followed while it names an object; a missing key or a non-object
/// stops the descent, and the last key is then looked up where it stopped (`user.hash` without `user` reads a
/// top-level `hash`). Arrays are never entered.
fn lookup<'v>(data: &'v Value, path: &[String]) -> Option<&'v Value> {
    let (last, parents) = path.split_last()?;
    let mut at = data;
    for key in parents {
        match at.get(key.as_str()) {
            Some(v) if v.is_object() => at = v,
            _ => break,
        }
    }
    at.get(last.as_str())
}

/// A value as lura writes it into the URL: string as is, number as its JSON literal, `true`/`false`, `null` as
/// `<nil>`, an array as its elements (each in Go's `%v` form) joined with `,`, an object in Go's `%v` form
/// (`map[a:1 b:x]`, keys sorted).
pub fn stringify(value: &Value) -> String {
    let mut out = String::new();
    if let Some(items) = value.as_array() {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            go_format(&mut out, item);
        }
    } else {
        go_format(&mut out, value);
    }
    out
}

/// Go's `fmt` `%v` of a decoded JSON value (`UseNumber`): `<nil>`, `true`, literal numbers, raw strings,
/// `[a b]` for arrays and `map[k:v]` for objects with sorted keys.
fn go_format(out: &mut String, value: &Value) {
    if let Some(raw) = as_verbatim(value) {
        // Already-encoded JSON kept as one node (e.g. `return_error_details`): format what it holds.
        match sonic_rs::from_str::<Value>(raw.as_str()) {
            Ok(parsed) => go_format(out, &parsed),
            Err(_) => out.push_str(raw.as_str()),
        }
        return;
    }
    match value.get_type() {
        JsonType::Null => out.push_str("<nil>"),
        JsonType::Boolean => out.push_str(if value.as_bool() == Some(true) { "true" } else { "false" }),
        JsonType::Number => write_number(out, value),
        JsonType::String => out.push_str(value.as_str().unwrap_or_default()),
        JsonType::Array => {
            out.push('[');
            for (i, item) in value.as_array().map(|a| a.as_slice()).unwrap_or_default().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                go_format(out, item);
            }
            out.push(']');
        }
        JsonType::Object => {
            let mut entries: Vec<(&str, &Value)> = value.as_object().map(|o| o.iter().collect()).unwrap_or_default();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push_str("map[");
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                go_format(out, v);
            }
            out.push(']');
        }
    }
}

fn write_number(out: &mut String, value: &Value) {
    if let Some(raw) = value.as_raw_number() {
        out.push_str(raw.as_str());
        return;
    }
    // A number built by the gateway itself (no backend literal): an integer, or Go's float form.
    let Some(n) = value.as_number() else { return };
    if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(f) = n.as_f64() {
        let mut buf = Vec::new();
        write_f64(&mut buf, f);
        out.push_str(&String::from_utf8_lossy(&buf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Value {
        crate::encoding::decode_json(json.as_bytes(), false).expect("valid").expect("object")
    }

    fn value_of(json: &str, name: &str) -> Option<String> {
        let r = parse_reference(name).expect("a reference");
        lookup(&parse(json), &r.path).map(stringify)
    }

    #[test]
    fn parses_references() {
        assert_eq!(
            parse_reference("resp12_user.hash"),
            Some(Reference { name: "resp12_user.hash".to_owned(), from: 12, path: vec!["user".into(), "hash".into()] })
        );
        assert_eq!(parse_reference("JWT.sub"), None);
        assert_eq!(parse_reference("resp_x"), None);
        assert_eq!(parse_reference("respx_1"), None);
    }

    #[test]
    fn stringifies_scalars_as_lura_does() {
        let doc = r#"{"s":"a b/c","i":1034,"f":1.50,"e":1e3,"neg":-7,"t":true,"n":null}"#;
        assert_eq!(value_of(doc, "resp0_s").as_deref(), Some("a b/c"));
        assert_eq!(value_of(doc, "resp0_i").as_deref(), Some("1034"));
        // The backend's literal, not a re-formatted float (lura decodes with UseNumber).
        assert_eq!(value_of(doc, "resp0_f").as_deref(), Some("1.50"));
        assert_eq!(value_of(doc, "resp0_e").as_deref(), Some("1e3"));
        assert_eq!(value_of(doc, "resp0_neg").as_deref(), Some("-7"));
        assert_eq!(value_of(doc, "resp0_t").as_deref(), Some("true"));
        assert_eq!(value_of(doc, "resp0_n").as_deref(), Some("<nil>"));
        assert_eq!(value_of(doc, "resp0_missing"), None);
    }

    #[test]
    fn joins_arrays_with_commas() {
        let doc = r#"{"a":["LAX","SFO",3,null,true],"e":[],"nested":[[1,2],{"k":"v"}]}"#;
        assert_eq!(value_of(doc, "resp0_a").as_deref(), Some("LAX,SFO,3,<nil>,true"));
        assert_eq!(value_of(doc, "resp0_e").as_deref(), Some(""));
        assert_eq!(value_of(doc, "resp0_nested").as_deref(), Some("[1 2],map[k:v]"));
    }

    #[test]
    fn formats_objects_like_go() {
        let doc = r#"{"o":{"b":"x","a":[1,"y"],"c":{"z":null}}}"#;
        assert_eq!(value_of(doc, "resp0_o").as_deref(), Some("map[a:[1 y] b:x c:map[z:<nil>]]"));
    }

    #[test]
    fn descends_objects_only() {
        let doc = r#"{"user":{"hash":null,"id":7,"list":[{"x":1}]},"hash":"top","x":"top-x"}"#;
        assert_eq!(value_of(doc, "resp0_user.hash").as_deref(), Some("<nil>"));
        assert_eq!(value_of(doc, "resp0_user.id").as_deref(), Some("7"));
        // A missing intermediate key: the last key is read where the descent stopped (the top level).
        assert_eq!(value_of(doc, "resp0_nobody.hash").as_deref(), Some("top"));
        // Arrays are not entered: `list` is not an object, so `x` is read at `user`'s level (missing).
        assert_eq!(value_of(doc, "resp0_user.list.x"), None);
        assert_eq!(value_of(doc, "resp0_user.missing"), None);
    }

    #[test]
    fn values_only_from_earlier_backends() {
        let pattern = crate::config::url_pattern::compile_url_pattern("/a/{resp0_id}/{resp1_id}/{resp0_id}", &[])
            .expect("valid pattern");
        let seq = Sequence::build([&pattern, &pattern]);
        let parts = vec![Some(parse(r#"{"id":1}"#)), Some(parse(r#"{"id":2}"#))];
        assert_eq!(seq.values(0, &parts), Vec::<DynamicValue<'_>>::new());
        assert_eq!(seq.values(1, &parts), vec![("resp0_id", "1".to_owned())]);
        assert_eq!(seq.values(1, &[None]), Vec::<DynamicValue<'_>>::new());
    }
}

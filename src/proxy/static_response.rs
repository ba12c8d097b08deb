//! The static proxy (`extra_config.proxy.static`, core spec §13; lura `proxy/static.go`): fixed data copied over
//! the endpoint's answer, after the merge, when the strategy's condition holds.

use sonic_rs::{JsonContainerTrait, JsonValueMutTrait, JsonValueTrait, Object, Value};

use crate::config::ExtraConfig;
use crate::encoding::{decode_json, encode_config_value};

/// When the data is injected (lura's `Match` functions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Always.
    Always,
    /// No error (a failed or late backend is an error; a `return_error_details` answer is not).
    Success,
    /// No error, and the answer is complete.
    Complete,
    /// Some backend failed (or the deadline passed).
    Errored,
    /// No answer, or an incomplete one.
    Incomplete,
}

impl Strategy {
    /// lura's names; anything else (or no string at all) is `always`, as `getStaticMiddlewareCfg` does.
    pub fn parse(name: Option<&str>) -> (Strategy, bool) {
        match name {
            Some("always") => (Strategy::Always, true),
            Some("success") => (Strategy::Success, true),
            Some("complete") => (Strategy::Complete, true),
            Some("errored") => (Strategy::Errored, true),
            Some("incomplete") => (Strategy::Incomplete, true),
            _ => (Strategy::Always, false),
        }
    }
}

/// `proxy.static`, compiled once per endpoint.
#[derive(Debug, Clone)]
pub struct StaticResponse {
    pub strategy: Strategy,
    /// The `data` object with numbers already in the form KrakenD's config parser gives them (f64, Go's float
    /// formatting: `1.0` → `1`, `1e3` → `1000`), kept as number literals so rendering writes them as is.
    data: Value,
}

impl StaticResponse {
    /// Reads the endpoint's `proxy.static`. As in lura, a `static` that is not an object or whose `data` is not
    /// an object disables the static proxy (config validation warns about it).
    pub fn build(extra: &ExtraConfig) -> Option<StaticResponse> {
        let cfg = extra.get("proxy")?.get("static")?.as_object()?;
        let data = cfg.get("data").filter(|d| d.is_object())?;
        let (strategy, _) = Strategy::parse(cfg.get("strategy").and_then(serde_json::Value::as_str));
        // The config encoder writes Go's float form; decoding it back keeps exactly those literals.
        let data = decode_json(&encode_config_value(data), false).ok().flatten()?;
        Some(StaticResponse { strategy, data })
    }

    /// Whether the data goes in, given the endpoint's answer so far: `errored` when some backend failed (lura's
    /// `err != nil`), `complete` when the answer exists and is complete.
    pub fn matches(&self, errored: bool, complete: bool) -> bool {
        match self.strategy {
            Strategy::Always => true,
            Strategy::Success => !errored,
            Strategy::Complete => !errored && complete,
            Strategy::Errored => errored,
            Strategy::Incomplete => !complete,
        }
    }

    /// Copies every top-level key of the static data over `data` (static wins every collision); with no answer,
    /// or one that is not an object (a backend `null`), the answer becomes a new object.
    pub fn inject(&self, data: &mut Option<Value>) {
        let target = match data {
            Some(v) if v.is_object() => v,
            _ => data.insert(Value::from(Object::new())),
        };
        let (Some(dst), Some(src)) = (target.as_object_mut(), self.data.as_object()) else { return };
        for (k, v) in src.iter() {
            dst.insert(k, v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(json: &str) -> Option<StaticResponse> {
        let extra: ExtraConfig = serde_json::from_str(json).expect("valid extra_config");
        StaticResponse::build(&extra)
    }

    fn render(v: &Value) -> String {
        let mut out = Vec::new();
        crate::encoding::write_value(&mut out, v);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn strategies_and_fallback() {
        let s = build(r#"{"proxy":{"static":{"strategy":"errored","data":{"a":1}}}}"#).expect("static");
        assert_eq!(s.strategy, Strategy::Errored);
        for (json, want) in [
            (r#"{"proxy":{"static":{"strategy":"nope","data":{}}}}"#, Strategy::Always),
            (r#"{"proxy":{"static":{"data":{}}}}"#, Strategy::Always),
            (r#"{"proxy":{"static":{"strategy":3,"data":{}}}}"#, Strategy::Always),
            (r#"{"proxy":{"static":{"strategy":"incomplete","data":{}}}}"#, Strategy::Incomplete),
        ] {
            assert_eq!(build(json).map(|s| s.strategy), Some(want), "{json}");
        }
        assert!(build(r#"{"proxy":{"static":{"strategy":"always"}}}"#).is_none());
        assert!(build(r#"{"proxy":{"static":{"strategy":"always","data":[1]}}}"#).is_none());
        assert!(build(r#"{"proxy":{}}"#).is_none());
    }

    #[test]
    fn match_table() {
        let s = |strategy| StaticResponse { strategy, data: Value::new() };
        // (errored, complete)
        let cases = [(false, true), (false, false), (true, false)];
        let want = [
            (Strategy::Always, [true, true, true]),
            (Strategy::Success, [true, true, false]),
            (Strategy::Complete, [true, false, false]),
            (Strategy::Errored, [false, false, true]),
            (Strategy::Incomplete, [false, true, true]),
        ];
        for (strategy, expected) in want {
            for ((errored, complete), e) in cases.iter().zip(expected) {
                assert_eq!(
                    s(strategy).matches(*errored, *complete),
                    e,
                    "{strategy:?} errored={errored} complete={complete}"
                );
            }
        }
    }

    #[test]
    fn injects_with_config_number_form_and_overwrites() {
        let s = build(r#"{"proxy":{"static":{"data":{"n":1.0,"e":1e3,"small":0.0000001,"o":{"x":1.50},"keep":"s"}}}}"#)
            .expect("static");
        let mut none = None;
        s.inject(&mut none);
        assert_eq!(
            render(none.as_ref().expect("created")),
            r#"{"e":1000,"keep":"s","n":1,"o":{"x":1.5},"small":1e-7}"#
        );

        let mut some = decode_json(br#"{"keep":"backend","other":2}"#, false).expect("json");
        s.inject(&mut some);
        assert_eq!(
            render(some.as_ref().expect("data")),
            r#"{"e":1000,"keep":"s","n":1,"o":{"x":1.5},"other":2,"small":1e-7}"#
        );

        let mut null = Some(Value::new());
        s.inject(&mut null);
        assert_eq!(render(null.as_ref().expect("data")), r#"{"e":1000,"keep":"s","n":1,"o":{"x":1.5},"small":1e-7}"#);
    }
}

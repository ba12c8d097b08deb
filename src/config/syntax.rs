//! Reading JSON, YAML or TOML text into one `serde_json::Value`, with syntax errors naming file, line and column.

use serde_json::{Map, Value};

/// The file formats Ringway reads (project decision #17: JSON, YAML and TOML only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Toml,
}

impl Format {
    /// KrakenD's rule: `.yaml`/`.yml` → YAML, `.toml` → TOML, anything else → JSON.
    pub fn from_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("yaml" | "yml") => Format::Yaml,
            Some("toml") => Format::Toml,
            _ => Format::Json,
        }
    }
}

fn located(file: &str, message: &str, line: usize, column: usize) -> String {
    format!("'{file}': {message} at line {line}, column {column}")
}

/// Parses `text` as `format`.
pub fn parse(text: &str, format: Format, file: &str) -> Result<Value, String> {
    match format {
        Format::Json => serde_json::from_str(text).map_err(|e| {
            let full = e.to_string();
            let message = full.rfind(" at line ").map_or(full.as_str(), |at| &full[..at]);
            located(file, message, e.line(), e.column())
        }),
        Format::Yaml => {
            let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| {
                let full = e.to_string();
                let message = full.rfind(" at line ").map_or(full.as_str(), |at| &full[..at]);
                match e.location() {
                    Some(at) => located(file, message, at.line(), at.column()),
                    None => format!("'{file}': {message}"),
                }
            })?;
            yaml_to_json(value).map_err(|e| format!("'{file}': {e}"))
        }
        Format::Toml => {
            let value: toml::Value = toml::from_str(text).map_err(|e| {
                let message = e.message().trim_end().replace('\n', "; ");
                match e.span() {
                    Some(span) => {
                        let before = &text[..span.start.min(text.len())];
                        let line = before.matches('\n').count() + 1;
                        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                        located(file, &message, line, column)
                    }
                    None => format!("'{file}': {message}"),
                }
            })?;
            Ok(toml_to_json(value))
        }
    }
}

/// YAML → JSON; scalar map keys (`404:`) become strings, as in KrakenD's YAML parser.
fn yaml_to_json(value: serde_yaml_ng::Value) -> Result<Value, String> {
    use serde_yaml_ng::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let key = match key {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    Y::Null => "null".to_owned(),
                    other => return Err(format!("unsupported map key {other:?} (keys must be scalars)")),
                };
                out.insert(key, yaml_to_json(value)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

fn toml_to_json(value: toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(table.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_name_file_line_and_column() {
        let err = parse("{\n  \"version\": 3,\n  x\n}", Format::Json, "krakend.json").expect_err("invalid");
        assert_eq!(err, "'krakend.json': key must be a string at line 3, column 3");
    }

    #[test]
    fn yaml_keys_become_strings() {
        let value = parse("error_body:\n  404: {a: 1}\n", Format::Yaml, "k.yaml").expect("valid yaml");
        assert_eq!(value, serde_json::json!({"error_body": {"404": {"a": 1}}}));
    }

    #[test]
    fn toml_errors_have_line_and_column() {
        let err = parse("version = 3\nport = \n", Format::Toml, "k.toml").expect_err("invalid");
        assert!(err.starts_with("'k.toml': ") && err.contains("at line 2"), "{err}");
    }
}

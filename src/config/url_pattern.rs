//! Endpoint path variables (§5.1) and `url_pattern` compilation into literal pieces and placeholders (§7.3).

use super::model::{UrlPart, UrlPattern};

/// Why a `url_pattern` does not fit its endpoint (Lura's `WrongNumberOfParamsError` / `UndefinedOutputParamError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlPatternError {
    /// More distinct endpoint placeholders in the pattern than the endpoint declares.
    Count { output: Vec<String> },
    /// A placeholder that is not an endpoint variable, `respN_…` or `JWT.…`.
    Undefined { param: String, output: Vec<String> },
}

/// Adds the leading `/` KrakenD adds to endpoints and url patterns that lack one.
pub fn with_leading_slash(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

fn is_var_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The `{vars}` of an endpoint path, in order. Without `disable_rest` a variable must fill a whole segment
/// (`/file.{ext}` is literal text); with it, a variable may sit anywhere.
pub fn endpoint_params(path: &str, disable_rest: bool) -> Vec<String> {
    if disable_rest {
        return placeholders(path)
            .into_iter()
            .filter(|(_, _, name)| is_var_name(name))
            .map(|(_, _, name)| name.to_owned())
            .collect();
    }
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .filter(|name| is_var_name(name))
        .map(str::to_owned)
        .collect()
}

/// Checks the schema pattern `^/[^*?&%]*(/\*)?$`; the error names the problem. A trailing `/*` (Enterprise
/// wildcard) gets its own message.
pub fn check_endpoint_path(path: &str) -> Result<(), String> {
    if path.ends_with("/*") {
        return Err("wildcard endpoints (a trailing /*) are a KrakenD Enterprise feature, not supported yet".to_owned());
    }
    match path.chars().find(|c| matches!(c, '*' | '?' | '&' | '%')) {
        Some(c) => {
            Err(format!("the path may not contain '{c}' (no *, ?, & or %; query strings go in input_query_strings)"))
        }
        None => Ok(()),
    }
}

/// Every `{name}` in `text` with `name` of `[\w\-.:/]+` (Lura's placeholder pattern): (start, end, name).
fn placeholders(text: &str) -> Vec<(usize, usize, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|i| i + from) {
        let body_len = text[open + 1..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/'))
            .count();
        let close = open + 1 + body_len;
        if body_len > 0 && text[close..].starts_with('}') {
            found.push((open, close + 1, &text[open + 1..close]));
            from = close + 1;
        } else {
            from = open + 1;
        }
    }
    found
}

/// `{respN_…}` (sequential proxy) or `{JWT.…}` (auth/validator): filled by components, not by endpoint variables.
fn is_dynamic(name: &str) -> bool {
    if let Some(rest) = name.strip_prefix("resp") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        return digits > 0 && rest[digits..].starts_with('_');
    }
    name.starts_with("JWT.")
}

/// Equal names, the first letter compared case-insensitively: KrakenD capitalises it internally (`{id}` ≡ `{Id}`).
fn same_param(a: &str, b: &str) -> bool {
    let mut a_chars = a.chars();
    let mut b_chars = b.chars();
    match (a_chars.next(), b_chars.next()) {
        (Some(x), Some(y)) => x.to_lowercase().eq(y.to_lowercase()) && a_chars.as_str() == b_chars.as_str(),
        _ => false,
    }
}

/// Compiles a url_pattern (leading `/` added) against the endpoint variables `params`.
pub fn compile_url_pattern(pattern: &str, params: &[String]) -> Result<UrlPattern, UrlPatternError> {
    let source = with_leading_slash(pattern);
    let found = placeholders(&source);
    let mut output: Vec<String> = Vec::new();
    for (_, _, name) in &found {
        if !output.iter().any(|o| o == name) {
            output.push((*name).to_owned());
        }
    }
    let counted = output.iter().filter(|o| !is_dynamic(o)).count();
    if counted > params.len() {
        return Err(UrlPatternError::Count { output });
    }
    let mut parts = Vec::new();
    let mut literal_from = 0;
    for (start, end, name) in found {
        let part = if is_dynamic(name) {
            UrlPart::Dynamic(name.to_owned())
        } else if let Some(index) = params.iter().position(|p| same_param(p, name)) {
            UrlPart::Param(index)
        } else {
            return Err(UrlPatternError::Undefined { param: name.to_owned(), output });
        };
        if start > literal_from {
            parts.push(UrlPart::Literal(source[literal_from..start].to_owned()));
        }
        parts.push(part);
        literal_from = end;
    }
    if literal_from < source.len() {
        parts.push(UrlPart::Literal(source[literal_from..].to_owned()));
    }
    Ok(UrlPattern { source, parts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn finds_endpoint_params() {
        assert_eq!(endpoint_params("/users/{id}/{level2}", false), names(&["id", "level2"]));
        assert_eq!(endpoint_params("/foo/{var}/file.{ext}", false), names(&["var"]));
        assert_eq!(endpoint_params("/foo/{var}/file.{ext}", true), names(&["var", "ext"]));
        assert!(endpoint_params("/a/{b c}", false).is_empty());
    }

    #[test]
    fn checks_endpoint_paths() {
        assert!(check_endpoint_path("/users/{id}").is_ok());
        assert!(check_endpoint_path("/files/*").is_err_and(|e| e.contains("Enterprise")));
        assert!(check_endpoint_path("/a?b").is_err_and(|e| e.contains("'?'")));
    }

    #[test]
    fn compiles_params_and_dynamic_placeholders() {
        let params = names(&["id", "name"]);
        let pattern = compile_url_pattern("users/{Id}?n={name}&t={resp0_token}&s={JWT.sub}", &params).expect("valid");
        assert_eq!(pattern.source, "/users/{Id}?n={name}&t={resp0_token}&s={JWT.sub}");
        assert_eq!(
            pattern.parts,
            vec![
                UrlPart::Literal("/users/".to_owned()),
                UrlPart::Param(0),
                UrlPart::Literal("?n=".to_owned()),
                UrlPart::Param(1),
                UrlPart::Literal("&t=".to_owned()),
                UrlPart::Dynamic("resp0_token".to_owned()),
                UrlPart::Literal("&s=".to_owned()),
                UrlPart::Dynamic("JWT.sub".to_owned()),
            ]
        );
    }

    #[test]
    fn reports_undefined_and_count_errors() {
        let params = names(&["id"]);
        assert_eq!(
            compile_url_pattern("/a/{name}", &params),
            Err(UrlPatternError::Undefined { param: "name".to_owned(), output: names(&["name"]) })
        );
        assert_eq!(
            compile_url_pattern("/a/{id}/{x}", &params),
            Err(UrlPatternError::Count { output: names(&["id", "x"]) })
        );
        assert!(compile_url_pattern("/a/{ id }", &params).is_ok());
    }
}

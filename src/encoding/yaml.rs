//! `output_encoding: yaml`: the data as gin's `c.YAML` writes it (`gopkg.in/yaml.v3`: 4-space indent, map keys in
//! yaml.v3's natural order, `json.Number` as an int when it fits an int64, else as a float in Go's `%g` form).
//!
//! String quoting follows libyaml's rules for the common cases (plain when unambiguous, `"…"` for strings that
//! would read as another type, `'…'` for indicator characters, `|` blocks for multi-line text); rarer inputs fall
//! back to double quotes, which is valid YAML of the same value.

use std::cmp::Ordering;

use sonic_rs::{JsonContainerTrait, JsonType, JsonValueTrait, Value};

use super::json::as_verbatim;

const INDENT: usize = 4;

/// Appends `data` as a YAML document; no response or nil data gives `{}` (lura's `emptyResponse`).
pub fn render_yaml(out: &mut Vec<u8>, data: Option<&Value>) {
    match data {
        Some(v) if !v.is_null() => {
            if is_block(v) {
                node(out, v, 0);
            } else {
                inline(out, v);
                out.push(b'\n');
            }
        }
        _ => out.extend_from_slice(b"{}\n"),
    }
}

/// A non-empty map or list, written as an indented block.
fn is_block(v: &Value) -> bool {
    v.as_object().is_some_and(|o| !o.is_empty()) || v.as_array().is_some_and(|a| !a.is_empty())
}

/// Writes a block node whose first line starts at the cursor and whose other lines start at `indent`.
fn node(out: &mut Vec<u8>, v: &Value, indent: usize) {
    if let Some(obj) = v.as_object() {
        let mut entries: Vec<(&str, &Value)> = obj.iter().collect();
        entries.sort_by(|a, b| natural(a.0, b.0));
        entries.dedup_by(|b, a| a.0 == b.0);
        for (i, (k, child)) in entries.into_iter().enumerate() {
            if i > 0 {
                pad(out, indent);
            }
            string(out, k, indent, true);
            out.push(b':');
            value(out, child, indent);
        }
    } else if let Some(items) = v.as_array() {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                pad(out, indent);
            }
            out.extend_from_slice(b"- ");
            if is_block(item) {
                node(out, item, indent + 2);
            } else {
                inline(out, item);
                out.push(b'\n');
            }
        }
    }
}

/// A mapping value after `key:`.
fn value(out: &mut Vec<u8>, v: &Value, indent: usize) {
    let v = &reparse(v);
    if is_block(v) {
        out.push(b'\n');
        pad(out, indent + INDENT);
        node(out, v, indent + INDENT);
    } else if let Some(s) = v.as_str().filter(|s| s.contains('\n')) {
        out.push(b' ');
        string(out, s, indent + INDENT, false);
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
    } else {
        out.push(b' ');
        inline(out, v);
        out.push(b'\n');
    }
}

/// Verbatim nodes (return_error_details) are parsed back into values.
fn reparse(v: &Value) -> Value {
    match as_verbatim(v).and_then(|raw| sonic_rs::from_str::<Value>(raw.as_str()).ok()) {
        Some(parsed) => parsed,
        None => v.clone(),
    }
}

/// A scalar or an empty container on the current line.
fn inline(out: &mut Vec<u8>, v: &Value) {
    match v.get_type() {
        JsonType::Null => out.extend_from_slice(b"null"),
        JsonType::Boolean => out.extend_from_slice(if v.as_bool() == Some(true) { b"true" } else { b"false" }),
        JsonType::Number => number(out, v),
        JsonType::String => string(out, v.as_str().unwrap_or_default(), 0, true),
        JsonType::Object => out.extend_from_slice(b"{}"),
        JsonType::Array => out.extend_from_slice(b"[]"),
    }
}

fn pad(out: &mut Vec<u8>, indent: usize) {
    out.extend(std::iter::repeat_n(b' ', indent));
}

/// yaml.v3 on a `json.Number`: `Int64()` if it parses, else `Float64()` formatted `%g`, else the string.
fn number(out: &mut Vec<u8>, v: &Value) {
    if let Some(raw) = as_verbatim(v) {
        out.extend_from_slice(raw.as_str().as_bytes());
        return;
    }
    let text = match v.as_raw_number() {
        Some(raw) => raw.as_str().to_owned(),
        None => {
            let mut t = Vec::new();
            super::json::write_value(&mut t, v);
            String::from_utf8_lossy(&t).into_owned()
        }
    };
    if let Ok(i) = text.parse::<i64>() {
        out.extend_from_slice(i.to_string().as_bytes());
    } else if let Ok(f) = text.parse::<f64>() {
        format_g(out, f);
    } else {
        string(out, &text, 0, true);
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` with yaml.v3's `.inf`/`.nan` spellings.
fn format_g(out: &mut Vec<u8>, f: f64) {
    if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b".inf" } else { b"-.inf" });
        return;
    }
    if f.is_nan() {
        out.extend_from_slice(b".nan");
        return;
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    // strconv decides with precision 6 for the shortest form: `1e+06`, `123456`, `0.0001`, `1e-05`.
    if f != 0.0 && !(-4..6).contains(&exp) {
        out.extend_from_slice(mantissa.as_bytes());
        out.extend_from_slice(format!("e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs()).as_bytes());
    } else {
        out.extend_from_slice(format!("{f}").as_bytes());
    }
}

/// Words yaml.v3 resolves to null or a bool (YAML 1.1 booleans included, which it quotes for compatibility).
const NON_STRINGS: &[&str] = &[
    "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "y", "Y", "yes", "Yes", "YES",
    "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", ".inf", ".Inf", ".INF", "-.inf", "-.Inf",
    "-.INF", "+.inf", "+.Inf", "+.INF", ".nan", ".NaN", ".NAN",
];

/// Whether yaml.v3 would read the text back as something other than a string.
fn resolves_to_other(s: &str) -> bool {
    if NON_STRINGS.contains(&s) {
        return true;
    }
    let plain = s.replace('_', "");
    let digits = plain.strip_prefix(['-', '+']).unwrap_or(&plain);
    let numeric = plain.parse::<f64>().is_ok()
        || digits.strip_prefix("0x").is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
        || digits.strip_prefix("0o").is_some_and(|o| !o.is_empty() && o.bytes().all(|b| (b'0'..=b'7').contains(&b)))
        || digits.strip_prefix("0b").is_some_and(|o| !o.is_empty() && o.bytes().all(|b| b == b'0' || b == b'1'));
    // Timestamps (`2001-12-14`) resolve too.
    let date = s.len() >= 10
        && s.as_bytes()[..10].iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    numeric || date || s.starts_with("<<")
}

/// Whether libyaml may write the text as a plain scalar in block context.
fn plain_allowed(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if b[0] == b' ' || b[b.len() - 1] == b' ' {
        return false;
    }
    let ws_after = |i: usize| b.get(i + 1).is_none_or(|c| *c == b' ');
    match b[0] {
        b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"' | b'%' | b'@'
        | b'`' => return false,
        b'?' | b':' | b'-' if ws_after(0) => return false,
        _ => {}
    }
    for i in 0..b.len() {
        match b[i] {
            b':' if ws_after(i) => return false,
            b'#' if i > 0 && b[i - 1] == b' ' => return false,
            c if c < 0x20 || c == 0x7f => return false,
            _ => {}
        }
    }
    true
}

/// A string scalar: plain, single-quoted, literal block (values only) or double-quoted.
fn string(out: &mut Vec<u8>, s: &str, indent: usize, single_line: bool) {
    if !s.contains('\n') || single_line {
        if s.contains('\n') || resolves_to_other(s) || s.chars().any(|c| c.is_control() && c != '\n') {
            double_quoted(out, s);
        } else if plain_allowed(s) {
            out.extend_from_slice(s.as_bytes());
        } else {
            out.push(b'\'');
            out.extend_from_slice(s.replace('\'', "''").as_bytes());
            out.push(b'\'');
        }
        return;
    }
    // Literal block: not for leading spaces, spaces before a break, or other control characters.
    let block_ok = !s.starts_with(' ')
        && !s.contains(" \n")
        && !s.ends_with(' ')
        && !s.chars().any(|c| c.is_control() && c != '\n');
    if !block_ok {
        double_quoted(out, s);
        return;
    }
    let trailing = s.len() - s.trim_end_matches('\n').len();
    out.extend_from_slice(match trailing {
        0 => b"|-".as_slice(),
        1 => b"|".as_slice(),
        _ => b"|+".as_slice(),
    });
    let body = if trailing == 1 { &s[..s.len() - 1] } else { s.trim_end_matches('\n') };
    for line in body.split('\n') {
        out.push(b'\n');
        if !line.is_empty() {
            pad(out, indent);
            out.extend_from_slice(line.as_bytes());
        }
    }
    out.push(b'\n');
    for _ in 1..trailing.max(1) {
        out.push(b'\n');
    }
}

fn double_quoted(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\0' => out.extend_from_slice(b"\\0"),
            c if c.is_control() => out.extend_from_slice(format!("\\x{:02X}", c as u32).as_bytes()),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// yaml.v3's `keyList.Less`: letters before other characters, digit runs compared as numbers.
fn natural(a: &str, b: &str) -> Ordering {
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut digits = false;
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            digits = ar[i].is_ascii_digit();
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            let a_first = if digits { al } else { bl };
            return if a_first { Ordering::Less } else { Ordering::Greater };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if (ar[i] == '0' || br[i] == '0') && ar[..i].iter().rev().take_while(|c| c.is_ascii_digit()).any(|c| *c != '0')
        {
            an = 1;
            bn = 1;
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.saturating_mul(10).saturating_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.saturating_mul(10).saturating_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

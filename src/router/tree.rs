//! One route tree per HTTP method: the matchit tree used on every request, plus what only the build and the miss
//! path need (the registered patterns for the case-insensitive fixed-path lookup, and a trie of variable names for
//! gin's conflict rule).

use crate::config::{ConfigError, Method};
use std::collections::HashMap;

/// What a registered route answers.
#[derive(Debug)]
pub(crate) enum Target {
    /// `config.endpoints[index]`; `slots[k]` is the position in `EndpointConfig::params` of the path's `k`-th
    /// variable; `param_count` is `EndpointConfig::params.len()`.
    Endpoint {
        index: usize,
        slots: Box<[usize]>,
        param_count: usize,
    },
    Health,
    Debug,
    Echo,
    /// `router.auto_options`: the `Allow` value for this path.
    AutoOptions {
        allow: Box<str>,
    },
}

/// One segment of a registered path (the text between two `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Static(String),
    /// `{name}` filling the segment, or with `disable_rest` surrounded by literal text (`file.{ext}`).
    Param {
        pre: String,
        name: String,
        suf: String,
    },
    /// `{*name}`: the rest of the path (built-in `/__debug/` and `/__echo/` only).
    CatchAll(String),
}

/// A registered path split into segments. `/` is one empty static segment; a trailing slash adds an empty last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    pub(crate) segs: Vec<Seg>,
}

/// KrakenD's variable names: `[a-zA-Z0-9_-]+`.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Pattern {
    /// An endpoint path in KrakenD syntax. Without `disable_rest` only a `{var}` filling a whole segment is a
    /// variable and any other brace is literal text (KrakenD registers `/file.{ext}` as is); with it, one `{var}`
    /// inside a segment is a variable too.
    pub(crate) fn parse(path: &str, disable_rest: bool) -> Pattern {
        let body = path.strip_prefix('/').unwrap_or(path);
        let segs = body
            .split('/')
            .map(|seg| {
                if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    if valid_name(name) {
                        return Seg::Param { pre: String::new(), name: name.to_owned(), suf: String::new() };
                    }
                }
                if disable_rest {
                    if let Some(open) = seg.find('{') {
                        if let Some(len) = seg[open..].find('}') {
                            let name = &seg[open + 1..open + len];
                            if valid_name(name) {
                                return Seg::Param {
                                    pre: seg[..open].to_owned(),
                                    name: name.to_owned(),
                                    suf: seg[open + len + 1..].to_owned(),
                                };
                            }
                        }
                    }
                }
                Seg::Static(seg.to_owned())
            })
            .collect();
        Pattern { segs }
    }

    /// A path taken literally (the health path).
    pub(crate) fn literal(path: &str) -> Pattern {
        let body = path.strip_prefix('/').unwrap_or(path);
        Pattern { segs: body.split('/').map(|s| Seg::Static(s.to_owned())).collect() }
    }

    /// `/{name}/` (with `catch_all` false) or `/{name}/{*any}`: a built-in prefix.
    pub(crate) fn builtin(name: &str, catch_all: bool) -> Pattern {
        let last = if catch_all { Seg::CatchAll("any".to_owned()) } else { Seg::Static(String::new()) };
        Pattern { segs: vec![Seg::Static(name.to_owned()), last] }
    }

    /// The variable names in path order.
    pub(crate) fn var_names(&self) -> impl Iterator<Item = &str> {
        self.segs.iter().filter_map(|s| match s {
            Seg::Param { name, .. } | Seg::CatchAll(name) => Some(name.as_str()),
            Seg::Static(_) => None,
        })
    }

    /// The route in matchit syntax: literal braces doubled.
    fn matchit_route(&self) -> String {
        fn escaped(out: &mut String, s: &str) {
            for c in s.chars() {
                match c {
                    '{' => out.push_str("{{"),
                    '}' => out.push_str("}}"),
                    c => out.push(c),
                }
            }
        }
        let mut out = String::new();
        for seg in &self.segs {
            out.push('/');
            match seg {
                Seg::Static(s) => escaped(&mut out, s),
                Seg::Param { pre, name, suf } => {
                    escaped(&mut out, pre);
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                    escaped(&mut out, suf);
                }
                Seg::CatchAll(name) => {
                    out.push_str("{*");
                    out.push_str(name);
                    out.push('}');
                }
            }
        }
        out
    }

    /// Case-insensitive match of the request segments `req` (gin's `findCaseInsensitivePath`): the corrected path
    /// (static text as registered, variable text as requested) and a priority (lower wins: static before
    /// variable before catch-all, segment by segment).
    fn match_ci(&self, req: &[&str]) -> Option<(Vec<u8>, String)> {
        let mut rank = Vec::with_capacity(self.segs.len());
        let mut out = String::new();
        for (i, seg) in self.segs.iter().enumerate() {
            if let Seg::CatchAll(_) = seg {
                let rest = req.get(i..)?.join("/");
                if rest.is_empty() {
                    return None;
                }
                out.push('/');
                out.push_str(&rest);
                rank.push(3);
                return Some((rank, out));
            }
            let r = *req.get(i)?;
            out.push('/');
            match seg {
                Seg::Static(s) => {
                    if !eq_ci(s, r) {
                        return None;
                    }
                    out.push_str(s);
                    rank.push(0);
                }
                Seg::Param { pre, suf, .. } => {
                    let after_pre = strip_prefix_ci(r, pre)?;
                    let value = strip_suffix_ci(after_pre, suf)?;
                    if value.is_empty() {
                        return None;
                    }
                    out.push_str(pre);
                    out.push_str(value);
                    out.push_str(suf);
                    rank.push(if pre.is_empty() && suf.is_empty() { 2 } else { 1 });
                }
                Seg::CatchAll(_) => return None,
            }
        }
        (req.len() == self.segs.len()).then_some((rank, out))
    }
}

fn eq_ci(a: &str, b: &str) -> bool {
    a.chars().flat_map(char::to_lowercase).eq(b.chars().flat_map(char::to_lowercase))
}

/// `s` without `prefix`, compared case-insensitively char by char.
fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let mut chars = s.char_indices();
    for p in prefix.chars() {
        let (_, c) = chars.next()?;
        if !c.to_lowercase().eq(p.to_lowercase()) {
            return None;
        }
    }
    Some(chars.as_str())
}

fn strip_suffix_ci<'s>(s: &'s str, suffix: &str) -> Option<&'s str> {
    let mut end = s.len();
    let mut chars = s.char_indices().rev();
    for p in suffix.chars().rev() {
        let (i, c) = chars.next()?;
        if !c.to_lowercase().eq(p.to_lowercase()) {
            return None;
        }
        end = i;
    }
    Some(&s[..end])
}

/// Build-time trie of the variable names per position, for gin's rule that routes sharing a prefix use the same
/// variable name at the same position, and to name both routes of a conflict.
#[derive(Debug, Default)]
struct NameNode {
    statics: HashMap<String, NameNode>,
    vars: Vec<VarChild>,
    /// Who registered a route ending here.
    leaf: Option<String>,
}

#[derive(Debug)]
struct VarChild {
    /// Literal text around the variable (`file.{ext}`) or `*` for a catch-all: variables with different
    /// surroundings sit on different nodes.
    pre: String,
    suf: String,
    name: String,
    owner: String,
    node: NameNode,
}

/// The routes of one method.
#[derive(Debug)]
pub(crate) struct MethodTree {
    pub(crate) method: Method,
    pub(crate) router: matchit::Router<Target>,
    patterns: Vec<Pattern>,
    names: NameNode,
}

impl MethodTree {
    pub(crate) fn new(method: Method) -> Self {
        MethodTree { method, router: matchit::Router::new(), patterns: Vec::new(), names: NameNode::default() }
    }

    /// Registers `pattern`; `owner` describes the route for error messages (`endpoint GET /users/{id}`).
    pub(crate) fn insert(&mut self, pattern: Pattern, owner: String, target: Target) -> Result<(), ConfigError> {
        let conflict = |other: &str, why: &str| {
            ConfigError::new(format!("route conflict: {owner} conflicts with {other} ({why})"))
        };
        let mut node = &mut self.names;
        for seg in &pattern.segs {
            let (pre, name, suf) = match seg {
                Seg::Static(s) => {
                    node = node.statics.entry(s.clone()).or_default();
                    continue;
                }
                Seg::Param { pre, name, suf } => (pre.as_str(), name.as_str(), suf.as_str()),
                Seg::CatchAll(name) => ("*", name.as_str(), "*"),
            };
            let pos = match node.vars.iter().position(|v| v.pre == pre && v.suf == suf) {
                Some(pos) => {
                    let var = &node.vars[pos];
                    if var.name != name {
                        return Err(conflict(&var.owner, "a variable at the same position must have the same name"));
                    }
                    pos
                }
                None => {
                    node.vars.push(VarChild {
                        pre: pre.to_owned(),
                        suf: suf.to_owned(),
                        name: name.to_owned(),
                        owner: owner.clone(),
                        node: NameNode::default(),
                    });
                    node.vars.len() - 1
                }
            };
            node = &mut node.vars[pos].node;
        }
        if let Some(other) = &node.leaf {
            return Err(conflict(other, "the same method and path are declared twice"));
        }
        node.leaf = Some(owner.clone());
        self.router
            .insert(pattern.matchit_route(), target)
            .map_err(|e| ConfigError::new(format!("route conflict: {owner} cannot be registered: {e}")))?;
        self.patterns.push(pattern);
        Ok(())
    }

    /// gin's `findCaseInsensitivePath` on an already cleaned path: the registered path matching `path` ignoring
    /// case (and, with `fix_trailing_slash`, with its trailing slash toggled). Slow on purpose: miss path only.
    pub(crate) fn find_case_insensitive(&self, path: &str, fix_trailing_slash: bool) -> Option<String> {
        if let Some(found) = self.find_ci(path) {
            return Some(found);
        }
        if !fix_trailing_slash {
            return None;
        }
        let toggled = match path.strip_suffix('/') {
            Some(p) if !p.is_empty() => p.to_owned(),
            _ => format!("{path}/"),
        };
        self.find_ci(&toggled)
    }

    fn find_ci(&self, path: &str) -> Option<String> {
        let req: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        self.patterns.iter().filter_map(|p| p.match_ci(&req)).min_by(|a, b| a.0.cmp(&b.0)).map(|(_, path)| path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_patterns() {
        let p = Pattern::parse("/user/{id}/file.{ext}", false);
        assert_eq!(p.var_names().collect::<Vec<_>>(), ["id"]);
        assert_eq!(p.matchit_route(), "/user/{id}/file.{{ext}}");
        let p = Pattern::parse("/user/{id}/file.{ext}", true);
        assert_eq!(p.var_names().collect::<Vec<_>>(), ["id", "ext"]);
        assert_eq!(p.matchit_route(), "/user/{id}/file.{ext}");
        assert_eq!(Pattern::parse("/", false).matchit_route(), "/");
        assert_eq!(Pattern::parse("/foo/", false).matchit_route(), "/foo/");
        assert_eq!(Pattern::builtin("__debug", true).matchit_route(), "/__debug/{*any}");
        assert_eq!(Pattern::literal("/{x}").matchit_route(), "/{{x}}");
    }

    #[test]
    fn case_insensitive() {
        let mut t = MethodTree::new(Method::Get);
        let target = || Target::Health;
        t.insert(Pattern::parse("/Foo/{id}/bar", false), "a".into(), target()).unwrap();
        t.insert(Pattern::parse("/foo/static/bar", false), "b".into(), target()).unwrap();
        t.insert(Pattern::parse("/img/file.{ext}", true), "c".into(), target()).unwrap();
        t.insert(Pattern::builtin("__debug", true), "d".into(), target()).unwrap();
        assert_eq!(t.find_case_insensitive("/FOO/AbC/BAR", false).as_deref(), Some("/Foo/AbC/bar"));
        assert_eq!(t.find_case_insensitive("/FOO/STATIC/BAR", false).as_deref(), Some("/foo/static/bar"));
        assert_eq!(t.find_case_insensitive("/FOO/x/BAR/", false), None);
        assert_eq!(t.find_case_insensitive("/FOO/x/BAR/", true).as_deref(), Some("/Foo/x/bar"));
        assert_eq!(t.find_case_insensitive("/IMG/FILE.PNG", false).as_deref(), Some("/img/file.PNG"));
        assert_eq!(t.find_case_insensitive("/IMG/FILE.", false), None);
        assert_eq!(t.find_case_insensitive("/__DEBUG/A/b", false).as_deref(), Some("/__debug/A/b"));
        assert_eq!(t.find_case_insensitive("/__DEBUG/", false), None);
    }
}

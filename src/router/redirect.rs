//! Path cleaning and redirect locations, as gin and Go's `net/http` build them (§5.3).
//!
//! Everything here runs on the miss path only (redirects) or when `remove_extra_slash` is on and the path is not
//! clean already; the clean-path check itself does not allocate.

/// gin's `cleanPath`: Go's `path.Clean` that keeps a trailing slash (also one implied by a final `.` or `..`) and
/// always returns a rooted path. `None` when `p` is already clean, so the common case allocates nothing.
pub(crate) fn clean_path(p: &str) -> Option<String> {
    if is_clean(p) {
        return None;
    }
    let mut out = clean_rooted(p);
    let trailing = p.ends_with('/') || p.ends_with("/.") || p.ends_with("/..") || p == "." || p == "..";
    if trailing && out != "/" {
        out.push('/');
    }
    Some(out)
}

/// Whether [`clean_path`] would return `p` unchanged.
fn is_clean(p: &str) -> bool {
    if !p.starts_with('/') {
        return false;
    }
    // Every element after the leading slash must be non-empty and not `.`/`..`, except an empty last one (the
    // trailing slash).
    let mut rest = &p[1..];
    while !rest.is_empty() {
        let (elem, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        if elem.is_empty() || elem == "." || elem == ".." {
            return false;
        }
        match tail {
            Some(t) => rest = t,
            None => break,
        }
    }
    true
}

/// Lexical clean of `p` as a rooted path without a trailing slash (the root stays `/`).
fn clean_rooted(p: &str) -> String {
    let mut elems: Vec<&str> = Vec::new();
    for elem in p.split('/') {
        match elem {
            "" | "." => {}
            ".." => {
                elems.pop();
            }
            e => elems.push(e),
        }
    }
    let mut out = String::with_capacity(p.len() + 1);
    for e in &elems {
        out.push('/');
        out.push_str(e);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Go's `path.Clean` (`""` → `"."`, relative paths stay relative, no trailing slash).
pub(crate) fn go_path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".to_owned();
    }
    if p.starts_with('/') {
        return clean_rooted(p);
    }
    let mut elems: Vec<&str> = Vec::new();
    let mut leading_dotdots = 0usize;
    for elem in p.split('/') {
        match elem {
            "" | "." => {}
            ".." => {
                if elems.pop().is_none() {
                    leading_dotdots += 1;
                }
            }
            e => elems.push(e),
        }
    }
    let mut parts: Vec<&str> = std::iter::repeat_n("..", leading_dotdots).collect();
    parts.extend(elems);
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// Go's `url.PathEscape`-like escaping of a decoded path for `URL.String()` (mode `encodePath`): unreserved
/// characters and `$&+,/:;=@` stay, everything else (including `?`, `%`, space, non-ASCII bytes) becomes `%XX`.
pub(crate) fn escape_path(p: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(p.len());
    for &b in p.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~' | b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'@');
        if keep {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

/// The `Location` Go's `http.Redirect` writes when gin redirects to the decoded path `new_path` with the request's
/// raw query (`URL.String()`, then `http.Redirect`'s own clean that keeps a trailing slash).
///
/// Deviation: Go skips its clean when the escaped path starts with `//` (it parses as a host), which lets a request
/// like `//evil.example/` (with `remove_extra_slash`) redirect off-site; we always clean, so the location is always a
/// local path.
pub(crate) fn location(new_path: &str, query: Option<&str>) -> String {
    let mut url = escape_path(new_path);
    if !url.starts_with('/') {
        // http.Redirect resolves a relative location against the directory of the (already rewritten) URL.Path.
        let old = if new_path.is_empty() { "/" } else { new_path };
        let dir = &old[..old.rfind('/').map_or(0, |i| i + 1)];
        url = format!("{dir}{url}");
    }
    let trailing = url.ends_with('/');
    let mut out = go_path_clean(&url);
    if trailing && !out.ends_with('/') {
        out.push('/');
    }
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The path gin's `redirectTrailingSlash` redirects to: the original decoded path with its trailing slash toggled,
/// prefixed with the sanitised `X-Forwarded-Prefix` (`path.Clean`, then only `[a-zA-Z0-9/-]` kept, repeated slashes
/// collapsed).
pub(crate) fn trailing_slash_target(path: &str, forwarded_prefix: Option<&str>) -> String {
    let mut p = String::with_capacity(path.len() + 1);
    let prefix = go_path_clean(forwarded_prefix.unwrap_or(""));
    if prefix != "." {
        let mut last_slash = false;
        for c in prefix.chars() {
            if !(c.is_ascii_alphanumeric() || c == '/' || c == '-') {
                continue;
            }
            if c == '/' && last_slash {
                continue;
            }
            last_slash = c == '/';
            p.push(c);
        }
        p.push('/');
    }
    p.push_str(path);
    if p.len() > 1 && p.ends_with('/') {
        p.pop();
    } else {
        p.push('/');
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_path_like_gin() {
        assert_eq!(clean_path("/foo"), None);
        assert_eq!(clean_path("/foo/"), None);
        assert_eq!(clean_path("/"), None);
        assert_eq!(clean_path(""), Some("/".to_owned()));
        assert_eq!(clean_path("//foo//bar"), Some("/foo/bar".to_owned()));
        assert_eq!(clean_path("/foo//"), Some("/foo/".to_owned()));
        assert_eq!(clean_path("/a/b/../c"), Some("/a/c".to_owned()));
        assert_eq!(clean_path("/a/."), Some("/a/".to_owned()));
        assert_eq!(clean_path("/a/b/.."), Some("/a/".to_owned()));
        assert_eq!(clean_path("/.."), Some("/".to_owned()));
        assert_eq!(clean_path("a/b"), Some("/a/b".to_owned()));
    }

    #[test]
    fn go_clean() {
        assert_eq!(go_path_clean(""), ".");
        assert_eq!(go_path_clean("/api//v1/"), "/api/v1");
        assert_eq!(go_path_clean("a/../../b"), "../b");
        assert_eq!(go_path_clean("/../x"), "/x");
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_path("/foo/a b"), "/foo/a%20b");
        assert_eq!(escape_path("/a?b%c(d)"), "/a%3Fb%25c%28d%29");
        assert_eq!(escape_path("/$&+,:;=@-_.~"), "/$&+,:;=@-_.~");
        assert_eq!(escape_path("/ü"), "/%C3%BC");
    }

    #[test]
    fn locations() {
        assert_eq!(location("/foo", None), "/foo");
        assert_eq!(location("/foo", Some("a=1&b=2")), "/foo?a=1&b=2");
        assert_eq!(location("/foo/", Some("")), "/foo/?");
        assert_eq!(location("//evil.example", None), "/evil.example");
        assert_eq!(location("/api//foo", None), "/api/foo");
    }

    #[test]
    fn trailing_slash_targets() {
        assert_eq!(trailing_slash_target("/foo/", None), "/foo");
        assert_eq!(trailing_slash_target("/foo", None), "/foo/");
        assert_eq!(trailing_slash_target("/foo/", Some("/api")), "/api//foo");
        assert_eq!(trailing_slash_target("/foo/", Some("")), "/foo");
        assert_eq!(trailing_slash_target("/foo/", Some("/a<b>//c/")), "/ab/c//foo");
    }
}

//! `server/static-filesystem` and `backend/static-filesystem` (KrakenD Enterprise): files served from disk, as a
//! web server under a URL prefix before the router, or as a backend that reads instead of calling a host.
//!
//! Files are read with blocking `std::fs` calls on the worker: they are meant for mock data and small assets (the
//! playground), where a page-cache read costs microseconds; monoio's own file IO would need its blocking thread
//! pool under the legacy driver.

use std::path::{Component, Path, PathBuf};

use crate::config::StaticFilesystem;

/// What the static server answers for a request.
#[derive(Debug, PartialEq, Eq)]
pub enum StaticAnswer {
    /// Not under the prefix (or listed in `skip`): the router takes it.
    Pass,
    File {
        body: Vec<u8>,
        content_type: &'static str,
    },
    /// A directory listing (`directory_listing: true`).
    Listing(String),
    Forbidden,
    NotFound,
}

/// Answers `path` (percent-decoded) from the configured directory.
pub fn serve(config: &StaticFilesystem, method: &str, path: &str) -> StaticAnswer {
    let Some(rest) = path.strip_prefix(config.prefix.as_str()) else { return StaticAnswer::Pass };
    if config.skip.iter().any(|s| path == s || path.starts_with(&format!("{}/", s.trim_end_matches('/')))) {
        return StaticAnswer::Pass;
    }
    if method != "GET" && method != "HEAD" {
        return StaticAnswer::Pass;
    }
    let Some(file) = safe_join(&config.path, rest) else { return StaticAnswer::NotFound };
    if file.is_dir() {
        let index = file.join("index.html");
        if index.is_file() {
            return read(&index);
        }
        if !config.directory_listing {
            return StaticAnswer::Forbidden;
        }
        return listing(&file);
    }
    read(&file)
}

fn read(file: &Path) -> StaticAnswer {
    match std::fs::read(file) {
        Ok(body) => StaticAnswer::File { body, content_type: content_type(&file.to_string_lossy()) },
        Err(_) => StaticAnswer::NotFound,
    }
}

fn listing(dir: &Path) -> StaticAnswer {
    let Ok(entries) = std::fs::read_dir(dir) else { return StaticAnswer::NotFound };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                format!("{name}/")
            } else {
                name
            }
        })
        .collect();
    names.sort();
    let mut html = String::from("<pre>\n");
    for n in names {
        let escaped = n.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&#34;");
        html.push_str(&format!("<a href=\"{escaped}\">{escaped}</a>\n"));
    }
    html.push_str("</pre>\n");
    StaticAnswer::Listing(html)
}

/// Reads the file a `backend/static-filesystem` backend points at (`path` joined with the url path).
pub fn read_backend_file(dir: &Path, url_path: &str) -> Result<Vec<u8>, String> {
    let decoded = percent_encoding::percent_decode_str(url_path).decode_utf8_lossy();
    let file = safe_join(dir, &decoded).ok_or_else(|| format!("invalid static path {url_path}"))?;
    std::fs::read(&file).map_err(|e| format!("open {}: {e}", file.display()))
}

/// Joins a URL path under `base`, refusing `..` that would climb out of it.
fn safe_join(base: &Path, rel: &str) -> Option<PathBuf> {
    let mut out = base.to_path_buf();
    for comp in Path::new(rel.trim_start_matches('/')).components() {
        match comp {
            Component::Normal(c) => out.push(c),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

/// The `Content-Type` for a file name, as Go's `mime.TypeByExtension` would give for common types.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("");
    match ext {
        "json" => "application/json",
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "txt" | "log" => "text/plain; charset=utf-8",
        "xml" => "text/xml; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        _ => mime_guess::from_ext(ext).first_raw().unwrap_or("application/octet-stream"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_climb_out() {
        assert!(safe_join(Path::new("/srv"), "/../etc/passwd").is_none());
        assert_eq!(safe_join(Path::new("/srv"), "/a/./b.json").unwrap(), PathBuf::from("/srv/a/b.json"));
    }

    #[test]
    fn serves_under_the_prefix_only() {
        let dir = std::env::temp_dir().join(format!("ringway-static-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.json"), b"{\"a\":1}").unwrap();
        let cfg = StaticFilesystem {
            prefix: "/data/".into(),
            path: dir.clone(),
            skip: vec!["/data/skip".into()],
            directory_listing: false,
        };
        assert_eq!(serve(&cfg, "GET", "/other"), StaticAnswer::Pass);
        assert_eq!(serve(&cfg, "GET", "/data/skip/x"), StaticAnswer::Pass);
        assert_eq!(serve(&cfg, "POST", "/data/a.json"), StaticAnswer::Pass);
        assert_eq!(
            serve(&cfg, "GET", "/data/a.json"),
            StaticAnswer::File { body: b"{\"a\":1}".to_vec(), content_type: "application/json" }
        );
        assert_eq!(serve(&cfg, "GET", "/data/missing.json"), StaticAnswer::NotFound);
        assert_eq!(serve(&cfg, "GET", "/data/sub"), StaticAnswer::Forbidden);
        let listing = StaticFilesystem { directory_listing: true, ..cfg };
        assert_eq!(
            serve(&listing, "GET", "/data/"),
            StaticAnswer::Listing("<pre>\n<a href=\"a.json\">a.json</a>\n<a href=\"sub/\">sub/</a>\n</pre>\n".into())
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}

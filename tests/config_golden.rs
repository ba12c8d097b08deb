//! Golden config fixtures: each valid `config-examples/*` dumps to `expected/<file>.txt`, each
//! `config-examples/invalid/*` fails with the exact text in `expected/invalid/<file>.txt`.
//!
//! `UPDATE_GOLDEN=1 cargo test --test config_golden` rewrites the expected files; review the diff.

use ringway::config::{self, MapEnv, NoEnv};
use std::path::{Path, PathBuf};

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture directory exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "yaml" | "yml" | "toml"))
        })
        .collect();
    files.sort();
    files
}

/// Compares `actual` with the golden file, or rewrites it under `UPDATE_GOLDEN=1`; returns a mismatch description.
fn check(golden: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().expect("golden files live in a directory")).expect("create dir");
        std::fs::write(golden, actual).expect("write golden file");
        return None;
    }
    let expected = std::fs::read_to_string(golden).unwrap_or_default();
    (expected != actual).then(|| format!("{}:\n--- expected\n{expected}\n--- actual\n{actual}", golden.display()))
}

fn file_name(path: &Path) -> String {
    path.file_name().expect("fixture has a name").to_string_lossy().into_owned()
}

#[test]
fn valid_examples_dump_as_expected() {
    let mut failures = Vec::new();
    for path in fixtures("config-examples") {
        let actual = match config::load(&path, &NoEnv) {
            Ok(cfg) => config::dump(&cfg),
            Err(e) => format!("unexpected error: {e}\n"),
        };
        let golden = Path::new("config-examples/expected").join(format!("{}.txt", file_name(&path)));
        failures.extend(check(&golden, &actual));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn invalid_examples_fail_with_the_expected_error() {
    let mut failures = Vec::new();
    let files = fixtures("config-examples/invalid");
    assert!(files.len() >= 15, "at least 15 invalid fixtures");
    for path in files {
        // What `ringway check` validates (file and routes), with the process environment left out.
        let actual = match config::load(&path, &NoEnv).and_then(|c| ringway::router::Router::build(&c).map(|_| c)) {
            Ok(_) => "unexpectedly valid\n".to_owned(),
            Err(e) => format!("{e}\n"),
        };
        let golden = Path::new("config-examples/expected/invalid").join(format!("{}.txt", file_name(&path)));
        failures.extend(check(&golden, &actual));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn env(pairs: &[(&str, &str)]) -> MapEnv {
    MapEnv::from_pairs(pairs)
}

#[test]
fn env_overrides_apply_over_the_file() {
    let vars = env(&[("KRAKEND_PORT", "9000"), ("KRAKEND_TIMEOUT", "500ms"), ("KRAKEND_USE_H2C", "true")]);
    let cfg = config::load(Path::new("config-examples/minimal.json"), &vars).expect("valid config");
    assert_eq!(cfg.port, 9000);
    assert_eq!(cfg.timeout, std::time::Duration::from_millis(500));
    assert!(cfg.use_h2c);
}

#[test]
fn env_override_with_a_bad_value_names_the_variable_and_key() {
    let err = config::load(Path::new("config-examples/minimal.json"), &env(&[("KRAKEND_PORT", "abc")]))
        .expect_err("port must be an integer");
    assert_eq!(err.0, "KRAKEND_PORT=abc: port must be an integer");
}

#[test]
fn missing_file_names_the_path() {
    let err = config::load(Path::new("krakend.json"), &NoEnv).expect_err("no such file");
    assert_eq!(err.0, "open krakend.json: no such file or directory");
}

fn parse(json: &str) -> config::ServiceConfig {
    config::parse_str(json, config::Format::Json, "test.json", &NoEnv).expect("valid config")
}

#[test]
fn endpoints_and_backends_inherit_defaults() {
    let cfg = parse(
        r#"{"version": 3, "host": ["localhost:8000"], "timeout": 3000000000, "read_timeout": "4s",
            "output_encoding": "no-op",
            "endpoints": [{"endpoint": "a/{id}", "method": "put",
                           "backend": [{"url_pattern": "b/{Id}", "encoding": "xml"}]}]}"#,
    );
    assert_eq!(cfg.port, 8080);
    assert_eq!(cfg.server.idle, Some(std::time::Duration::from_secs(4)));
    let endpoint = &cfg.endpoints[0];
    assert_eq!(endpoint.path, "/a/{id}");
    assert_eq!(endpoint.method, config::Method::Put);
    assert_eq!(endpoint.timeout, std::time::Duration::from_secs(3));
    assert_eq!(endpoint.concurrent_calls, 1);
    assert_eq!(endpoint.output_encoding, config::OutputEncoding::NoOp);
    let backend = &endpoint.backends[0];
    assert_eq!(backend.method, config::Method::Put);
    assert_eq!(backend.hosts, vec!["http://localhost:8000".to_owned()]);
    assert_eq!(backend.encoding, config::BackendEncoding::NoOp);
    assert_eq!(backend.url_pattern.source, "/b/{Id}");
    assert_eq!(backend.url_pattern.parts[1], config::UrlPart::Param(0));
}

#[test]
fn unknown_namespaces_warn_once_and_aliases_normalise() {
    let cfg = parse(
        r#"{"version": 3, "endpoints": [
            {"endpoint": "/a", "extra_config": {"x/y": {}}, "backend": [{"url_pattern": "/", "host": ["h:80"],
              "extra_config": {"github.com/devopsfaith/krakend/http": {"return_error_code": true}}}]},
            {"endpoint": "/b", "extra_config": {"x/y": {}}, "backend": [{"url_pattern": "/", "host": ["h:80"]}]}]}"#,
    );
    let unknown: Vec<&String> = cfg.warnings.iter().filter(|w| w.contains("'x/y'")).collect();
    assert_eq!(unknown.len(), 1, "{:?}", cfg.warnings);
    let backend = &cfg.endpoints[0].backends[0];
    assert!(backend.return_error_code);
    assert!(backend.extra_config.contains_key("backend/http"));
}

#[test]
fn yaml_and_toml_examples_compile_alike() {
    let yaml = config::load(Path::new("config-examples/simple.yaml"), &NoEnv).expect("valid yaml");
    let toml = config::load(Path::new("config-examples/simple.toml"), &NoEnv).expect("valid toml");
    assert_eq!(config::dump(&yaml), config::dump(&toml));
}

#[test]
fn security_namespaces_outside_their_levels_warn_and_hpkp_is_ignored() {
    let cfg = parse(
        r#"{"version": 3, "extra_config": {"security/http": {"hpkp_public_key": "pin-sha256=\"x\""}},
            "endpoints": [{"endpoint": "/a", "extra_config": {"security/cors": {}, "security/http": {}},
              "backend": [{"url_pattern": "/", "host": ["h:80"], "extra_config": {"security/bot-detector": {}}}]}]}"#,
    );
    let warned = |needle: &str| cfg.warnings.iter().any(|w| w.contains(needle));
    assert!(
        warned("endpoint GET /a: extra_config namespace 'security/cors' is not read at this level"),
        "{:?}",
        cfg.warnings
    );
    assert!(warned("'security/http' is not read at this level by KrakenD (only the root extra_config)"));
    assert!(warned(
        "'security/bot-detector' is not read at this level by KrakenD (only the root extra_config and endpoints)"
    ));
    assert!(warned("extra_config.\"security/http\".hpkp_public_key: HTTP Public Key Pinning is not sent"));
}

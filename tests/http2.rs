//! HTTP/2 for clients: ALPN `h2` over TLS and prior-knowledge h2c with `use_h2c`, driven by curl (built with
//! nghttp2) against the real binary and real loopback backends.

mod support;

use std::process::Command;
use std::time::Duration;

use support::pki::{Ca, PemDir};
use support::{Backend, Gateway, Reply};

/// What curl saw: the HTTP version, the status and the body (`-w` appends the version and status).
#[derive(Debug)]
struct Seen {
    version: String,
    status: u16,
    headers: String,
    body: Vec<u8>,
}

fn curl(args: &[&str]) -> Seen {
    let dir = PemDir::new();
    let headers_file = dir.path.join("headers");
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "10", "-D"])
        .arg(&headers_file)
        .args(["-w", "\n%{http_version} %{http_code}"])
        .args(args)
        .output()
        .expect("curl is installed (.ci/run installs it)");
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let mut body = out.stdout;
    let cut = body.iter().rposition(|&b| b == b'\n').expect("curl's -w line");
    let tail = String::from_utf8(body.split_off(cut)).unwrap();
    let (version, status) = tail.trim().split_once(' ').unwrap();
    let headers = std::fs::read_to_string(headers_file).unwrap_or_default();
    Seen { version: version.to_owned(), status: status.parse().unwrap(), headers, body }
}

struct Tls {
    dir: PemDir,
    ca_file: String,
    tls: String,
}

fn tls_files() -> Tls {
    let ca = Ca::new("h2 CA");
    let dir = PemDir::new();
    let leaf = ca.server(&["localhost"]);
    let tls = format!(
        r#"{{"keys":[{{"public_key":"{}","private_key":"{}"}}]}}"#,
        dir.write("s.crt", &leaf.cert_pem),
        dir.write("s.key", &leaf.key_pem)
    );
    let ca_file = dir.write("ca.pem", &ca.pem());
    Tls { dir, ca_file, tls }
}

fn gateway_config(extra_root: &str) -> String {
    format!(
        r#"{{"version":3,"echo_endpoint":true,{extra_root}"endpoints":[
            {{"endpoint":"/users/{{id}}","backend":[{{"host":["{{{{b}}}}"],"url_pattern":"/u/{{id}}"}}]}},
            {{"endpoint":"/upload","method":"POST","output_encoding":"no-op",
              "backend":[{{"encoding":"no-op","host":["{{{{b}}}}"],"url_pattern":"/upload"}}]}},
            {{"endpoint":"/big","output_encoding":"no-op",
              "backend":[{{"encoding":"no-op","host":["{{{{b}}}}"],"url_pattern":"/big"}}]}},
            {{"endpoint":"/many","output_encoding":"no-op",
              "backend":[{{"encoding":"no-op","host":["{{{{b}}}}"],"url_pattern":"/many"}}]}}
        ]}}"#
    )
}

fn backend() -> support::RunningBackend {
    let big: Vec<u8> = (0..1_500_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let many = (0..100).fold(Reply::status(200).body(b"many"), |r, i| r.header(&format!("X-H{i}"), "v"));
    Backend::new()
        .route("/many", many)
        .route("/u/7", Reply::json(200, r#"{"id":7,"name":"ada"}"#))
        .route("/upload", Reply::status(201).header("Content-Type", "text/plain").body(b"stored"))
        .route(
            "/big",
            Reply::status(200)
                .header("Content-Type", "application/octet-stream")
                .chunked(&[&big[..700_000], &big[700_000..]], Duration::from_millis(20)),
        )
        .start()
}

#[test]
fn h2_over_tls_with_alpn() {
    let t = tls_files();
    let b = backend();
    let g = Gateway::new(&gateway_config(&format!(r#""tls":{},"#, t.tls))).with("b", &b.url()).start();
    let base = format!("https://localhost:{}", g.port);
    let ca = ["--cacert", t.ca_file.as_str(), "--http2"];

    let seen = curl(&[&ca[..], &[&format!("{base}/users/7")]].concat());
    assert_eq!((seen.version.as_str(), seen.status), ("2", 200), "{seen:?}");
    assert_eq!(seen.body, br#"{"id":7,"name":"ada"}"#);
    assert!(seen.headers.contains("x-krakend-completed: true"), "{}", seen.headers);
    assert!(seen.headers.contains("content-type: application/json; charset=utf-8"), "{}", seen.headers);

    // A body of unknown length (curl -T from stdin: no content-length, DATA frames to the end of the stream) is
    // streamed to the single backend, and read whole where the handler needs it (/__echo/).
    let upload: Vec<u8> = (0..300_000u32).map(|i| b'0' + (i % 10) as u8).collect();
    let file = t.dir.write("upload.bin", std::str::from_utf8(&upload).unwrap());
    let stdin = std::fs::File::open(&file).unwrap();
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "10", "--cacert", &t.ca_file, "--http2", "-X", "POST", "-T", "-"])
        .args(["-w", "\n%{http_version} %{http_code}", &format!("{base}/upload")])
        .stdin(stdin)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("stored\n2 201"), "{out:?}");
    assert_eq!(b.requests().last().map(|r| r.body.len()), Some(upload.len()));
    assert!(b.requests().last().is_some_and(|r| r.body == upload));
    let stdin = std::fs::File::open(&file).unwrap();
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "10", "--cacert", &t.ca_file, "--http2", "-X", "POST", "-T", "-"])
        .arg(format!("{base}/__echo/up"))
        .stdin(stdin)
        .output()
        .unwrap();
    let echo: serde_json::Value = serde_json::from_slice(&out.stdout).expect("echo JSON");
    assert_eq!(echo["req_body"].as_str().map(str::len), Some(upload.len()));

    // A request body goes to the backend; a streamed `no-op` body of 1.5 MB comes back whole through flow control.
    let seen = curl(&[&ca[..], &["-X", "POST", "--data-binary", "payload!", &format!("{base}/upload")]].concat());
    assert_eq!((seen.version.as_str(), seen.status, seen.body.as_slice()), ("2", 201, &b"stored"[..]));
    assert_eq!(b.requests().last().map(|r| r.body.clone()), Some(b"payload!".to_vec()));
    let seen = curl(&[&ca[..], &[&format!("{base}/big")]].concat());
    assert_eq!((seen.version.as_str(), seen.status, seen.body.len()), ("2", 200, 1_500_000));
    assert!(seen.body.iter().enumerate().all(|(i, &c)| c == b'a' + (i % 26) as u8));

    // A `no-op` answer with a hundred backend headers keeps them all.
    let seen = curl(&[&ca[..], &[&format!("{base}/many")]].concat());
    assert_eq!((seen.version.as_str(), seen.status, seen.body.as_slice()), ("2", 200, &b"many"[..]));
    assert_eq!(seen.headers.matches("x-h").count(), 100, "{}", seen.headers);

    // Router answers keep their status and headers.
    let seen = curl(&[&ca[..], &[&format!("{base}/nowhere")]].concat());
    assert_eq!((seen.version.as_str(), seen.status, seen.body.as_slice()), ("2", 404, &b"404 page not found"[..]));

    // Many streams on one connection at once.
    let urls: Vec<String> = (0..20).map(|_| format!("{base}/users/7")).collect();
    let mut args: Vec<&str> =
        vec!["--cacert", &t.ca_file, "--http2", "--parallel", "--parallel-immediate", "-o", "/dev/null"];
    for u in &urls {
        args.push(u);
        args.push("-o");
        args.push("/dev/null");
    }
    args.truncate(args.len() - 2);
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "10", "-w", "%{http_version}/%{http_code} "])
        .args(&args)
        .output()
        .unwrap();
    let codes = String::from_utf8_lossy(&out.stdout);
    assert_eq!(codes.matches("2/200").count(), 20, "{codes}");
    drop(t.dir);
}

#[test]
fn http1_still_served_over_tls_without_h2() {
    let t = tls_files();
    let b = backend();
    let g = Gateway::new(&gateway_config(&format!(r#""tls":{},"#, t.tls))).with("b", &b.url()).start();
    let seen = curl(&["--cacert", &t.ca_file, "--http1.1", &format!("https://localhost:{}/users/7", g.port)]);
    assert_eq!((seen.version.as_str(), seen.status), ("1.1", 200), "{seen:?}");
}

#[test]
fn h2c_with_prior_knowledge_when_enabled() {
    let b = backend();
    let g = Gateway::new(&gateway_config(r#""use_h2c":true,"#)).with("b", &b.url()).start();
    let url = format!("http://127.0.0.1:{}/users/7", g.port);
    let seen = curl(&["--http2-prior-knowledge", &url]);
    assert_eq!((seen.version.as_str(), seen.status), ("2", 200), "{seen:?}");
    assert_eq!(seen.body, br#"{"id":7,"name":"ada"}"#);
    // More header fields than the gateway takes: 431, as over HTTP/1.1.
    let many: Vec<String> = (0..120).map(|i| format!("X-H{i}: v")).collect();
    let mut args: Vec<&str> = vec!["--http2-prior-knowledge"];
    for h in &many {
        args.extend(["-H", h.as_str()]);
    }
    args.push(&url);
    let seen = curl(&args);
    assert_eq!((seen.version.as_str(), seen.status), ("2", 431), "{seen:?}");
    // HTTP/1.1 goes on working on the same listener.
    let seen = curl(&["--http1.1", &url]);
    assert_eq!((seen.version.as_str(), seen.status), ("1.1", 200));
}

#[test]
fn no_h2c_without_use_h2c() {
    let b = backend();
    let g = Gateway::new(&gateway_config("")).with("b", &b.url()).start();
    let out = Command::new("curl")
        .args(["-s", "--max-time", "5", "--http2-prior-knowledge"])
        .arg(format!("http://127.0.0.1:{}/users/7", g.port))
        .output()
        .unwrap();
    assert!(!out.status.success(), "h2c must not be spoken without use_h2c");
}

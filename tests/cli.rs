//! The command line: `check` messages and exit codes, `run` failures, env overrides and `-p` (AC-45..47).

mod support;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{bin, Backend, Gateway, Reply, TempConfig};

/// Runs the binary with `args` (bounded: `run` commands here all fail fast or are killed by the caller).
fn ringway(args: &[&str], config: Option<&TempConfig>) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    if let Some(c) = config {
        cmd.arg(&c.path);
    }
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn ringway");
    wait_output(child, Duration::from_secs(10))
}

fn wait_output(mut child: std::process::Child, limit: Duration) -> Output {
    let end = Instant::now() + limit;
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() >= end {
            let _ = child.kill();
            panic!("ringway did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("collect output")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const CONFLICT: &str = r#"{"version":3,"endpoints":[
    {"endpoint":"/user/{userid}","backend":[{"host":["http://a:8000"],"url_pattern":"/a"}]},
    {"endpoint":"/user/{iduser}/some","backend":[{"host":["http://a:8000"],"url_pattern":"/a"}]}]}"#;

const DUPLICATE: &str = r#"{"version":3,"endpoints":[
    {"endpoint":"/x","backend":[{"host":["http://a:8000"],"url_pattern":"/a"}]},
    {"endpoint":"/x","backend":[{"host":["http://a:8000"],"url_pattern":"/b"}]}]}"#;

#[test]
fn ac46_check_ok() {
    let cfg = TempConfig::new(r#"{"version":3}"#, "json");
    let out = ringway(&["check", "-c"], Some(&cfg));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), format!("Parsing configuration file: {}\nSyntax OK!\n", cfg.path.display()));
}

#[test]
fn ac46_check_unsupported_version() {
    let cfg = TempConfig::new(r#"{"version":2}"#, "json");
    let out = ringway(&["check", "-c"], Some(&cfg));
    assert_eq!(out.status.code(), Some(1));
    let p = cfg.path.display();
    assert_eq!(
        text(&out.stdout),
        format!("Parsing configuration file: {p}\nERROR parsing the configuration file:\t'{p}': unsupported version: 2 (want: 3)\n")
    );
}

#[test]
fn ac46_validate_alias() {
    let cfg = TempConfig::new(r#"{"version":3}"#, "json");
    let out = ringway(&["validate", "-c"], Some(&cfg));
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).ends_with("Syntax OK!\n"));
}

#[test]
fn ac46_run_with_bad_config_exits_255() {
    let cfg = TempConfig::new(r#"{"version":2}"#, "json");
    let out = ringway(&["run", "-c"], Some(&cfg));
    assert_eq!(out.status.code(), Some(255));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "ERROR parsing the configuration file: '{}': unsupported version: 2 (want: 3)",
            cfg.path.display()
        )),
        "{err}"
    );
}

#[test]
fn ac46_run_without_config() {
    let out = ringway(&["run"], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "Please, provide the path to the configuration file with --config or see all the options with --help\n"
    );
    let out = ringway(&["check"], None);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn ac46_undefined_output_param() {
    let cfg = TempConfig::new(
        r#"{"version":3,"endpoints":[{"endpoint":"/a/{id}","backend":[{"host":["http://a:8000"],"url_pattern":"/b/{other}"}]}]}"#,
        "json",
    );
    let out = ringway(&["check", "-c"], Some(&cfg));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("undefined output param 'other'!"), "{}", text(&out.stdout));
    let out = ringway(&["run", "-c"], Some(&cfg));
    assert_eq!(out.status.code(), Some(255));
    assert!(text(&out.stderr).contains("undefined output param 'other'!"));
}

#[test]
fn missing_file_fails() {
    let out = Command::new(bin()).args(["check", "-c", "/nonexistent/ringway.json"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("ERROR parsing the configuration file:"));
}

#[test]
fn version_prints_three_lines() {
    let out = ringway(&["version"], None);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(s.starts_with("Ringway Version: 0.1.0\n"), "{s}");
    assert_eq!(s.lines().count(), 3, "{s}");
}

#[test]
fn ac47_conflicts_found_by_check() {
    // KrakenD needs `check -t` (it starts gin to see the panic); Ringway's plain `check` builds the routes already.
    for (cfg, why) in
        [(CONFLICT, "a variable at the same position must have the same name"), (DUPLICATE, "declared twice")]
    {
        for args in [&["check", "-c"][..], &["check", "-t", "-c"][..]] {
            let file = TempConfig::new(cfg, "json");
            let out = ringway(args, Some(&file));
            assert_eq!(out.status.code(), Some(1));
            let s = text(&out.stdout);
            assert!(s.contains("ERROR parsing the configuration file:\t"), "{s}");
            assert!(s.contains("route conflict: "), "{s}");
            assert!(s.contains(why), "{s}");
        }
    }
}

#[test]
fn ac47_conflicts_stop_run() {
    for cfg in [CONFLICT, DUPLICATE] {
        let file = TempConfig::new(cfg, "json");
        let port = support::free_port().to_string();
        let out = ringway(&["run", "-p", &port, "-c"], Some(&file));
        assert_ne!(out.status.code(), Some(0));
        assert!(text(&out.stderr).contains("route conflict: "), "{}", text(&out.stderr));
    }
}

#[test]
fn ac47_same_variable_names_are_fine() {
    let cfg = r#"{"version":3,"endpoints":[
        {"endpoint":"/user/{userid}","backend":[{"host":["http://a:8000"],"url_pattern":"/a"}]},
        {"endpoint":"/user/{userid}/some","backend":[{"host":["http://a:8000"],"url_pattern":"/a"}]}]}"#;
    let file = TempConfig::new(cfg, "json");
    let out = ringway(&["check", "-t", "-c"], Some(&file));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let gw = Gateway::start(cfg);
    assert_eq!(gw.get("/__health").status, 200);
}

#[test]
fn ac45_env_overrides_port_and_timeout() {
    let slow = Backend::new().route("/slow", Reply::json(200, "{}").delay(Duration::from_secs(2))).start();
    let cfg = r#"{"version":3,"timeout":"3s","name":"Example gateway.","cache_ttl":"0s",
        "endpoints":[{"endpoint":"/slow","backend":[{"host":["{{b}}"],"url_pattern":"/slow"}]}]}"#;
    let gw = Gateway::new(cfg)
        .with("b", &slow.url())
        .without_port_flag()
        .env("KRAKEND_PORT", "{{port}}")
        .env("KRAKEND_TIMEOUT", "500ms")
        .env("KRAKEND_NAME", "Build ABC0123")
        .start();
    let started = Instant::now();
    let res = gw.get("/slow");
    let took = started.elapsed();
    assert_eq!(res.status, 500);
    assert!(took < Duration::from_millis(1500), "KRAKEND_TIMEOUT=500ms applies, not the file's 3s: {took:?}");
}

#[test]
fn ac45_port_flag_beats_env() {
    let gw = Gateway::new(r#"{"version":3,"port":1}"#).env("KRAKEND_PORT", "2").start();
    // `start` passed `-p <free port>` and found /__health there.
    assert_eq!(gw.get("/__health").status, 200);
}

#[test]
fn ac45_env_override_in_check_dump() {
    let cfg = TempConfig::new(r#"{"version":3,"port":8080}"#, "json");
    let out = Command::new(bin())
        .args(["check", "-d", "-c"])
        .arg(&cfg.path)
        .env("KRAKEND_PORT", "9000")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(s.contains("9000"), "{s}");
}

#[test]
fn port_in_use_fails() {
    let holder = std::net::TcpListener::bind("0.0.0.0:0").expect("bind");
    let port = holder.local_addr().expect("addr").port().to_string();
    let cfg = TempConfig::new(r#"{"version":3}"#, "json");
    let out = ringway(&["run", "-p", &port, "-c"], Some(&cfg));
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("address already in use"), "{}", text(&out.stderr));
}

#[test]
fn yaml_config_runs() {
    let file = TempConfig::new("version: 3\necho_endpoint: true\n", "yaml");
    let port = support::free_port();
    let child = Command::new(bin())
        .args(["run", "-w", "1", "--no-pin", "-p", &port.to_string(), "-c"])
        .arg(&file.path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let end = Instant::now() + Duration::from_secs(10);
    let mut child = Guard(child);
    loop {
        if let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Write;
            c.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
            c.write_all(b"GET /__echo/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("write");
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut c, &mut s);
            assert!(s.starts_with("HTTP/1.1 200"), "{s}");
            break;
        }
        assert!(Instant::now() < end, "the YAML-configured gateway never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.0.kill().expect("kill");
}

/// Kills the child if the test panics.
struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

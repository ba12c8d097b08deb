//! The real `ringway` binary, started on a free port with a rendered config; SIGTERM and wait on drop.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::client::ClientConn;

/// How long the gateway may take to answer `/__health` after start.
const START_TIMEOUT: Duration = Duration::from_secs(10);

static FILES: AtomicUsize = AtomicUsize::new(0);

/// A config file in the temp dir, removed on drop.
#[derive(Debug)]
pub struct TempConfig {
    pub path: PathBuf,
}

impl TempConfig {
    /// Writes `content` to a fresh file whose name ends with `ext` (`json`, `yaml`, …).
    pub fn new(content: &str, ext: &str) -> TempConfig {
        let n = FILES.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("ringway-test-{}-{n}.{ext}", std::process::id()));
        std::fs::write(&path, content).expect("write the config file");
        TempConfig { path }
    }
}

impl Drop for TempConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    l.local_addr().expect("local address").port()
}

/// Path of the binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ringway")
}

/// Starts the gateway: `Gateway::new(cfg).with("users", &users.url()).start()`.
#[derive(Debug, Clone)]
pub struct GatewayBuilder {
    config: String,
    vars: Vec<(String, String)>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    port_flag: bool,
}

impl GatewayBuilder {
    /// Replaces `{{name}}` in the config with `value`.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    /// An extra `run` argument (`-d`).
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_owned());
        self
    }

    /// An environment variable for the process (`{{port}}` in the value is the gateway's port).
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_owned(), v.to_owned()));
        self
    }

    /// Don't pass `-p`: the port comes from the config or the environment (`{{port}}` is still the chosen one).
    pub fn without_port_flag(mut self) -> Self {
        self.port_flag = false;
        self
    }

    pub fn start(self) -> Gateway {
        // A port picked now could be taken before the gateway binds it; retry a few times.
        let mut last = String::new();
        for _ in 0..3 {
            match self.try_start(free_port()) {
                Ok(g) => return g,
                Err(e) => last = e,
            }
        }
        panic!("the gateway did not start: {last}");
    }

    /// Starts on `port` and waits for `/__health`, or returns what went wrong with the process output.
    pub fn try_start(&self, port: u16) -> Result<Gateway, String> {
        let mut config = self.config.replace("{{port}}", &port.to_string());
        for (k, v) in &self.vars {
            config = config.replace(&format!("{{{{{k}}}}}"), v);
        }
        let file = TempConfig::new(&config, "json");
        let mut cmd = Command::new(bin());
        cmd.arg("run").arg("-c").arg(&file.path).args(["-w", "2", "--no-pin"]);
        if self.port_flag {
            cmd.args(["-p", &port.to_string()]);
        }
        cmd.args(&self.args).envs(self.env.iter().map(|(k, v)| (k, v.replace("{{port}}", &port.to_string()))));
        let mut g = spawn(cmd, port, file);
        let end = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = g.child.try_wait() {
                g.exited = Some(status);
                return Err(format!("exited with {status}; stderr:\n{}", g.stderr()));
            }
            if health_ok(port) {
                return Ok(g);
            }
            if Instant::now() >= end {
                return Err(format!("no /__health answer in {START_TIMEOUT:?}; stderr:\n{}", g.stderr()));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

fn health_ok(port: u16) -> bool {
    let Ok(stream) = std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
    else {
        return false;
    };
    drop(stream);
    let mut c = ClientConn::open(port);
    c.set_read_timeout(Duration::from_secs(2));
    if c.try_send(format!("GET /__health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").as_bytes())
        .is_err()
    {
        return false;
    }
    // A config with `disable_health` answers 404: the server is up all the same.
    c.try_read_response(false).is_ok()
}

fn spawn(mut cmd: Command, port: u16, file: TempConfig) -> Gateway {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn the ringway binary");
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let stdout = Arc::new(Mutex::new(Vec::new()));
    pump(child.stderr.take().expect("stderr pipe"), stderr.clone());
    pump(child.stdout.take().expect("stdout pipe"), stdout.clone());
    Gateway { child, port, stderr, stdout, exited: None, _file: file }
}

fn pump(mut from: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock().expect("output buffer").extend_from_slice(&buf[..n]);
        }
    });
}

/// A running gateway process.
#[derive(Debug)]
pub struct Gateway {
    child: Child,
    pub port: u16,
    stderr: Arc<Mutex<Vec<u8>>>,
    stdout: Arc<Mutex<Vec<u8>>>,
    exited: Option<ExitStatus>,
    _file: TempConfig,
}

impl Gateway {
    /// A builder for the config template `config` (`{{name}}` placeholders, `{{port}}` = the gateway's port).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(config: &str) -> GatewayBuilder {
        GatewayBuilder {
            config: config.to_owned(),
            vars: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            port_flag: true,
        }
    }

    /// Starts `config` as is.
    pub fn start(config: &str) -> Gateway {
        Gateway::new(config).start()
    }

    /// `http://127.0.0.1:PORT`, for configs that use the gateway as its own backend.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn get(&self, path: &str) -> super::Response {
        super::client::get(self.port, path, &[])
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> super::Response {
        super::client::get(self.port, path, headers)
    }

    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> super::Response {
        super::client::send(self.port, method, path, headers, body)
    }

    pub fn conn(&self) -> ClientConn {
        ClientConn::open(self.port)
    }

    /// Everything the process wrote to stderr so far (logs, access log).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().expect("stderr buffer")).into_owned()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().expect("stdout buffer")).into_owned()
    }

    /// Waits up to `timeout` until stderr contains `needle`.
    pub fn wait_stderr(&self, needle: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.stderr().contains(needle) {
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        self.stderr().contains(needle)
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        signal(self.child.id(), libc::SIGTERM);
    }

    /// Waits for the process to exit, up to `timeout` (then kills it and panics).
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        if let Some(s) = self.exited {
            return s;
        }
        let end = Instant::now() + timeout;
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                self.exited = Some(s);
                return s;
            }
            if Instant::now() >= end {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the gateway did not exit within {timeout:?}; stderr:\n{}", self.stderr());
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The config file the gateway was started with.
    pub fn config_path(&self) -> &Path {
        &self._file.path
    }
}

fn signal(pid: u32, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(pid).expect("pid fits pid_t");
    // A plain libc call: tests are outside the crate's `unsafe_code` lint, and kill(2) has no memory effects.
    #[allow(unsafe_code)]
    // SAFETY: kill(2) only takes integers; the pid is our own child, not yet reaped.
    unsafe {
        libc::kill(pid, sig);
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if self.exited.is_some() {
            return;
        }
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        signal(self.child.id(), libc::SIGTERM);
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

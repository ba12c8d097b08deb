//! One worker: a monoio runtime on its own thread (pinned to a core), with its own listener, router, endpoint
//! pipes, backend pool and access log.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use monoio::net::{ListenerOpts, TcpListener};

use crate::backend::cache::Buckets;
use crate::backend::Client;
use crate::config::ServiceConfig;
use crate::proxy::Endpoint;
use crate::router::Router;
use crate::telemetry::logging::{self, AccessLog};

use super::shutdown;

/// How often an idle accept loop looks at the shutdown flag.
const SHUTDOWN_POLL: Duration = Duration::from_millis(50);

/// io_uring submission queue size per worker.
const URING_ENTRIES: u32 = 1024;

/// Everything one core needs to serve requests, built on that core.
#[derive(Debug)]
pub struct Worker {
    pub index: usize,
    pub config: Arc<ServiceConfig>,
    pub router: Router,
    pub endpoints: Vec<Endpoint>,
    pub client: Client,
    /// `qos/http-cache` buckets of this core: each cached backend holds its own; `shared: true` backends share one
    /// per worker (so "shared" and hit rates are per core).
    pub caches: Buckets,
    pub log: AccessLog,
    /// The `X-Krakend` value: `Version X`, or `Version undefined` with `hide_version_header`.
    pub x_krakend: Vec<u8>,
    /// Process start, for the monotonic part of `/__health`'s `now`.
    pub started: Instant,
    /// Requests being handled now (drained on shutdown).
    pub in_flight: Cell<usize>,
    /// This core's TLS acceptor when the listener is HTTPS.
    pub tls: Option<super::tls::Acceptor>,
    /// The service-level security components (CORS, `security/http`, bot detector, IP filter), if any.
    pub security: Option<Box<crate::security::ServiceSecurity>>,
}

impl Worker {
    pub fn build(
        index: usize,
        config: Arc<ServiceConfig>,
        tls: Option<&rustls::ServerConfig>,
        started: Instant,
    ) -> Result<Worker, String> {
        let router = Router::build(&config).map_err(|e| e.to_string())?;
        let caches = Buckets::default();
        let endpoints = config
            .endpoints
            .iter()
            .map(|e| Endpoint::build(e, &config, index, &caches))
            .collect::<Result<Vec<_>, _>>()?;
        let router_opts = &config.router;
        let x_krakend = if router_opts.hide_version_header {
            b"Version undefined".to_vec()
        } else {
            format!("Version {}", crate::config::VERSION).into_bytes()
        };
        Ok(Worker {
            index,
            router,
            endpoints,
            client: Client::new(config.client.clone()),
            caches,
            log: AccessLog::new(!router_opts.disable_access_log, router_opts.logger_skip_paths.clone()),
            x_krakend,
            started,
            in_flight: Cell::new(0),
            tls: tls.map(super::tls::Acceptor::for_core),
            security: crate::security::ServiceSecurity::build(&config.extra_config, &mut Vec::new())?.map(Box::new),
            config,
        })
    }
}

/// Whether this kernel runs io_uring (monoio falls back to epoll otherwise, or with `MONOIO_FORCE_LEGACY_DRIVER=1`).
pub fn uring_available() -> bool {
    monoio::utils::detect_uring()
}

static PROCESS_START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// The body of a worker thread: builds the runtime and serves until shutdown.
pub fn run_worker(
    index: usize,
    config: Arc<ServiceConfig>,
    tls: Option<Arc<rustls::ServerConfig>>,
    addr: SocketAddr,
    pin: bool,
    uring: bool,
    ready: Sender<Result<(), String>>,
) {
    if pin {
        // Pick among the CPUs this process may use (`taskset -c 1 ringway run -w 1` must stay on CPU 1), not
        // among 0..available_parallelism, which is a count and not a set of CPU ids.
        let cpus = allowed_cpus();
        let cpu = if cpus.is_empty() {
            index % std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            cpus[index % cpus.len()]
        };
        // Best effort: a container may not let us pin; the worker still runs.
        let _ = monoio::utils::bind_to_cpu_set([cpu]);
    }
    let started = *PROCESS_START.get_or_init(Instant::now);
    let serve = async move {
        let worker = match Worker::build(index, config.clone(), tls.as_deref(), started) {
            Ok(w) => Rc::new(w),
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let opts = ListenerOpts::new().reuse_port(true).backlog(4096);
        let listener = match TcpListener::bind_with_config(addr, &opts) {
            Ok(l) => l,
            Err(e) => {
                let _ = ready.send(Err(format!("listen tcp {addr}: {e}")));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        accept_loop(&worker, listener).await;
        drain(&worker).await;
        worker.log.flush();
    };
    if uring {
        // Cooperative task running first (Linux 5.19+), the plain ring where the kernel refuses that flag.
        match uring_runtime(true).or_else(|_| uring_runtime(false)) {
            Ok(mut rt) => return rt.block_on(serve),
            Err(e) => logging::warn(&format!("worker {index}: io_uring unavailable ({e}), using the legacy driver")),
        }
    }
    match monoio::RuntimeBuilder::<monoio::LegacyDriver>::new().enable_timer().build() {
        Ok(mut rt) => rt.block_on(serve),
        Err(e) => logging::error(&format!("worker {index}: cannot start a runtime: {e}")),
    }
}

/// A monoio runtime on an io_uring of `URING_ENTRIES`. With `coop_taskrun`, the kernel does not interrupt the
/// worker when a completion is ready (`IORING_SETUP_COOP_TASKRUN`): completions are run when the worker next
/// enters the kernel, which it does once per loop to submit and wait anyway. A worker is the ring's only user,
/// so nothing waits longer for it; measured on the proxy loop, 5–8 % less CPU per request (`docs/profiling.md`).
/// Public for the load test's bare reference proxy (`examples/bare_proxy.rs`), which must run on the same ring.
pub fn uring_runtime(
    coop_taskrun: bool,
) -> std::io::Result<monoio::Runtime<monoio::time::TimeDriver<monoio::IoUringDriver>>> {
    let mut ring = io_uring::IoUring::builder();
    if coop_taskrun {
        ring.setup_coop_taskrun();
    }
    monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
        .with_entries(URING_ENTRIES)
        .uring_builder(ring)
        .enable_timer()
        .build()
}

/// The CPUs this thread may run on (inherited from the process: `taskset`, cgroups' cpusets), read from
/// `Cpus_allowed_list` in /proc; empty when unreadable.
fn allowed_cpus() -> Vec<usize> {
    std::fs::read_to_string("/proc/thread-self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:").map(parse_cpu_list)))
        .unwrap_or_default()
}

/// Parses a kernel CPU list such as `0-3,8,10-11`; empty on any malformed part.
fn parse_cpu_list(list: &str) -> Vec<usize> {
    let mut cpus = Vec::new();
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        let range = match part.split_once('-') {
            Some((a, b)) => a.parse::<usize>().ok().zip(b.parse::<usize>().ok()),
            None => part.parse::<usize>().ok().map(|a| (a, a)),
        };
        match range {
            Some((a, b)) if a <= b => cpus.extend(a..=b),
            _ => return Vec::new(),
        }
    }
    cpus
}

async fn accept_loop(worker: &Rc<Worker>, listener: TcpListener) {
    let mut last_flush = Instant::now();
    loop {
        // One accept stays in flight across the shutdown polls. With io_uring, dropping an accept the kernel has
        // already completed loses that connection: its client would wait forever.
        let mut accept = std::pin::pin!(listener.accept());
        let accepted = loop {
            monoio::select! {
                accepted = &mut accept => break accepted,
                _ = monoio::time::sleep(SHUTDOWN_POLL) => {
                    if shutdown::requested() {
                        return;
                    }
                    if last_flush.elapsed() >= Duration::from_secs(1) {
                        worker.log.flush();
                        last_flush = Instant::now();
                    }
                }
            }
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                monoio::spawn(super::conn::accept(stream, peer, worker.clone()));
            }
            Err(e) => {
                // EMFILE and friends: back off instead of spinning; the listener stays up.
                logging::error(&format!("accept: {e}"));
                monoio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        if last_flush.elapsed() >= Duration::from_secs(1) {
            worker.log.flush();
            last_flush = Instant::now();
        }
    }
}

/// Waits for in-flight requests, up to `max_shutdown_wait_time` (forever when unset, as KrakenD).
async fn drain(worker: &Rc<Worker>) {
    let deadline = worker.config.max_shutdown_wait_time.map(|d| Instant::now() + d);
    while worker.in_flight.get() > 0 {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            logging::warn(&format!("worker {}: {} request(s) cut at shutdown", worker.index, worker.in_flight.get()));
            return;
        }
        monoio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_list;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("1\n"), vec![1]);
        assert_eq!(parse_cpu_list("\t0-3,8,10-11"), vec![0, 1, 2, 3, 8, 10, 11]);
        assert_eq!(parse_cpu_list("3-1"), Vec::<usize>::new());
        assert_eq!(parse_cpu_list("x"), Vec::<usize>::new());
    }
}

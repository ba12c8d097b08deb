//! The HTTP server: one monoio runtime per core, each with its own `SO_REUSEPORT` listener, router, endpoint
//! pipes and backend pools. Workers share nothing mutable; the only cross-thread state is the shutdown flag.

pub mod body;
pub mod conn;
pub mod dispatch;
pub mod h1;
pub mod h2;
pub mod noop_body;
pub mod shutdown;
pub mod stream;
pub mod tls;
pub mod worker;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use crate::config::ServiceConfig;
use crate::telemetry::logging;

/// How to run the server.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Worker threads (one runtime and listener each); `0` = one per available core.
    pub workers: usize,
    /// Pin each worker to its own core.
    pub pin: bool,
}

/// Resolves `0` to the number of cores this process may use.
pub fn worker_count(requested: usize) -> usize {
    if requested > 0 {
        return requested;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The address the listeners bind: `listen_ip`, else every address (dual-stack where IPv6 is available).
pub fn listen_addrs(config: &ServiceConfig) -> Vec<SocketAddr> {
    match config.listen_ip {
        Some(ip) => vec![SocketAddr::new(ip, config.port)],
        None => vec![
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), config.port),
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), config.port),
        ],
    }
}

/// Runs the gateway until SIGTERM/SIGINT, then drains in-flight requests and returns.
pub fn run(config: Arc<ServiceConfig>, options: RunOptions) -> Result<(), String> {
    // Build once on this thread so a config the router rejects fails before any thread starts.
    crate::router::Router::build(&config).map_err(|e| e.to_string())?;
    // Certificates are read once, before any thread starts: a bad file stops the start-up with its key and path.
    let tls = config.tls.as_ref().map(tls::server_config).transpose()?;
    let addr = exclusive_bind_check(&config)?;
    shutdown::install_handlers()?;
    let workers = worker_count(options.workers);
    let uring = crate::server::worker::uring_available();
    logging::info(&format!(
        "Starting Ringway v{} with {workers} worker(s), {} driver",
        crate::config::VERSION,
        if uring { "io_uring" } else { "legacy (epoll)" }
    ));
    if let Ok(dir) = std::env::current_dir() {
        logging::info(&format!("Working directory is {}", dir.display()));
    }
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let mut handles = Vec::with_capacity(workers);
    for index in 0..workers {
        let config = config.clone();
        let tls = tls.clone();
        let ready = ready_tx.clone();
        let pin = options.pin;
        let handle = std::thread::Builder::new()
            .name(format!("ringway-worker-{index}"))
            .spawn(move || worker::run_worker(index, config, tls, addr, pin, uring, ready))
            .map_err(|e| format!("spawning worker {index}: {e}"))?;
        handles.push(handle);
    }
    drop(ready_tx);
    for _ in 0..workers {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                shutdown::request();
                return Err(e);
            }
            Err(_) => return Err("a worker stopped during start-up".to_owned()),
        }
    }
    let scheme = if tls.is_some() { " (TLS)" } else { "" };
    logging::info(&format!("[SERVICE: Ringway] Listening on port: {}{scheme}", config.port));
    for h in handles {
        let _ = h.join();
    }
    logging::info("Server stopped");
    Ok(())
}

/// Binds once without `SO_REUSEPORT` to find out whether another process holds the port: monoio's listeners set
/// `SO_REUSEPORT`, and a second gateway would otherwise silently share the port (KrakenD fails with "address in
/// use"). Returns the address the workers bind.
fn exclusive_bind_check(config: &ServiceConfig) -> Result<SocketAddr, String> {
    let mut last_err = None;
    for addr in listen_addrs(config) {
        match std::net::TcpListener::bind(addr) {
            Ok(_) => return Ok(addr),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                return Err(format!("listen tcp {addr}: bind: address already in use"));
            }
            Err(e) => last_err = Some(format!("listen tcp {addr}: {e}")),
        }
    }
    Err(last_err.unwrap_or_else(|| "no address to listen on".to_owned()))
}

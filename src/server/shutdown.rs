//! Graceful shutdown: SIGTERM/SIGINT set one process-wide flag that each worker polls; no per-request cost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::sync::OnceLock;

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

fn flag() -> &'static Arc<AtomicBool> {
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Routes SIGTERM and SIGINT to the shutdown flag.
pub fn install_handlers() -> Result<(), String> {
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, flag().clone()).map_err(|e| format!("installing signal handler: {e}"))?;
    }
    Ok(())
}

/// Whether shutdown was asked for.
pub fn requested() -> bool {
    flag().load(Ordering::Relaxed)
}

/// Asks every worker to stop (used on start-up failure and by tests).
pub fn request() {
    flag().store(true, Ordering::Relaxed);
}

/// Clears the flag (tests that run several gateways in one process).
pub fn reset() {
    flag().store(false, Ordering::Relaxed);
}

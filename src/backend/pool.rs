//! This worker's idle backend connections, per host: `Rc<RefCell<…>>`, no locks, nothing shared with other cores.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::conn::Conn;

/// Idle keep-alive connections by `host:port`. Bounded per host (`max_idle_connections_per_host`) and in total
/// (`max_idle_connections`, 0 = unbounded), both counted per worker.
#[derive(Debug)]
pub struct Pool {
    idle: RefCell<HashMap<String, Vec<(Conn, Instant)>>>,
    total: std::cell::Cell<usize>,
    max_per_host: usize,
    max_total: usize,
    idle_timeout: Option<Duration>,
}

impl Pool {
    pub fn new(max_per_host: usize, max_total: usize, idle_timeout: Option<Duration>) -> Self {
        Pool { idle: RefCell::new(HashMap::new()), total: 0.into(), max_per_host, max_total, idle_timeout }
    }

    /// The most recently used idle connection to `key` that has not outlived `idle_connection_timeout`.
    pub fn take(&self, key: &str) -> Option<Conn> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(key)?;
        while let Some((conn, since)) = list.pop() {
            self.total.set(self.total.get() - 1);
            if self.idle_timeout.is_none_or(|t| since.elapsed() < t) {
                return Some(conn);
            }
        }
        None
    }

    /// Like [`Pool::take`], but only a connection idle for less than `max_idle`: a streamed body cannot be sent
    /// again, so it must not go to a connection the backend may be closing right now.
    pub fn take_recent(&self, key: &str, max_idle: Duration) -> Option<Conn> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(key)?;
        while let Some((conn, since)) = list.pop() {
            self.total.set(self.total.get() - 1);
            if since.elapsed() < max_idle && self.idle_timeout.is_none_or(|t| since.elapsed() < t) {
                return Some(conn);
            }
        }
        None
    }

    /// Keeps a connection whose response was read to the end, unless a bound is reached (then it is closed).
    pub fn put(&self, key: &str, mut conn: Conn) {
        if self.max_total != 0 && self.total.get() >= self.max_total {
            return;
        }
        conn.trim_for_idle();
        let mut idle = self.idle.borrow_mut();
        if let Some(list) = idle.get_mut(key) {
            if list.len() >= self.max_per_host {
                return;
            }
            list.push((conn, Instant::now()));
        } else {
            if self.max_per_host == 0 {
                return;
            }
            idle.insert(key.to_owned(), vec![(conn, Instant::now())]);
        }
        self.total.set(self.total.get() + 1);
    }

    /// Idle connections currently held (for tests and metrics).
    pub fn idle_count(&self) -> usize {
        self.total.get()
    }
}

//! Host selection: round robin over a backend's `host` list, per worker (a `Cell`, no atomics).

use std::cell::Cell;

use super::Target;

/// The hosts of one backend and the worker's position in them.
#[derive(Debug)]
pub struct Balancer {
    targets: Vec<Target>,
    next: Cell<usize>,
}

impl Balancer {
    pub fn new(targets: Vec<Target>) -> Self {
        // Workers start at different offsets so N workers spread their first requests over N hosts.
        Balancer { targets, next: Cell::new(0) }
    }

    /// Starts this worker's rotation at `offset`.
    pub fn with_offset(self, offset: usize) -> Self {
        self.next.set(offset);
        self
    }

    /// The next host, or `None` for an empty list (KrakenD's `no hosts available`).
    pub fn pick(&self) -> Option<&Target> {
        if self.targets.is_empty() {
            return None;
        }
        let i = self.next.get() % self.targets.len();
        self.next.set(i + 1);
        Some(&self.targets[i])
    }

    pub fn targets(&self) -> &[Target] {
        &self.targets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_shares_evenly() {
        let b = Balancer::new(vec![
            Target::parse("http://127.0.0.1:1").unwrap(),
            Target::parse("http://127.0.0.1:2").unwrap(),
            Target::parse("http://127.0.0.1:1").unwrap(),
        ]);
        let picks: Vec<u16> = (0..6).map(|_| b.pick().unwrap().port).collect();
        assert_eq!(picks, [1, 2, 1, 1, 2, 1]);
        assert!(Balancer::new(vec![]).pick().is_none());
    }
}

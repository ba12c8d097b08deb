//! This worker's spare byte buffers for backend requests: the request's path and headers, and its wire form.
//!
//! Taking a buffer that an earlier request gave back saves two allocations per backend call (three before the
//! path and header block shared one buffer); measured with `tests/alloc_budget.rs`. Several calls in flight on a
//! worker each hold their own buffer, so this is a small free list, not one buffer.

use std::cell::RefCell;

/// Spare buffers kept per worker; more in flight than this are allocated and freed as usual.
const MAX_SPARE: usize = 64;

/// A buffer that grew past this (a large request body) is freed rather than kept.
const MAX_KEPT_CAPACITY: usize = 64 * 1024;

/// Capacity of a new buffer: a request line and a dozen forwarded headers.
const INITIAL_CAPACITY: usize = 512;

thread_local! {
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer, reused when one is spare.
pub fn take() -> Vec<u8> {
    SPARE.try_with(|s| s.borrow_mut().pop()).ok().flatten().unwrap_or_else(|| Vec::with_capacity(INITIAL_CAPACITY))
}

/// Keeps `buf` for a later [`take`] (unless it is unusually large or enough are spare).
pub fn give_back(mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > MAX_KEPT_CAPACITY {
        return;
    }
    buf.clear();
    let _ = SPARE.try_with(|s| {
        let mut spare = s.borrow_mut();
        if spare.len() < MAX_SPARE {
            spare.push(buf);
        }
    });
}

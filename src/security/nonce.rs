//! Per-worker CSP nonces (`$NONCE` in `security/http.content_security_policy`): 16 random bytes each, as
//! unrolled/secure's `cspRandNonce`, written in unpadded standard base64.
//!
//! The bytes come from the OS (`getrandom`, what Go's `crypto/rand` reads), fetched in blocks of [`BLOCK`] bytes so a
//! worker makes one system call per 64 nonces instead of one per request. A nonce must not be guessable from earlier
//! ones, which rules out a fast non-cryptographic generator seeded once.

use std::cell::{Cell, RefCell};

/// Random bytes in one nonce.
const NONCE_BYTES: usize = 16;
/// Bytes fetched from the OS at a time.
const BLOCK: usize = NONCE_BYTES * 64;
/// Length of a nonce in unpadded base64.
pub const NONCE_LEN: usize = 22;

/// One worker's source of nonces.
#[derive(Debug)]
pub struct NonceSource {
    block: RefCell<[u8; BLOCK]>,
    /// Bytes of `block` already used; `BLOCK` when it must be refilled.
    used: Cell<usize>,
}

impl Default for NonceSource {
    fn default() -> Self {
        NonceSource { block: RefCell::new([0; BLOCK]), used: Cell::new(BLOCK) }
    }
}

impl NonceSource {
    /// A fresh nonce in unpadded standard base64.
    pub fn next(&self) -> [u8; NONCE_LEN] {
        let mut block = self.block.borrow_mut();
        if self.used.get() + NONCE_BYTES > BLOCK {
            if let Err(e) = getrandom::fill(&mut block[..]) {
                // The OS has no randomness to give (never seen on Linux ≥ 3.17): Go's crypto/rand would panic; a
                // repeated nonce is better than a dead worker, and the log says so.
                crate::telemetry::logging::error(&format!("[SERVICE: security/http] no random bytes for $NONCE: {e}"));
            }
            self.used.set(0);
        }
        let at = self.used.get();
        self.used.set(at + NONCE_BYTES);
        let mut bytes = [0u8; NONCE_BYTES];
        bytes.copy_from_slice(&block[at..at + NONCE_BYTES]);
        // Used bytes are not kept around.
        block[at..at + NONCE_BYTES].fill(0);
        base64_raw(&bytes)
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Go's `base64.RawStdEncoding` of 16 bytes.
fn base64_raw(bytes: &[u8; NONCE_BYTES]) -> [u8; NONCE_LEN] {
    let mut out = [0u8; NONCE_LEN];
    let mut o = 0;
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        // A full chunk gives 4 characters, the last one byte gives 2.
        for k in 0..=chunk.len() {
            out[o] = ALPHABET[(n >> (18 - 6 * k) & 63) as usize];
            o += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_go_raw_std_base64() {
        // base64.RawStdEncoding.EncodeToString([]byte("0123456789abcdef")) in Go.
        assert_eq!(&base64_raw(b"0123456789abcdef"), b"MDEyMzQ1Njc4OWFiY2RlZg");
        assert_eq!(&base64_raw(&[0xff; 16]), b"/////////////////////w");
    }

    #[test]
    fn nonces_differ() {
        let source = NonceSource::default();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            assert!(seen.insert(source.next()), "a nonce repeated");
        }
    }
}

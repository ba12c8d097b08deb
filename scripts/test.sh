#!/usr/bin/env bash
# The whole test suite: unit tests, integration tests against real loopback backends (io_uring driver), and the
# integration tests again on monoio's legacy (epoll) driver. Needs only a Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked "$@"
echo "== again on the legacy (epoll) driver"
MONOIO_FORCE_LEGACY_DRIVER=1 cargo test --locked --tests "$@" -- --skip config_golden

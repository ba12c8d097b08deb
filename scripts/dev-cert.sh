#!/usr/bin/env bash
# Makes a self-signed certificate for local HTTPS tests (CN and SAN localhost, 127.0.0.1, ::1), ECDSA P-256, valid
# 30 days, into config-examples/tls/ (git-ignored) unless a directory is given. Never use it in production.
#
#   scripts/dev-cert.sh            # then: cargo run --release -- run -c config-examples/tls.json
#   scripts/dev-cert.sh /some/dir
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-config-examples/tls}
mkdir -p "$dir"
command -v openssl >/dev/null || { echo "openssl is needed (apt-get install openssl)" >&2; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" 2>/dev/null
echo "wrote $dir/cert.pem and $dir/key.pem"

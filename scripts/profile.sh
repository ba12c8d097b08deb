#!/usr/bin/env bash
# Instructions per request of Ringway, with valgrind's callgrind: stable on a noisy, shared machine where
# rps and even CPU time move by ±20 %. See docs/profiling.md for how to read the output.
#
#   scripts/profile.sh                    # /json, 2000 requests
#   PATH_TO=/agg N=1000 scripts/profile.sh
#   PATH_TO=/noop DRIVER=epoll scripts/profile.sh   # monoio's legacy epoll driver instead of io_uring
#
# It builds Ringway in release (SKIP_BUILD=1 to skip), starts a backend nginx serving the load test's JSON
# documents, runs `ringway run -w 1` under callgrind, sends WARM requests, zeroes the counters, sends N requests
# over one keep-alive connection (a python3 client), dumps the counters and prints instructions per request and
# the top functions. Everything it starts is stopped on exit; traffic goes to 127.0.0.1 only. Output (the
# callgrind file, annotations) goes to profile-out/<timestamp>/ (git-ignored) or $OUT_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${N:-2000}
WARM=${WARM:-200}
PATH_TO=${PATH_TO:-/json}
DRIVER=${DRIVER:-io_uring}          # io_uring | epoll
BACKEND_PORT=${BACKEND_PORT:-9401}
RINGWAY_PORT=${RINGWAY_PORT:-9480}
TOP=${TOP:-25}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
RINGWAY_BIN=${RINGWAY_BIN:-$TARGET_DIR/release/ringway}
OUT_DIR=${OUT_DIR:-$ROOT/profile-out/$(date -u +%Y%m%dT%H%M%SZ)}

log() { printf '[profile] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for tool in valgrind callgrind_annotate callgrind_control nginx python3 curl; do
    command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || die "$tool is missing (apt-get install valgrind nginx python3 curl)"
done
PATH="$PATH:/usr/sbin"

RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/ringway-profile.XXXXXX")
mkdir -p "$OUT_DIR"
PIDS=()
cleanup() {
    local rc=$? i p
    trap - EXIT INT TERM
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        p=${PIDS[$i]}
        kill -TERM "$p" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$RUNDIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # wait_port PORT PID SECONDS
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        port_open "$1" && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "cargo build --release (target dir $TARGET_DIR)"
    (cd "$ROOT" && cargo build --release --bin ringway)
fi
[[ -x $RINGWAY_BIN ]] || die "no Ringway binary at $RINGWAY_BIN"

# Backend: the load test's small documents (same as loadtest/run.sh).
mkdir -p "$RUNDIR/www"
cat >"$RUNDIR/www/data.json" <<'EOF'
{"id":42,"name":"Ringway load test","active":true,"score":98.6,"tags":["gateway","krakend","io_uring"],"owner":{"login":"octo","id":1001,"site":"https://example.com/octo"},"created_at":"2026-11-01T12:00:00Z","counts":{"followers":1234,"following":56,"repos":78},"note":null,"description":"A small JSON object"}
EOF
echo '{"id":1001,"login":"octo","name":"Octo Cat","email":"octo@example.com","created_at":"2020-01-02T03:04:05Z","plan":{"name":"pro","seats":5,"private_repos":20},"internal_flags":[1,2,3],"two_factor":true}' >"$RUNDIR/www/user.json"
echo '{"total":3,"latest":{"id":77,"title":"Hello, gateway","likes":10},"posts":[{"id":77,"title":"Hello, gateway","likes":10},{"id":76,"title":"On io_uring","likes":4},{"id":75,"title":"First","likes":1}],"cursor":"b3BhcXVl"}' >"$RUNDIR/www/posts.json"
echo '{"followers":1234,"following":56,"repos":78,"stars":910,"rank":12,"computed_at":"2026-11-26T00:00:00Z","histogram":[3,1,4,1,5,9,2,6]}' >"$RUNDIR/www/stats.json"
# Scenario d's bodies (PATH_TO=/big100k, /big1m, and their -noop twins).
"$ROOT/loadtest/gen-big.sh" 102400 "$RUNDIR/www/big100k.json"
"$ROOT/loadtest/gen-big.sh" 1048576 "$RUNDIR/www/big1m.json"
cat >"$RUNDIR/backend.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $RUNDIR/backend.pid;
error_log $RUNDIR/backend-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $RUNDIR/body;
    proxy_temp_path $RUNDIR/proxy;
    fastcgi_temp_path $RUNDIR/fastcgi;
    uwsgi_temp_path $RUNDIR/uwsgi;
    scgi_temp_path $RUNDIR/scgi;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$BACKEND_PORT; root $RUNDIR/www; default_type application/json; }
}
EOF
port_open "$BACKEND_PORT" && die "port $BACKEND_PORT is in use; set BACKEND_PORT"
port_open "$RINGWAY_PORT" && die "port $RINGWAY_PORT is in use; set RINGWAY_PORT"
nginx -p "$RUNDIR" -c "$RUNDIR/backend.conf" -e "$RUNDIR/backend-error.log" >"$RUNDIR/backend.out" 2>&1 &
PIDS+=($!)
wait_port "$BACKEND_PORT" "${PIDS[-1]}" 10 || die "backend nginx did not start"

sed -e "s|http://127.0.0.1:9101|http://127.0.0.1:$BACKEND_PORT|g" "$ROOT/loadtest/configs/ringway.json" >"$RUNDIR/ringway.json"
env=()
[[ $DRIVER == epoll ]] && env=(MONOIO_FORCE_LEGACY_DRIVER=1)
log "ringway under callgrind ($DRIVER driver, 1 worker) on 127.0.0.1:$RINGWAY_PORT; backend nginx on :$BACKEND_PORT"
(cd "$RUNDIR" && exec env "${env[@]}" valgrind --tool=callgrind --callgrind-out-file="$OUT_DIR/callgrind.out" \
    "$RINGWAY_BIN" run -c "$RUNDIR/ringway.json" -p "$RINGWAY_PORT" -w 1 --no-pin) >"$OUT_DIR/valgrind.log" 2>&1 &
VG=$!
PIDS+=("$VG")
wait_port "$RINGWAY_PORT" "$VG" 120 || { tail -n 30 "$OUT_DIR/valgrind.log" >&2; die "ringway under valgrind did not open its port"; }

# One keep-alive connection, requests one after another; checks every answer is a 200.
client() { # client COUNT
    python3 - "$RINGWAY_PORT" "$PATH_TO" "$1" <<'PY'
import http.client, sys, time
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
bad = 0
t0 = time.time()
for _ in range(n):
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    if r.status != 200:
        bad += 1
print(f"{n} requests, {bad} not 200, {time.time() - t0:.1f} s")
sys.exit(1 if bad else 0)
PY
}
log "warm-up: $WARM requests to $PATH_TO"
client "$WARM" >&2 || die "warm-up requests failed"
callgrind_control -z "$VG" >/dev/null
log "measuring: $N requests to $PATH_TO"
client "$N" >&2 || die "requests failed"
callgrind_control -d "$VG" >/dev/null
sleep 0.5
DUMP=$(ls -t "$OUT_DIR"/callgrind.out.* 2>/dev/null | head -n1)
[[ -n $DUMP ]] || die "no callgrind dump in $OUT_DIR"
kill -TERM "$VG" 2>/dev/null || true

TOTAL=$(awk '/^(summary|totals):/ { print $2; exit }' "$DUMP")
callgrind_annotate --auto=no --threshold=100 "$DUMP" >"$OUT_DIR/self.txt" 2>/dev/null || true
callgrind_annotate --auto=no --threshold=100 --inclusive=yes "$DUMP" >"$OUT_DIR/inclusive.txt" 2>/dev/null || true
{
    echo "Ringway $PATH_TO, $DRIVER driver, 1 worker, $N requests on one keep-alive connection (after $WARM warm-up)"
    echo "binary: $RINGWAY_BIN ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
    awk -v t="$TOTAL" -v n="$N" 'BEGIN { printf "instructions (Ir) in total: %d; per request: %.0f\n", t, t / n }'
    echo
    echo "Top $TOP functions by own instructions (self):"
    # (the thread's entry frames, still on the stack when the counters were zeroed, show as 100 %: left out)
    awk '/^-+$/ { s++; next } s >= 4 && NF && !/\(100\.0%\)/' "$OUT_DIR/self.txt" | sed -n "1,${TOP}p"
    echo
    echo "Top $TOP by inclusive instructions (with callees):"
    awk '/^-+$/ { s++; next } s >= 4 && NF' "$OUT_DIR/inclusive.txt" | sed -n "1,${TOP}p"
    echo
    echo "Files: $DUMP (callgrind_annotate / kcachegrind), $OUT_DIR/self.txt, $OUT_DIR/inclusive.txt"
} | tee "$OUT_DIR/summary.txt"

#!/usr/bin/env bash
# Ringway load test: Ringway vs nginx (nginx + njs for aggregation) vs haproxy in front of the same nginx
# backend, each pinned to the same core, driven by wrk from another core, with a bare monoio proxy (examples/
# bare_proxy.rs, no KrakenD semantics) as the floor of Ringway's stack in a, b and f. See loadtest/README.md.
#
#   loadtest/run.sh                       # DURATION=10 s per run, all scenarios (a b c d f g e h)
#   loadtest/run.sh --quick               # 3 s runs (smoke test)
#   SCENARIOS="a c" DURATION=8 ROUNDS=3 loadtest/run.sh
#   SCENARIOS=h loadtest/run.sh           # TLS termination only: h (HTTPS keep-alive) and h-hs (a handshake per request)
#   OHA=1 loadtest/run.sh                 # also fixed-rate latency at 50 % / 80 % of each max (oha)
#
# Scenario h: each system terminates TLS 1.3 itself (one self-signed ECDSA P-256 certificate made with openssl
# for the run) and proxies to the same plain-HTTP backend; its TLS listener is a second process of each system,
# started after that system's plain scenarios. Everything it starts is stopped on exit; 127.0.0.1 only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LT="$ROOT/loadtest"

# ---- settings (env) ---------------------------------------------------------------------------------
QUICK=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done
if [[ $QUICK == 1 ]]; then DURATION=${DURATION:-3}; fi
DURATION=${DURATION:-10}         # seconds per measured wrk run
WARMUP=${WARMUP:-2}              # seconds of un-measured wrk before each measured run
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-1}
SCENARIOS=${SCENARIOS:-"a b c d f g e h"}   # e after a-g: the memory 10,000 connections leave behind shows in later peak RSS
                                 # (h = h h-hs runs in a process of its own, the TLS listener, after the others)
ROUNDS=${ROUNDS:-1}              # >1: every system runs again in turn; the table shows medians over the rounds
SYSTEMS=${SYSTEMS:-"ringway nginx haproxy bare"}   # order of the runs; nginx is the ratio baseline; also: direct, ringway-b
WRK_CPU=${WRK_CPU:-0}            # core for wrk
PROXY_CPU=${PROXY_CPU:-1}        # core for the system under test
BACKEND_CPU=${BACKEND_CPU:-$PROXY_CPU}   # core for the backend nginx (shares the proxy's core by default)
BACKEND_PORT=${BACKEND_PORT:-9101}
RINGWAY_PORT=${RINGWAY_PORT:-9180}
NGINX_PORT=${NGINX_PORT:-9181}
HAPROXY_PORT=${HAPROXY_PORT:-9182}
SKIP_BUILD=${SKIP_BUILD:-0}      # 1: use the existing release binary
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
[[ $TARGET_DIR == /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
RINGWAY_BIN=${RINGWAY_BIN:-$TARGET_DIR/release/ringway}
RINGWAY_B_BIN=${RINGWAY_B_BIN:-}  # system "ringway-b": a second Ringway binary (say, a build of main) for an A/B
RINGWAY_B_PORT=${RINGWAY_B_PORT:-9183}
# System "bare": the floor reference, a bare monoio reverse proxy without KrakenD semantics (examples/bare_proxy.rs),
# built with Ringway. It proxies plain GETs only, so it runs the scenarios that are plain proxying for Ringway too.
BARE_PORT=${BARE_PORT:-9184}
BARE_BIN=${BARE_BIN:-$TARGET_DIR/release/examples/bare_proxy}
BARE_SCENARIOS=${BARE_SCENARIOS:-"a b f"}
# Scenario h: the TLS listeners (a second process of each system, on its own port).
RINGWAY_TLS_PORT=${RINGWAY_TLS_PORT:-9190}
NGINX_TLS_PORT=${NGINX_TLS_PORT:-9191}
HAPROXY_TLS_PORT=${HAPROXY_TLS_PORT:-9192}
RINGWAY_B_TLS_PORT=${RINGWAY_B_TLS_PORT:-9193}
E_CONNECTIONS=${E_CONNECTIONS:-10000}                       # scenario e: wrk -c
E_DURATION=${E_DURATION:-$((DURATION < 5 ? DURATION : 5))}  # scenario e: shorter runs
SLOW_MS=${SLOW_MS:-50}           # scenario g: delay of the slow backend endpoint
SLOW_EVERY=${SLOW_EVERY:-10}     # scenario g: every Nth request goes to the slow endpoint
OHA=${OHA:-0}                    # 1: fixed-rate latency with oha (cargo install oha --locked when missing: ~7 min)
CHART=${CHART:-1}                # 0: no SVG chart

# Scenarios. "d" stands for its four variants, "h" for h and h-hs. Path is Ringway's endpoint (loadtest/configs/ringway.json);
# PROXY_MAP gives nginx's and haproxy's mapping of the same public paths to the backend's files.
declare -A SCENARIO_PATH=([a]=/json [b]=/noop [c]=/agg [d100k]=/big100k [d100k-noop]=/big100k-noop
                          [d1m]=/big1m [d1m-noop]=/big1m-noop [e]=/json [f]=/json [g]=/json [h]=/json [h-hs]=/json)
declare -A SCENARIO_DESC=(
    [a]="/json: one JSON backend, full KrakenD semantics (decode, filter, re-encode)"
    [b]="/noop: output_encoding no-op (body passed through)"
    [c]="/agg: three backends aggregated, each with group + allow (nginx: njs with 3 subrequests; haproxy cannot)"
    [d100k]="/big100k: 100 KB JSON body, decoded and re-encoded"
    [d100k-noop]="/big100k-noop: 100 KB body, no-op"
    [d1m]="/big1m: 1 MB JSON body, decoded and re-encoded"
    [d1m-noop]="/big1m-noop: 1 MB body, no-op"
    [e]="/json with $E_CONNECTIONS concurrent keep-alive connections (wrk -t1 -c$E_CONNECTIONS, ${E_DURATION}s)"
    [f]="/json without client keep-alive (wrk -H 'Connection: close': one TCP connection per request)"
    [g]="/json mixed with a slow backend: every ${SLOW_EVERY}th request goes to /slow (backend answers after ${SLOW_MS} ms)"
    [h]="/json over HTTPS: TLS 1.3 terminated by each system (ECDSA P-256 certificate, X25519), client keep-alive; plain HTTP to the backend"
    [h-hs]="/json over HTTPS, no keep-alive: wrk -H 'Connection: close', a TLS handshake per request (rps = handshakes/s)")
declare -A PROXY_MAP=([/json]=/data.json [/noop]=/data.json [/big100k]=/big100k.json [/big100k-noop]=/big100k.json
                      [/big1m]=/big1m.json [/big1m-noop]=/big1m.json [/slow]=/slow.json)
expanded=()
for s in $SCENARIOS; do
    if [[ $s == d ]]; then expanded+=(d100k d100k-noop d1m d1m-noop); continue; fi
    if [[ $s == h ]]; then expanded+=(h h-hs); continue; fi
    [[ -n ${SCENARIO_PATH[$s]:-} ]] || { echo "unknown scenario '$s' (known: a b c d e f g h; d = d100k d100k-noop d1m d1m-noop, h = h h-hs)" >&2; exit 2; }
    expanded+=("$s")
done
SCENARIOS="${expanded[*]}"

log() { printf '[loadtest] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- file descriptors (scenario e) -------------------------------------------------------------------
# wrk needs one fd per connection, each proxy one per client plus its upstream connections.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
[[ $NOFILE == unlimited ]] && NOFILE=1048576
if [[ " $SCENARIOS " == *" e "* ]]; then
    if ((NOFILE < 65536)); then
        log "ulimit -n 65536 not permitted: open-file limit is $NOFILE (the hard limit) for wrk and every proxy"
    fi
    if ((E_CONNECTIONS + 100 > NOFILE)); then
        E_CONNECTIONS=$((NOFILE - 100))
        log "scenario e: wrk -c lowered to $E_CONNECTIONS (open-file limit $NOFILE)"
        SCENARIO_DESC[e]="/json with $E_CONNECTIONS concurrent keep-alive connections (wrk -t1 -c$E_CONNECTIONS, ${E_DURATION}s; fd limit)"
    fi
fi
WORKER_CONNECTIONS=$((NOFILE - 100))

# ---- cleanup ----------------------------------------------------------------------------------------
RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/ringway-loadtest.XXXXXX")
PIDS=()
PORTS=()

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port_free() {
    local port=$1 i
    for ((i = 0; i < 100; i++)); do
        port_open "$port" || return 0
        sleep 0.1
    done
    log "warning: port $port still answers after 10 s"
}

stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid ignored SIGTERM for 5 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local pid port
    local i
    # Newest first: wrk, then the system under test, then the backend.
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}"; done
    for port in "${PORTS[@]}"; do wait_port_free "$port"; done
    if [[ ${KEEP_RUNDIR:-0} == 1 || $rc != 0 ]]; then
        log "runtime dir kept: $RUNDIR"
    else
        rm -rf "$RUNDIR"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME PORT CPU CMD...: start CMD in the background pinned to CPU, wait until PORT accepts connections.
STARTED_PID=
start() {
    local name=$1 port=$2 cpu=$3 i
    shift 3
    local var=${name^^}
    port_open "$port" && die "port $port is already in use (not by this script); set ${var//-/_}_PORT"
    log "starting $name on 127.0.0.1:$port, CPU $cpu: $*"
    taskset -c "$cpu" "$@" >"$RUNDIR/$name.out" 2>&1 &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    PORTS+=("$port")
    for ((i = 0; i < 100; i++)); do
        port_open "$port" && return 0
        kill -0 "$STARTED_PID" 2>/dev/null || { tail -n 20 "$RUNDIR/$name.out" >&2; die "$name exited during start-up"; }
        sleep 0.1
    done
    tail -n 20 "$RUNDIR/$name.out" >&2
    die "$name did not open port $port within 10 s"
}

forget_pid() { # drop a finished pid from PIDS so the cleanup never signals a reused pid
    local p keep=()
    for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

stop() {
    local pid=$1 port=$2
    stop_pid "$pid"
    forget_pid "$pid"
    wait_port_free "$port"
}

# run_bounded LIMIT OUT CMD...: CMD on WRK_CPU under `timeout LIMIT`; in the background + wait, so that a signal
# stops the run at once (bash runs traps only after a foreground command ends) and the cleanup can stop it too.
run_bounded() {
    local limit=$1 out=$2 rc=0
    shift 2
    taskset -c "$WRK_CPU" timeout "$limit" "$@" >"$out" 2>&1 &
    local p=$!
    PIDS+=("$p")
    wait "$p" || rc=$?
    forget_pid "$p"
    return "$rc"
}

# ---- tools ------------------------------------------------------------------------------------------
NJS_MODULE=${NJS_MODULE:-/usr/lib/nginx/modules/ngx_http_js_module.so}
need_install=()
command -v wrk >/dev/null || need_install+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need_install+=(nginx)
if [[ " $SYSTEMS " == *" haproxy "* ]]; then
    command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || need_install+=(haproxy)
fi
if [[ " $SCENARIOS " == *" c "* || " $SCENARIOS " == *" g "* ]]; then
    [[ -f $NJS_MODULE ]] || need_install+=(libnginx-mod-http-js)
fi
command -v taskset >/dev/null || need_install+=(util-linux)
command -v curl >/dev/null || need_install+=(curl)
HAS_H=0
[[ " $SCENARIOS " == *" h"* ]] && HAS_H=1   # h or h-hs
if [[ $HAS_H == 1 ]]; then command -v openssl >/dev/null || need_install+=(openssl); fi
if ((${#need_install[@]})); then
    SUDO=
    [[ $(id -u) == 0 ]] || SUDO=sudo
    log "installing missing tools: apt-get install -y --no-install-recommends ${need_install[*]}"
    $SUDO apt-get install -y --no-install-recommends "${need_install[@]}" >"$RUNDIR/apt.log" 2>&1 || {
        log "apt-get install failed; trying apt-get update first"
        $SUDO apt-get update >>"$RUNDIR/apt.log" 2>&1 || true
        $SUDO apt-get install -y --no-install-recommends "${need_install[@]}" >>"$RUNDIR/apt.log" 2>&1 ||
            log "apt-get install failed (see $RUNDIR/apt.log)"
    }
    if [[ ! -f $NJS_MODULE ]] && command -v dpkg >/dev/null; then
        m=$(dpkg -L libnginx-mod-http-js 2>/dev/null | grep 'ngx_http_js_module\.so$' | head -n1 || true)
        [[ -n $m ]] && NJS_MODULE=$m
    fi
else
    log "tools present: wrk, nginx, haproxy, njs module, taskset, curl$([[ $HAS_H == 1 ]] && echo ", openssl") (no install)"
fi
PATH="$PATH:/usr/sbin:/sbin:$HOME/.cargo/bin"
command -v wrk >/dev/null || die "wrk is not installed"
command -v nginx >/dev/null || die "nginx is not installed"
if [[ " $SYSTEMS " == *" haproxy "* ]] && ! command -v haproxy >/dev/null; then
    log "haproxy is not installed: skipping it"
    SYSTEMS=${SYSTEMS//haproxy/}
fi
HAVE_NJS=0
if [[ -f $NJS_MODULE ]]; then HAVE_NJS=1; else log "njs module missing: no nginx+njs in scenario c, no slow backend (g skipped)"; fi
if [[ $HAVE_NJS == 0 && " $SCENARIOS " == *" g "* ]]; then SCENARIOS=${SCENARIOS//g/}; fi
HAVE_PY=0
command -v python3 >/dev/null && HAVE_PY=1
if [[ $HAS_H == 1 ]]; then
    command -v openssl >/dev/null || die "scenario h needs openssl (certificate, negotiated parameters)"
    [[ $HAVE_PY == 1 ]] || command -v jq >/dev/null || die "scenario h needs python3 or jq (Ringway's TLS config)"
fi

if [[ $OHA == 1 ]] && ! command -v oha >/dev/null; then
    log "OHA=1 and oha is missing: cargo install oha --locked (takes ~7 minutes)"
    cargo install oha --locked >"$RUNDIR/oha-install.log" 2>&1 || { tail -n 20 "$RUNDIR/oha-install.log" >&2; die "cargo install oha failed"; }
fi

# Ringway's config with the backend port of this run (the file says 127.0.0.1:9101).
RINGWAY_CONFIG="$RUNDIR/ringway.json"
sed -e "s|http://127.0.0.1:9101|http://127.0.0.1:$BACKEND_PORT|g" "$LT/configs/ringway.json" >"$RINGWAY_CONFIG"

# ---- TLS (scenario h) ---------------------------------------------------------------------------------
# One self-signed certificate for the run (ECDSA P-256; CN and SAN localhost, SAN IP 127.0.0.1), used by all three
# systems: Ringway and nginx read cert.pem + key.pem, haproxy the two in one file. Ringway's TLS config is its
# loadtest config plus a root "tls" block; curve_preferences puts X25519 first (29, then 23 = P-256) so that the
# key exchange is the one nginx and haproxy pick with OpenSSL's defaults (Ringway's default would be P-256 only).
TLS_DIR="$RUNDIR/tls"
TLS_CERT="$TLS_DIR/cert.pem" TLS_KEY="$TLS_DIR/key.pem" TLS_COMBINED="$TLS_DIR/combined.pem"
RINGWAY_TLS_CONFIG="$RUNDIR/ringway-tls.json"
if [[ $HAS_H == 1 ]]; then
    mkdir -p "$TLS_DIR"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$TLS_KEY" -out "$TLS_CERT" >"$TLS_DIR/openssl.log" 2>&1 ||
        { cat "$TLS_DIR/openssl.log" >&2; die "openssl could not make the test certificate"; }
    cat "$TLS_CERT" "$TLS_KEY" >"$TLS_COMBINED"
    log "scenario h: certificate $(openssl x509 -in "$TLS_CERT" -noout -subject -ext subjectAltName 2>/dev/null |
        tr -s ' \n' ' ' | sed 's/ $//'), ECDSA P-256, in $TLS_DIR"
    TLS_BLOCK="{\"keys\":[{\"public_key\":\"$TLS_CERT\",\"private_key\":\"$TLS_KEY\"}],\"min_version\":\"TLS13\",\"curve_preferences\":[29,23]}"
    if [[ $HAVE_PY == 1 ]]; then
        python3 -c 'import json, sys
c = json.load(open(sys.argv[1])); c["tls"] = json.loads(sys.argv[2])
json.dump(c, open(sys.argv[3], "w"), indent=2)' "$RINGWAY_CONFIG" "$TLS_BLOCK" "$RINGWAY_TLS_CONFIG"
    else
        jq --argjson tls "$TLS_BLOCK" '. + {tls: $tls}' "$RINGWAY_CONFIG" >"$RINGWAY_TLS_CONFIG"
    fi
fi

# ---- build ------------------------------------------------------------------------------------------
BUILD_TARGETS=()
[[ " $SYSTEMS " == *" ringway "* ]] && BUILD_TARGETS+=(--bin ringway)
[[ " $SYSTEMS " == *" bare "* ]] && BUILD_TARGETS+=(--example bare_proxy)
if ((${#BUILD_TARGETS[@]})); then
    if [[ $SKIP_BUILD == 1 ]]; then
        log "SKIP_BUILD=1: using $RINGWAY_BIN$([[ " $SYSTEMS " == *" bare "* ]] && echo " and $BARE_BIN")"
    else
        log "building: cargo build --release ${BUILD_TARGETS[*]} (target dir $TARGET_DIR)"
        (cd "$ROOT" && cargo build --release "${BUILD_TARGETS[@]}")
    fi
fi
if [[ " $SYSTEMS " == *" bare "* && ! -x $BARE_BIN ]]; then
    # The floor reference only adds a comparison: a missing binary (SKIP_BUILD=1) drops it rather than the run.
    log "no bare proxy at $BARE_BIN (cargo build --release --example bare_proxy): skipping system bare"
    SYSTEMS=${SYSTEMS//bare/}
fi
if [[ " $SYSTEMS " == *" ringway "* ]]; then
    [[ -x $RINGWAY_BIN ]] || die "no Ringway binary at $RINGWAY_BIN"
    "$RINGWAY_BIN" check -c "$RINGWAY_CONFIG" >"$RUNDIR/ringway-check.out" 2>&1 ||
        { cat "$RUNDIR/ringway-check.out" >&2; die "ringway check rejected loadtest/configs/ringway.json"; }
    if [[ $HAS_H == 1 ]]; then
        "$RINGWAY_BIN" check -c "$RINGWAY_TLS_CONFIG" >"$RUNDIR/ringway-tls-check.out" 2>&1 ||
            { cat "$RUNDIR/ringway-tls-check.out" >&2; die "ringway check rejected the TLS config ($RINGWAY_TLS_CONFIG)"; }
    fi
fi

# ---- backend documents --------------------------------------------------------------------------------
DOCROOT="$RUNDIR/www"
mkdir -p "$DOCROOT"
# ~300 bytes of JSON: strings, numbers, a bool, a null, a nested object and an array.
cat >"$DOCROOT/data.json" <<'EOF'
{"id":42,"name":"Ringway load test","active":true,"score":98.6,"tags":["gateway","krakend","io_uring"],"owner":{"login":"octo","id":1001,"site":"https://example.com/octo"},"created_at":"2026-11-01T12:00:00Z","counts":{"followers":1234,"following":56,"repos":78},"note":null,"description":"A small JSON object"}
EOF
BODY_BYTES=$(wc -c <"$DOCROOT/data.json")
# Scenario c: three documents with different fields; /agg keeps some of each, under a group per backend.
cat >"$DOCROOT/user.json" <<'EOF'
{"id":1001,"login":"octo","name":"Octo Cat","email":"octo@example.com","created_at":"2020-01-02T03:04:05Z","plan":{"name":"pro","seats":5,"private_repos":20},"internal_flags":[1,2,3],"two_factor":true}
EOF
cat >"$DOCROOT/posts.json" <<'EOF'
{"total":3,"latest":{"id":77,"title":"Hello, gateway","likes":10},"posts":[{"id":77,"title":"Hello, gateway","likes":10},{"id":76,"title":"On io_uring","likes":4},{"id":75,"title":"First","likes":1}],"cursor":"b3BhcXVl"}
EOF
cat >"$DOCROOT/stats.json" <<'EOF'
{"followers":1234,"following":56,"repos":78,"stars":910,"rank":12,"computed_at":"2026-11-26T00:00:00Z","histogram":[3,1,4,1,5,9,2,6]}
EOF
# Scenario d: an object holding an array of small items, 100 KB and 1 MB.
"$LT/gen-big.sh" 102400 "$DOCROOT/big100k.json"
"$LT/gen-big.sh" 1048576 "$DOCROOT/big1m.json"

render() { # render TEMPLATE OUT PORT [plain|tls]: tls makes the proxy's listener TLS-only (scenario h)
    local mode=${4:-plain} nginx_ssl='' haproxy_ssl=''
    if [[ $mode == tls ]]; then
        nginx_ssl=" ssl"
        haproxy_ssl=" ssl crt $TLS_COMBINED ssl-min-ver TLSv1.3"
    fi
    sed -e "s|@RUNDIR@|$RUNDIR|g" -e "s|@DOCROOT@|$DOCROOT|g" -e "s|@PORT@|$3|g" \
        -e "s|@BACKEND@|127.0.0.1:$BACKEND_PORT|g" -e "s|@NOFILE@|$NOFILE|g" \
        -e "s|@WORKER_CONNECTIONS@|$WORKER_CONNECTIONS|g" -e "s|@MAXCONN@|$(((NOFILE - 100) / 2))|g" \
        -e "s|@SLOW_MS@|$SLOW_MS|g" -e "s|@MODE@|$mode|g" \
        -e "s|@NGINX_SSL@|$nginx_ssl|g" -e "s|@HAPROXY_SSL@|$haproxy_ssl|g" "$1" >"$2"
}

# nginx include files (module, njs imports, locations) and haproxy's path map, from PROXY_MAP.
: >"$RUNDIR/backend-main.conf"; : >"$RUNDIR/backend-http.conf"; : >"$RUNDIR/backend-locations.conf"
: >"$RUNDIR/proxy-main.conf"; : >"$RUNDIR/proxy-http.conf"; : >"$RUNDIR/proxy-locations.conf"; : >"$RUNDIR/paths.map"
# The proxy's server-level settings: none for plain HTTP; for the TLS listener (scenario h) the certificate, TLS 1.3
# only, a shared session cache and session tickets (resumption), OpenSSL's default ciphers and groups (X25519 first).
: >"$RUNDIR/proxy-server-plain.conf"
cat >"$RUNDIR/proxy-server-tls.conf" <<EOF
ssl_certificate $TLS_CERT;
ssl_certificate_key $TLS_KEY;
ssl_protocols TLSv1.3;
ssl_session_cache shared:SSL:10m;
ssl_session_timeout 10m;
ssl_session_tickets on;
EOF
for p in "${!PROXY_MAP[@]}"; do
    echo "location = $p { proxy_pass http://backend${PROXY_MAP[$p]}; }" >>"$RUNDIR/proxy-locations.conf"
    echo "$p ${PROXY_MAP[$p]}" >>"$RUNDIR/paths.map"
done
if [[ $HAVE_NJS == 1 ]]; then
    echo "load_module $NJS_MODULE;" | tee "$RUNDIR/backend-main.conf" >"$RUNDIR/proxy-main.conf"
    render "$LT/configs/nginx-slow.js" "$RUNDIR/nginx-slow.js" 0
    cp "$LT/configs/nginx-agg.js" "$RUNDIR/nginx-agg.js"
    echo "js_import slow from $RUNDIR/nginx-slow.js;" >"$RUNDIR/backend-http.conf"
    echo "location = /slow.json { js_content slow.reply; }" >"$RUNDIR/backend-locations.conf"
    echo "js_import agg from $RUNDIR/nginx-agg.js;" >"$RUNDIR/proxy-http.conf"
    cat >>"$RUNDIR/proxy-locations.conf" <<'EOF'
location = /agg { js_content agg.agg; }
location /_b/ { internal; proxy_pass http://backend/; }
EOF
fi

render "$LT/configs/nginx-backend.conf" "$RUNDIR/nginx-backend.conf" "$BACKEND_PORT"
start backend "$BACKEND_PORT" "$BACKEND_CPU" nginx -p "$RUNDIR" -c "$RUNDIR/nginx-backend.conf" -e "$RUNDIR/backend-error.log"
BACKEND_PID=$STARTED_PID

NPROC=$(nproc)
log "CPU assignment: wrk on CPU $WRK_CPU; system under test on CPU $PROXY_CPU; backend nginx on CPU $BACKEND_CPU$([[ $BACKEND_CPU == "$PROXY_CPU" ]] && echo " (shares the proxy's core)") — $NPROC cores online"
log "wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s (after a ${WARMUP}s warm-up); scenarios: $SCENARIOS; open-file limit $NOFILE"

# ---- measuring --------------------------------------------------------------------------------------
TS=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS_DIR="$LT/results"
mkdir -p "$RESULTS_DIR"
CSV="$RESULTS_DIR/$TS.csv"
JSON="$RESULTS_DIR/$TS.json"
CSV_HEADER="round,scenario,path,system,rps,p50_ms,p99_ms,p999_ms,errors,cpu_pct,cpu_us_per_req,rss_mb,upstream_conns_per_s,requests,non2xx,socket_errors,status,proxy_core_busy_pct,backend_cpu_us_per_req,connections,mode,rate,wrk_cpu_pct"
echo "$CSV_HEADER" >"$CSV"

CLK_TCK=$(getconf CLK_TCK)
core_ticks() { # "busy total" ticks of one core, from /proc/stat
    awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
cpu_ticks() { # utime + stime of a whole process (all threads), in clock ticks
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
backend_accepts() { # connections the backend nginx accepted so far (stub_status), this query's own included
    curl -s --max-time 2 "http://127.0.0.1:$BACKEND_PORT/__status" | awk 'NR == 3 { print $1 }'
}
busy_pct() { # busy_pct "BUSY0 TOTAL0" "BUSY1 TOTAL1": how busy a core was between two core_ticks, in %
    awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[2] - x[2]; if (d > 0) printf "%.0f", 100 * (y[1] - x[1]) / d; else print "NaN" }'
}
# children_cpu_s FILE: user + system seconds of the script's finished children, from the output of bash's `times`
# (second line). wrk's CPU is the difference around its run: timeout waits for wrk, so wrk's time adds up into it.
children_cpu_s() {
    awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] } printf "%.3f", t }' "$1"
}
reset_hwm() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; } # peak RSS starts again from the current RSS
peak_rss_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
now_us() { echo $(($(date +%s%N) / 1000)); }
kv() { # kv FILE KEY: value of KEY=... on the RESULT line, 0 when missing
    awk -v k="$2" 'BEGIN { v = 0 } /^RESULT / { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) v = a[2] } } END { print v }' "$1"
}

# wrk_args SCENARIO: the load shape of a scenario (connections, threads, duration, headers).
WRK_C='' WRK_T='' WRK_D='' WRK_EXTRA=()
wrk_args() {
    WRK_C=$CONNECTIONS WRK_T=$WRK_THREADS WRK_D=$DURATION WRK_EXTRA=()
    case $1 in
        e) WRK_C=$E_CONNECTIONS WRK_T=1 WRK_D=$E_DURATION ;;
        f | h-hs) WRK_EXTRA=(-H "Connection: close") ;;
    esac
    if [[ $1 == g ]]; then export WRK_SLOW_PATH=/slow WRK_SLOW_EVERY=$SLOW_EVERY; else unset WRK_SLOW_PATH WRK_SLOW_EVERY; fi
}

# measure SYSTEM PID PORT SCENARIO [SCHEME]: curl check, warm-up, measured wrk run; appends a row to the CSV.
# PID is the process whose CPU time is charged to the requests (the system under test, not the backend).
# SCHEME is http (default) or https (scenario h: curl checks the certificate against the run's own, over HTTP/1.1 as wrk).
measure() {
    local system=$1 pid=$2 port=$3 sc=$4 scheme=${5:-http} path=${SCENARIO_PATH[$4]} url out code status=ok curl_tls=()
    url="$scheme://127.0.0.1:$port$path"
    [[ $scheme == https ]] && curl_tls=(--cacert "$TLS_CERT" --http1.1)
    wrk_args "$sc"
    code=$(curl -s "${curl_tls[@]}" -o "$RUNDIR/$system-$sc.body" -w '%{http_code}' --max-time 5 "$url") || true
    if [[ $code != 200 ]]; then
        status="curl-$code"
        log "WARNING: $system $url answered $code to curl:"
        curl -si "${curl_tls[@]}" --max-time 5 "$url" 2>&1 | head -c 1000 >&2 || true
        echo >&2
    fi
    log "$system scenario $sc ($path): warm-up ${WARMUP}s"
    run_bounded $((WARMUP + 30)) /dev/null wrk -t"$WRK_T" -c"$WRK_C" -d"${WARMUP}s" "${WRK_EXTRA[@]}" \
        -s "$LT/wrk-report.lua" "$url" || true
    log "$system scenario $sc ($path): measuring ${WRK_D}s (wrk -t$WRK_T -c$WRK_C${WRK_EXTRA:+ ${WRK_EXTRA[*]}})"
    out="$RUNDIR/wrk-$system-$sc-$round.txt"
    reset_hwm "$pid"
    local t0 t1 b0 b1 c0 c1 a0 a1 w0 w1
    a0=$(backend_accepts) t0=$(cpu_ticks "$pid") b0=$(cpu_ticks "$BACKEND_PID") c0=$(core_ticks "$PROXY_CPU") w0=$(now_us)
    times >"$RUNDIR/times.0"
    run_bounded $((WRK_D + 30)) "$out" wrk -t"$WRK_T" -c"$WRK_C" -d"${WRK_D}s" "${WRK_EXTRA[@]}" \
        -s "$LT/wrk-report.lua" "$url" || status="wrk-failed"
    times >"$RUNDIR/times.1"
    w1=$(now_us) t1=$(cpu_ticks "$pid") b1=$(cpu_ticks "$BACKEND_PID") c1=$(core_ticks "$PROXY_CPU") a1=$(backend_accepts)
    local rss_kb reqs dur rps p50 p99 p999 non2xx sockerr errors busy wrk_pct backend_us cpu_us cpu_pct upc
    rss_kb=0
    [[ $system == direct ]] || rss_kb=$(peak_rss_kb "$pid")
    reqs=$(kv "$out" requests) dur=$(kv "$out" duration_us)
    rps=$(awk -v n="$reqs" -v d="$dur" 'BEGIN { if (d > 0) printf "%.0f", n * 1e6 / d; else print 0 }')
    p50=$(awk -v v="$(kv "$out" p50_us)" 'BEGIN { printf "%.3f", v / 1000 }')
    p99=$(awk -v v="$(kv "$out" p99_us)" 'BEGIN { printf "%.3f", v / 1000 }')
    p999=$(awk -v v="$(kv "$out" p999_us)" 'BEGIN { printf "%.3f", v / 1000 }')
    non2xx=$(kv "$out" status)
    sockerr=$(($(kv "$out" connect) + $(kv "$out" read) + $(kv "$out" write) + $(kv "$out" timeout)))
    errors=$((non2xx + sockerr))
    busy=$(busy_pct "$c0" "$c1")
    # wrk's own CPU, in % of one core: near 100 % per wrk thread, the client is the limit (h-hs: OpenSSL handshakes).
    wrk_pct=$(awk -v a="$(children_cpu_s "$RUNDIR/times.0")" -v b="$(children_cpu_s "$RUNDIR/times.1")" -v w=$((w1 - w0)) \
        'BEGIN { if (w > 0) printf "%.0f", 100 * (b - a) / (w / 1e6); else print "NaN" }')
    backend_us=$(awk -v d=$((b1 - b0)) -v hz="$CLK_TCK" -v n="$reqs" 'BEGIN { if (n > 0) printf "%.1f", d * 1e6 / hz / n; else print "NaN" }')
    cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$reqs" 'BEGIN { if (n > 0) printf "%.1f", d * 1e6 / hz / n; else print "NaN" }')
    cpu_pct=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v w=$((w1 - w0)) 'BEGIN { if (w > 0) printf "%.0f", 100 * d / hz / (w / 1e6); else print "NaN" }')
    # New connections to the backend per second of the run (the /__status queries' own two taken off).
    upc=$(awk -v a="${a0:-0}" -v b="${a1:-0}" -v w=$((w1 - w0)) 'BEGIN { if (a > 0 && b > 0 && w > 0) printf "%.0f", (b - a - 1) / (w / 1e6); else print "NaN" }')
    if [[ $system == direct ]]; then upc=NaN; fi
    if ((errors != 0)); then
        [[ $status == ok ]] && status=errors
        log "WARNING: $system $path: $non2xx non-2xx/3xx responses, $sockerr socket errors"
        grep -E 'Socket errors|Non-2xx' "$out" >&2 || true
    fi
    [[ $reqs == 0 ]] && { status=no-requests; tail -n 5 "$out" >&2; }
    if [[ ! -s "$RUNDIR/$system-$sc.body" && $status == ok ]]; then status=empty-body; fi
    local rss_mb
    rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
    log "$system $sc: $rps rps, p50 $p50 p99 $p99 p99.9 $p999 ms, errors $errors, CPU ${cpu_pct}% (${cpu_us} µs/req, backend ${backend_us}), peak RSS ${rss_mb} MB, new upstream conns ${upc}/s, CPU $PROXY_CPU busy ${busy}%, wrk CPU ${wrk_pct}%"
    echo "$round,$sc,$path,$system,$rps,$p50,$p99,$p999,$errors,$cpu_pct,$cpu_us,$rss_mb,$upc,$reqs,$non2xx,$sockerr,$status,$busy,$backend_us,$WRK_C,max,,$wrk_pct" >>"$CSV"
    [[ $OHA == 1 ]] && fixed_rate "$system" "$pid" "$url" "$sc" "$rps"
    return 0
}

OHA_PARSE='
import json, sys
d = json.load(open(sys.argv[1]))
s, p = d["summary"], d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
n = sum(codes.values()); bad = sum(v for k, v in codes.items() if not k.startswith("2"))
# "aborted due to deadline": requests still in flight when -z ran out, not failures
errs = sum(v for k, v in d.get("errorDistribution", {}).items() if "deadline" not in k) + bad
print("%.0f %.3f %.3f %.3f %d %d" % (s["requestsPerSec"], p["p50"] * 1e3, p["p99"] * 1e3, p["p99.9"] * 1e3, n, errs))
'
# fixed_rate SYSTEM PID URL SCENARIO MAXRPS: oha at 50 % and 80 % of the measured max (OHA=1 only).
fixed_rate() {
    local system=$1 pid=$2 url=$3 sc=$4 max=$5 pct rate out p50 p99 p999 reqs errs rps
    command -v oha >/dev/null || return 0
    # g needs wrk's script for the mix; f, h-hs and e are about connections, not latency under a rate
    [[ $sc == g || $sc == f || $sc == h-hs || $sc == e ]] && return 0
    local insecure=()
    [[ $url == https:* ]] && insecure=(--insecure) # the run's self-signed certificate
    for pct in 50 80; do
        rate=$((max * pct / 100))
        ((rate > 0)) || continue
        out="$RUNDIR/oha-$system-$sc-$pct.json"
        log "$system scenario $sc: oha at $rate rps ($pct % of max) for ${WRK_D}s"
        run_bounded $((WRK_D + 30)) "$out" oha --no-tui --output-format json -z "${WRK_D}s" -c "$WRK_C" -q "$rate" --latency-correction "${insecure[@]}" "$url" || true
        read -r rps p50 p99 p999 reqs errs < <(python3 -c "$OHA_PARSE" "$out" 2>/dev/null || echo "0 NaN NaN NaN 0 0")
        log "$system $sc @${pct}%: $rps rps, p50 $p50 p99 $p99 p99.9 $p999 ms, errors $errs"
        echo "$round,$sc,${SCENARIO_PATH[$sc]},$system,$rps,$p50,$p99,$p999,$errs,NaN,NaN,NaN,NaN,$reqs,NaN,NaN,ok,NaN,NaN,$WRK_C,fixed$pct,$rate,NaN" >>"$CSV"
    done
}

# Scenario c: print Ringway's and nginx+njs's /agg answers once, and compare them as JSON.
AGG_CHECKED=0
check_agg() {
    local a="$RUNDIR/ringway-c.body" b="$RUNDIR/nginx-c.body"
    [[ -s $a && -s $b && $AGG_CHECKED == 0 ]] || return 0
    AGG_CHECKED=1
    log "scenario c, Ringway /agg:   $(cat "$a")"
    log "scenario c, nginx+njs /agg: $(cat "$b")"
    if [[ $HAVE_PY == 1 ]]; then
        if python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' "$a" "$b"; then
            log "scenario c: the two answers are the same JSON"
            AGG_SAME=yes
        else
            log "WARNING: scenario c: Ringway and nginx+njs answer different JSON"
            AGG_SAME=no
        fi
    fi
}
AGG_SAME=unchecked

# takes_part SYSTEM SCENARIO: whether SYSTEM can run SCENARIO; where not, its row is "n/a" (na_reason says why).
takes_part() {
    case $1 in
        haproxy) [[ $2 != c ]] ;;
        bare) [[ " $BARE_SCENARIOS " == *" $2 "* ]] ;;
        *) return 0 ;;
    esac
}
na_reason() {
    case $1 in
        bare) echo "n/a (floor reference: plain proxying only, scenarios ${BARE_SCENARIOS// /, })" ;;
        *) echo "n/a (cannot aggregate)" ;;
    esac
}

run_scenarios() { # SYSTEM PID PORT SCHEME SCENARIO...
    local system=$1 pid=$2 port=$3 scheme=$4 sc
    shift 4
    for sc in "$@"; do
        if [[ $sc == c && $system == nginx && $HAVE_NJS == 0 ]]; then continue; fi
        measure "$system" "$pid" "$port" "$sc" "$scheme"
        if [[ $sc == c ]]; then check_agg; fi
    done
}

# Scenario h: what wrk's TLS library (OpenSSL, its defaults) negotiates with each system, printed once per system:
# protocol, cipher, key-exchange group, and whether a second connection resumes the first one's session (ticket).
declare -A TLS_NEGOTIATED=() TLS_PARAMS=()
tls_info() { # tls_info SYSTEM PORT
    local system=$1 port=$2
    local out="$RUNDIR/tls-$system.txt" sess="$RUNDIR/tls-$system.sess" req="$RUNDIR/tls-request.txt" proto cipher group resumed=no
    [[ -n ${TLS_NEGOTIATED[$system]:-} ]] && return 0
    # A whole request, so that s_client stays until the answer and the session tickets sent after the handshake.
    printf 'GET /json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >"$req"
    taskset -c "$WRK_CPU" timeout 10 openssl s_client -connect "127.0.0.1:$port" -ign_eof -sess_out "$sess" \
        <"$req" >"$out" 2>&1 || true
    proto=$(awk -F': *' '/^ *Protocol *:/ { print $2; exit }' "$out")
    cipher=$(awk -F': *' '/^ *Cipher *:/ { print $2; exit }' "$out")
    group=$(awk -F': ' '/^(Server Temp Key|Negotiated TLS1.3 group):/ { print $2; exit }' "$out")
    if [[ -s $sess ]] && taskset -c "$WRK_CPU" timeout 10 openssl s_client -connect "127.0.0.1:$port" -ign_eof \
        -sess_in "$sess" <"$req" 2>&1 | grep -q '^Reused,'; then
        resumed=yes
    fi
    TLS_PARAMS[$system]="${proto:-?}, ${cipher:-?}, ${group:-?}"
    TLS_NEGOTIATED[$system]="${TLS_PARAMS[$system]}; session resumption: $resumed"
    log "$system TLS (openssl s_client, $(openssl version | cut -d' ' -f1-2)): ${TLS_NEGOTIATED[$system]}"
    [[ -n $proto && -n $cipher ]] || { log "WARNING: no TLS handshake with $system on port $port:"; tail -n 5 "$out" >&2; }
    return 0
}

# The plain-HTTP scenarios run against each system's usual listener; h and h-hs against a second process of the
# same system whose listener is TLS-only (Ringway's is when its config has a "tls" block), started after the first
# one stopped, on its own port. Both get the same core, workers and upstream settings.
PLAIN_SCENARIOS=() TLS_SCENARIOS=()
for sc in $SCENARIOS; do
    if [[ $sc == h || $sc == h-hs ]]; then TLS_SCENARIOS+=("$sc"); else PLAIN_SCENARIOS+=("$sc"); fi
done

# start_system SYSTEM plain|tls: starts that listener of SYSTEM pinned to PROXY_CPU; sets SYS_NAME, SYS_PID, SYS_PORT.
SYS_NAME='' SYS_PID='' SYS_PORT=''
start_system() {
    local system=$1 mode=$2 var bin config=$RINGWAY_CONFIG
    var=${system^^}
    var=${var//-/_}_PORT
    SYS_NAME=$system
    if [[ $mode == tls ]]; then var=${var%_PORT}_TLS_PORT SYS_NAME=$system-tls config=$RINGWAY_TLS_CONFIG; fi
    SYS_PORT=${!var}
    case $system in
        ringway | ringway-b)
            bin=$RINGWAY_BIN
            if [[ $system == ringway-b ]]; then
                bin=$RINGWAY_B_BIN
                [[ -x $bin ]] || die "system ringway-b needs RINGWAY_B_BIN (an executable Ringway binary)"
            fi
            # --no-pin: taskset gives the core (before fix d0f6080, Ringway's own pinning put worker 0 on CPU 0 whatever taskset said).
            start "$SYS_NAME" "$SYS_PORT" "$PROXY_CPU" "$bin" run -c "$config" -p "$SYS_PORT" -w 1 --no-pin ;;
        nginx)
            render "$LT/configs/nginx-proxy.conf" "$RUNDIR/$SYS_NAME-proxy.conf" "$SYS_PORT" "$mode"
            start "$SYS_NAME" "$SYS_PORT" "$PROXY_CPU" nginx -p "$RUNDIR" -c "$RUNDIR/$SYS_NAME-proxy.conf" -e "$RUNDIR/proxy-error.log" ;;
        haproxy)
            render "$LT/configs/haproxy.cfg" "$RUNDIR/$SYS_NAME.cfg" "$SYS_PORT" "$mode"
            start "$SYS_NAME" "$SYS_PORT" "$PROXY_CPU" haproxy -db -f "$RUNDIR/$SYS_NAME.cfg" ;;
        bare)
            local map=() p
            for p in "${!PROXY_MAP[@]}"; do map+=("$p=${PROXY_MAP[$p]}"); done
            start "$SYS_NAME" "$SYS_PORT" "$PROXY_CPU" "$BARE_BIN" "127.0.0.1:$SYS_PORT" "127.0.0.1:$BACKEND_PORT" "${map[@]}" ;;
        *) die "unknown system '$system' (known: ringway nginx haproxy bare direct ringway-b)" ;;
    esac
    SYS_PID=$STARTED_PID
}

finish_system() { # finish_system NAME PID PORT: report what the system printed, stop it
    local name=$1 pid=$2 port=$3
    if ! kill -0 "$pid" 2>/dev/null; then
        log "WARNING: $name exited during the run:"
        tail -n 20 "$RUNDIR/$name.out" >&2
    fi
    # Anything the system printed (Ringway's stderr: errors, warnings) goes into the report.
    if [[ -s "$RUNDIR/$name.out" ]]; then
        log "$name output (last 10 lines):"
        tail -n 10 "$RUNDIR/$name.out" | sed 's/^/    /' >&2
    fi
    stop "$pid" "$port"
}

# run_system SYSTEM plain|tls SCENARIO...: an "n/a" row for each scenario SYSTEM does not take part in; the others
# measured against that listener of SYSTEM, started before and stopped after them (not started when there are none).
run_system() {
    local system=$1 mode=$2 sc todo=() scheme=http
    shift 2
    for sc in "$@"; do
        if takes_part "$system" "$sc"; then
            todo+=("$sc")
        else
            echo "$round,$sc,${SCENARIO_PATH[$sc]},$system,NaN,NaN,NaN,NaN,NaN,NaN,NaN,NaN,NaN,0,0,0,n/a,NaN,NaN,$CONNECTIONS,max,,NaN" >>"$CSV"
        fi
    done
    ((${#todo[@]})) || return 0
    start_system "$system" "$mode"
    if [[ $mode == tls ]]; then
        scheme=https
        tls_info "$system" "$SYS_PORT"
    fi
    run_scenarios "$system" "$SYS_PID" "$SYS_PORT" "$scheme" "${todo[@]}"
    finish_system "$SYS_NAME" "$SYS_PID" "$SYS_PORT"
}

for ((round = 1; round <= ROUNDS; round++)); do
((ROUNDS > 1)) && log "round $round of $ROUNDS"
for system in $SYSTEMS; do
    if [[ $system == direct ]]; then
        # wrk straight at the backend: an upper bound for any proxy on this machine (scenarios with a
        # plain file behind them only; not h: the backend has no TLS).
        pid=$BACKEND_PID port=$BACKEND_PORT
        for sc in "${PLAIN_SCENARIOS[@]}"; do
            [[ -n ${PROXY_MAP[${SCENARIO_PATH[$sc]}]:-} ]] || continue
            saved=${SCENARIO_PATH[$sc]}
            SCENARIO_PATH[$sc]=${PROXY_MAP[$saved]}
            measure direct "$pid" "$port" "$sc"
            SCENARIO_PATH[$sc]=$saved
        done
        if ((${#TLS_SCENARIOS[@]})) && ((round == 1)); then log "direct: no TLS scenarios (the backend speaks plain HTTP)"; fi
        continue
    fi
    if ((${#PLAIN_SCENARIOS[@]})); then run_system "$system" plain "${PLAIN_SCENARIOS[@]}"; fi
    if ((${#TLS_SCENARIOS[@]})); then run_system "$system" tls "${TLS_SCENARIOS[@]}"; fi
done
done

# ---- report -----------------------------------------------------------------------------------------
median() { { grep -v '^NaN$' || true; } | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "NaN"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { # col SCENARIO SYSTEM FIELD [MODE]: that column of every round, one per line
    awk -F, -v sc="$1" -v sys="$2" -v f="$3" -v m="${4:-max}" 'NR > 1 && $2 == sc && $4 == sys && $21 == m { print $f }' "$CSV"
}
num() { # num FORMAT VALUE: printf, "–" for NaN/empty
    awk -v f="$1" -v v="$2" 'BEGIN { if (v == "" || v == "NaN") print "–"; else printf f "\n", v }'
}
label() {
    case $1/$2 in
        nginx/c) echo "nginx+njs" ;;
        direct/*) echo "direct (no proxy; CPU is the backend's)" ;;
        bare/*) echo "bare monoio proxy (no KrakenD semantics: the floor of this stack)" ;;
        *) echo "$1" ;;
    esac
}
{
    echo
    echo "## Ringway load test, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); kernel $(uname -r); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s on CPU $WRK_CPU (scenario e: -t1 -c$E_CONNECTIONS -d${E_DURATION}s); system under test on CPU $PROXY_CPU;" \
         "backend nginx (static files, keep-alive) on CPU $BACKEND_CPU. Open-file limit $NOFILE."
    if ((ROUNDS > 1)); then
        echo "$ROUNDS rounds, systems in turn; medians shown, errors summed."
    fi
    echo "Latency is at maximum throughput (wrk, closed loop)$([[ $OHA == 1 ]] && echo "; fixed-rate rows (oha -q, 50 % / 80 % of each system's max) follow each table")."
    echo "Numbers are noisy (shared 2-core machine); only ratios measured side by side in this run mean anything."
    if ((${#TLS_SCENARIOS[@]})); then
        echo "Scenarios h: each system terminates TLS 1.3 in a second process (TLS-only listener) with the same self-signed ECDSA P-256" \
             "certificate and proxies over plain HTTP to the same backend; Ringway with curve_preferences [29, 23] (X25519 first)," \
             "nginx with ssl_protocols TLSv1.3, a shared session cache and tickets, haproxy with ssl-min-ver TLSv1.3; wrk over HTTP/1.1."
    fi
    LAST_H=''
    for sc in $SCENARIOS; do if [[ $sc == h || $sc == h-hs ]]; then LAST_H=$sc; fi; done
    for sc in $SCENARIOS; do
        echo
        echo "### Scenario $sc — ${SCENARIO_DESC[$sc]}"
        echo
        echo "| system | rps | vs nginx | p50 ms | p99 ms | p99.9 ms | errors | CPU % | CPU µs/req | CPU vs nginx | peak RSS MB | new upstream conn/s | backend µs/req | CPU $PROXY_CPU busy | status |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        base=$(col "$sc" nginx 5 | median) base_cpu=$(col "$sc" nginx 11 | median)
        for sys in $SYSTEMS; do
            [[ -n $(col "$sc" "$sys" 4) ]] || continue
            status=$(col "$sc" "$sys" 17 | sort -u | paste -sd' ' -)
            [[ $status == *errors* ]] && status=errors
            if [[ $status == n/a ]]; then
                echo "| $(label "$sys" "$sc") | $(na_reason "$sys") | | | | | | | | | | | | | n/a |"
                continue
            fi
            rps=$(col "$sc" "$sys" 5 | median)
            cpu=$(col "$sc" "$sys" 11 | median)
            ratio=$(awk -v r="$rps" -v b="$base" 'BEGIN { if (b != "NaN" && b + 0 > 0) printf "%.2f×", r / b; else print "n/a" }')
            cratio=$(awk -v r="$cpu" -v b="$base_cpu" 'BEGIN { if (b != "NaN" && r != "NaN" && b + 0 > 0 && r + 0 > 0) printf "%.2f×", r / b; else print "n/a" }')
            printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
                "$(label "$sys" "$sc")" "$(num %.0f "$rps")" "$ratio" \
                "$(num %.2f "$(col "$sc" "$sys" 6 | median)")" "$(num %.2f "$(col "$sc" "$sys" 7 | median)")" \
                "$(num %.2f "$(col "$sc" "$sys" 8 | median)")" "$(col "$sc" "$sys" 9 | awk '{ t += $1 } END { print t }')" \
                "$(num %.0f%% "$(col "$sc" "$sys" 10 | median)")" "$(num %.1f "$cpu")" "$cratio" \
                "$(num %.1f "$(col "$sc" "$sys" 12 | median)")" "$(num %.0f "$(col "$sc" "$sys" 13 | median)")" \
                "$(num %.1f "$(col "$sc" "$sys" 19 | median)")" "$(num %.0f%% "$(col "$sc" "$sys" 18 | median)")" "$status"
        done
        if [[ $OHA == 1 ]]; then
            for sys in $SYSTEMS; do
                for pct in 50 80; do
                    [[ -n $(col "$sc" "$sys" 4 "fixed$pct") ]] || continue
                    printf '| %s @ %s %% of max (%s rps offered) | %s | | %s | %s | %s | %s | | | | | | | | fixed rate |\n' \
                        "$(label "$sys" "$sc")" "$pct" "$(num %.0f "$(col "$sc" "$sys" 22 "fixed$pct" | median)")" \
                        "$(num %.0f "$(col "$sc" "$sys" 5 "fixed$pct" | median)")" \
                        "$(num %.2f "$(col "$sc" "$sys" 6 "fixed$pct" | median)")" "$(num %.2f "$(col "$sc" "$sys" 7 "fixed$pct" | median)")" \
                        "$(num %.2f "$(col "$sc" "$sys" 8 "fixed$pct" | median)")" "$(col "$sc" "$sys" 9 "fixed$pct" | awk '{ t += $1 } END { print t }')"
                done
            done
        fi
        # How close Ringway comes to the floor of its stack: the bare proxy does only what every proxy must.
        rb=$(col "$sc" bare 5 | median) rr=$(col "$sc" ringway 5 | median)
        if [[ $rb != NaN && $rr != NaN ]]; then
            echo
            printf 'Ringway vs bare monoio proxy: %s rps, CPU per request %s.\n' \
                "$(awk -v a="$rr" -v b="$rb" 'BEGIN { if (b + 0 > 0) printf "%.2f×", a / b; else print "n/a" }')" \
                "$(awk -v a="$(col "$sc" ringway 11 | median)" -v b="$(col "$sc" bare 11 | median)" \
                    'BEGIN { if (a != "NaN" && b != "NaN" && b + 0 > 0) printf "%.2f×", a / b; else print "n/a" }')"
        fi
        if [[ $sc == c ]]; then
            rc=$(col c ringway 5 | median) ra=$(col a ringway 5 | median) nc=$(col c nginx 5 | median)
            echo
            printf 'Aggregation targets: Ringway /agg vs nginx+njs /agg = %s (target ≥ 3×); Ringway /agg vs Ringway /json (scenario a, one backend) = %s (target ≥ 0.6×). Same JSON from both: %s.\n' \
                "$(awk -v a="$rc" -v b="$nc" 'BEGIN { if (b != "NaN" && b + 0 > 0 && a != "NaN") printf "%.2f×", a / b; else print "n/a" }')" \
                "$(awk -v a="$rc" -v b="$ra" 'BEGIN { if (b != "NaN" && b + 0 > 0 && a != "NaN") printf "%.2f×", a / b; else print "n/a (run scenario a too)" }')" \
                "$AGG_SAME"
        fi
        # wrk itself near a full core per thread: rps is (partly) the client's limit (h-hs: OpenSSL handshakes in wrk).
        busy_wrk=''
        wrk_t=$WRK_THREADS
        [[ $sc == e ]] && wrk_t=1
        for sys in $SYSTEMS; do
            b=$(col "$sc" "$sys" 23 | median)
            if awk -v b="$b" -v t="$wrk_t" 'BEGIN { exit !(b != "NaN" && b + 0 >= 90 * t) }'; then busy_wrk+="${busy_wrk:+, }$sys $(num %.0f%% "$b")"; fi
        done
        if [[ -n $busy_wrk ]]; then
            echo
            echo "Client-bound: wrk used ≥ 90 % of a core per thread ($busy_wrk), so these rps are (partly) wrk's limit; compare CPU µs/req."
        fi
        if [[ $sc == "$LAST_H" ]]; then
            echo
            printf 'TLS negotiated (openssl s_client, %s, the library and defaults wrk uses):' "$(openssl version | cut -d' ' -f1-2)"
            same=yes first=''
            for sys in $SYSTEMS; do
                [[ -n ${TLS_NEGOTIATED[$sys]:-} ]] || continue
                printf ' %s: %s;' "$sys" "${TLS_NEGOTIATED[$sys]}"
                [[ -z $first ]] && first=${TLS_PARAMS[$sys]}
                [[ ${TLS_PARAMS[$sys]} == "$first" ]] || same=no
            done
            printf ' same protocol, cipher and group for all: %s.\n' "$same"
            rh=$(col h ringway 5 | median) nh=$(col h nginx 5 | median)
            rhs=$(col h-hs ringway 5 | median) nhs=$(col h-hs nginx 5 | median)
            rhc=$(col h-hs ringway 11 | median) nhc=$(col h-hs nginx 11 | median)
            echo
            printf 'HTTPS target: Ringway vs nginx on HTTPS small-body rps (h, keep-alive) = %s (target ≥ 1.2×); on handshakes/s (h-hs, a new TLS connection per request) = %s, CPU per handshake + request %s of nginx'"'"'s.\n' \
                "$(awk -v a="$rh" -v b="$nh" 'BEGIN { if (b != "NaN" && b + 0 > 0 && a != "NaN") printf "%.2f×", a / b; else print "n/a (run scenario h)" }')" \
                "$(awk -v a="$rhs" -v b="$nhs" 'BEGIN { if (b != "NaN" && b + 0 > 0 && a != "NaN") printf "%.2f×", a / b; else print "n/a (run scenario h-hs)" }')" \
                "$(awk -v a="$rhc" -v b="$nhc" 'BEGIN { if (b != "NaN" && b + 0 > 0 && a != "NaN") printf "%.2f×", a / b; else print "n/a" }')"
        fi
    done
    echo
} | tee "$RESULTS_DIR/$TS.md"

{
    echo "{"
    echo "  \"timestamp\": \"$TS\","
    echo "  \"machine\": {\"cores\": $(nproc), \"cpu\": \"$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)\", \"kernel\": \"$(uname -r)\", \"loadavg\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"},"
    echo "  \"settings\": {\"duration_s\": $DURATION, \"warmup_s\": $WARMUP, \"connections\": $CONNECTIONS, \"wrk_threads\": $WRK_THREADS, \"rounds\": $ROUNDS," \
         "\"wrk_cpu\": \"$WRK_CPU\", \"proxy_cpu\": \"$PROXY_CPU\", \"backend_cpu\": \"$BACKEND_CPU\", \"body_bytes\": $BODY_BYTES," \
         "\"bare_scenarios\": \"$BARE_SCENARIOS\", \"e_connections\": $E_CONNECTIONS, \"e_duration_s\": $E_DURATION, \"slow_ms\": $SLOW_MS, \"slow_every\": $SLOW_EVERY, \"nofile\": $NOFILE, \"oha\": $OHA},"
    echo "  \"scenarios\": {$(for sc in $SCENARIOS; do printf '"%s": "%s", ' "$sc" "${SCENARIO_DESC[$sc]//\"/\\\"}"; done | sed 's/, $//')},"
    echo "  \"systems\": [$(for s in $SYSTEMS; do printf '"%s", ' "$s"; done | sed 's/, $//')],"
    echo "  \"system_labels\": {$(for s in $SYSTEMS; do printf '"%s": "%s", ' "$s" "$(label "$s" a)"; done | sed 's/, $//')},"
    echo "  \"tls\": {$(for s in $SYSTEMS; do [[ -n ${TLS_NEGOTIATED[$s]:-} ]] && printf '"%s": "%s", ' "$s" "${TLS_NEGOTIATED[$s]}"; done | sed 's/, $//')},"
    echo "  \"results\": ["
    awk -F, -v hdr="$CSV_HEADER" 'BEGIN { nf = split(hdr, h, ",") }
        NR > 1 { if (n++) print ","; printf "    {"
                 for (i = 1; i <= nf; i++) {
                     v = $i
                     if (h[i] ~ /^(scenario|path|system|status|mode)$/) v = "\"" v "\""
                     else if (v == "" || v == "NaN") v = "null"
                     printf "%s\"%s\": %s", (i > 1 ? ", " : ""), h[i], v
                 }
                 printf "}" }
        END { print "" }' "$CSV"
    echo "  ]"
    echo "}"
} >"$JSON"
log "results: $CSV, $JSON, $RESULTS_DIR/$TS.md"
if [[ $CHART == 1 && $HAVE_PY == 1 ]]; then
    if python3 "$LT/chart.py" "$JSON" "$RESULTS_DIR/$TS.svg" >/dev/null; then
        log "chart: $RESULTS_DIR/$TS.svg"
        if command -v rsvg-convert >/dev/null; then
            rsvg-convert "$RESULTS_DIR/$TS.svg" -o "$RESULTS_DIR/$TS.png" && log "chart as PNG: $RESULTS_DIR/$TS.png"
        fi
    else
        log "WARNING: loadtest/chart.py failed"
    fi
fi

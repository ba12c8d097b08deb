#!/usr/bin/env bash
# Ringway load test: Ringway vs nginx vs haproxy as reverse proxies in front of one nginx JSON backend,
# each pinned to the same core, driven by wrk from another core. See loadtest/README.md.
#
#   loadtest/run.sh            # DURATION=10 s per run, scenarios a and b
#   loadtest/run.sh --quick    # 3 s runs (smoke test)
#   SCENARIOS="a" DURATION=8 loadtest/run.sh
#
# Everything it starts is stopped on exit; traffic goes to 127.0.0.1 only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LT="$ROOT/loadtest"

# ---- settings (env) ---------------------------------------------------------------------------------
QUICK=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done
if [[ $QUICK == 1 ]]; then DURATION=${DURATION:-3}; fi
DURATION=${DURATION:-10}         # seconds per measured wrk run
WARMUP=${WARMUP:-2}              # seconds of un-measured wrk before each measured run
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-1}
SCENARIOS=${SCENARIOS:-"a b"}
ROUNDS=${ROUNDS:-1}              # >1: every system runs again in turn; the table shows medians over the rounds
SYSTEMS=${SYSTEMS:-"ringway nginx haproxy"}   # order of the runs; nginx is the ratio baseline; also: direct, ringway-b
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

declare -A SCENARIO_PATH=([a]=/json [b]=/noop)
declare -A SCENARIO_DESC=([a]="/json: one JSON backend, full KrakenD semantics (decode, filter, re-encode)" \
                          [b]="/noop: output_encoding no-op (body passed through)")
for s in $SCENARIOS; do
    [[ -n ${SCENARIO_PATH[$s]:-} ]] || { echo "unknown scenario '$s' (known: a b)" >&2; exit 2; }
done

log() { printf '[loadtest] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

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
    port_open "$port" && die "port $port is already in use (not by this script); set ${name^^}_PORT"
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

# run_wrk OUT ARGS...: wrk on WRK_CPU, bounded in time; in the background + wait, so that a signal stops the
# run at once (bash runs traps only after a foreground command ends) and the cleanup can stop wrk too.
run_wrk() {
    local out=$1 rc=0
    shift
    taskset -c "$WRK_CPU" timeout $((DURATION + WARMUP + 30)) wrk "$@" >"$out" 2>&1 &
    local p=$!
    PIDS+=("$p")
    wait "$p" || rc=$?
    forget_pid "$p"
    return "$rc"
}

# ---- tools ------------------------------------------------------------------------------------------
need_install=()
command -v wrk >/dev/null || need_install+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need_install+=(nginx)
if [[ " $SYSTEMS " == *" haproxy "* ]]; then
    command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || need_install+=(haproxy)
fi
command -v taskset >/dev/null || need_install+=(util-linux)
command -v curl >/dev/null || need_install+=(curl)
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
else
    log "tools present: wrk, nginx$([[ " $SYSTEMS " == *" haproxy "* ]] && echo ", haproxy"), taskset, curl (no install)"
fi
PATH="$PATH:/usr/sbin:/sbin"
command -v wrk >/dev/null || die "wrk is not installed"
command -v nginx >/dev/null || die "nginx is not installed"
if [[ " $SYSTEMS " == *" haproxy "* ]] && ! command -v haproxy >/dev/null; then
    log "haproxy is not installed: skipping it"
    SYSTEMS=${SYSTEMS//haproxy/}
fi

# ---- build ------------------------------------------------------------------------------------------
if [[ " $SYSTEMS " == *" ringway "* ]]; then
    if [[ $SKIP_BUILD == 1 ]]; then
        log "SKIP_BUILD=1: using $RINGWAY_BIN"
    else
        log "building Ringway: cargo build --release (target dir $TARGET_DIR)"
        (cd "$ROOT" && cargo build --release --bin ringway)
    fi
    [[ -x $RINGWAY_BIN ]] || die "no Ringway binary at $RINGWAY_BIN"
    "$RINGWAY_BIN" check -c "$LT/configs/ringway.json" >"$RUNDIR/ringway-check.out" 2>&1 ||
        { cat "$RUNDIR/ringway-check.out" >&2; die "ringway check rejected loadtest/configs/ringway.json"; }
fi

# ---- backend ----------------------------------------------------------------------------------------
DOCROOT="$RUNDIR/www"
mkdir -p "$DOCROOT"
# ~300 bytes of JSON: strings, numbers, a bool, a null, a nested object and an array.
cat >"$DOCROOT/data.json" <<'EOF'
{"id":42,"name":"Ringway load test","active":true,"score":98.6,"tags":["gateway","krakend","io_uring"],"owner":{"login":"octo","id":1001,"site":"https://example.com/octo"},"created_at":"2026-11-01T12:00:00Z","counts":{"followers":1234,"following":56,"repos":78},"note":null,"description":"A small JSON object"}
EOF
BODY_BYTES=$(wc -c <"$DOCROOT/data.json")

render() { # render TEMPLATE OUT PORT
    sed -e "s|@RUNDIR@|$RUNDIR|g" -e "s|@DOCROOT@|$DOCROOT|g" -e "s|@PORT@|$3|g" \
        -e "s|@BACKEND@|127.0.0.1:$BACKEND_PORT|g" "$1" >"$2"
}
render "$LT/configs/nginx-backend.conf" "$RUNDIR/nginx-backend.conf" "$BACKEND_PORT"
start backend "$BACKEND_PORT" "$BACKEND_CPU" nginx -p "$RUNDIR" -c "$RUNDIR/nginx-backend.conf" -e "$RUNDIR/backend-error.log"
BACKEND_PID=$STARTED_PID

NPROC=$(nproc)
log "CPU assignment: wrk on CPU $WRK_CPU; system under test on CPU $PROXY_CPU; backend nginx on CPU $BACKEND_CPU$([[ $BACKEND_CPU == "$PROXY_CPU" ]] && echo " (shares the proxy's core)") — $NPROC cores online"
log "wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s --latency (after a ${WARMUP}s warm-up); backend body $BODY_BYTES bytes"

# ---- measuring --------------------------------------------------------------------------------------
TS=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS_DIR="$LT/results"
mkdir -p "$RESULTS_DIR"
CSV="$RESULTS_DIR/$TS.csv"
JSON="$RESULTS_DIR/$TS.json"
echo "round,scenario,path,system,rps,p50_ms,p99_ms,cpu_us_per_req,requests,non2xx,socket_errors,status,proxy_core_busy_pct,backend_cpu_us_per_req" >"$CSV"

to_ms() { # wrk latency "812.00us" / "1.23ms" / "1.05s" -> milliseconds
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
        else printf "NaN" }'
}

CLK_TCK=$(getconf CLK_TCK)
core_ticks() { # "busy total" ticks of one core, from /proc/stat
    awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
cpu_ticks() { # utime + stime of a whole process (all threads), in clock ticks
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# measure SYSTEM PID PORT SCENARIO: curl check, warm-up, measured wrk run; appends a row to the CSV.
# PID is the process whose CPU time is charged to the requests (the system under test, not the backend).
measure() {
    local system=$1 pid=$2 port=$3 sc=$4 path=${SCENARIO_PATH[$4]} url out code status=ok t0 t1 b0 b1 c0 c1
    url="http://127.0.0.1:$port$path"
    code=$(curl -s -o "$RUNDIR/$system-$sc.body" -w '%{http_code}' --max-time 5 "$url") || true
    if [[ $code != 200 ]]; then
        status="curl-$code"
        log "WARNING: $system $path answered $code to curl:"
        curl -si --max-time 5 "$url" | head -c 1000 >&2 || true
        echo >&2
    fi
    log "$system scenario $sc ($path): warm-up ${WARMUP}s"
    run_wrk /dev/null -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$url" || true
    log "$system scenario $sc ($path): measuring ${DURATION}s"
    out="$RUNDIR/wrk-$system-$sc.txt"
    t0=$(cpu_ticks "$pid") b0=$(cpu_ticks "$BACKEND_PID") c0=$(core_ticks "$PROXY_CPU")
    run_wrk "$out" -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url" || status="wrk-failed"
    t1=$(cpu_ticks "$pid") b1=$(cpu_ticks "$BACKEND_PID") c1=$(core_ticks "$PROXY_CPU")
    local rps p50 p99 reqs non2xx sockerr
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2; exit}' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2; exit}' "$out")")
    reqs=$(awk '/requests in/ {print $1; exit}' "$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
    sockerr=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$out")
    rps=${rps:-0} reqs=${reqs:-0} non2xx=${non2xx:-0} sockerr=${sockerr:-0}
    # CPU time the system under test spent per request: far less sensitive than rps to other load on the machine
    # (it still moves with cache and frequency effects), and the figure to compare when the machine is busy.
    busy=$(awk -v a="$c0" -v b="$c1" 'BEGIN { split(a, x, " "); split(b, y, " "); d = y[2] - x[2]; if (d > 0) printf "%.0f", 100 * (y[1] - x[1]) / d; else print "NaN" }')
    backend_us=$(awk -v d=$((b1 - b0)) -v hz="$CLK_TCK" -v n="$reqs" 'BEGIN { if (n > 0) printf "%.1f", d * 1e6 / hz / n; else print "NaN" }')
    cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$reqs" 'BEGIN { if (n > 0) printf "%.1f", d * 1e6 / hz / n; else print "NaN" }')
    if [[ $non2xx != 0 || $sockerr != 0 ]]; then
        [[ $status == ok ]] && status=errors
        log "WARNING: $system $path: $non2xx non-2xx/3xx responses, $sockerr socket errors"
        grep -E 'Socket errors|Non-2xx' "$out" >&2 || true
    fi
    if [[ ! -s "$RUNDIR/$system-$sc.body" ]]; then
        [[ $status == ok ]] && status=empty-body
    fi
    log "$system $sc: $rps rps, p50 ${p50} ms, p99 ${p99} ms, CPU ${cpu_us} µs/request (backend ${backend_us}), CPU $PROXY_CPU busy ${busy}%, $reqs requests, non-2xx $non2xx, socket errors $sockerr"
    echo "$round,$sc,$path,$system,$rps,$p50,$p99,$cpu_us,$reqs,$non2xx,$sockerr,$status,$busy,$backend_us" >>"$CSV"
}

for ((round = 1; round <= ROUNDS; round++)); do
((ROUNDS > 1)) && log "round $round of $ROUNDS"
for system in $SYSTEMS; do
    case $system in
        ringway)
            # --no-pin: taskset gives the core (before fix d0f6080, Ringway's own pinning put worker 0 on CPU 0 whatever taskset said).
            start ringway "$RINGWAY_PORT" "$PROXY_CPU" "$RINGWAY_BIN" run \
                -c "$LT/configs/ringway.json" -p "$RINGWAY_PORT" -w 1 --no-pin
            pid=$STARTED_PID port=$RINGWAY_PORT ;;
        ringway-b)
            [[ -x $RINGWAY_B_BIN ]] || die "system ringway-b needs RINGWAY_B_BIN (an executable Ringway binary)"
            start ringway-b "$RINGWAY_B_PORT" "$PROXY_CPU" "$RINGWAY_B_BIN" run \
                -c "$LT/configs/ringway.json" -p "$RINGWAY_B_PORT" -w 1 --no-pin
            pid=$STARTED_PID port=$RINGWAY_B_PORT ;;
        nginx)
            render "$LT/configs/nginx-proxy.conf" "$RUNDIR/nginx-proxy.conf" "$NGINX_PORT"
            start nginx "$NGINX_PORT" "$PROXY_CPU" nginx -p "$RUNDIR" -c "$RUNDIR/nginx-proxy.conf" -e "$RUNDIR/proxy-error.log"
            pid=$STARTED_PID port=$NGINX_PORT ;;
        haproxy)
            render "$LT/configs/haproxy.cfg" "$RUNDIR/haproxy.cfg" "$HAPROXY_PORT"
            start haproxy "$HAPROXY_PORT" "$PROXY_CPU" haproxy -db -f "$RUNDIR/haproxy.cfg"
            pid=$STARTED_PID port=$HAPROXY_PORT ;;
        direct)
            # wrk straight at the backend: an upper bound for any proxy on this machine.
            pid=$BACKEND_PID port=$BACKEND_PORT
            declare -A SCENARIO_PATH_SAVE=()
            for sc in $SCENARIOS; do
                SCENARIO_PATH_SAVE[$sc]=${SCENARIO_PATH[$sc]}
                SCENARIO_PATH[$sc]=/data.json
            done ;;
        *) die "unknown system '$system' (known: ringway nginx haproxy direct ringway-b)" ;;
    esac
    for sc in $SCENARIOS; do measure "$system" "$pid" "$port" "$sc"; done
    if [[ $system == direct ]]; then
        for sc in $SCENARIOS; do SCENARIO_PATH[$sc]=${SCENARIO_PATH_SAVE[$sc]}; done
    else
        if ! kill -0 "$pid" 2>/dev/null; then
            log "WARNING: $system exited during the run:"
            tail -n 20 "$RUNDIR/$system.out" >&2
        fi
        # Anything the system printed (Ringway's stderr: errors, warnings) goes into the report.
        if [[ -s "$RUNDIR/$system.out" ]]; then
            log "$system output (last 10 lines):"
            tail -n 10 "$RUNDIR/$system.out" | sed 's/^/    /' >&2
        fi
        stop "$pid" "$port"
    fi
done
done

# ---- report -----------------------------------------------------------------------------------------
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "NaN"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { # col SCENARIO SYSTEM FIELD: that column of every round, one per line
    awk -F, -v sc="$1" -v sys="$2" -v f="$3" 'NR > 1 && $2 == sc && $4 == sys { print $f }' "$CSV"
}
{
    echo
    echo "## Ringway load test, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); kernel $(uname -r)."
    echo "wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s --latency on CPU $WRK_CPU; system under test on CPU $PROXY_CPU;" \
         "backend nginx (static ${BODY_BYTES}-byte JSON, keep-alive) on CPU $BACKEND_CPU."
    if ((ROUNDS > 1)); then
        echo "$ROUNDS rounds, systems in turn; medians shown, errors summed."
    fi
    echo "Numbers are noisy; compare ratios within one run."
    for sc in $SCENARIOS; do
        echo
        echo "### Scenario $sc — ${SCENARIO_DESC[$sc]}"
        echo
        echo "| system | rps | vs nginx | p50 ms | p99 ms | CPU µs/req | CPU vs nginx | backend µs/req | CPU $PROXY_CPU busy | requests | non-2xx | socket errors | status |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        base=$(col "$sc" nginx 5 | median) base_cpu=$(col "$sc" nginx 8 | median)
        for sys in $SYSTEMS; do
            [[ -n $(col "$sc" "$sys" 5) ]] || continue
            rps=$(col "$sc" "$sys" 5 | median)
            p50=$(col "$sc" "$sys" 6 | median)
            p99=$(col "$sc" "$sys" 7 | median)
            cpu=$(col "$sc" "$sys" 8 | median)
            reqs=$(col "$sc" "$sys" 9 | awk '{ t += $1 } END { print t }')
            non2xx=$(col "$sc" "$sys" 10 | awk '{ t += $1 } END { print t }')
            sockerr=$(col "$sc" "$sys" 11 | awk '{ t += $1 } END { print t }')
            status=$(col "$sc" "$sys" 12 | sort -u | paste -sd' ' -)
            busy=$(col "$sc" "$sys" 13 | median)
            backend_us=$(col "$sc" "$sys" 14 | median)
            ratio=$(awk -v r="$rps" -v b="$base" 'BEGIN { if (b + 0 > 0) printf "%.2f×", r / b; else print "n/a" }')
            cratio=$(awk -v r="$cpu" -v b="$base_cpu" 'BEGIN { if (b + 0 > 0 && r + 0 > 0) printf "%.2f×", r / b; else print "n/a" }')
            printf '| %s | %.0f | %s | %.2f | %.2f | %.1f | %s | %.1f | %.0f%% | %s | %s | %s | %s |\n' \
                "$sys$([[ $sys == direct ]] && echo " (no proxy; CPU is the backend's)")" "$rps" "$ratio" "$p50" "$p99" "$cpu" "$cratio" \
                "$backend_us" "$busy" \
                "$reqs" "$non2xx" "$sockerr" "$status"
        done
    done
    echo
} | tee "$RESULTS_DIR/$TS.md"

{
    echo "{"
    echo "  \"timestamp\": \"$TS\","
    echo "  \"machine\": {\"cores\": $(nproc), \"cpu\": \"$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)\", \"kernel\": \"$(uname -r)\"},"
    echo "  \"settings\": {\"duration_s\": $DURATION, \"warmup_s\": $WARMUP, \"connections\": $CONNECTIONS, \"wrk_threads\": $WRK_THREADS, \"rounds\": $ROUNDS," \
         "\"wrk_cpu\": \"$WRK_CPU\", \"proxy_cpu\": \"$PROXY_CPU\", \"backend_cpu\": \"$BACKEND_CPU\", \"body_bytes\": $BODY_BYTES},"
    echo "  \"results\": ["
    awk -F, 'NR > 1 { if (n++) print ","; printf "    {\"round\": %s, \"scenario\": \"%s\", \"path\": \"%s\", \"system\": \"%s\", \"rps\": %s, \"p50_ms\": %s, \"p99_ms\": %s, \"cpu_us_per_req\": %s, \"requests\": %s, \"non2xx\": %s, \"socket_errors\": %s, \"status\": \"%s\", \"proxy_core_busy_pct\": %s, \"backend_cpu_us_per_req\": %s}", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 } END { print "" }' "$CSV"
    echo "  ]"
    echo "}"
} | sed -e "s/: NaN/: null/g" >"$JSON"
log "results: $CSV, $JSON, $RESULTS_DIR/$TS.md"

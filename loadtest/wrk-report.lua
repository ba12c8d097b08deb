-- wrk script for loadtest/run.sh: prints one parseable "RESULT k=v ..." line at the end (latencies in µs,
-- p99.9 included, which wrk --latency does not show). With WRK_SLOW_PATH and WRK_SLOW_EVERY=N set, every
-- Nth request of each thread goes to WRK_SLOW_PATH instead of the URL's path (scenario g, a slow mix).
local slow_path = os.getenv("WRK_SLOW_PATH")
local slow_every = tonumber(os.getenv("WRK_SLOW_EVERY") or "0") or 0

if slow_path and slow_path ~= "" and slow_every > 0 then
    local n, fast, slow = 0, nil, nil
    init = function(args)
        fast = wrk.format(nil, nil)
        slow = wrk.format(nil, slow_path)
    end
    request = function()
        n = n + 1
        if n % slow_every == 0 then return slow end
        return fast
    end
end

done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
        "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d\n",
        summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency:percentile(99.9), latency.max))
end

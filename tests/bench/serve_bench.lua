-- wrk script for tests/bench/serve_bench.sh.
-- Usage: wrk ... -s serve_bench.lua URL -- BODIES_FILE   (POST, one JSON body per line, rotated)
--        wrk ... -s serve_bench.lua URL                  (GET)
-- Prints one JSON line with the counts and latency percentiles (microseconds) at the end.
local bodies = {}
local counter = 0

function init(args)
    if args[1] then
        for line in io.lines(args[1]) do
            bodies[#bodies + 1] = line
        end
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/json"
    end
end

function request()
    if #bodies == 0 then
        return wrk.format("GET")
    end
    counter = counter % #bodies + 1
    return wrk.format("POST", nil, nil, bodies[counter])
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        '{"requests": %d, "duration_us": %d, "socket_errors": %d, "non2xx": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
        summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end

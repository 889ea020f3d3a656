-- Replays the requests of one endpoint, listed one per line in the file named
-- by BENCH_REQUESTS:  METHOD <tab> PATH <tab> TOKEN <tab> FLAGS <tab> BODY
-- FLAGS: "u" = unique per request (a fresh Idempotency-Key, and @SEQ@ in the
-- body replaced by the same unique string); "o" = each line is used once
-- (the lines are shared out between the threads; BENCH_SKIP lines already
-- used by a warm-up are skipped).
-- At the end it prints one line, BENCH_RESULT {json}, for bench/load.py.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

local lines = {}
local position = 0
local stride = 1
statuses = {}  -- global: done() reads it from each thread
local run_id = os.getenv("BENCH_RUN_ID") or "run"

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    local f = split(line)
    table.insert(lines, { method = f[1], path = f[2], token = f[3], flags = f[4] or "", body = f[5] or "" })
  end
  local count = tonumber(os.getenv("BENCH_THREADS") or "1")
  local skip = tonumber(os.getenv("BENCH_SKIP") or "0")
  if lines[1].flags:find("o") then
    -- Thread k takes lines k, k + count, k + 2 count, ... after the skipped ones.
    position = skip + thread_number - 1 - count
    stride = count
  else
    -- Threads start at different places so they do not ask for the same thing at once.
    position = math.floor((thread_number - 1) * #lines / count) - 1
  end
end

function request()
  position = position + stride
  local r = lines[position % #lines + 1]
  local headers = { ["Accept"] = "application/json" }
  if r.token ~= "" then
    headers["Authorization"] = "Bearer " .. r.token
  end
  local body = nil
  if r.body ~= "" then
    body = r.body
    headers["Content-Type"] = "application/json"
  end
  if r.flags:find("u") then
    local unique = run_id .. "-" .. thread_number .. "-" .. position
    headers["Idempotency-Key"] = unique
    if body then
      body = body:gsub("@SEQ@", unique)
    end
  end
  return wrk.format(r.method, r.path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local seen = thread:get("statuses")
    for status, n in pairs(seen) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f, "socket_errors": %d, "timeouts": %d, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean, e.connect + e.read + e.write, e.timeout, e.connect, e.read, e.write,
    table.concat(parts, ", ")))
end

-- OwnTracks HTTP mode: one location message per POST, Basic auth with the ingest key as password.
dofile(os.getenv("WRK_DEVICES"))
local base = tonumber(os.getenv("BASE"))
local threads, counter = 0, 0
thread_no = 0  -- global: setup() sets it in each thread's own Lua state

function setup(thread)
  thread:set("thread_no", threads)
  threads = threads + 1
end

function request()
  counter = counter + 1
  local d = 1 + thread_no + 2 * (counter % (#KEYS / 2))
  local jitter = (counter % 7) * 0.00001
  local body = string.format(
    '{"_type":"location","lat":%.6f,"lon":%.6f,"tst":%d,"acc":10,"batt":70,"vel":7,"tid":"p1"}',
    29.06 + jitter, 119.61 + jitter, base + counter * 2 + thread_no)
  return wrk.format("POST", "/api/v1/ingest/owntracks",
                    {["Authorization"] = BASIC[d], ["Content-Type"] = "application/json"}, body)
end

-- Traccar Client (OsmAnd protocol): one fix per GET, the device's ingest key as ?id=.
-- ingest_http.py writes wrk/_devices.lua (ids, keys, auth headers, tokens) and sets BASE (epoch s).
-- Each wrk thread owns every other device and sends it fixes in increasing time, so no fix arrives late.
dofile(os.getenv("WRK_DEVICES"))
local base = tonumber(os.getenv("BASE"))
local path = os.getenv("WRK_PATH") or "/api/v1/ingest/osmand"
local use_ids = os.getenv("WRK_BARE") == "1"
local threads, counter = 0, 0
thread_no = 0  -- global: setup() sets it in each thread's own Lua state

function setup(thread)
  thread:set("thread_no", threads)
  threads = threads + 1
end


function request()
  counter = counter + 1
  local d = 1 + thread_no + 2 * (counter % (#KEYS / 2))
  local who = use_ids and IDS[d] or KEYS[d]
  local jitter = (counter % 7) * 0.00001
  return wrk.format("GET", string.format(
    "%s?id=%s&lat=%.6f&lon=%.6f&timestamp=%d&accuracy=10&speed=2&batt=70", path, who, 29.06 + jitter,
    119.61 + jitter, base + counter * 2 + thread_no))
end

-- The app's batch upload: 100 fixes a second apart per POST, as the phone (Bearer token) or the bare
-- baseline (supervisee id in the body) sends them.
dofile(os.getenv("WRK_DEVICES"))
local base = tonumber(os.getenv("BASE"))
local bare = os.getenv("WRK_BARE") == "1"
local path = bare and "/bare/batch" or "/api/v1/me/locations"
local threads, counter = 0, 0
thread_no = 0  -- global: setup() sets it in each thread's own Lua state

function setup(thread)
  thread:set("thread_no", threads)
  threads = threads + 1
end

function request()
  counter = counter + 1
  local d = 1 + thread_no + 2 * (counter % (#KEYS / 2))
  -- a device's next batch (50 requests later) starts where this one ends: 100 fixes, 1 s apart
  local start = base + counter * 2 + thread_no
  local fixes = {}
  for i = 0, 99 do
    fixes[#fixes + 1] = string.format(
      '{"recorded_at":"%s","lat":%.6f,"lon":%.6f,"accuracy_m":12,"speed_mps":1.2,"battery":80}',
      os.date("!%Y-%m-%dT%H:%M:%SZ", start + i), 29.05 + (i % 10) * 0.00001, 119.60 + (i % 7) * 0.00001)
  end
  local owner = bare and ('"supervisee_id":' .. IDS[d] .. ',') or ""
  local body = '{' .. owner .. '"fixes":[' .. table.concat(fixes, ",") .. ']}'
  local headers = {["Content-Type"] = "application/json"}
  if not bare then headers["Authorization"] = "Bearer " .. TOKENS[d] end
  return wrk.format("POST", path, headers, body)
end

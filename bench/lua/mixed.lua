-- Mixed load for bench/soak.py: each request picks a route by weight, reads
-- and one write (admin events with unique external ids), with bearer tokens
-- from files. SOAK_DELAY_MS (fractional) paces each connection so the soak
-- can hold a target rate below capacity:
--   SOAK_USERS, SOAK_REFERRERS, SOAK_ADMIN   token files, one per line
--   SOAK_REFEREE_IDS                          user ids the events name
--   SOAK_DELAY_MS                             pause before each request (0: none)
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

local function lines(path)
  local all = {}
  for line in io.lines(path) do table.insert(all, line) end
  return all
end

local function pick(list)
  return list[math.random(#list)]
end

function init(args)
  users = lines(os.getenv("SOAK_USERS"))
  referrers = lines(os.getenv("SOAK_REFERRERS"))
  admin = lines(os.getenv("SOAK_ADMIN"))[1]
  referees = lines(os.getenv("SOAK_REFEREE_IDS"))
  delay_ms = tonumber(os.getenv("SOAK_DELAY_MS") or "0")
  sent = 0
  math.randomseed(os.time() + thread_id * 7919)
end

local function get(path, token)
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end

local function post(path, token, body)
  local headers = {["Authorization"] = "Bearer " .. token}
  if body then headers["Content-Type"] = "application/json" end
  return wrk.format("POST", path, headers, body)
end

local function event()
  sent = sent + 1
  local body = string.format('{"type":"FIRST_ORDER","external_id":"soak-%d-%d-%d","user_id":"%s"}',
                             thread_id, os.time(), sent, pick(referees))
  return post("/api/admin/events", admin, body)
end

-- {percent, request builder}; the percents add up to 100.
local mix = {
  {5, function() return wrk.format("GET", "/healthz") end},
  {30, function() return post("/api/auth/verify-session", pick(users)) end},
  {15, function() return get("/api/referral/analytics/summary", pick(referrers)) end},
  {10, function() return get("/api/referral/analytics/list?limit=50", pick(referrers)) end},
  {10, function() return get("/api/rewards/balance", pick(referrers)) end},
  {10, function() return get("/api/rewards/history?limit=50", pick(referrers)) end},
  {20, event},
}

function request()
  local roll = math.random(100)
  for _, entry in ipairs(mix) do
    roll = roll - entry[1]
    if roll <= 0 then return entry[2]() end
  end
  return mix[1][2]()
end

-- wrk takes whole milliseconds: round up with the fractional part's
-- probability, so the mean pause is SOAK_DELAY_MS.
function delay()
  local whole = math.floor(delay_ms)
  if math.random() < delay_ms - whole then return whole + 1 end
  return whole
end

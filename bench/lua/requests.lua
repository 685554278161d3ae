-- One request shape for every scenario, driven by environment variables:
--   BENCH_METHOD, BENCH_PATH, BENCH_BODY (optional),
--   BENCH_TOKENS (optional file, one bearer token per line; "token<TAB>body"
--     gives that token its own body, e.g. each referee applies another code,
--     and "token<TAB>body<TAB>path" its own path, e.g. each credit another reward),
--   BENCH_UNIQUE=1: each token is used once (e.g. a referee applies once);
--   tokens are split between wrk threads so no two threads share one.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  method = os.getenv("BENCH_METHOD") or "GET"
  path = os.getenv("BENCH_PATH") or "/healthz"
  body = os.getenv("BENCH_BODY")
  unique = os.getenv("BENCH_UNIQUE") == "1"
  tokens = {}
  local file = os.getenv("BENCH_TOKENS")
  local thread_count = tonumber(os.getenv("BENCH_THREADS") or "2")
  if file then
    local all = {}
    for line in io.lines(file) do table.insert(all, line) end
    for index, line in ipairs(all) do
      if (index - 1) % thread_count == thread_id then table.insert(tokens, line) end
    end
    -- Fewer tokens than threads (e.g. one admin): shared, unless each may be used once.
    if #tokens == 0 and not unique then tokens = all end
  end
  bodies = {}
  paths = {}
  for index, line in ipairs(tokens) do
    local token, own = line:match("^([^\t]*)\t(.*)$")
    if token then
      local own_body, own_path = own:match("^([^\t]*)\t(.*)$")
      if own_path then own = own_body; paths[index] = own_path end
      tokens[index] = token
      if own ~= "" then bodies[index] = own end
    end
  end
  cursor = 0
  headers = {}
  if body then headers["Content-Type"] = "application/json" end
end

function request()
  if #tokens > 0 then
    cursor = cursor + 1
    if cursor > #tokens then
      if unique then wrk.thread:stop() end
      cursor = 1
    end
    headers["Authorization"] = "Bearer " .. tokens[cursor]
    return wrk.format(method, paths[cursor] or path, headers, bodies[cursor] or body)
  end
  return wrk.format(method, path, headers, body)
end

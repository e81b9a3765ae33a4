-- Runs an Argo CD health check script over Kubernetes objects the way Argo CD does,
-- and prints the health of each: the GitOps tests' second judge (docs/gitops.md).
--
--   kubectl get nb -o json | lua5.4 test/gitops/argocd-health.lua
--   lua5.1 test/gitops/argocd-health.lua --expect Degraded obj.json
--   lua5.4 test/gitops/argocd-health.lua --script other.lua -o json objs.json
--
-- Input: JSON from the files named (or stdin), one value or several one after the
-- other; Lists (a kind ending in "List" with items, as `kubectl get -o json` prints)
-- are unpacked. Output: one line per object, kind, namespace/name, health status and
-- message, tab-separated (-o json: one JSON object per line), the interface of
-- kind/local's kstatus command.
--
-- As in Argo CD (util/lua in argo-cd, gopher-lua): the script is one chunk that sees
-- the object as the global `obj` (JSON null is nil, as gopher-json decodes it) and
-- only the base and table libraries and a safe os (time, date, clock); strings have
-- no methods (no string library); it must return a table whose status is one of
-- Healthy, Progressing, Degraded, Suspended, Missing, Unknown (any other status is
-- Unknown, "Lua returned an invalid health status"). Run it with lua5.1 too: Argo
-- CD's gopher-lua is Lua 5.1, so 5.2+ syntax passes lua5.4 but fails there.
--
-- Exit status: 0; 1 when --expect is given and an object's health is not one of the
-- expected ones (named on stderr); 2 on bad input, usage or a script error.

local json = require("dkjson")

local here = (arg[0]:match("^(.*)/[^/]*$") or ".")
local default_script = here .. "/../../charts/cubit/files/health.lua"

local VALID = {Healthy = true, Progressing = true, Degraded = true, Suspended = true,
               Missing = true, Unknown = true}

local function die(code, msg)
  io.stderr:write("argocd-health: ", msg, "\n")
  os.exit(code)
end

local function usage()
  die(2, "usage: argocd-health.lua [--script FILE] [--expect STATUS[,STATUS...]] [-o text|json] [FILE...]")
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then die(2, err) end
  local text = f:read("*a")
  f:close()
  return text
end

-- The globals Argo CD gives a health script.
local function sandbox(obj)
  local env = {
    assert = assert, error = error, getmetatable = getmetatable, ipairs = ipairs,
    next = next, pairs = pairs, pcall = pcall, print = print, rawequal = rawequal,
    rawget = rawget, rawset = rawset, select = select, setmetatable = setmetatable,
    tonumber = tonumber, tostring = tostring, type = type, xpcall = xpcall,
    unpack = unpack or table.unpack, _VERSION = _VERSION,
    table = {concat = table.concat, insert = table.insert, remove = table.remove,
             sort = table.sort},
    os = {time = os.time, date = os.date, clock = os.clock},
    obj = obj,
  }
  env._G = env
  return env
end

-- Runs the script's source on obj; returns status, message or nil, error.
local function health(source, name, obj)
  local env = sandbox(obj)
  local chunk, err
  if setfenv then -- Lua 5.1
    chunk, err = loadstring(source, "=" .. name)
    if chunk then setfenv(chunk, env) end
  else
    chunk, err = load(source, "=" .. name, "t", env)
  end
  if not chunk then return nil, err end
  -- Strings lose their methods while the script runs, as without a string library.
  local string_mt = getmetatable("")
  local string_index = string_mt.__index
  string_mt.__index = nil
  local ok, hs = pcall(chunk)
  string_mt.__index = string_index
  if not ok then return nil, hs end
  if type(hs) ~= "table" then
    return nil, "expect table output from Lua script, not " .. type(hs)
  end
  if not VALID[hs.status] then
    return "Unknown", "Lua returned an invalid health status"
  end
  local message = hs.message
  if message == nil then message = "" end
  return hs.status, tostring(message)
end

local function is_list(v)
  return type(v) == "table" and type(v.kind) == "string" and v.kind:sub(-4) == "List"
    and type(v.items) == "table"
end

-- Appends every object of a decoded JSON value to objs (Lists unpacked).
local function collect(v, where, objs)
  if type(v) ~= "table" or type(v.kind) ~= "string" or type(v.apiVersion) ~= "string" then
    die(2, where .. ": not a Kubernetes object: apiVersion and kind are required")
  end
  if is_list(v) then
    for i, item in ipairs(v.items) do
      collect(item, where .. " item " .. i, objs)
    end
  else
    objs[#objs + 1] = v
  end
end

local function read_objects(text, name, objs)
  local pos, n = 1, 0
  while true do
    pos = text:find("%S", pos)
    if not pos then break end
    n = n + 1
    local v, nextpos, err = json.decode(text, pos, nil)
    if err then die(2, name .. ": value " .. n .. ": " .. err) end
    collect(v, name .. ": value " .. n, objs)
    pos = nextpos
  end
end

-- ---- command line
local script_path, expect, expect_text, output, files = default_script, nil, nil, "text", {}
local i = 1
while i <= #arg do
  local a = arg[i]
  if a == "--script" then
    i = i + 1; script_path = arg[i] or usage()
  elseif a == "--expect" then
    i = i + 1
    if not arg[i] then usage() end
    expect = {}
    for name in arg[i]:gmatch("[^,]+") do
      if not VALID[name] then die(2, "--expect: unknown health status " .. name) end
      expect[name] = true
    end
    expect_text = arg[i]
  elseif a == "-o" then
    i = i + 1; output = arg[i]
    if output ~= "text" and output ~= "json" then die(2, "-o must be text or json") end
  elseif a:sub(1, 1) == "-" and a ~= "-" then
    usage()
  else
    files[#files + 1] = a
  end
  i = i + 1
end

local source = read_file(script_path)
local script_name = script_path:match("[^/]*$")
local objs = {}
if #files == 0 then
  read_objects(io.read("*a"), "stdin", objs)
else
  for _, path in ipairs(files) do
    read_objects(read_file(path), path, objs)
  end
end
if #objs == 0 then die(2, "no objects in the input") end

local code = 0
for _, o in ipairs(objs) do
  local meta = o.metadata or {}
  local key = meta.name or ""
  if meta.namespace and meta.namespace ~= "" then key = meta.namespace .. "/" .. key end
  local status, message = health(source, script_name, o)
  if not status then die(2, o.kind .. " " .. key .. ": " .. script_name .. ": " .. tostring(message)) end
  if output == "json" then
    io.write(json.encode({kind = o.kind, namespace = meta.namespace, name = meta.name,
                          status = status, message = message}), "\n")
  else
    io.write(o.kind, "\t", key, "\t", status, "\t", message, "\n")
  end
  if expect and not expect[status] then
    io.stderr:write("argocd-health: ", o.kind, " ", key, " is ", status, ", expected ",
                    expect_text, ": ", message, "\n")
    code = 1
  end
end
io.stdout:flush()
os.exit(code)

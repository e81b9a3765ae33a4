-- Argo CD health check for every Cubit kind (group cubit.dev), docs/gitops.md.
--
-- Every Cubit controller writes its status the same way (docs/status.md): a phase,
-- status.observedGeneration and the conditions Ready, Reconciling, Stalled and
-- Suspended. This script reads them in the order Flux's kstatus does and maps them to
-- Argo CD's health:
--
--   no status yet, or a status about an older spec    Progressing
--     (status.observedGeneration differs from metadata.generation)
--   Stalled=True    failed: will not get better        Degraded
--   Suspended=True  suspended or stopped on purpose    Suspended
--   Reconciling=True  starting, queued, rolling out    Progressing
--   Ready=True      running, serving, succeeded, valid  Healthy
--   anything else                                     Progressing
--
-- Argo CD runs it in gopher-lua (Lua 5.1) with only the base and table libraries:
-- no string or math library, so messages are built with `..` alone.

local function find_condition(status, ctype)
  if type(status.conditions) ~= "table" then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if type(c) == "table" and c.type == ctype then
      return c
    end
  end
  return nil
end

local function is_true(c)
  return c ~= nil and c.status == "True"
end

-- "<phase>: <message>", or whichever of the two (or the reason) there is; the phase
-- alone when the message only repeats it.
local function describe(status, c)
  local text = ""
  if c ~= nil then
    if c.message ~= nil and c.message ~= "" then
      text = c.message
    elseif c.reason ~= nil then
      text = c.reason
    end
  end
  if type(status.phase) == "string" and status.phase ~= "" then
    if text == "" or text == status.phase then
      return status.phase
    end
    return status.phase .. ": " .. text
  end
  return text
end

local hs = {status = "Progressing", message = ""}
local status = obj.status
if type(status) ~= "table" then
  hs.message = "Waiting for the controller to write a status"
  return hs
end
local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
if generation ~= nil and status.observedGeneration ~= nil and
   status.observedGeneration ~= generation then
  hs.message = "Waiting for the controller to see generation " .. generation ..
    " (the status is about generation " .. status.observedGeneration .. ")"
  return hs
end

local stalled = find_condition(status, "Stalled")
if is_true(stalled) then
  hs.status = "Degraded"
  hs.message = describe(status, stalled)
  return hs
end
local suspended = find_condition(status, "Suspended")
if is_true(suspended) then
  hs.status = "Suspended"
  hs.message = describe(status, suspended)
  return hs
end
local reconciling = find_condition(status, "Reconciling")
if is_true(reconciling) then
  hs.message = describe(status, reconciling)
  return hs
end
local ready = find_condition(status, "Ready")
if is_true(ready) then
  hs.status = "Healthy"
  hs.message = describe(status, ready)
  return hs
end
if ready ~= nil then
  hs.message = describe(status, ready)
else
  hs.message = "Waiting for the Ready condition"
end
return hs

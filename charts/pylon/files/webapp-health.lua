-- Argo CD health check for pylon.dev/WebApp.
--
-- Argo CD runs this with only the base, table and package libraries (and a
-- safe os): there is no string library, so messages are built with '..'.
-- The order of the checks follows kstatus, so Argo CD and kstatus-based tools
-- agree: generation first, then Stalled, then Reconciling, then Ready.

local function condition(status, condType)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == condType then
      return c
    end
  end
  return nil
end

-- message returns the condition's message, else its reason, else fallback.
local function message(c, fallback)
  if c ~= nil then
    if c.message ~= nil and c.message ~= "" then
      return c.message
    end
    if c.reason ~= nil and c.reason ~= "" then
      return c.reason
    end
  end
  return fallback
end

local status = obj.status
if status == nil then
  return {status = "Progressing", message = "Waiting for Pylon to reconcile"}
end

-- Conditions written for an older spec say nothing about the current one.
local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
if generation ~= nil and status.observedGeneration ~= generation then
  return {status = "Progressing", message = "Waiting for Pylon to observe generation " .. generation}
end

local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  return {status = "Degraded", message = message(stalled, "Stalled")}
end

local reconciling = condition(status, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  return {status = "Progressing", message = message(reconciling, "Reconciling")}
end

local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "True" then
  return {status = "Healthy", message = message(ready, "Ready")}
end
return {status = "Progressing", message = message(ready, "Waiting for the Ready condition")}

-- Argo CD health check for pylon.dev/WebApp.
--
-- Argo CD runs this with only the base, table and package libraries (and a
-- safe os): there is no string library, so messages are built with '..'.
-- The order of the checks follows kstatus, so Argo CD and kstatus-based tools
-- agree: generation first, then Stalled, then Reconciling, then Ready. The
-- canary analysis slots in beside them: a rolled-back canary, or one that
-- cannot be judged, is Degraded right after Stalled (Pylon also sets
-- Stalled=True then, for kstatus); a canary being stepped up is Progressing
-- beside Reconciling (Pylon sets Reconciling=True, reason AnalysisStep).

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

-- A canary the analysis rolled back, or cannot judge for want of metrics,
-- stays so until a person changes the WebApp or its class.
local canary = status.canary
local canaryHealthy = condition(status, "CanaryHealthy")
if canaryHealthy ~= nil and canaryHealthy.status == "False" and
    (canaryHealthy.reason == "RolledBack" or canaryHealthy.reason == "MetricsUnavailable") then
  return {status = "Degraded", message = message(canaryHealthy, canaryHealthy.reason)}
end
if canary ~= nil and canary.phase == "RolledBack" then
  local why = "Canary rolled back"
  if canary.weightMessage ~= nil and canary.weightMessage ~= "" then
    why = canary.weightMessage
  end
  return {status = "Degraded", message = why}
end

-- canaryStep says where the analysis stands, e.g. "canary at step 2 of 3 (25%)".
local function canaryStep(c)
  local weight = ""
  if c.weight ~= nil then
    weight = c.weight .. "%"
  end
  if c.step ~= nil and c.steps ~= nil and c.steps > 0 then
    if weight ~= "" then
      weight = " (" .. weight .. ")"
    end
    return "canary at step " .. c.step .. " of " .. c.steps .. weight
  end
  if weight ~= "" then
    return "canary at " .. weight
  end
  return "canary analysis in progress"
end

-- While the canary steps up, its step says more than Reconciling's
-- message, unless something else (say a stable rollout) is reconciling.
local reconciling = condition(status, "Reconciling")
local isReconciling = reconciling ~= nil and reconciling.status == "True"
if canary ~= nil and canary.phase == "Progressing" and
    (not isReconciling or reconciling.reason == "AnalysisStep") then
  return {status = "Progressing", message = canaryStep(canary)}
end
if isReconciling then
  return {status = "Progressing", message = message(reconciling, "Reconciling")}
end

local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "True" then
  return {status = "Healthy", message = message(ready, "Ready")}
end
return {status = "Progressing", message = message(ready, "Waiting for the Ready condition")}

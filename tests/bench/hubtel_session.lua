-- wrk script: Hubtel-style USSD sessions (JSON, only the latest input per hop, a Sequence),
-- each a full walk of one dialog: the twin of ../shared/bench/ussd_session.lua for the Hubtel
-- route, to measure what keeping a Hubtel session's place in ussd_states costs.
-- USSD_PATH: the keys of one complete dialog, '*'-separated; callers +62812%07d, 1..10000.
local path = os.getenv("USSD_PATH") or "1*1*1*2500000*2*5*1"
local keys = {}
for k in string.gmatch(path, "[^*]+") do keys[#keys + 1] = k end
local msisdn_count = tonumber(os.getenv("USSD_MSISDN_COUNT") or "10000")
local tid = 0
function setup(thread) tid = tid + 1; thread:set("tid", tid) end
function init(args) math.randomseed(os.time() + (tid or 0)) end
local session, msisdn, sid, step = 0, nil, nil, #keys + 1
function request()
  local typ, msg
  if step > #keys then
    session = session + 1
    step = 0
    msisdn = string.format("+62812%07d", math.random(1, msisdn_count))
    sid = "HUB_" .. tostring(tid) .. "_" .. session .. "_" .. math.random(1, 1e9)
    typ, msg = "Initiation", "*123*45#"
  else
    typ, msg = "Response", keys[step]
  end
  step = step + 1
  local body = string.format('{"SessionId":"%s","Mobile":"%s","ServiceCode":"*123*45#",' ..
      '"Type":"%s","Message":"%s","Operator":"telkomsel","Sequence":%d}', sid, msisdn, typ, msg, step)
  return wrk.format("POST", wrk.path, {["Content-Type"] = "application/json"}, body)
end

package redislimit

import "github.com/redis/go-redis/v9"

// Times are microseconds on the Redis server's clock (TIME), so every process
// sees the same clock. Each bucket is kept as its "empty time" e: the bucket
// holds min(burst, (t−e)/interval) tokens at time t (below zero, a debt).
// Taking n tokens at t moves e to max(e, t−burst·interval) + n·interval:
// a request is charged its whole cost. It is ready once the bucket holds n,
// or is full if n is more than the burst (the rest is a debt the next
// requests wait out), or at once, if that is not after t. A pause empties
// the buckets at the moment it was set and delays every start until its end.

// reserveScript reserves one request and n tokens.
//
//	KEYS[1] buckets hash {r, t}   KEYS[2] pause hash {until, at}
//	KEYS[3] fleet hash (optional; see fleet.go and estimate.go)
//	ARGV: maxwait µs (-1: none), request interval µs (0: none), request
//	burst, token interval µs (0: none), token burst, tokens; then
//	(optional) the pace's kind (paceGiven, paceLearned, paceEstimated),
//	the process's id, the accepted answers it has not told yet, the
//	time in µs ("": Redis's; a test's clock), and the latest send of an
//	attempt it saw accepted, not told yet (µs, "": none; estimate.go)
//
// It returns {1, delay, ready, request interval, token cost, estimate,
// measured, now, accepted send} after reserving (ready is when the
// request goes; the interval and the cost in µs are what was reserved:
// cancelScript's arguments; the fleet's estimate, see estimate.go; the
// time it ran at and the fleet's latest accepted send, fleet_ok), or {0,
// delay, estimate, measured, now, accepted send} when the delay would
// exceed maxwait, having reserved nothing.
var reserveScript = redis.NewScript(fleetLua + estimateLua + `
local now = tonumber(ARGV[10])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local maxwait = tonumber(ARGV[1])
local ri, rb = tonumber(ARGV[2]), tonumber(ARGV[3])
local ti, tb, tn = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local kind = tonumber(ARGV[7]) or 0
local st, byEst = nil, false
if KEYS[3] and (kind == 1 or kind == 2) then
  st = est_read(KEYS[3], now, false)
  if st then est_heard(st, tonumber(ARGV[9]) or 0, now) end
end
if KEYS[3] then
  ri, rb, ti, tb, byEst = fleet_pace(KEYS[3], kind, ARGV[8], now, ri, rb, ti, tb, st and est_rate(st, now) or 0)
end
local start = now
local p = redis.call('HMGET', KEYS[2], 'until', 'at')
local pu, pa = tonumber(p[1]), tonumber(p[2])
if pu and pu > start then start = pu end
local s = redis.call('HMGET', KEYS[1], 'r', 't')
local re, te = tonumber(s[1]) or 0, tonumber(s[2]) or 0
local ready = start
if ri > 0 then
  local base = math.max(re, start - rb * ri)
  if pa then base = math.max(base, pa) end
  re = base + ri
  if re > ready then ready = re end
end
if ti > 0 then
  local base = math.max(te, start - tb * ti)
  if pa then base = math.max(base, pa) end
  te = base + tn * ti
  local tr = base + math.min(tn, tb) * ti
  if tr > ready then ready = tr end
end
local delay = ready - now
if st then
  -- held by the pace (its bucket, not a pause): the estimate may probe;
  -- sends are counted while there is an estimate to measure for
  if byEst and ready - start > WAIT_MIN then st.w, st.dirty.w = now, true end
  if est_rate(st, now) > 0 and not (maxwait >= 0 and delay > maxwait) then st.n, st.dirty.n = st.n + 1, true end
  est_write(KEYS[3], st, false)
end
local e, m = est_reply(st, now)
local k = 0
if KEYS[3] then k = fleet_ok(KEYS[3], now, tonumber(ARGV[11])) end
local nows, ks = string.format('%.0f', now), string.format('%.0f', k)
if maxwait >= 0 and delay > maxwait then
  return {0, string.format('%.0f', delay), e, m, nows, ks}
end
local r, tt = string.format('%.0f', re), string.format('%.0f', te)
if ri > 0 or ti > 0 then
  redis.call('HSET', KEYS[1], 'r', r, 't', tt)
  redis.call('PEXPIRE', KEYS[1], math.ceil((math.max(re, te, ready) - now + math.max(rb * ri, tb * ti)) / 1000) + 60000)
end
return {1, string.format('%.0f', delay), string.format('%.0f', ready), string.format('%.0f', ri), string.format('%.0f', tn * ti), e, m, nows, ks}
`)

// cancelScript gives back a reservation whose time has not come, whatever
// was reserved after it: the buckets' debt shrinks by its cost. (Giving back
// only the most recent reservation, the rest would stay taken: a hundred
// waiters that give up in the order they came would stall the key, fleet
// wide, for the time they held.) Reservations made after it keep their
// times, so one that is made next may go beside the last of them.
//
//	KEYS[1] buckets hash   ARGV: ready as reserved, request interval µs (0: none), token cost µs (0: none)
var cancelScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if tonumber(ARGV[1]) <= now then return 0 end
local s = redis.call('HMGET', KEYS[1], 'r', 't')
local re, te = tonumber(s[1]), tonumber(s[2])
local ri, tc = tonumber(ARGV[2]), tonumber(ARGV[3])
if re and ri > 0 then
  redis.call('HSET', KEYS[1], 'r', string.format('%.0f', re - ri))
end
if te and tc > 0 then
  redis.call('HSET', KEYS[1], 't', string.format('%.0f', te - tc))
end
return 1
`)

// pauseScript holds a key for ARGV[1] µs from now, unless it is held longer.
//
//	KEYS[1] pause hash
var pauseScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local u = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('HGET', KEYS[1], 'until'))
if cur and cur >= u then return 0 end
redis.call('HSET', KEYS[1], 'until', string.format('%.0f', u), 'at', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) / 1000) + 60000)
return 1
`)

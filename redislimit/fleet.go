package redislimit

import (
	"time"

	"github.com/llmretry/llmretry"
)

// A fleet that learns together. Processes sharing a key with no configured
// limit each learn its pace; in one bucket in Redis, each request used to
// be reserved at the pace its own process passed. A process that learned
// the key's limit from headers passes the key's limit, but one that
// estimated it after 429s passes its own share of it (what the server
// accepted from it): N processes each pacing the shared bucket at their
// share pace the whole fleet at 1/N of the limit, until each probes up,
// overshoots and is cut back to its share again (bench fleet, bare 429s,
// ×8: 2.8× the optimum where the same fleet configured took 1.0×).
//
// So the reserve script is told what kind of pace it gets
// (llmretry.Pace.Learned, Estimated), and a key's fleet hash keeps what
// the fleet knows, on Redis's clock:
//
//   - "c": the latest configured pace (any process with a limit set): a
//     learned process paces the key at it while it is fleetFresh, as a
//     configured limit wins over a learned one within a process;
//   - one field per process (Limiter) with an estimate: its share, and
//     when it was last told. An estimated process paces the key at the
//     sum of the shares told within fleetFresh: what the server accepted
//     from the whole fleet.
//
// A process that has learned nothing yet is not paced at that sum (but is
// at a configured pace): paced with the fleet, it would meet no 429 to
// measure its own share, and the shares of the others would be split with
// one more process than they count (a fleet of 8 of which 3 had shares
// went at their sum, 28/s of 100, for 13 s). It learns its share as a
// lone process does, and joins the sum. Counting it as an average share
// instead let the sum run away: every process waiting out a pause another
// shared counts as held by its pace, and probes up (in the bench the sum
// went to ten times the server's rate).
//
// A pace learned from headers is the key's limit already: it is used as
// given (or the configured one). A process that stops sending stops
// telling its share, which lapses fleetFresh later; the processes left are paced at the whole sum
// until then, and probe up from their own shares after. Pauses are shared
// as before (pauseScript). What is not shared: the windows counted by each
// process's own sends, and the estimates' measurements themselves (each
// process measures its own share between its own 429s).
//
// Redis's hash holds nothing but numbers this script wrote; a field it
// cannot read (garbage, a rate that is not a finite number, a time far in
// the future) is deleted, and a key of another type is ignored (the
// caller's own pace is used): sharing is a help, never a failure.

// fleetFresh is how long a process's share, or a configured pace, holds
// without being told again (FRESH, in µs, in fleetLua).
const fleetFresh = 2 * time.Second

// The kinds of pace a caller passes the reserve script.
const (
	paceGiven     = 0 // configured (or not learning): used as given; a limit is recorded as the fleet's
	paceLearned   = 1 // learned from headers, or nothing learned yet
	paceEstimated = 2 // this process's estimate: its share of the key's limit
)

// paceKind is the kind of lim for the reserve script.
func paceKind(lim llmretry.Pace) int {
	switch {
	case lim.Learned && lim.Estimated:
		return paceEstimated
	case lim.Learned:
		return paceLearned
	}
	return paceGiven
}

// fleetLua defines fleet_pace(key, kind, id, now, ri, rb, ti, tb): the
// intervals (µs) and bursts to reserve at, given the caller's (see above).
const fleetLua = `
local FRESH = 2000000
local function fleet_rate(i) if i > 0 then return 1e6 / i end return 0 end
local function fleet_interval(r) if r > 0 then return 1e6 / r end return 0 end
local function fleet_entry(v, now)
  if type(v) ~= 'string' then return nil end
  local a, b, c, d, e = string.match(v, '^(%S+) (%S+) (%S+) (%S+) (%S+)$')
  a, b, c, d, e = tonumber(a), tonumber(b), tonumber(c), tonumber(d), tonumber(e)
  if not (a and b and c and d and e) then return nil end
  if not (a >= 0 and a < 1e15 and c >= 0 and c < 1e15 and b >= 1 and b < 2^31 and d >= 1 and d < 2^31
      and e > now - FRESH and e <= now + FRESH) then return nil end
  return a, b, c, d
end
local function fleet_pace(key, kind, id, now, ri, rb, ti, tb)
  if kind == 0 then
    if ri > 0 or ti > 0 then
      local body = string.format('%.6g %d %.6g %d', fleet_rate(ri), rb, fleet_rate(ti), tb)
      local cur = redis.pcall('HGET', key, 'c')
      local at = type(cur) == 'string' and string.sub(cur, 1, #body + 1) == body .. ' ' and tonumber(string.sub(cur, #body + 2))
      if not (at and at > now - FRESH / 4 and at <= now) then
        redis.pcall('HSET', key, 'c', body .. string.format(' %.0f', now))
        redis.pcall('PEXPIRE', key, FRESH / 1000 + 60000)
      end
    end
    return ri, rb, ti, tb
  end
  local cr, crb, ct, ctb = fleet_entry(redis.pcall('HGET', key, 'c'), now)
  if cr and (cr > 0 or ct > 0) then
    -- per dimension: a limit this process configured (tokens) stays
    if cr > 0 then ri, rb = fleet_interval(cr), crb end
    if ct > 0 then ti, tb = fleet_interval(ct), ctb end
    return ri, rb, ti, tb
  end
  if kind ~= 2 or ri <= 0 then return ri, rb, ti, tb end
  redis.pcall('HSET', key, id, string.format('%.6g %d %.6g %d %.0f', fleet_rate(ri), rb, fleet_rate(ti), tb, now))
  redis.pcall('PEXPIRE', key, FRESH / 1000 + 60000)
  local all = redis.pcall('HGETALL', key)
  if type(all) ~= 'table' or all.err then return ri, rb, ti, tb end
  local sr, st, mrb, mtb = 0, 0, 1, 1
  for i = 1, #all, 2 do
    if all[i] ~= 'c' then
      local r, b, tr, tbb = fleet_entry(all[i + 1], now)
      if r and r > 0 then
        sr, st, mrb, mtb = sr + r, st + tr, math.max(mrb, b), math.max(mtb, tbb)
      else
        redis.pcall('HDEL', key, all[i])
      end
    end
  end
  if sr <= 0 then return ri, rb, ti, tb end
  if st <= 0 then return fleet_interval(sr), mrb, ti, tb end
  return fleet_interval(sr), mrb, fleet_interval(st), mtb
end
`

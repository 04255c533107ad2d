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
// (llmretry.Pace.Learned, Estimated), and a key's fleet hash keeps, on
// Redis's clock, "c": the latest configured pace (any process with a limit
// set); a learned process paces the key at it while it is fleetFresh, as a
// configured limit wins over a learned one within a process.
//
// An estimate after 429s is the fleet's (estimate.go): one estimate of the
// server's whole rate for the key, held in the fleet hash, cut and grown
// from every process's answers (llmretry.LearningLimiter), and paced in
// the key's shared bucket. A process paces its estimate (or, having
// learned nothing, its requests) at it;
// the fleet then behaves as one process sending all its requests, which
// alone learns the server's rate in 1.00x the optimum. Two designs were measured before it. Each process
// estimated its own share and paced it in its own memory, held by Redis
// only to the pauses it shared: the shares even out as in a fleet without
// Redis (estimate.go in the core), 1.00-1.30x at 4 and 8 processes (bench
// fleet, 2026-12-06). The shares summed in Redis overran the server:
// every process waiting out a pause another shared counted as held by its
// pace and probed up, and the sum ran to ten times the server's rate
// (1.00-1.69x, up to 3 of 600 failed). The fleet's estimate counts a key
// held by its pace only when a reservation waited for the bucket, not for
// a pause. When Redis has no estimate for the key (none yet, or Redis was
// down), a process's own estimate is its share, paced in its memory as
// before.
//
// A pace learned from headers is the key's limit already: it is used as
// given (or the configured one), unless the fleet's estimate allows fewer
// requests in the next second, as within a process (the core's
// learning.limitWith): a window's pace (Cerebras' 14,400 requests a day:
// one per 6 s, with all that remains as its burst) is no pace for the next
// second, and reserved in the bucket the estimate paces, at its own
// interval, one request moved the bucket 6 s on and held the whole fleet
// that long (bench fleet cerebras ×8 on redislimit: 2.1× and 4.1× the
// optimum in 2 of 6 runs, every process idle from 0.5 s to 6 s). A
// process's cached estimate can be 2 s old (fleetFresh); the script
// decides on the fleet's own. Pauses are shared as before
// (pauseScript). What is not shared: the windows counted by each process's
// own sends.
//
// Redis's hash holds nothing but numbers this script wrote; a configured
// pace it cannot read (garbage, a rate that is not a finite number, a time
// far in the future) is ignored, and a key of another type is ignored (the
// caller's own pace is used): sharing is a help, never a failure.

// fleetFresh is how long a configured pace holds without being told again
// (FRESH, in µs, in fleetLua), and how long a process keeps the fleet's
// estimate a reply carried (Limiter.Estimate).
const fleetFresh = 2 * time.Second

// The kinds of pace a caller passes the reserve script.
const (
	paceGiven     = 0 // configured (or not learning): used as given; a limit is recorded as the fleet's
	paceLearned   = 1 // learned from headers, or nothing learned yet
	paceEstimated = 2 // an estimate after 429s: the fleet's (estimate.go), or this process's share without it
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

// fleetLua defines fleet_pace(key, kind, id, now, ri, rb, ti, tb, e): the
// intervals (µs) and bursts to reserve at, given the caller's and e, the
// fleet's estimate (0: none), and true if it paces at e (see above).
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
local function fleet_pace(key, kind, id, now, ri, rb, ti, tb, e)
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
  -- the fleet's estimate (estimate.go) paces an estimate, a process that
  -- learned no request rate, or one whose learned rate allows more in the
  -- next second (a window's: see "A pace learned from headers"), in the
  -- shared bucket
  if e > 0 and (kind == 2 or ri <= 0 or e + 1 < 1e6 / ri + rb) then return 1e6 / e, 1, ti, tb, true end
  -- an estimate without the fleet's is this process's share: paced by it,
  -- in its memory; the key in Redis holds it only to a pause another
  -- process shared
  if kind == 2 then return 0, rb, 0, tb end
  return ri, rb, ti, tb
end
`

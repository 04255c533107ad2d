package redislimit

import (
	"context"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/redis/go-redis/v9"
)

// One estimate for a fleet (llmretry.LearningLimiter). A key with no
// configured limit whose server's headers do not tell its rate is paced at
// one estimate held in the key's fleet hash: the server's whole rate, as
// one process sending all of the fleet's requests would estimate it, and
// paced in the key's shared bucket from its first cut, so that the fleet
// sends at it in all (leaving the slow start to each process and
// switching to the fleet's once measured was tried: 1.02-1.30x, worse;
// learninglimiter.go in the core).
// The arithmetic is the core's (estimate.go), on Redis's clock, in Lua
// (estimateLua), with the fleet's counts in place of one process's:
//
//   - every reservation by a learning process counts a send ("n");
//   - every unexplained 429 a process is told of costs one call
//     (refuseScript), which counts it ("r"), keeps it to measure from
//     ("m") and cuts the estimate: a first one starts it from what the
//     fleet's answers accepted over the last second (in the key's first
//     second, see "The start" below), a later one sets it
//     to the rate accepted between 429s (sends less 429s over the time
//     between them), with headroom, within [0.5, 1] of the rate (see
//     "The cut" below);
//   - accepted answers grow it (slow start, then additive growth and
//     probing while the key is held by its pace); they cost no call: each
//     process counts them in memory and the count rides on its next
//     reservation ("a");
//   - the key is held by its pace ("w") when a reservation waited for the
//     bucket, not for a pause: waiting out a pause another process set is
//     not a sign the pace is too slow (counted so, the summed shares
//     probed up to ten times the server's rate).
//
// The estimate is the fleet's, not a process's: a process that dies takes
// no share of it along, and the others go on at the whole rate. Without a
// cut for estimateQuiet it is dropped (as the core drops its own), and the
// hash expires a minute and a half after the fleet's last learning send.
// Each reply carries the estimate; a process keeps the latest it saw
// (Estimate) for fleetFresh, and its Transport paces by it. Redis down, a
// process has none, and its Transport falls back on its own estimate,
// paced in memory.
//
// The retry of a request refused with a bare 429 on a key the fleet's
// estimate paces sleeps its backoff (250–500 ms) only until its process
// sees the server accept an attempt sent after the 429 (the core's
// pacer.retryWake), then takes its turn in the shared bucket: the pace's
// probe a few percent over the server's rate drew 429s at the run's end
// too, and the last requests slept their backoff with the server idle
// (bench fleet, bare 429s ×4 and ×8: 1.03–1.06× before, 1.00–1.02× after;
// docs/runs/2026-12-07-rdtail.md). A blip refuses what is sent after the
// 429 too, and its retries sleep the whole backoff.
//
// The cut. One thing differs from the core's arithmetic: a cut goes to the
// rate measured between 429s with headroom even when that keeps more than
// fairCut (0.7) of the rate; it keeps half at least, as the core's does.
// The core caps its cut at fairCut so that processes which cannot talk
// even out their shares (AIMD: the same increase for each, a decrease in
// proportion); the fleet's estimate is one for all, with no shares to even
// out, and the measure is the server's own rate (its bucket was empty at
// both 429s). Capped, a pace a few percent over the server (110/s against
// 100/s, the probe's usual overshoot) was cut to 77/s, and the server went
// a fifth idle for the second it took to grow back, once or twice a run
// (bench fleet, redislimit learned, every style with 429s;
// docs/runs/2026-12-07-rdfleet.md).
//
// The start. In the key's first second (its window of accepted answers
// younger than a second), a first 429 starts the estimate at the floor
// (or the rate measured, if any) grown by the slow start for every answer
// the fleet accepted so far, as if each came after it, rather than at the
// count of those answers over a second. The first wave's accepted answers
// are told with their process's next call, before or after the first
// 429's: told before, they started the estimate at their count (10 of a
// burst of 10: 10/s); told after, each grew it by the slow start's step
// (4.6/s: 47/s). The race decided the fleet's first half second: 18–36
// accepted in it where 60 fit, or 39–49 (bench fleet on redislimit, bare
// and Cerebras' ×4 and ×8, -timeline: 1.01–1.05× against 0.99–1.01×;
// docs/runs/2026-12-07-rdstart.md). Now every start is about the latter:
// grown so, but no faster than the answers counted came, over a quarter
// second (MIN_SPAN) at least (10 in the first few ms: 40/s), so that a
// first 429 late in the first second, after many answers accepted at a
// lower rate, does not start far above it. Later first 429s (the estimate
// dropped after estimateQuiet, a key that ran without one) start at the
// rate accepted over the last second, as the core's do.
//
// What Redis holds is read as a claim, as the configured pace is (fleet.go):
// a field that is not a finite number within its bounds (a rate above
// maxEstimate, a time after Redis's clock, counts that run backwards) is
// ignored, and the estimate starts over; a fleet key of another type
// turns the shared estimate off (each process uses its own).

// estimateQuiet is how long the shared estimate holds without a cut
// (QUIET in estimateLua; the core's adaptiveQuiet).
const estimateQuiet = 30 * time.Second

// estimateLua defines the fleet's estimator (see above). State (st): base,
// measured, cutAt, lastRefusal, ceiling (field "e"); the counts n, r, a;
// w; the accepted count's window "s" (t0 a0 t1 a1: a at the start of the
// previous and the current second); the marks "m" (t,n,r; newest last).
// The constants are the core's (estimate.go); its fairCut is not used (see
// "The cut" above).
const estimateLua = `
local QUIET, MAXEST, SLOW_DOUBLING = 30000000, 1000000, 150000
local CUT_INTERVAL, MEASURED_CUT_INTERVAL = 200000, 1000000
local MIN_SPAN, MAX_SPAN, MIN_MEASURED, MARK_SPACING = 250000, 60000000, 8, 100000
local MIN_REFUSED_SHARE, COSTLY_PAUSE, CUT_FLOOR = 0.06, 250000, 0.5
local FAIR_GROWTH, PROBE_GROWTH, CEILING_SHARE, CEILING_HOLD = 8, 0.05, 0.99, 10000000
local PROBE_HOLD, PROBE_ACCEL, PROBE_MAX, PROBE_RISE = 300000, 2, 2, 60
local HEADROOM, FLOOR, BOUND_FOR, WAIT_MIN, MARKS = 0.97, 1, 250000, 200, 8
local function est_num(v, lo, hi)
  local x = tonumber(v)
  if x and x >= lo and x <= hi then return x end
  return nil
end
-- est_read returns the key's state at now (marks too if withMarks), or
-- nil if the key is not a hash.
local function est_read(key, now, withMarks)
  local v = redis.pcall('HMGET', key, 'e', 'n', 'r', 'a', 'w', 's', withMarks and 'm' or 'e')
  if type(v) ~= 'table' or v.err then return nil end
  local late = now + 2000000
  local st = {dirty = {}, base = 0, measured = false, cutAt = 0, lastRefusal = 0, ceiling = 0,
    n = est_num(v[2], 0, 2^52) or 0, r = est_num(v[3], 0, 2^52) or 0, a = est_num(v[4], 0, 2^52) or 0,
    w = est_num(v[5], 0, late) or 0, marks = {}}
  if type(v[1]) == 'string' then
    local b, m, c, l, ce = string.match(v[1], '^(%S+) (%S+) (%S+) (%S+) (%S+)$')
    b, m, c, l, ce = est_num(b, 0, MAXEST), est_num(m, 0, 1), est_num(c, 0, late), est_num(l, 0, late), est_num(ce, 0, MAXEST)
    if b and m and c and l and ce then
      st.base, st.measured, st.cutAt, st.lastRefusal, st.ceiling = b, m == 1, c, l, ce
    end
  end
  local t0, a0, t1, a1
  if type(v[6]) == 'string' then
    t0, a0, t1, a1 = string.match(v[6], '^(%S+) (%S+) (%S+) (%S+)$')
    t0, a0, t1, a1 = est_num(t0, 0, late), est_num(a0, 0, st.a), est_num(t1, 0, late), est_num(a1, 0, st.a)
  end
  if not (t0 and a0 and t1 and a1 and t0 <= t1 and a0 <= a1) then
    -- a window starts now, and is kept: unwritten, each call started its
    -- own, and a first 429 saw only the answers its own call carried
    t0, a0, t1, a1 = now, st.a, now, st.a
    st.dirty.s = true
  end
  st.t0, st.a0, st.t1, st.a1 = t0, a0, t1, a1
  if withMarks and type(v[7]) == 'string' then
    for t, n, r in string.gmatch(v[7], '([^,;]+),([^,;]+),([^,;]+)') do
      t, n, r = est_num(t, 0, late), est_num(n, 0, st.n), est_num(r, 0, st.r)
      local last = st.marks[#st.marks]
      if t and n and r and not (last and (t < last[1] or n < last[2] or r < last[3])) then
        st.marks[#st.marks + 1] = {t, n, r}
      end
    end
    while #st.marks > MARKS do table.remove(st.marks, 1) end
  end
  return st
end
-- est_write writes what changed (st.dirty), or everything and the marks
-- (all); the hash expires a minute and a half after the last 429 or the
-- last second's first send.
local function est_write(key, st, all)
  local d, f = st.dirty, {}
  if (all or d.e) and st.cutAt > 0 then
    f[#f + 1] = 'e'
    f[#f + 1] = string.format('%.9g %d %.0f %.0f %.9g', st.base, st.measured and 1 or 0, st.cutAt, st.lastRefusal, st.ceiling)
  end
  if all or d.n then f[#f + 1] = 'n'; f[#f + 1] = string.format('%.0f', st.n) end
  if all then f[#f + 1] = 'r'; f[#f + 1] = string.format('%.0f', st.r) end
  if all or d.a then f[#f + 1] = 'a'; f[#f + 1] = string.format('%.0f', st.a) end
  if all or d.w then f[#f + 1] = 'w'; f[#f + 1] = string.format('%.0f', st.w) end
  if all or d.s then f[#f + 1] = 's'; f[#f + 1] = string.format('%.0f %.0f %.0f %.0f', st.t0, st.a0, st.t1, st.a1) end
  if all then
    local ms = {}
    for i, m in ipairs(st.marks) do ms[i] = string.format('%.0f,%.0f,%.0f', m[1], m[2], m[3]) end
    f[#f + 1] = 'm'
    f[#f + 1] = table.concat(ms, ';')
  end
  if #f > 0 then redis.pcall('HSET', key, unpack(f)) end
  if all or d.s then redis.pcall('PEXPIRE', key, QUIET / 1000 + 60000) end
end
-- est_rate is the estimate at now (requests/s), 0 when none.
local function est_rate(st, now)
  if st.base <= 0 or now - st.cutAt > QUIET then return 0 end
  return st.base
end
-- est_heard counts k accepted answers at now and grows the estimate for
-- them (the core's estimate.grow, k answers at once).
local function est_heard(st, k, now)
  if now - st.t1 >= 1000000 then
    st.t0, st.a0, st.t1, st.a1 = st.t1, st.a1, now, st.a
    st.dirty.s = true
  end
  if not (k > 0) then return end
  k = math.min(k, 100000)
  st.a = st.a + k
  st.dirty.a = true
  if est_rate(st, now) <= 0 then return end
  st.dirty.e = true
  local bound = now - st.w < BOUND_FOR
  local quiet = now - st.lastRefusal
  if not st.measured then
    st.base = st.base + k * math.log(2) / (SLOW_DOUBLING / 1e6)
  elseif bound and quiet >= PROBE_HOLD then
    local q = (quiet - PROBE_HOLD) / 1e6
    local step = math.min(PROBE_GROWTH + PROBE_ACCEL * q, PROBE_MAX)
    step = math.max(step, math.min((FAIR_GROWTH + PROBE_RISE * q) / st.base, PROBE_MAX))
    st.base = st.base + k * step
  elseif bound then
    st.base = st.base + k * (PROBE_GROWTH + FAIR_GROWTH / st.base)
  elseif st.ceiling > 0 and now - st.cutAt < CEILING_HOLD then
    if st.base < st.ceiling then st.base = math.min(st.base + k * PROBE_GROWTH, st.ceiling) end
  else
    st.base = st.base + k * PROBE_GROWTH
  end
  st.base = math.min(st.base, MAXEST)
end
-- est_accepted is the rate of accepted answers over the last second or two.
local function est_accepted(st, now)
  return (st.a - st.a0) / math.max((now - st.t0) / 1e6, 1)
end
-- est_measure is the rate accepted between 429s (estimate.measure) and
-- the share of the sends refused, 0, 0 when no mark is far enough back.
local function est_measure(st, now)
  local per, share = 0, 0
  for i = #st.marks, 1, -1 do
    local m = st.marks[i]
    local span = now - m[1]
    if span >= MIN_SPAN and st.n > m[2] then
      if span > MAX_SPAN then break end
      local sent = st.n - m[2]
      local refused = math.min(st.r - m[3] + 1, sent)
      per, share = (sent - refused) / (span / 1e6), refused / sent
      if sent - refused >= MIN_MEASURED then break end
    end
  end
  return per, share
end
-- est_refused counts an unexplained 429 at now and cuts the estimate
-- (estimate.mark and estimate.cut); pausedUntil is the key's pause.
local function est_refused(st, now, pausedUntil)
  local measured, share = est_measure(st, now)
  st.r = st.r + 1
  local last = st.marks[#st.marks]
  if not (last and now - last[1] < MARK_SPACING) then
    st.marks[#st.marks + 1] = {now, st.n, st.r}
    while #st.marks > MARKS do table.remove(st.marks, 1) end
  end
  local accepted = est_accepted(st, now)
  local cur = est_rate(st, now)
  st.lastRefusal = now
  local interval = st.measured and MEASURED_CUT_INTERVAL or CUT_INTERVAL
  if cur > 0 and st.measured and measured > 0 and share < MIN_REFUSED_SHARE and pausedUntil - now < COSTLY_PAUSE then
    return
  end
  if cur > 0 and now - st.cutAt < interval then
    if not st.measured and accepted > st.base then st.base = math.min(accepted, MAXEST) end
    return
  end
  st.cutAt = now
  if cur <= 0 then
    local start = math.max(accepted, measured * HEADROOM, FLOOR)
    if now - st.t0 < 1000000 then
      -- the key's first second: from the floor, grown for the answers
      -- accepted so far, but no faster than they came over a quarter
      -- second at least (see "The start" above)
      local k = st.a - st.a0
      local grown = math.max(measured * HEADROOM, FLOOR) + k * math.log(2) / (SLOW_DOUBLING / 1e6)
      start = math.max(start, math.min(grown, k / (math.max(now - st.t0, MIN_SPAN) / 1e6)))
    end
    st.base, st.measured, st.ceiling = math.min(start, MAXEST), false, 0
    return
  end
  local nxt = cur * CUT_FLOOR
  st.ceiling = 0
  if measured > 0 then
    -- to the measure, not to fairCut of the rate at most (see "The cut")
    nxt = math.max(nxt, math.min(measured * HEADROOM, cur))
    if share < 1 and measured / (1 - share) >= 0.9 * cur then st.ceiling = math.min(measured * CEILING_SHARE, MAXEST) end
  end
  st.base, st.measured = math.max(nxt, FLOOR), true
  if st.ceiling <= st.base then st.ceiling = 0 end
end
-- fleet_ok tells the fleet hash of an attempt a process saw accepted,
-- sent at sent (µs on Redis's clock, a lower bound; nil: none to tell),
-- and returns the latest such send the fleet told ("k"), 0 if none. A
-- time after now is no send a process saw answered: ignored, read or
-- told. Written only into a hash the estimate made.
local function fleet_ok(key, now, sent)
  local v = redis.pcall('HGET', key, 'k')
  if type(v) == 'table' then return 0 end
  local k = (type(v) == 'string' and est_num(v, 0, now)) or 0
  if sent and sent > k and sent <= now and redis.pcall('EXISTS', key) == 1 then
    k = sent
    redis.pcall('HSET', key, 'k', string.format('%.0f', k))
  end
  return k
end
local function est_reply(st, now)
  if not st then return '0', 0 end
  return string.format('%.9g', est_rate(st, now)), st.measured and 1 or 0
end
`

// refuseScript counts an unexplained 429 and cuts the key's shared
// estimate (see above); it returns the estimate after the cut.
//
//	KEYS[1] pause hash   KEYS[2] fleet hash
//	ARGV: accepted answers not yet counted; the time in µs ("": Redis's);
//	the latest send of an attempt accepted, not yet told (µs, "": none)
//
// It returns {estimate (requests/s, "0": none), measured (0 or 1), the
// time it ran at (µs), the fleet's latest accepted send (fleet_ok)}.
var refuseScript = redis.NewScript(estimateLua + `
local now = tonumber(ARGV[2])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local st = est_read(KEYS[2], now, true)
local nows = string.format('%.0f', now)
if not st then return {'0', 0, nows, '0'} end
est_heard(st, tonumber(ARGV[1]) or 0, now)
local p = redis.pcall('HGET', KEYS[1], 'until')
est_refused(st, now, (type(p) == 'string' and tonumber(p)) or 0)
est_write(KEYS[2], st, true)
local k = fleet_ok(KEYS[2], now, tonumber(ARGV[3]))
local e, m = est_reply(st, now)
return {e, m, nows, string.format('%.0f', k)}
`)

// acceptedScript reads the fleet's latest accepted send (fleet_ok).
//
//	KEYS[1] fleet hash   ARGV: the time in µs ("": Redis's)
//
// It returns {the time it ran at (µs), the fleet's latest accepted send}.
var acceptedScript = redis.NewScript(estimateLua + `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
return {string.format('%.0f', now), string.format('%.0f', fleet_ok(KEYS[1], now, nil))}
`)

// keyEstimate is what a Limiter knows of one key's shared estimate.
type keyEstimate struct {
	accepted atomic.Int64  // accepted answers not yet counted in Redis
	rate     atomic.Uint64 // math.Float64bits of the estimate last seen
	measured atomic.Bool
	seen     atomic.Int64 // unix nanoseconds when it was seen; 0: never

	// The fleet's accepted sends (Limiter.AcceptedAfter), in µs on
	// Redis's clock: the latest send of an attempt accepted here, not yet
	// told Redis (0: none), and the latest the fleet told, as last seen.
	okSent, fleetOK atomic.Int64
	polled          atomic.Int64 // unix nanoseconds of the last read of the fleet's (acceptedScript)
}

// estimates are a Limiter's keyEstimates. Keys unseen for estimateIdle are
// swept out once there are sweepAt of them, at most once a minute, so that
// a Limiter serving ever new keys keeps only the recent ones.
type estimates struct {
	m     sync.Map // string → *keyEstimate
	n     atomic.Int64
	mu    sync.Mutex // guards swept
	swept time.Time
}

const (
	estimateIdle = 10 * time.Minute
	sweepAt      = 4096
)

// get returns key's entry, making it on first use.
func (e *estimates) get(key string, now time.Time) *keyEstimate {
	if v, ok := e.m.Load(key); ok {
		return v.(*keyEstimate)
	}
	v, loaded := e.m.LoadOrStore(key, &keyEstimate{})
	if !loaded && e.n.Add(1) >= sweepAt {
		e.sweep(now)
	}
	return v.(*keyEstimate)
}

func (e *estimates) sweep(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if now.Sub(e.swept) < time.Minute {
		return
	}
	e.swept = now
	e.m.Range(func(k, v any) bool {
		if ke := v.(*keyEstimate); now.UnixNano()-ke.seen.Load() > int64(estimateIdle) {
			e.m.Delete(k)
			e.n.Add(-1)
		}
		return true
	})
}

// note keeps the estimate a reply carried (rate "0": none).
func (ke *keyEstimate) note(rate string, measured int64, now time.Time) {
	r, err := strconv.ParseFloat(rate, 64)
	if err != nil || !(r >= 0 && r <= 1e6) { // NaN too: read as none
		r = 0
	}
	ke.rate.Store(math.Float64bits(r))
	ke.measured.Store(measured == 1)
	ke.seen.Store(now.UnixNano())
}

var _ llmretry.LearningLimiter = (*Limiter)(nil)

// Estimate implements llmretry.LearningLimiter: the key's shared estimate
// as the latest reply from Redis carried it, if that came within
// fleetFresh and Redis is up; else 0.
func (l *Limiter) Estimate(key string) (perSecond float64, measured bool) {
	v, ok := l.est.m.Load(key)
	if !ok || l.isDown() {
		return 0, false
	}
	ke := v.(*keyEstimate)
	if l.now().UnixNano()-ke.seen.Load() > int64(fleetFresh) {
		return 0, false
	}
	return math.Float64frombits(ke.rate.Load()), ke.measured.Load()
}

// Accepted implements llmretry.LearningLimiter: the answer is counted in
// memory and told to Redis with the key's next reservation (or 429).
func (l *Limiter) Accepted(key string) {
	if l.isDown() {
		return // not told later in a lump: an outage's answers would grow the estimate at once
	}
	l.est.get(key, l.now()).accepted.Add(1)
}

// Refused implements llmretry.LearningLimiter: one call to Redis, which
// cuts the key's shared estimate, within Options.Timeout.
func (l *Limiter) Refused(ctx context.Context, key string) {
	if l.isDown() {
		return
	}
	ke := l.est.get(key, l.now())
	k := ke.accepted.Swap(0)
	sent := takeSent(ke)
	keys := l.keys(key)
	l0 := l.now()
	res, err := l.do(ctx, func(ctx context.Context) ([]any, error) {
		return refuseScript.Run(ctx, l.rdb, []string{keys[1], keys[2]}, k, l.scriptNow(), sent).Slice()
	}, nil)
	if err != nil {
		if ctx.Err() == nil {
			l.fail(err)
		}
		return
	}
	if len(res) >= 2 {
		rate, _ := res[0].(string)
		m, _ := res[1].(int64)
		ke.note(rate, m, l.now())
		l.noteAccepted(ke, res[2:], l0)
	}
}

// takeSent returns the latest send of an attempt accepted here that Redis
// has not been told of, for a script's argument ("": none), and clears it.
func takeSent(ke *keyEstimate) string {
	if s := ke.okSent.Swap(0); s > 0 {
		return strconv.FormatInt(s, 10)
	}
	return ""
}

// The fleet's accepted sends. A bare 429's retry on a key the fleet's
// estimate paces wakes at the first answer the server accepted for an
// attempt sent after the 429 (the core's pacer.retryWake): its own
// process's, and, through Redis, any other's (AcceptedSent, then
// AcceptedAfter). Each process tells Redis, with its next reservation or
// 429, the latest send time of an attempt it saw accepted, on Redis's
// clock ("k" in the fleet hash: the latest told); a retry waiting reads it
// from the replies of its process's calls, and, while its process calls
// nothing, with one call every fleetPoll for the key.
//
// A send time is this process's; Redis's clock is another, on another
// machine. Each call to Redis ties them (redisClock): it ran at Redis's r
// between this process's l0 and l1, so this process's moment x was, on
// Redis's clock, after r + (x − l1) and before r + (x − l0). An accepted
// send is told as the former, a 429's moment compared as the latter: an
// attempt is evidence only if it was surely sent after the 429 was
// answered, as within a process (the blip's safety: a server that refuses
// from one moment on refuses every attempt sent after it, and nothing
// wakes the retry; an attempt sent before the 429 and answered after it is
// no evidence). The tie is used for fleetFresh after its call, as clocks
// that pause (a machine suspended) would loosen it.
//
// Why: at a fleet's end, a process whose last requests were refused, while
// the others' were accepted, slept its backoff (250–500 ms) with the
// server idle (bench fleet on redislimit, bare 429s and Cerebras' ×4, ×8;
// docs/runs/2026-12-07-rdstart.md).

// fleetPoll is how often a process with a retry waiting for the fleet's
// accepted answers, and no call of its own to Redis on the key, reads them.
const fleetPoll = 50 * time.Millisecond

// redisClock ties this process's clock to Redis's: a call started at l0
// and answered at l1 ran at r (µs) on Redis's.
type redisClock struct {
	l0, l1 time.Time
	r      int64
}

// noteClock keeps the tie of a call started at l0 that ran at Redis's r
// (a reply's field; ignored if not a number).
func (l *Limiter) noteClock(l0 time.Time, r any) {
	s, _ := r.(string)
	us, err := strconv.ParseInt(s, 10, 64)
	if err != nil || us <= 0 {
		return
	}
	l.rclk.Store(&redisClock{l0: l0, l1: l.now(), r: us})
}

// redisTime returns the bounds of this process's moment x on Redis's
// clock (µs), from the latest tie; ok false if none is fresh.
func (l *Limiter) redisTime(x time.Time) (after, before int64, ok bool) {
	c := l.rclk.Load()
	if c == nil || l.now().Sub(c.l1) > fleetFresh {
		return 0, 0, false
	}
	return c.r + x.Sub(c.l1).Microseconds(), c.r + x.Sub(c.l0).Microseconds(), true
}

// noteAccepted reads a reply's tail {the time the script ran at, the
// fleet's latest accepted send} for a call started at l0.
func (l *Limiter) noteAccepted(ke *keyEstimate, tail []any, l0 time.Time) {
	if len(tail) < 2 {
		return
	}
	l.noteClock(l0, tail[0])
	s, _ := tail[1].(string)
	if k, err := strconv.ParseInt(s, 10, 64); err == nil && k > 0 {
		storeMax(&ke.fleetOK, k)
	}
}

// storeMax raises v to x if x is more.
func storeMax(v *atomic.Int64, x int64) {
	for {
		cur := v.Load()
		if x <= cur || v.CompareAndSwap(cur, x) {
			return
		}
	}
}

// AcceptedSent tells that the server accepted an attempt on key that was
// sent at sent (this process's clock): Redis is told with the key's next
// call from this process, so that a retry waiting in another process may
// wake (AcceptedAfter). The core's Transport calls it, with Accepted, for
// every accepted answer on a key the fleet's estimate paces.
func (l *Limiter) AcceptedSent(key string, sent time.Time) {
	if l.isDown() {
		return
	}
	after, _, ok := l.redisTime(sent)
	if !ok {
		return
	}
	ke := l.est.get(key, l.now())
	storeMax(&ke.okSent, after)
	storeMax(&ke.fleetOK, after) // this process's waiters may wake on it too
}

// AcceptedAfter waits until some process of the fleet has told Redis of
// an attempt on key that the server accepted and that was surely sent
// after at (this process's clock), and returns true; it returns false
// when ctx ends, or at once while Redis is down or no call to it has tied
// the clocks lately. The core's Transport calls it while the retry of a
// bare 429 waits its backoff.
func (l *Limiter) AcceptedAfter(ctx context.Context, key string, at time.Time) bool {
	if l.isDown() {
		return false
	}
	_, before, ok := l.redisTime(at)
	if !ok {
		return false
	}
	ke := l.est.get(key, l.now())
	for {
		if ke.fleetOK.Load() > before {
			return true
		}
		if l.isDown() {
			return false
		}
		now := l.now().UnixNano()
		if last := ke.polled.Load(); now-last >= int64(fleetPoll) && ke.polled.CompareAndSwap(last, now) {
			l.pollAccepted(ctx, key, ke)
			if ke.fleetOK.Load() > before {
				return true
			}
		}
		if sleep(ctx, fleetPoll) != nil {
			return false
		}
	}
}

// pollAccepted reads the fleet's latest accepted send on key.
func (l *Limiter) pollAccepted(ctx context.Context, key string, ke *keyEstimate) {
	l0 := l.now()
	res, err := l.do(ctx, func(ctx context.Context) ([]any, error) {
		return acceptedScript.Run(ctx, l.rdb, l.keys(key)[2:], l.scriptNow()).Slice()
	}, nil)
	if err != nil {
		if ctx.Err() == nil {
			l.fail(err)
		}
		return
	}
	l.noteAccepted(ke, res, l0)
}

// noteEstimate keeps the estimate a reserve script's reply carried, if it
// carried one (ok: it reserved; see reserveScript).
func noteEstimate(ke *keyEstimate, res []any, ok bool, now time.Time) {
	at := 2
	if ok {
		at = 5
	}
	if len(res) < at+2 {
		return
	}
	rate, _ := res[at].(string)
	m, _ := res[at+1].(int64)
	ke.note(rate, m, now)
}

// replyTail is the reserve script's reply after the estimate: {the time
// it ran at, the fleet's latest accepted send}, or nil.
func replyTail(res []any, ok bool) []any {
	at := 4
	if ok {
		at = 7
	}
	if len(res) < at+2 {
		return nil
	}
	return res[at : at+2]
}

// now is the Limiter's clock (a test's, or the real one).
func (l *Limiter) now() time.Time {
	if l.clock != nil {
		return l.clock()
	}
	return time.Now()
}

// scriptNow is the time the scripts run at, in µs: "" for Redis's own
// clock, a test's clock if it set one.
func (l *Limiter) scriptNow() string {
	if l.clock == nil {
		return ""
	}
	return strconv.FormatInt(l.clock().UnixMicro(), 10)
}

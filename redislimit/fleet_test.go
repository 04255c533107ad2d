package redislimit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/llmretry/llmretry"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// The paces of fleet_test: what a process's pacer passes a Limiter.
var (
	nothingYet = llmretry.Pace{Learned: true} // zero config, nothing learned
	notLearned = llmretry.Pace{}              // learning off, nothing configured
)

func share(perSecond float64) llmretry.Pace { // an estimate after 429s
	return llmretry.Pace{RequestRate: rate.Limit(perSecond), RequestBurst: 1, Learned: true, Estimated: true}
}

func claimed(perSecond float64) llmretry.Pace { // the key's limit from headers
	return llmretry.Pace{RequestRate: rate.Limit(perSecond), RequestBurst: 9, Learned: true}
}

func configuredAt(perSecond float64) llmretry.Pace {
	return llmretry.Pace{RequestRate: rate.Limit(perSecond), RequestBurst: 9}
}

// reservedAt reserves one request for l under key at pace and returns the
// request interval the reservation was made at (the pace the key was paced
// at), in µs; 0: requests not paced.
func reservedAt(t *testing.T, rdb redis.Scripter, l *Limiter, key string, pace llmretry.Pace) int64 {
	t.Helper()
	res, err := reserveScript.Run(context.Background(), rdb, l.keys(key), l.reserveArgs(-1, pace, 1)...).Slice()
	if err != nil {
		t.Fatal(err)
	}
	ok, _, cancelArgs, err := parseReply(res)
	if err != nil || !ok || len(cancelArgs) != 3 {
		t.Fatalf("reply %v: ok %v, %v", res, ok, err)
	}
	var us int64
	fmt.Sscan(cancelArgs[1].(string), &us)
	return us
}

// A process that estimated its share of a key after 429s paces itself at
// that share, in its own memory, and reserves nothing in Redis: the key
// there holds it only to a pause another process shared. (Paced in one
// bucket at each process's share, the fleet went at one process's share;
// at the sum of the shares, it overran the server while the shares grew.)
// A process that has learned nothing is not paced by the fleet; a limit
// learned from headers is the key's and is used as given.
func TestFleetEstimatePacedLocally(t *testing.T) {
	rs := startRedis(t)
	rdb := rs.client(t)
	a, b, c := New(rdb, Options{}), New(rdb, Options{}), New(rdb, Options{})
	for _, step := range []struct {
		name string
		l    *Limiter
		pace llmretry.Pace
		want int64 // µs between requests
	}{
		{"a's share: not in Redis", a, share(10), 0},
		{"b's share: not in Redis", b, share(30), 0},
		{"c, nothing learned: not paced by the fleet", c, nothingYet, 0},
		{"c, the key's limit from headers: as given", c, claimed(200), 5_000},
		{"c, learning off: not paced by the fleet", c, notLearned, 0},
	} {
		if got := reservedAt(t, rdb, step.l, "k", step.pace); got != step.want {
			t.Errorf("%s: paced at an interval of %d µs, want %d", step.name, got, step.want)
		}
	}
	// The fleet hash counts the sends (estimate.go), but no 429 was told:
	// it holds no estimate, and no share.
	if fields, err := rdb.HKeys(context.Background(), a.keys("k")[2]).Result(); err != nil || slices.Contains(fields, "e") || slices.Contains(fields, "c") {
		t.Errorf("fleet hash fields %v (%v), want no estimate: shares are not shared", fields, err)
	}

	// Through Wait: a second request at a's share of 10/s (burst 1) needs
	// 100 ms of a's own pace, more than its 20 ms deadline; another
	// process's share is not held by a's.
	ctx := context.Background()
	if err := a.Wait(ctx, "w", share(10), 1); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := a.Wait(short, "w", share(10), 1); !errors.Is(err, llmretry.ErrDeadline) {
		t.Errorf("a's second request at its share: %v, want ErrDeadline from its own pace", err)
	}
	if err := b.Wait(short, "w", share(10), 1); err != nil {
		t.Errorf("b's first request at its share: %v, want it sent: a's pace is a's", err)
	}
}

// A limit any process configured wins over what the others learned, as a
// configured limit wins over a learned one within a process: a mixed fleet
// runs at the configured limit.
func TestFleetConfiguredLimitWins(t *testing.T) {
	rs := startRedis(t)
	rdb := rs.client(t)
	conf, est, fresh := New(rdb, Options{}), New(rdb, Options{}), New(rdb, Options{})
	reservedAt(t, rdb, est, "k", share(10))
	if got := reservedAt(t, rdb, conf, "k", configuredAt(50)); got != 20_000 {
		t.Errorf("the configured process: %d µs, want its own 20000", got)
	}
	for _, tt := range []struct {
		name string
		l    *Limiter
		pace llmretry.Pace
	}{
		{"an estimate", est, share(10)},
		{"nothing learned", fresh, nothingYet},
		{"a claim from headers", fresh, claimed(200)},
		{"tokens configured here, requests learned", fresh, llmretry.Pace{TokenRate: 1000, TokenBurst: 100, Learned: true}},
	} {
		if got := reservedAt(t, rdb, tt.l, "k", tt.pace); got != 20_000 {
			t.Errorf("%s: paced at %d µs, want the configured 20000", tt.name, got)
		}
	}
	// The process's own configured tokens limit stays in force (the
	// configured pace has none): its reservation charges tokens at it.
	res, _ := reserveScript.Run(context.Background(), rdb, fresh.keys("k"),
		fresh.reserveArgs(-1, llmretry.Pace{TokenRate: 1000, TokenBurst: 100, Learned: true}, 10)...).Slice()
	if _, _, args, err := parseReply(res); err != nil || len(args) != 3 || args[2] != "10000" {
		t.Errorf("reply %v (%v): want 10 tokens charged at its own 1000/s (10000 µs)", res, err)
	}
}

// What the fleet hash holds is read as a claim: a share that is not a
// finite rate, stale, from the future or not numbers at all is ignored and
// deleted; a configured pace that cannot be read is ignored. Sharing never
// fails a request: a fleet key of another type leaves each process at its
// own pace, without an error (no fallback, nothing told to OnError).
func TestFleetGarbage(t *testing.T) {
	rdb, l, told, us, fleet := garbageFixture(t)
	ctx := context.Background()
	rdb.HSet(ctx, fleet,
		"c", "fast 1 0 1 "+us(0),
		"nan", "nan 1 0 1 "+us(0),
		"inf", "1e400 1 0 1 "+us(0),
		"neg", "-5 1 0 1 "+us(0),
		"zero-burst", "5 0 0 1 "+us(0),
		"stale", "5 1 0 1 "+us(-3*time.Second),
		"future", "5 1 0 1 "+us(time.Hour),
		"words", "five",
		"short", "5 1")
	if got := reservedAt(t, rdb, l, "k", share(10)); got != 0 {
		t.Errorf("paced at %d µs in Redis, want 0 (its share is paced in memory): the garbage counted", got)
	}
	if got := reservedAt(t, rdb, l, "k", nothingYet); got != 0 {
		t.Errorf("nothing learned: paced at %d µs, want 0: the unreadable configured pace counted", got)
	}

	rdb.Del(ctx, fleet)
	rdb.Set(ctx, fleet, "a string", 0)
	for _, pace := range []llmretry.Pace{share(10), nothingYet, configuredAt(50)} {
		if err := l.Wait(ctx, "k", pace, 1); err != nil {
			t.Errorf("Wait(%+v) on a fleet key of another type: %v", pace, err)
		}
	}
	if got := reservedAt(t, rdb, l, "k", share(10)); got != 0 || *told != 0 {
		t.Errorf("paced at %d µs in Redis (OnError told %d times), want 0 and no error", got, *told)
	}
}

// A reservation made at the fleet's pace is given back whole: the cancel
// script takes back the interval reserved (a configured pace the estimate
// adopted), not the caller's own, which would leave the key's bucket
// charged for what no request used.
func TestFleetReservationGivenBack(t *testing.T) {
	rs := startRedis(t)
	rdb := rs.client(t)
	ctx := context.Background()
	a, b := New(rdb, Options{}), New(rdb, Options{})
	reservedAt(t, rdb, a, "k", llmretry.Pace{RequestRate: 0.4, RequestBurst: 1}) // configured, burst 1
	res, err := reserveScript.Run(ctx, rdb, b.keys("k"), b.reserveArgs(-1, share(0.3), 1)...).Slice()
	if err != nil {
		t.Fatal(err)
	}
	_, _, cancelArgs, err := parseReply(res)
	if err != nil || len(cancelArgs) != 3 || cancelArgs[1] != "2500000" {
		t.Fatalf("reply %v (%v): want a reservation at the configured 2500000 µs (0.4/s)", res, err)
	}
	// Its time has not come (2.5 s from now): a took the bucket's only
	// request.
	bucket := b.keys("k")[0]
	before, _ := rdb.HGet(ctx, bucket, "r").Int64()
	if err := cancelScript.Run(ctx, rdb, b.keys("k")[:1], cancelArgs...).Err(); err != nil {
		t.Fatal(err)
	}
	after, _ := rdb.HGet(ctx, bucket, "r").Int64()
	if before-after != 2_500_000 {
		t.Errorf("the bucket's empty time moved back %d µs, want the 2500000 reserved", before-after)
	}
}

// garbageFixture is what a test of garbage in the fleet hash needs: a
// Limiter on a fresh Redis, the count of what it told OnError, Redis's
// clock d from now in µs as the hash holds it, and key "k"'s fleet hash.
func garbageFixture(t *testing.T) (rdb *redis.Client, l *Limiter, told *int, us func(d time.Duration) string, fleet string) {
	t.Helper()
	rdb = startRedis(t).client(t)
	told = new(int)
	l = New(rdb, Options{OnError: func(error) { *told++ }})
	now, err := rdb.Time(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	us = func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMicro(), 10) }
	return rdb, l, told, us, l.keys("k")[2]
}

// A pace learned from a window's headers yields to the fleet's estimate
// when the estimate allows fewer requests in the next second, as within a
// process: Cerebras announces 14,400 requests a day (a pace of one per 6 s
// with 12,952 left as its burst). Reserved at its own interval in the
// bucket the estimate paces, one such request moved the bucket 6 s on, and
// every process waited for it (bench fleet cerebras ×8, redislimit
// learned: 2.1× and 4.1× the optimum).
func TestFleetWindowPaceYieldsToEstimate(t *testing.T) {
	rs := startRedis(t)
	rdb := rs.client(t)
	a, b := New(rdb, Options{}), New(rdb, Options{})
	a.Refused(context.Background(), "k") // the fleet's estimate starts (at its floor, 1/s)
	est := reservedAt(t, rdb, a, "k", share(1))
	if est <= 0 {
		t.Fatalf("a's share was paced at %d µs; want the fleet's estimate", est)
	}
	day := llmretry.Pace{RequestRate: rate.Limit(12_952.0 / 80_100), RequestBurst: 12_952, Learned: true}
	if got := reservedAt(t, rdb, b, "k", day); got != est {
		t.Errorf("b's daily window was reserved at an interval of %d µs, want the estimate's %d µs", got, est)
	}
	res, err := reserveScript.Run(context.Background(), rdb, a.keys("k"), a.reserveArgs(-1, share(1), 1)...).Slice()
	if err != nil {
		t.Fatal(err)
	}
	_, delay, _, err := parseReply(res)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * time.Duration(est) * time.Microsecond; delay > want {
		t.Errorf("a's next request waits %v behind two reservations; want ≤ %v", delay, want)
	}
}

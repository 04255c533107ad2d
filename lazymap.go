package llmretry

import (
	"sync"
	"time"
)

// lazyMap is a map whose values are made on first use, for state kept per
// key (pacers, budgets, buckets). Lookups of existing values take a read
// lock and allocate nothing. Stale values are swept out when a value is
// added and the map has doubled since the last sweep, or sweepEvery has
// passed: it holds at most twice the values in use plus minSweep, and
// values stale for sweepEvery are gone by the next addition. Safe for
// concurrent use.
type lazyMap[K comparable, V any] struct {
	mu        sync.RWMutex // guards the fields below
	m         map[K]*V
	sweepAt   int       // the size at which the next sweep runs
	lastSweep time.Time // when the last sweep ran
}

// minSweep is the smallest map swept for its size.
const minSweep = 1024

// sweepEvery is the longest time between sweeps, as values are added.
const sweepEvery = 10 * time.Minute

// load returns the value for k, if there is one.
func (l *lazyMap[K, V]) load(k K) (*V, bool) {
	l.mu.RLock()
	v, ok := l.m[k]
	l.mu.RUnlock()
	return v, ok
}

// loadOrStore returns the value for k, storing newValue() first if there is
// none. If stale is not nil, the values it reports are dropped when a sweep
// is due at now; the survivors move to a new map, since a Go map never
// gives back the memory of deleted entries.
func (l *lazyMap[K, V]) loadOrStore(k K, newValue func() *V, stale func(*V) bool, now time.Time) *V {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.m[k]; ok {
		return cur
	}
	if l.m == nil {
		l.m = map[K]*V{}
		l.lastSweep = now
	}
	if stale != nil && (len(l.m) >= max(l.sweepAt, minSweep) || now.Sub(l.lastSweep) > sweepEvery) {
		l.lastSweep = now
		kept := make(map[K]*V, len(l.m)/2)
		for k, v := range l.m {
			if !stale(v) {
				kept[k] = v
			}
		}
		l.m = kept
		l.sweepAt = 2 * len(kept)
	}
	v := newValue()
	l.m[k] = v
	return v
}

// len returns the number of values held.
func (l *lazyMap[K, V]) len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.m)
}

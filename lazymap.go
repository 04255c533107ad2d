package llmretry

import "sync"

// lazyMap is a map whose values are made on first use, for state kept per
// key (pacers, budgets, buckets). Lookups of existing values take a read
// lock and allocate nothing. Safe for concurrent use.
type lazyMap[K comparable, V any] struct {
	mu sync.RWMutex // guards m
	m  map[K]*V
}

// load returns the value for k, if there is one.
func (l *lazyMap[K, V]) load(k K) (*V, bool) {
	l.mu.RLock()
	v, ok := l.m[k]
	l.mu.RUnlock()
	return v, ok
}

// loadOrStore returns the value for k, storing v first if there is none.
func (l *lazyMap[K, V]) loadOrStore(k K, v *V) *V {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.m[k]; ok {
		return cur
	}
	if l.m == nil {
		l.m = map[K]*V{}
	}
	l.m[k] = v
	return v
}

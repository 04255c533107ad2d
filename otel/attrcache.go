package llmretryotel

import (
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// maxCached bounds each cache of attribute sets: past it, sets are built
// for each measurement, as if there were no cache.
const maxCached = 1024

// opts are the measurement options of one attribute set, made once, so that
// recording into an existing series allocates nothing here.
type opts struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

func newOpts(kvs []attribute.KeyValue) opts {
	o := metric.WithAttributeSet(attribute.NewSet(kvs...))
	return opts{add: []metric.AddOption{o}, rec: []metric.RecordOption{o}}
}

// optCache holds the options of the attribute sets seen, by a key that
// determines the set. Safe for concurrent use.
type optCache[K comparable] struct {
	mu sync.RWMutex // guards m
	m  map[K]opts
}

// get returns the options for k, building the set with kvs if k is new.
func (c *optCache[K]) get(k K, kvs func() []attribute.KeyValue) opts {
	c.mu.RLock()
	o, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return o
	}
	o = newOpts(kvs())
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[K]opts{}
	}
	if len(c.m) < maxCached {
		c.m[k] = o
	}
	return o
}

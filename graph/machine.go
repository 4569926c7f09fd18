package graph

import (
	"container/list"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// NewMachine compiles g into a Gorgonia TapeMachine. Gorgonia panics on a
// graph it cannot compile; NewMachine recovers and returns ErrMachine with
// the panic's message instead. A graph with two different nodes of one
// hash, which Gorgonia's compiler would compute one from the other, is
// refused with ErrHashCollision; a graph made by [Build] has none, and no
// node merged into another by Gorgonia's AddNode either (a graph built with
// [New] alone may have such a merge, which no scan after the fact can see).
func NewMachine(g *Graph, opts ...gorgonia.VMOpt) (m gorgonia.VM, err error) {
	if g == nil {
		return nil, errors.New("graph: nil graph")
	}
	if a, b := hashCollision(g.eg); a != nil {
		return nil, errors.Wrapf(ErrHashCollision, "%v and %v (hash %#x): Gorgonia's compiler would compute one from the other; build the graph with graph.Build", a, b, a.Hashcode())
	}
	defer func() {
		if r := recover(); r != nil {
			m = nil
			err = errors.Wrapf(ErrMachine, "compiling: %v", r)
		}
	}()
	m = gorgonia.NewTapeMachine(g.eg, opts...)
	// Gorgonia sets a finalizer on every tape machine, which does nothing
	// in a build without CUDA (Close calls the same function). A finalizer
	// keeps alive whatever its object reaches, and an object on a cycle
	// through it forever: a machine whose graph reads a value into a
	// struct that holds the machine (gorgonia.Read(loss, &c.loss), c.vm =
	// m) was never collected, graphs, buffers and all (about 110 MB after
	// the training package's dialogue tests). Close releases a machine.
	runtime.SetFinalizer(m, nil)
	return m, nil
}

// Run executes one pass of m and adds context to Gorgonia's errors, which
// read "PC n. Failed to execute instruction …". A panic raised on the
// calling goroutine is recovered and returned as ErrMachine; the ops
// themselves run on a goroutine of Gorgonia's tape machine, where a panic
// cannot be recovered, so every op of this package returns errors instead.
func Run(m gorgonia.VM) (err error) {
	if m == nil {
		return errors.New("graph: nil machine")
	}
	defer func() {
		if r := recover(); r != nil {
			err = errors.Wrapf(ErrMachine, "running: %v", r)
		}
	}()
	if err := m.RunAll(); err != nil {
		return errors.Wrapf(ErrMachine, "running: %v", err)
	}
	return nil
}

// Cache keeps at most Max values (compiled machines, typically) keyed by
// shape, evicting the least recently used. An evicted value that implements
// io.Closer is closed. Cache is safe for concurrent use; Build functions for
// one key are not run twice at once.
type Cache[K comparable, V any] struct {
	max   int
	mu    sync.Mutex
	order *list.List // front = most recent; elements hold K
	items map[K]*cacheItem[V]
	stats CacheStats
}

type cacheItem[V any] struct {
	v  V
	el *list.Element
}

// CacheStats counts cache traffic.
type CacheStats struct {
	Hits, Misses, Evictions int
}

// NewCache returns a cache of at most max entries (max ≥ 1).
func NewCache[K comparable, V any](max int) (*Cache[K, V], error) {
	if max < 1 {
		return nil, errors.Errorf("graph: cache size %d must be at least 1", max)
	}
	return &Cache[K, V]{max: max, order: list.New(), items: map[K]*cacheItem[V]{}}, nil
}

// Get returns the value for key, building it with build on a miss. A
// failed build is not cached.
func (c *Cache[K, V]) Get(key K, build func() (V, error)) (V, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it, ok := c.items[key]; ok {
		c.order.MoveToFront(it.el)
		c.stats.Hits++
		return it.v, nil
	}
	c.stats.Misses++
	v, err := build()
	if err != nil {
		var zero V
		return zero, errors.Wrapf(err, "building cache entry %v", fmt.Sprint(key))
	}
	it := &cacheItem[V]{v: v}
	it.el = c.order.PushFront(key)
	c.items[key] = it
	for c.order.Len() > c.max {
		last := c.order.Back()
		k := last.Value.(K)
		old := c.items[k]
		c.order.Remove(last)
		delete(c.items, k)
		c.stats.Evictions++
		if cl, ok := any(old.v).(io.Closer); ok {
			_ = cl.Close()
		}
	}
	return v, nil
}

// Len returns the number of cached values.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// Stats returns the hit, miss and eviction counts so far.
func (c *Cache[K, V]) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Close empties the cache, closing every value that implements io.Closer.
func (c *Cache[K, V]) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for k, it := range c.items {
		if cl, ok := any(it.v).(io.Closer); ok {
			if err := cl.Close(); err != nil && first == nil {
				first = err
			}
		}
		delete(c.items, k)
	}
	c.order.Init()
	return first
}

// hashCollision returns two different nodes of eg with the same hash, a
// pair released Gorgonia's common subexpression elimination would take for
// one node, or nils. (Nodes that are truly the same expression are one node
// already: ExprGraph.AddNode merges them.)
func hashCollision(eg *gorgonia.ExprGraph) (a, b *gorgonia.Node) {
	nodes := eg.AllNodes()
	seen := make(map[uint32]*gorgonia.Node, len(nodes))
	for _, n := range nodes {
		h := n.Hashcode()
		if m, ok := seen[h]; ok && m != n {
			return m, n
		}
		seen[h] = n
	}
	return nil, nil
}

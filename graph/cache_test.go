package graph

import (
	"errors"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// closer records its Close calls.
type closer struct {
	key    string
	closed *[]string
	err    error
}

func (c *closer) Close() error {
	*c.closed = append(*c.closed, c.key)
	return c.err
}

func TestNewCacheSize(t *testing.T) {
	for _, n := range []int{0, -1} {
		if c, err := NewCache[string, int](n); err == nil || c != nil {
			t.Errorf("NewCache(%d) accepted", n)
		}
	}
	if _, err := NewCache[string, int](1); err != nil {
		t.Fatalf("NewCache(1): %v", err)
	}
}

func TestCacheBuildsOncePerKey(t *testing.T) {
	c, err := NewCache[int, string](4)
	if err != nil {
		t.Fatal(err)
	}
	builds := map[int]int{}
	build := func(k int) func() (string, error) {
		return func() (string, error) {
			builds[k]++
			return string(rune('a' + k)), nil
		}
	}
	for round := 0; round < 3; round++ {
		for k := 0; k < 3; k++ {
			v, err := c.Get(k, build(k))
			if err != nil || v != string(rune('a'+k)) {
				t.Fatalf("Get(%d) = %q, %v", k, v, err)
			}
		}
	}
	if !reflect.DeepEqual(builds, map[int]int{0: 1, 1: 1, 2: 1}) {
		t.Fatalf("builds %v, want one per key", builds)
	}
	if s := c.Stats(); s != (CacheStats{Hits: 6, Misses: 3}) {
		t.Fatalf("Stats %+v, want 6 hits, 3 misses", s)
	}
	if c.Len() != 3 {
		t.Fatalf("Len %d", c.Len())
	}
}

func TestCacheEvictsLRU(t *testing.T) {
	var closed []string
	c, err := NewCache[string, *closer](2)
	if err != nil {
		t.Fatal(err)
	}
	builds := 0
	get := func(k string) *closer {
		t.Helper()
		v, err := c.Get(k, func() (*closer, error) {
			builds++
			return &closer{key: k, closed: &closed}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	a := get("a")
	get("b")
	if got := get("a"); got != a { // a is now the most recent
		t.Fatal("hit returned another value")
	}
	get("c") // evicts b, the least recently used
	if !reflect.DeepEqual(closed, []string{"b"}) {
		t.Fatalf("closed %v, want [b]", closed)
	}
	if c.Len() != 2 {
		t.Fatalf("Len %d, want 2", c.Len())
	}
	before := builds
	get("a")
	get("c")
	if builds != before {
		t.Fatal("a or c was evicted instead of b")
	}
	get("b") // rebuilt, evicts a (c was used after a)
	if builds != before+1 || !reflect.DeepEqual(closed, []string{"b", "a"}) {
		t.Fatalf("builds %d (want %d), closed %v (want [b a])", builds, before+1, closed)
	}
	if s := c.Stats(); s.Evictions != 2 || s.Misses != 4 || s.Hits != 3 {
		t.Fatalf("Stats %+v, want 3 hits, 4 misses, 2 evictions", s)
	}

	// Close closes what is left and empties the cache; the first error is returned.
	closed = nil
	boom := errors.New("close failed")
	if _, err := c.Get("d", func() (*closer, error) { return &closer{key: "d", closed: &closed, err: boom}, nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(closed, []string{"c"}) { // d evicted c, used before b
		t.Fatalf("closed %v, want [c]", closed)
	}
	if err := c.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close: %v, want the value's Close error", err)
	}
	if len(closed) == 3 {
		slices.Sort(closed[1:]) // Close's order is the map's
	}
	if !reflect.DeepEqual(closed, []string{"c", "b", "d"}) || c.Len() != 0 {
		t.Fatalf("Close closed %v (want c, then b and d), Len %d", closed, c.Len())
	}
	get("a")
	if c.Len() != 1 {
		t.Fatalf("cache unusable after Close: Len %d", c.Len())
	}
}

func TestCacheSizeOne(t *testing.T) {
	c, err := NewCache[int, int](1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if v, err := c.Get(i, func() (int, error) { return i * 10, nil }); err != nil || v != i*10 {
			t.Fatalf("Get(%d) = %d, %v", i, v, err)
		}
	}
	if c.Len() != 1 || c.Stats().Evictions != 2 {
		t.Fatalf("Len %d, stats %+v", c.Len(), c.Stats())
	}
}

func TestCacheFailedBuildNotCached(t *testing.T) {
	c, err := NewCache[string, int](2)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("build failed")
	calls := 0
	for i := 0; i < 2; i++ {
		v, err := c.Get("k", func() (int, error) { calls++; return 7, boom })
		if !errors.Is(err, boom) || v != 0 {
			t.Fatalf("failed build: %d, %v; want 0 and the build's error", v, err)
		}
	}
	if calls != 2 || c.Len() != 0 {
		t.Fatalf("calls %d (want 2), Len %d (want 0): the failure was cached", calls, c.Len())
	}
	v, err := c.Get("k", func() (int, error) { calls++; return 8, nil })
	if err != nil || v != 8 || calls != 3 {
		t.Fatalf("build after failures: %d, %v, calls %d", v, err, calls)
	}
}

func TestCacheConcurrentGetBuildsOnce(t *testing.T) {
	c, err := NewCache[string, *int](2)
	if err != nil {
		t.Fatal(err)
	}
	var builds atomic.Int32
	start := make(chan struct{})
	results := make([]*int, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			v, err := c.Get("k", func() (*int, error) {
				builds.Add(1)
				time.Sleep(20 * time.Millisecond) // let the others arrive
				x := 42
				return &x, nil
			})
			if err != nil {
				t.Error(err)
			}
			results[i] = v
		}()
	}
	close(start)
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Fatalf("%d builds for one key from 8 goroutines, want 1", n)
	}
	for i, v := range results {
		if v == nil || v != results[0] || *v != 42 {
			t.Fatalf("goroutine %d got %v, want the one built value", i, v)
		}
	}
	if s := c.Stats(); s.Misses != 1 || s.Hits != 7 {
		t.Fatalf("Stats %+v, want 1 miss and 7 hits", s)
	}

	// Many keys from many goroutines, for the race detector.
	var wg2 sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for j := 0; j < 50; j++ {
				k := string(rune('a' + (i+j)%5))
				if _, err := c.Get(k, func() (*int, error) { x := j; return &x, nil }); err != nil {
					t.Error(err)
				}
				_ = c.Len()
				_ = c.Stats()
			}
		}()
	}
	wg2.Wait()
	if c.Len() > 2 {
		t.Fatalf("Len %d beyond max 2", c.Len())
	}
}

// TestCacheOfMachines caches compiled machines per input length, as a model
// does: an evicted machine is closed.
func TestCacheOfMachines(t *testing.T) {
	p := mustParams(t, tensor.Float64)
	if _, err := p.New("w", 1); err != nil {
		t.Fatal(err)
	}
	if err := p.SetFloat64s("w", []float64{2}); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		m   gorgonia.VM
		x   *gorgonia.Node
		out *gorgonia.Value
	}
	c, err := NewCache[int, entry](2)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	build := func(n int) func() (entry, error) {
		return func() (entry, error) {
			g, err := New(p)
			if err != nil {
				return entry{}, err
			}
			w, err := g.Param("w", 1)
			if err != nil {
				return entry{}, err
			}
			x, err := g.Input("x", n)
			if err != nil {
				return entry{}, err
			}
			y, err := gorgonia.Mul(gorgonia.Must(gorgonia.Sum(x)), gorgonia.Must(gorgonia.Sum(w)))
			if err != nil {
				return entry{}, err
			}
			out := new(gorgonia.Value)
			gorgonia.Read(y, out)
			m, err := NewMachine(g)
			if err != nil {
				return entry{}, err
			}
			return entry{m: m, x: x, out: out}, nil
		}
	}
	for _, n := range []int{3, 5, 3, 7, 3} {
		e, err := c.Get(n, build(n))
		if err != nil {
			t.Fatal(err)
		}
		if err := Set(e.x, seq(n, 1, 1)); err != nil {
			t.Fatal(err)
		}
		e.m.Reset()
		mustRun(t, e.m)
		if got, want := values(t, *e.out)[0], float64(n*(n+1)); got != want {
			t.Fatalf("length %d: %v, want %v", n, got, want)
		}
	}
	if s := c.Stats(); s.Misses != 3 || s.Hits != 2 || s.Evictions != 1 {
		t.Fatalf("Stats %+v, want 3 misses (3, 5, 7), 2 hits, 1 eviction (5)", s)
	}
}

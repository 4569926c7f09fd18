package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// TestPullRunsEveryItemOnce: every item runs exactly once, before Pull
// returns, each worker index is in range and runs one item at a time, for
// item counts below, at and above the number of cores, zero included.
func TestPullRunsEveryItemOnce(t *testing.T) {
	cores := runtime.GOMAXPROCS(0)
	for _, items := range []int{0, 1, 2, cores, cores + 1, 7 * cores, 1000} {
		for _, maxWorkers := range []int{0, 1, 2, items} {
			pull(t, cores, items, maxWorkers)
		}
	}
}

func pull(t *testing.T, cores, items, maxWorkers int) {
	t.Helper()
	counts := make([]atomic.Int32, items)
	busy := make([]atomic.Int32, max(cores, 1))
	Pull(items, maxWorkers, func(w, i int) {
		if w < 0 || w >= max(1, min(cores, items, maxWorkers)) {
			t.Errorf("%d items: worker %d", items, w)
			return
		}
		if busy[w].Add(1) != 1 {
			t.Errorf("%d items: worker %d runs two items at once", items, w)
		}
		counts[i].Add(1)
		busy[w].Add(-1)
	})
	for i := range counts {
		if n := counts[i].Load(); n != 1 {
			t.Errorf("%d items: item %d ran %d times", items, i, n)
		}
	}
}

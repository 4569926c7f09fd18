package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pull calls fn(worker, item) once for every item in [0, items). The items
// are taken in turn by the calling goroutine and by the goroutines started
// for the call, min(GOMAXPROCS, items, maxWorkers) in all (maxWorkers < 1
// counts as 1); worker, in [0, max(maxWorkers, 1)), says which of them runs the call (each runs its calls
// one at a time, so per-worker scratch buffers need no locking). Pull
// returns when every item is done.
//
// Unlike Run, nothing spins: the caller blocks while the last items
// finish, and a goroutine that starts late (on a machine whose cores are
// busy with other work) finds the items taken and leaves. It suits a few
// hand-offs of coarse items per call (a decoder step's row blocks), where
// a Run caller waiting for a descheduled worker would burn its core.
func Pull(items, maxWorkers int, fn func(worker, item int)) {
	workers := min(runtime.GOMAXPROCS(0), items, maxWorkers)
	if workers <= 1 {
		for i := 0; i < items; i++ {
			fn(0, i)
		}
		return
	}
	var next atomic.Int64
	work := func(w int) {
		for i := int(next.Add(1)) - 1; i < items; i = int(next.Add(1)) - 1 {
			fn(w, i)
		}
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			work(w)
		}()
	}
	work(0)
	wg.Wait()
}

package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rnnkit/rnnkit/internal/blas"
)

// The fused recurrent kernels hand work to the other cores two or three
// times per time step, a few hundred microseconds apart. Starting a
// goroutine for each hand-off costs little, but waking the parked thread
// that runs it costs tens of microseconds, and a step's work is split in
// parts that must all finish before the next step. A team keeps one worker
// goroutine per extra core; after a job, a worker spins for a short while
// (spinFor) watching for the next one before it parks, so hand-offs within
// a pass take well under a microsecond. A team serves one caller at a
// time; a caller that finds it busy (another pass running concurrently)
// falls back to goroutines.

// spinFor is how long an idle worker watches for the next job before it
// parks. It is short: the time between two steps of a pass, not between
// two passes.
const spinFor = 50 * time.Microsecond

// team is a set of worker goroutines, one per core beyond the first.
type team struct {
	busy    sync.Mutex    // held by the caller using the team
	gen     atomic.Uint64 // incremented for every job
	pending atomic.Int64  // workers yet to finish (or skip) the current job
	parts   int           // the current job's part count (≤ 1 + workers)
	fn      func(part int)
	workers []*worker
}

// worker is one of a team's goroutines.
type worker struct {
	parked atomic.Bool
	wake   chan struct{} // capacity 1: a token, possibly stale
}

var (
	teamOnce   sync.Once
	sharedTeam *team
)

// theTeam returns the process's team, started on first use with one
// worker per core beyond the first (nil with one core).
func theTeam() *team {
	teamOnce.Do(func() {
		if n := runtime.GOMAXPROCS(0) - 1; n >= 1 {
			sharedTeam = newTeam(n)
		}
	})
	return sharedTeam
}

// newTeam starts a team of n workers. They live as long as the process.
func newTeam(n int) *team {
	t := &team{workers: make([]*worker, n)}
	for i := range t.workers {
		w := &worker{wake: make(chan struct{}, 1)}
		t.workers[i] = w
		go t.loop(i+1, w)
	}
	return t
}

// loop runs worker w, which does part `part` of every job that has one.
func (t *team) loop(part int, w *worker) {
	// Jobs count from 1: a job published before this goroutine first runs
	// is not missed.
	var seen uint64
	for {
		seen = t.await(w, seen)
		if fn, parts := t.fn, t.parts; part < parts {
			fn(part)
		}
		// Every worker acknowledges every job, so that the caller does not
		// change fn and parts while one is still reading them.
		t.pending.Add(-1)
	}
}

// await returns the generation of the next job after seen, spinning for a
// while and then parking until the caller wakes w.
func (t *team) await(w *worker, seen uint64) uint64 {
	start := time.Now()
	for i := 0; ; i++ {
		if g := t.gen.Load(); g != seen {
			return g
		}
		if i&63 != 63 {
			continue
		}
		if time.Since(start) < spinFor {
			runtime.Gosched()
			continue
		}
		// Park: announce it, check once more (the caller increments gen
		// before it looks at parked), then wait for a token.
		w.parked.Store(true)
		if g := t.gen.Load(); g != seen {
			w.parked.Store(false)
			return g
		}
		<-w.wake
		w.parked.Store(false)
		start, i = time.Now(), 0
	}
}

// Run calls fn(part) for part in [0, parts), part 0 on the calling
// goroutine and the others on the team's workers, and returns when all
// have returned. With more parts than workers, with the team busy, or in a
// build whose BLAS runs threads of its own (blas.OwnThreads), it runs the
// parts on goroutines of their own.
func Run(parts int, fn func(part int)) {
	if blas.OwnThreads {
		(*team)(nil).run(parts, fn)
		return
	}
	theTeam().run(parts, fn)
}

// run is Run on team t (which may be nil: goroutines then).
func (t *team) run(parts int, fn func(part int)) {
	if parts <= 1 {
		if parts == 1 {
			fn(0)
		}
		return
	}
	if t == nil || parts > len(t.workers)+1 || !t.busy.TryLock() {
		var wg sync.WaitGroup
		for p := 1; p < parts; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fn(p)
			}()
		}
		fn(0)
		wg.Wait()
		return
	}
	t.fn, t.parts = fn, parts
	t.pending.Store(int64(len(t.workers)))
	t.gen.Add(1) // publishes fn and parts to the workers
	for _, w := range t.workers {
		if w.parked.Load() {
			select {
			case w.wake <- struct{}{}:
			default: // a token is already there
			}
		}
	}
	fn(0)
	for i := 0; t.pending.Load() > 0; i++ {
		if i&63 == 63 {
			runtime.Gosched()
		}
	}
	t.fn = nil
	t.busy.Unlock()
}

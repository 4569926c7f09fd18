package parallel

import "runtime"

// For calls fn over [0, n) split into one contiguous range per core, when
// the work (n·cost, roughly in floating-point operations) is worth handing
// to other cores; otherwise fn(0, n) on the calling goroutine.
func For(n, cost int, fn func(lo, hi int)) {
	w := runtime.GOMAXPROCS(0)
	if w > n {
		w = n
	}
	if w <= 1 || n*cost < 1<<15 {
		fn(0, n)
		return
	}
	chunk := (n + w - 1) / w
	Run((n+chunk-1)/chunk, func(part int) {
		lo := part * chunk
		fn(lo, min(lo+chunk, n))
	})
}

package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/rnnkit/rnnkit/internal/cputime"
)

// probe is one register-only FMA loop.
type probe struct {
	name         string
	flopsPerIter float64
	// loop runs n iterations and returns a value that depends on all of
	// them, so the work cannot be skipped.
	loop func(n int, x, y float32) float32
}

// sink keeps the loops' results alive.
var sink float32

// measure runs p on threads goroutines, each locked to its own OS thread,
// for about seconds, and returns the GFLOP/s of all of them together in
// wall-clock time and per CPU-second of the process (negative where the
// CPU time cannot be read). On a machine shared with other work the
// second is what one core does while this process holds it.
func measure(p probe, threads int, seconds float64) (wall, perCPU float64) {
	// Calibrate the iterations of one call to about seconds on one thread.
	n := 1 << 16
	for {
		t0 := time.Now()
		sink += p.loop(n, 1, 1)
		if d := time.Since(t0).Seconds(); d > 0.05 {
			n = int(float64(n) * seconds / d)
			break
		}
		n *= 4
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]float32, threads)
	for i := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			<-start
			results[i] = p.loop(n, 1, 1)
		}()
	}
	c0, t0 := cputime.Seconds(), time.Now()
	close(start)
	wg.Wait()
	elapsed, cpu := time.Since(t0).Seconds(), cputime.Seconds()-c0
	for _, r := range results {
		sink += r
	}
	gflop := p.flopsPerIter * float64(n) * float64(threads) / 1e9
	perCPU = -1
	if c0 >= 0 && cpu > 0 {
		perCPU = gflop / cpu
	}
	return gflop / elapsed, perCPU
}

// stats returns the median, minimum and maximum of xs.
func stats(xs []float64) (median, lo, hi float64) {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	median = s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return median, s[0], s[n-1]
}

func main() {
	runs := flag.Int("runs", 5, "`runs` of each probe; the median is reported")
	seconds := flag.Float64("seconds", 0.5, "`seconds` each run lasts")
	flag.Parse()
	if *runs < 1 || *seconds <= 0 || *seconds > 60 {
		fmt.Fprintf(os.Stderr, "peak: -runs must be at least 1 (got %d) and -seconds in (0, 60] (got %g)\n", *runs, *seconds)
		os.Exit(2)
	}
	all := runtime.GOMAXPROCS(0)
	fmt.Printf("# FMA peak, median (min–max) of %d runs of %.2g s; GOMAXPROCS %d\n", *runs, *seconds, all)
	fmt.Printf("# GFLOP/s is wall-clock; GFLOP per CPU-second is what one core does while the probe holds it\n")
	for _, why := range missing() {
		fmt.Printf("# not measured: %s\n", why)
	}
	counts := []int{1}
	if all > 1 {
		counts = append(counts, all)
	}
	for _, p := range probes() {
		for _, threads := range counts {
			g, c := make([]float64, *runs), make([]float64, *runs)
			for i := range g {
				g[i], c[i] = measure(p, threads, *seconds)
			}
			med, lo, hi := stats(g)
			cmed, _, _ := stats(c)
			fmt.Printf("%-11s %2d thread(s)  %7.1f GFLOP/s (%.1f–%.1f), %6.1f per thread; %6.1f GFLOP per CPU-second\n",
				p.name, threads, med, lo, hi, med/float64(threads), cmed)
		}
	}
}

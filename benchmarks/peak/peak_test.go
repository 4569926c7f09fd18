package main

import "testing"

// TestLoops checks that every probe this CPU runs does its multiply-adds:
// n iterations from zero give n·x·y, exact for these small values.
func TestLoops(t *testing.T) {
	ps := probes()
	if len(ps) == 0 {
		t.Skipf("no probe runs here: %v", missing())
	}
	for _, p := range ps {
		for _, n := range []int{0, 1, 7, 1000} {
			if got, want := p.loop(n, 1.5, -2), float32(n)*-3; got != want {
				t.Errorf("%s loop(%d, 1.5, -2) = %v, want %v", p.name, n, got, want)
			}
		}
	}
}

// TestMeasure checks that a short measurement gives a positive, finite
// rate and that stats orders its figures.
func TestMeasure(t *testing.T) {
	for _, p := range probes() {
		if g, c := measure(p, 1, 0.01); !(g > 0 && g < 1e6) || !(c > 0 && c < 1e6 || c == -1) {
			t.Errorf("%s: measure = %v GFLOP/s, %v GFLOP per CPU-second", p.name, g, c)
		}
	}
	med, lo, hi := stats([]float64{3, 1, 2, 10})
	if med != 2.5 || lo != 1 || hi != 10 {
		t.Errorf("stats = %v, %v, %v; want 2.5, 1, 10", med, lo, hi)
	}
}

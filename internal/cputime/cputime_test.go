package cputime

import (
	"runtime"
	"testing"
)

// Busy work raises the CPU time, which never falls.
func TestSecondsGrows(t *testing.T) {
	a := Seconds()
	if a < 0 {
		if runtime.GOOS == "linux" || runtime.GOOS == "darwin" {
			t.Fatalf("no CPU time on %s", runtime.GOOS)
		}
		t.Skipf("no CPU time on %s", runtime.GOOS)
	}
	x := 0.0
	for i := range 50_000_000 {
		x += float64(i & 7)
	}
	b := Seconds()
	if !(b > a) || x == 0 {
		t.Errorf("CPU time %v then %v after busy work", a, b)
	}
}

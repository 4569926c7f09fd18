package vmath

import (
	"fmt"
	"math"
	"testing"

	"github.com/rnnkit/rnnkit/internal/cputime"
)

// benchInput returns n pre-activation-like values in [−8, 8].
func benchInput(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i%1601-800) / 100
	}
	return x
}

// benchImpls runs f on each path ("avx512", "avx2", "go" for the portable
// code) and the simple float64 loop, for n = 256 and 4096, reporting ns per
// element, by the wall clock and by the process's CPU time (on a shared
// machine the latter is less disturbed by other processes).
func benchImpls(b *testing.B, f func(dst, src []float32), simple func(y, x []float32)) {
	for _, n := range []int{256, 4096} {
		for _, impl := range []string{"avx512", "avx2", "go", "float64"} {
			b.Run(fmt.Sprintf("n=%d/%s", n, impl), func(b *testing.B) {
				saved := currentPath()
				defer setPath(saved)
				switch impl {
				case "avx512", "avx2":
					p, err := parsePath(impl, canRun)
					if err != nil {
						b.Skip(err)
					}
					setPath(p)
				case "go":
					setPath(pathGeneric)
				}
				x, y := benchInput(n), make([]float32, n)
				run := func() { f(y, x) }
				if impl == "float64" {
					run = func() { simple(y, x) }
				}
				c0 := cputime.Seconds()
				for b.Loop() {
					run()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/elem")
				if cpu := cputime.Seconds() - c0; c0 >= 0 && cpu > 0 {
					b.ReportMetric(cpu*1e9/float64(b.N)/float64(n), "cpu-ns/elem")
				}
			})
		}
	}
}

func BenchmarkSigmoid32(b *testing.B) {
	benchImpls(b, Sigmoid32, func(y, x []float32) {
		for i := range x {
			y[i] = float32(1 / (1 + math.Exp(-float64(x[i]))))
		}
	})
}

func BenchmarkTanh32(b *testing.B) {
	benchImpls(b, Tanh32, func(y, x []float32) {
		for i := range x {
			y[i] = float32(math.Tanh(float64(x[i])))
		}
	})
}

func BenchmarkExp32(b *testing.B) {
	benchImpls(b, Exp32, func(y, x []float32) {
		for i := range x {
			y[i] = float32(math.Exp(float64(x[i])))
		}
	})
}

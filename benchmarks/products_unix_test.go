//go:build unix

package benchmarks

import (
	"testing"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/cputime"
)

// lstmProductFLOP returns the floating-point operations of an LSTM layer's
// matrix products at shape s, as docs/performance.md counts them: forward
// x·W_ihᵀ and the T products h·W_hhᵀ; in training also ∂W_ih, ∂W_hh and
// the T products for ∂h (∂x is not computed for data inputs).
func lstmProductFLOP(s shape, train bool) float64 {
	bt, i, h, g := float64(s.B*s.T), float64(s.I), float64(s.H), 4*float64(s.H)
	f := 2*bt*i*g + 2*bt*h*g
	if train {
		f += 2*g*i*bt + 2*g*h*bt + 2*bt*g*h
	}
	return f
}

// BenchmarkLSTMProducts runs BenchmarkLSTM's forward and train steps at S1
// and S2 and reports their matrix products' rate: product-GFLOP/s in wall
// time and product-GFLOP/CPU-s per CPU-second of the process (per core,
// which the other load on a shared machine disturbs much less). Divided by
// benchmarks/peak's GFLOP per CPU-second, the second is the share of the
// per-core FMA peak the whole step runs its products at, everything else
// in the step counted against it.
func BenchmarkLSTMProducts(b *testing.B) {
	for _, mode := range []string{"forward", "train"} {
		for _, s := range shapes[:2] {
			b.Run(mode+"/"+s.name, func(b *testing.B) {
				train := mode == "train"
				m := build(b, cells.LSTMKind, false, false, train, s)
				defer m.Close()
				if err := graph.Run(m); err != nil { // warm-up
					b.Fatal(err)
				}
				m.Reset()
				b.ResetTimer()
				c0 := cputime.Seconds()
				for b.Loop() {
					if err := graph.Run(m); err != nil {
						b.Fatal(err)
					}
					m.Reset()
				}
				gflop := lstmProductFLOP(s, train) * float64(b.N) / 1e9
				b.ReportMetric(gflop/b.Elapsed().Seconds(), "product-GFLOP/s")
				if cpu := cputime.Seconds() - c0; c0 >= 0 && cpu > 0 {
					b.ReportMetric(gflop/cpu, "product-GFLOP/CPU-s")
				}
			})
		}
	}
}

// The flop count is the one docs/performance.md gives for the S2 training
// step (18.8 GFLOP) and its forward pass (7.05).
func TestLSTMProductFLOP(t *testing.T) {
	s2 := shapes[1]
	if s2.name != "S2" {
		t.Fatalf("shapes[1] is %s, want S2", s2.name)
	}
	for _, c := range []struct {
		train bool
		want  float64
	}{{false, 7.05}, {true, 18.8}} {
		if got := lstmProductFLOP(s2, c.train) / 1e9; got < c.want-0.01 || got > c.want+0.01 {
			t.Errorf("train=%v: %.3f GFLOP, want %.2f", c.train, got, c.want)
		}
	}
}

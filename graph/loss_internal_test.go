package graph

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The float32 loss and gradient (one vectorized exponential pass per row)
// against the float64 ones on the same values: rows of every length up to a
// 10,000-word vocabulary, wide ranges of logits, and the rows where the
// maximum is ±Inf or NaN, which must give what e^(x − lse) gives.
func TestCrossEntropyFloat32MatchesFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []int{1, 2, 3, 5, 8, 17, 100, 1023, 10000} {
		for _, spread := range []float64{0.1, 5, 40} {
			const b = 6
			tg, err := NewTargets(b, c)
			if err != nil {
				t.Fatal(err)
			}
			ids, w := make([]int, b), make([]float64, b)
			for i := range ids {
				ids[i], w[i] = r.IntN(c), r.Float64()+0.1
			}
			w[2] = 0 // a padded row
			if err := tg.Set(ids, w); err != nil {
				t.Fatal(err)
			}
			x32 := make([]float32, b*c)
			for i := range x32 {
				x32[i] = float32(r.NormFloat64() * spread)
			}
			x64 := make([]float64, b*c)
			for i, v := range x32 {
				x64[i] = float64(v)
			}
			g32, g64 := make([]float32, b), make([]float64, b)
			for i := range g32 {
				g32[i] = float32(r.Float64() + 0.5)
				g64[i] = float64(g32[i])
			}
			l32, l64 := make([]float32, b), make([]float64, b)
			xentLoss(tg, x32, l32)
			xentLoss(tg, x64, l64)
			for i := range l32 {
				if d := math.Abs(float64(l32[i]) - l64[i]); d > 2e-6*math.Max(1, math.Abs(l64[i])) {
					t.Fatalf("c %d spread %g: loss row %d is %v in float32, %v in float64", c, spread, i, l32[i], l64[i])
				}
			}
			d32, d64 := make([]float32, b*c), make([]float64, b*c)
			xentGrad(tg, x32, g32, d32)
			xentGrad(tg, x64, g64, d64)
			for i := range d32 {
				// p − 1 cancels where p is near 1: the bound is relative to
				// the row's scale w·g as well as to the value.
				if d := math.Abs(float64(d32[i]) - d64[i]); d > 1e-6*math.Abs(d64[i])+5e-7*w[i/c]*g64[i/c] {
					t.Fatalf("c %d spread %g: gradient [%d, %d] is %v in float32, %v in float64", c, spread, i/c, i%c, d32[i], d64[i])
				}
			}
		}
	}
	// Extreme rows.
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	tg, _ := NewTargets(1, 4)
	tg.Set([]int{1}, []float64{1})
	for _, row := range [][]float32{{0, 1, inf, 2}, {-inf, -inf, -inf, -inf}, {nan, 1, 2, 3}, {1, nan, 2, 3}, {1000, -1000, 3, 2}} {
		l := make([]float32, 1)
		xentLoss(tg, row, l)
		d := make([]float32, 4)
		xentGrad(tg, row, []float32{1}, d)
		row64 := make([]float64, 4)
		for i, v := range row {
			row64[i] = float64(v)
		}
		l64, d64 := make([]float64, 1), make([]float64, 4)
		xentLoss(tg, row64, l64)
		xentGrad(tg, row64, []float64{1}, d64)
		same := func(a float32, b float64) bool {
			if math.IsNaN(b) {
				return a != a
			}
			return math.Abs(float64(a)-b) <= 1e-6*math.Max(1, math.Abs(b)) || float64(a) == b
		}
		if !same(l[0], l64[0]) {
			t.Errorf("row %v: loss %v in float32, %v in float64", row, l[0], l64[0])
		}
		for j := range d {
			if !same(d[j], d64[j]) {
				t.Errorf("row %v: gradient %d is %v in float32, %v in float64", row, j, d[j], d64[j])
			}
		}
	}
}

func BenchmarkCrossEntropy32(b *testing.B) {
	const rows, c = 1120, 10000
	r := rand.New(rand.NewPCG(1, 2))
	tg, _ := NewTargets(rows, c)
	ids, w := make([]int, rows), make([]float64, rows)
	for i := range ids {
		ids[i], w[i] = r.IntN(c), 1.0/rows
	}
	tg.Set(ids, w)
	x := make([]float32, rows*c)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 3)
	}
	loss, g, d := make([]float32, rows), make([]float32, rows), make([]float32, rows*c)
	for i := range g {
		g[i] = 1
	}
	b.ResetTimer()
	for range b.N {
		xentLoss(tg, x, loss)
		xentGrad(tg, x, g, d)
	}
}

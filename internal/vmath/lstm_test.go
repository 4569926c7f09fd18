package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// lstmRow holds the inputs and outputs of one LSTMBack32 call.
type lstmRow struct {
	in  [8][]float32 // gi, gf, gg, og, tc, cp, y, dh
	dc  []float32
	out [4][]float32 // di, df, dgg, do
}

func newLSTMRow(rnd *rand.Rand, n int) *lstmRow {
	r := new(lstmRow)
	gen := func(k int) float32 {
		switch {
		case k < 2 || k == 3: // sigmoid outputs
			return float32(rnd.Float64())
		case k == 2 || k == 4: // tanh outputs
			return float32(2*rnd.Float64() - 1)
		default:
			return float32(rnd.NormFloat64() * 3)
		}
	}
	for k := range r.in {
		r.in[k] = make([]float32, n)
		for j := range r.in[k] {
			r.in[k][j] = gen(k)
		}
	}
	r.dc = make([]float32, n)
	for j := range r.dc {
		r.dc[j] = float32(rnd.NormFloat64())
	}
	for k := range r.out {
		r.out[k] = make([]float32, n)
	}
	// Special values in a few places: they must go through both paths alike.
	specials := []float32{0, float32(math.Copysign(0, -1)), 1, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-40, 3e38}
	for s := 0; s < n/5; s++ {
		k, j := rnd.IntN(9), rnd.IntN(n)
		v := specials[rnd.IntN(len(specials))]
		if k == 8 {
			r.dc[j] = v
		} else {
			r.in[k][j] = v
		}
	}
	return r
}

func (r *lstmRow) clone() *lstmRow {
	c := *r
	c.dc = append([]float32(nil), r.dc...)
	for k := range c.out {
		c.out[k] = make([]float32, len(r.dc))
	}
	return &c
}

func (r *lstmRow) run() {
	in := r.in
	LSTMBack32(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], r.dc, r.out[0], r.out[1], r.out[2], r.out[3])
}

// TestLSTMBackAsmMatchesGo: the AVX2 row and the portable row give the same
// bits, special values included, at lengths that leave every tail.
func TestLSTMBackAsmMatchesGo(t *testing.T) {
	if !useAsm {
		t.Skip("no AVX2/FMA on this machine (or the purego build)")
	}
	saved := useAsm
	defer func() { useAsm = saved }()
	rnd := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 64, 255, 256, 1000} {
		r := newLSTMRow(rnd, n)
		a, g := r.clone(), r.clone()
		useAsm = true
		a.run()
		useAsm = false
		g.run()
		got := append([][]float32{a.dc}, a.out[:]...)
		want := append([][]float32{g.dc}, g.out[:]...)
		for k := range want {
			for j := range want[k] {
				if math.Float32bits(got[k][j]) != math.Float32bits(want[k][j]) &&
					!(got[k][j] != got[k][j] && want[k][j] != want[k][j]) {
					t.Fatalf("n=%d output %d[%d]: asm %v, Go %v", n, k, j, got[k][j], want[k][j])
				}
			}
		}
	}
}

// TestLSTMBackValues checks the formula against float64 arithmetic on
// ordinary values (within float32 rounding).
func TestLSTMBackValues(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	n := 100
	r := newLSTMRow(rand.New(rand.NewPCG(11, 12)), n)
	for k := range r.in { // ordinary values only
		for j := range r.in[k] {
			if v := r.in[k][j]; v != v || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > 10 || (v != 0 && math.Abs(float64(v)) < 1e-30) {
				r.in[k][j] = float32(rnd.Float64())
			}
		}
	}
	for j, v := range r.dc {
		if v != v || math.IsInf(float64(v), 0) || math.Abs(float64(v)) > 10 {
			r.dc[j] = 0.5
		}
	}
	dc0 := append([]float32(nil), r.dc...)
	r.run()
	for j := 0; j < n; j++ {
		f := func(k int) float64 { return float64(r.in[k][j]) }
		i, fg, g, o, tc, cp, y, dh := f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7)
		dht := dh + y
		dct := float64(dc0[j]) + dht*o*(1-tc*tc)
		want := []float64{dct * fg, dct * g * i * (1 - i), dct * cp * fg * (1 - fg), dct * i * (1 - g*g), dht * tc * o * (1 - o)}
		got := []float32{r.dc[j], r.out[0][j], r.out[1][j], r.out[2][j], r.out[3][j]}
		for k := range want {
			if d := math.Abs(float64(got[k]) - want[k]); d > 1e-5*(1+math.Abs(want[k])) {
				t.Fatalf("element %d output %d: %v, want %v", j, k, got[k], want[k])
			}
		}
	}
}

// TestLSTMBackLengths: slices of different lengths panic (a programming
// error, as in Sigmoid32).
func TestLSTMBackLengths(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	a, b := make([]float32, 8), make([]float32, 7)
	LSTMBack32(a, a, a, a, a, a, a, a, a, b, b, b, b)
}

// BenchmarkLSTMBack32 times one row of 256 units (an LSTM at S1), the
// AVX2 path and the portable one.
func BenchmarkLSTMBack32(b *testing.B) {
	saved := useAsm
	defer func() { useAsm = saved }()
	r := newLSTMRow(rand.New(rand.NewPCG(1, 2)), 256)
	for _, asm := range []bool{true, false} {
		if asm && !saved {
			continue
		}
		name := "go"
		if asm {
			name = "avx2"
		}
		b.Run(name, func(b *testing.B) {
			useAsm = asm
			for b.Loop() {
				r.run()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/256, "ns/unit")
		})
	}
}

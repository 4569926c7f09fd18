package vmath

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/internal/cputime"
)

// lstmRow holds the inputs and outputs of one LSTMBack32 call.
type lstmRow struct {
	in  [8][]float32 // gi, gf, gg, og, tc, cp, y, dh
	dc  []float32
	out [4][]float32 // di, df, dgg, do
}

// newLSTMRow returns a row of n random gate values, states and gradients,
// with special values (±0, ±Inf, NaN, a subnormal, a huge value) in about
// n/5 places when withSpecials is set.
func newLSTMRow(rnd *rand.Rand, n int, withSpecials bool) *lstmRow {
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
	for s := 0; withSpecials && s < n/5; s++ {
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

// TestLSTMBackAsmMatchesGo: the AVX2 and AVX-512 rows and the portable
// row give the same bits, special values included, at lengths that leave
// every tail.
func TestLSTMBackAsmMatchesGo(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	var rows []*lstmRow
	for n := 1; n <= 40; n++ {
		rows = append(rows, newLSTMRow(rnd, n, true))
	}
	for _, n := range []int{47, 64, 255, 256, 1000} {
		rows = append(rows, newLSTMRow(rnd, n, true))
	}
	withPaths(t, func(t *testing.T) {
		if !useAsm {
			t.Skip("the portable code itself")
		}
		for _, r := range rows {
			n := len(r.dc)
			a := r.clone()
			a.run()
			g := onPath(pathGeneric, func() *lstmRow { g := r.clone(); g.run(); return g })
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
	})
}

// TestLSTMBackNoOverrun: the AVX-512 row's masked tail writes nothing past
// the end of its outputs and reads nothing there that changes a result.
func TestLSTMBackNoOverrun(t *testing.T) {
	withPaths(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(13, 14))
		for n := 1; n <= 40; n++ {
			r := newLSTMRow(rnd, n+16, true)
			const sentinel = -777
			for k := range r.out {
				for j := range r.out[k] {
					r.out[k][j] = sentinel
				}
			}
			dcTail := append([]float32(nil), r.dc[n:]...)
			in := r.in
			LSTMBack32(in[0][:n], in[1][:n], in[2][:n], in[3][:n], in[4][:n], in[5][:n], in[6][:n], in[7][:n],
				r.dc[:n], r.out[0][:n], r.out[1][:n], r.out[2][:n], r.out[3][:n])
			for k := range r.out {
				for j := n; j < len(r.out[k]); j++ {
					if r.out[k][j] != sentinel {
						t.Fatalf("n=%d: output %d[%d] written past the end", n, k, j)
					}
				}
			}
			for j, v := range dcTail {
				if math.Float32bits(r.dc[n+j]) != math.Float32bits(v) {
					t.Fatalf("n=%d: dc[%d] written past the end", n, n+j)
				}
			}
		}
	})
}

// TestLSTMBackValues checks the formula against float64 arithmetic on
// ordinary values (within float32 rounding).
func TestLSTMBackValues(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	n := 100
	r := newLSTMRow(rand.New(rand.NewPCG(11, 12)), n, true)
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

// BenchmarkLSTMBack32 times one row of 256 units (an LSTM at S1) on each
// path this CPU can run, by the wall clock and by CPU time. The row holds
// ordinary values only: the subnormals among the tests' special values
// make x86 CPUs take microcode assists that would dominate the timing.
func BenchmarkLSTMBack32(b *testing.B) {
	r := newLSTMRow(rand.New(rand.NewPCG(1, 2)), 256, false)
	for p := pathAVX512; p >= pathGeneric; p-- {
		name := pathNames[p]
		if p == pathGeneric {
			name = "go"
		}
		b.Run(name, func(b *testing.B) {
			if !canRun[p] {
				b.Skipf("this CPU or build cannot run the %s path", pathNames[p])
			}
			saved := currentPath()
			defer setPath(saved)
			setPath(p)
			c0 := cputime.Seconds()
			for b.Loop() {
				r.run()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/256, "ns/unit")
			if cpu := cputime.Seconds() - c0; c0 >= 0 && cpu > 0 {
				b.ReportMetric(cpu*1e9/float64(b.N)/256, "cpu-ns/unit")
			}
		})
	}
}

package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Max32 and ExpShiftSum32 on every path against the scalar definitions:
// the maximum exactly (NaN where x[0] is NaN, NaNs elsewhere skipped), the
// exponentials bit for bit with Exp32 of x − m on the same path, the sum to float64
// rounding; every length up to 70 and every offset (the masked tails),
// and a row of a 10,000-word vocabulary.
func TestSoftmaxRowKernels(t *testing.T) {
	saved := currentPath()
	defer setPath(saved)
	r := rand.New(rand.NewPCG(5, 6))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, p := range runnable() {
		setPath(p)
		for _, n := range append(seq(1, 70), 1000, 10000) {
			for _, special := range []int{0, 1, 2, 3, 4} {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(r.NormFloat64() * 4)
				}
				switch special {
				case 1:
					x[r.IntN(n)] = nan
				case 2:
					x[0] = nan
				case 3:
					x[r.IntN(n)] = inf
				case 4:
					x[r.IntN(n)] = -inf
				}
				want := x[0]
				for _, v := range x[1:] {
					if v > want {
						want = v
					}
				}
				got := Max32(x)
				if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
					t.Fatalf("%s n %d case %d: Max32 %v, want %v", pathNames[p], n, special, got, want)
				}
				if special != 0 {
					continue
				}
				m := want
				e := make([]float32, n)
				sum := ExpShiftSum32(e, x, m)
				d := make([]float32, n)
				for i, v := range x {
					d[i] = v - m
				}
				Exp32(d, d)
				ref := 0.0
				for i, w := range d {
					if math.Float32bits(e[i]) != math.Float32bits(w) {
						t.Fatalf("%s n %d: e[%d] = %v, want %v", pathNames[p], n, i, e[i], w)
					}
					ref += float64(w)
				}
				if math.Abs(sum-ref) > 1e-13*ref {
					t.Fatalf("%s n %d: sum %v, want %v", pathNames[p], n, sum, ref)
				}
			}
		}
		// In place, and NaN reaching the sum.
		x := []float32{1, 2, nan, 0.5, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2}
		if s := ExpShiftSum32(x, x, 3); s == s {
			t.Errorf("%s: a NaN element gave the sum %v", pathNames[p], s)
		}
	}
}

func seq(lo, hi int) []int {
	var out []int
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}

// ExpShiftSum32 does not write past the end of dst.
func TestExpShiftSumBounds(t *testing.T) {
	saved := currentPath()
	defer setPath(saved)
	for _, p := range runnable() {
		setPath(p)
		for n := 1; n <= 40; n++ {
			buf := make([]float32, n+16)
			for i := range buf {
				buf[i] = -7
			}
			src := make([]float32, n)
			ExpShiftSum32(buf[:n], src, 0)
			for i := n; i < len(buf); i++ {
				if buf[i] != -7 {
					t.Fatalf("%s n %d: wrote %v at %d", pathNames[p], n, buf[i], i)
				}
			}
		}
	}
}

func BenchmarkSoftmaxRow(b *testing.B) {
	saved := currentPath()
	defer setPath(saved)
	x := make([]float32, 10000)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range x {
		x[i] = float32(r.NormFloat64() * 3)
	}
	e := make([]float32, len(x))
	for _, p := range runnable() {
		b.Run(pathNames[p], func(b *testing.B) {
			setPath(p)
			for range b.N {
				ExpShiftSum32(e, x, Max32(x))
			}
		})
	}
}

// runnable returns the paths this CPU and build can run.
func runnable() []kernelPath {
	var out []kernelPath
	for p, ok := range canRun {
		if ok {
			out = append(out, kernelPath(p))
		}
	}
	return out
}

// FuzzSoftmaxRow compares Max32 and ExpShiftSum32 across the paths on
// values the fuzzer picks (four bytes a value).
func FuzzSoftmaxRow(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64})
	f.Add(make([]byte, 4*37))
	f.Fuzz(func(t *testing.T, raw []byte) {
		n := len(raw) / 4
		if n == 0 || n > 4096 {
			t.Skip()
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = math.Float32frombits(uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24)
		}
		saved := currentPath()
		defer setPath(saved)
		var firstM float32
		var firstE []float32
		var firstS float64
		for i, p := range runnable() {
			setPath(p)
			m := Max32(x)
			e := make([]float32, n)
			s := ExpShiftSum32(e, x, m)
			if i == 0 {
				firstM, firstE, firstS = m, e, s
				continue
			}
			if math.Float32bits(m) != math.Float32bits(firstM) && !(m != m && firstM != firstM) {
				t.Fatalf("%s: max %v, generic %v", pathNames[p], m, firstM)
			}
			if m != m || math.IsInf(float64(m), 0) {
				continue
			}
			for j := range e {
				// The generic exponential is within an ulp or two of the
				// assembly's; the assembly paths agree bit for bit.
				if d := math.Abs(float64(e[j] - firstE[j])); d > 4e-7*math.Abs(float64(firstE[j])) && !(e[j] != e[j] && firstE[j] != firstE[j]) {
					t.Fatalf("%s: e[%d] = %v, generic %v", pathNames[p], j, e[j], firstE[j])
				}
			}
			if d := math.Abs(s - firstS); d > 1e-6*math.Abs(firstS) && !(s != s && firstS != firstS) {
				t.Fatalf("%s: sum %v, generic %v", pathNames[p], s, firstS)
			}
		}
	})
}

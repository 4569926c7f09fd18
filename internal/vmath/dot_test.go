package vmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randVec returns n values uniform in [−1, 1).
func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*r.Float32() - 1
	}
	return v
}

// dotLengths are the lengths the kernels are checked at: every length up
// to 70 (all the block and tail combinations), and typical vector sizes.
func dotLengths() []int {
	var ns []int
	for n := 0; n <= 70; n++ {
		ns = append(ns, n)
	}
	return append(ns, 100, 128, 200, 300, 1000, 1031)
}

// withImpl runs f with the assembly kernels on and then off (where the
// machine has them).
func withImpl(t *testing.T, f func(t *testing.T, impl string)) {
	saved := useAsm
	defer func() { useAsm = saved }()
	for _, impl := range []string{"asm", "go"} {
		if impl == "asm" && !saved {
			t.Log("no assembly kernel on this machine or build: portable code only")
			continue
		}
		useAsm = impl == "asm"
		t.Run(impl, func(t *testing.T) { f(t, impl) })
	}
}

// Dot32 on both paths against a float64 sum: within a few float32
// roundings of Σ|x·y|, at every length, and the same result on every call.
func TestDot32(t *testing.T) {
	withImpl(t, func(t *testing.T, impl string) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, n := range dotLengths() {
			x, y := randVec(r, n), randVec(r, n+3)
			var want, abs float64
			for i := range x {
				p := float64(x[i]) * float64(y[i])
				want += p
				abs += math.Abs(p)
			}
			got := Dot32(x, y)
			if d := math.Abs(float64(got) - want); d > 1e-6*abs+1e-30 {
				t.Errorf("n=%d: %v, want %v (diff %.3g, Σ|xy| %.3g)", n, got, want, d, abs)
			}
			if again := Dot32(x, y); math.Float32bits(again) != math.Float32bits(got) {
				t.Errorf("n=%d: %v then %v", n, got, again)
			}
		}
	})
}

// Axpy32 on both paths equals the float64 result rounded to float32
// within one float32 rounding of |y| + |a·x| (the portable code rounds the
// product and the sum, the assembly only the sum); it never writes past
// len(x).
func TestAxpy32(t *testing.T) {
	withImpl(t, func(t *testing.T, impl string) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, n := range dotLengths() {
			for _, a := range []float32{0.5, -0.0371} {
				x, y := randVec(r, n), randVec(r, n+5)
				want := append([]float32(nil), y...)
				scale := make([]float64, len(y))
				for i := range x {
					want[i] = float32(float64(want[i]) + float64(a)*float64(x[i]))
					scale[i] = math.Abs(float64(y[i])) + math.Abs(float64(a)*float64(x[i]))
				}
				Axpy32(a, x, y)
				for i := range y {
					if d := math.Abs(float64(y[i] - want[i])); d > 1.2e-7*scale[i] || i >= n && d != 0 {
						t.Fatalf("n=%d a=%v: y[%d] = %v, want %v", n, a, i, y[i], want[i])
					}
				}
			}
		}
	})
}

// CrossAxpy32 on both paths: ex += a·y and dy += a·x from the old values,
// with dy a separate slice and with dy = y (in place), and nothing written
// past len(x).
func TestCrossAxpy32(t *testing.T) {
	withImpl(t, func(t *testing.T, impl string) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, n := range dotLengths() {
			for _, inPlace := range []bool{false, true} {
				a := float32(-0.0213)
				x, y, ex := randVec(r, n), randVec(r, n+2), randVec(r, n+2)
				dy := y
				if !inPlace {
					dy = randVec(r, n+2)
				}
				wantEx, wantDy := append([]float32(nil), ex...), append([]float32(nil), dy...)
				scaleEx, scaleDy := make([]float64, len(ex)), make([]float64, len(ex))
				for i := range x {
					wantEx[i] = float32(float64(ex[i]) + float64(a)*float64(y[i]))
					wantDy[i] = float32(float64(dy[i]) + float64(a)*float64(x[i]))
					scaleEx[i] = math.Abs(float64(ex[i])) + math.Abs(float64(a)*float64(y[i]))
					scaleDy[i] = math.Abs(float64(dy[i])) + math.Abs(float64(a)*float64(x[i]))
				}
				CrossAxpy32(a, x, y, ex, dy)
				for i := range ex {
					for _, c := range []struct {
						name      string
						got, want float32
						scale     float64
					}{{"ex", ex[i], wantEx[i], scaleEx[i]}, {"dy", dy[i], wantDy[i], scaleDy[i]}} {
						if d := math.Abs(float64(c.got - c.want)); d > 1.2e-7*c.scale || i >= n && d != 0 {
							t.Fatalf("n=%d in place %v: %s[%d] = %v, want %v", n, inPlace, c.name, i, c.got, c.want)
						}
					}
				}
			}
		}
	})
}

// The assembly and the portable code agree closely (they differ only in
// summation order and fused multiply-adds).
func TestDotAsmMatchesPortable(t *testing.T) {
	if !useAsm {
		t.Skip("no assembly kernel on this machine or build")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range dotLengths() {
		x, y := randVec(r, n), randVec(r, n)
		a, g := Dot32(x, y), dotGo(x, y)
		if d := math.Abs(float64(a - g)); d > 1e-5*math.Sqrt(float64(n+1)) {
			t.Errorf("n=%d: asm %v, portable %v", n, a, g)
		}
	}
}

// Short second operands are refused with a panic naming the function.
func TestDotPanicsOnShortSlices(t *testing.T) {
	x := make([]float32, 4)
	for name, f := range map[string]func(){
		"Dot32":       func() { Dot32(x, x[:3]) },
		"Axpy32":      func() { Axpy32(1, x, x[:3]) },
		"CrossAxpy32": func() { CrossAxpy32(1, x, x, x[:3], x) },
	} {
		func() {
			defer func() {
				if p := recover(); p == nil || !containsStr(fmt.Sprint(p), name) {
					t.Errorf("%s: panic %v, want one naming %s", name, p, name)
				}
			}()
			f()
		}()
	}
}

func containsStr(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

var sinkF32 float32

// BenchmarkDot32 and the axpy benchmarks measure the word2vec inner loops
// at vector size 100 and 300 on both paths.
func BenchmarkDot32(b *testing.B) {
	benchDotImpls(b, func(x, y, e, d []float32) { sinkF32 += Dot32(x, y) })
}

func BenchmarkAxpy32(b *testing.B) {
	benchDotImpls(b, func(x, y, e, d []float32) { Axpy32(1e-3, x, y) })
}

func BenchmarkCrossAxpy32(b *testing.B) {
	benchDotImpls(b, func(x, y, e, d []float32) { CrossAxpy32(1e-3, x, y, e, y) })
}

func benchDotImpls(b *testing.B, f func(x, y, e, d []float32)) {
	for _, n := range []int{100, 300} {
		for _, impl := range []string{"asm", "go"} {
			b.Run(fmt.Sprintf("n=%d/%s", n, impl), func(b *testing.B) {
				saved := useAsm
				defer func() { useAsm = saved }()
				if impl == "asm" && !saved {
					b.Skip("no assembly kernel on this machine or build")
				}
				useAsm = impl == "asm"
				r := rand.New(rand.NewPCG(1, 1))
				x, y, e := randVec(r, n), randVec(r, n), randVec(r, n)
				for b.Loop() {
					f(x, y, e, y)
				}
			})
		}
	}
}

// PrefetchRows32 changes no value and skips rows outside the matrix
// (negative, past the end), on both paths.
func TestPrefetchRows32(t *testing.T) {
	withImpl(t, func(t *testing.T, impl string) {
		r := rand.New(rand.NewPCG(9, 9))
		for _, dim := range []int{1, 7, 16, 100, 300} {
			m := randVec(r, 10*dim)
			want := append([]float32(nil), m...)
			PrefetchRows32(m, dim, []int32{0, 9, 3, -1, 10, 1 << 30, 5})
			PrefetchRows32(m[:dim*3+1], dim, []int32{3})
			PrefetchRows32(m, 0, []int32{1})
			for i := range m {
				if m[i] != want[i] {
					t.Fatalf("dim %d: m[%d] changed", dim, i)
				}
			}
		}
	})
}

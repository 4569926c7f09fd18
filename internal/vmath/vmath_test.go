package vmath

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// Accuracy bounds in ulp against the correctly rounded float32 result.
const (
	expULP     = 2
	sigmoidULP = 3
	tanhULP    = 4
)

// minNormal is the smallest normal float32, 2⁻¹²⁶.
const minNormal = 0x1p-126

// fn describes one function under test.
type fn struct {
	name  string
	vec   func(dst, src []float32) // exported slice function
	elem  func(x float32) float32  // portable scalar version
	ref   func(x float64) float64  // float64 reference
	bound int64                    // ulp bound
}

var fns = []fn{
	{"Exp32", Exp32, exp32, math.Exp, expULP},
	{"Sigmoid32", Sigmoid32, sigmoid32, refSigmoid, sigmoidULP},
	{"Tanh32", Tanh32, tanh32, math.Tanh, tanhULP},
}

func refSigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// ordered maps float32 bits to integers that are ordered like the values,
// with adjacent floats adjacent (−0 and +0 both map to 0; ±Inf are one
// step beyond ±MaxFloat32).
func ordered(f float32) int64 {
	b := math.Float32bits(f)
	if b&signBit != 0 {
		return -int64(b &^ signBit)
	}
	return int64(b)
}

// ulpDist returns the distance in ulp between got and want; NaN matches
// only NaN (distance 0), and NaN against a number is a huge distance.
func ulpDist(got, want float32) int64 {
	gn, wn := got != got, want != want
	switch {
	case gn && wn:
		return 0
	case gn || wn:
		return math.MaxInt64
	}
	d := ordered(got) - ordered(want)
	if d < 0 {
		d = -d
	}
	return d
}

// withAsm runs f with useAsm set to asm (restoring it afterwards), as a
// subtest named after the path. The assembly subtest is skipped where no
// assembly kernel is available.
func withAsm(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := useAsm
	defer func() { useAsm = saved }()
	for _, asm := range []bool{true, false} {
		name := "go"
		if asm {
			name = "asm"
		}
		t.Run(name, func(t *testing.T) {
			if asm && !saved {
				t.Skip("no assembly kernel on this machine or build")
			}
			useAsm = asm
			f(t)
		})
	}
}

// scanPoints returns the accuracy scan inputs: an even scan of [−100, 100]
// (2²¹ points), a dense scan of [−3, 3] (2²² points), a geometric scan of
// small magnitudes, a stride through all 2³² bit patterns (every float32
// binade, ±Inf, NaN, subnormals), every float32 near the thresholds of the
// algorithms, and special values. In -short mode the scans are 8 times
// coarser.
var scanPoints = sync.OnceValue(func() []float32 {
	even, dense, stride := 1<<21, 1<<22, uint64(4099)
	if testing.Short() {
		even, dense, stride = even/8, dense/8, stride*8
	}
	var xs []float32
	for i := 0; i <= even; i++ {
		xs = append(xs, float32(-100+200*float64(i)/float64(even)))
	}
	for i := 0; i <= dense; i++ {
		xs = append(xs, float32(-3+6*float64(i)/float64(dense)))
	}
	for e := -149; e < 2; e++ {
		for j := range 64 {
			v := float32(math.Ldexp(1+float64(j)/64, e))
			xs = append(xs, v, -v)
		}
	}
	for b := uint64(0); b < 1<<32; b += stride {
		xs = append(xs, math.Float32frombits(uint32(b)))
	}
	// 4096 consecutive floats on each side of each threshold.
	for _, c := range []float64{
		88.72283905206835,   // ln MaxFloat32: exp overflows
		-87.33654475055311,  // ln 2⁻¹²⁶: exp becomes subnormal
		-103.27892990343184, // ln 2⁻¹⁴⁹: smallest subnormal
		-103.97207708399179, // ln 2⁻¹⁵⁰: exp rounds to zero
		89, -104,            // clamp bounds
		0.625, -0.625, 9.01, -9.01, // tanh branches
		0.5 * math.Ln2, -0.5 * math.Ln2, // reduction boundaries
		0,
	} {
		f := float32(c)
		up, down := f, f
		for range 4096 {
			xs = append(xs, up, down)
			up = math.Nextafter32(up, float32(math.Inf(1)))
			down = math.Nextafter32(down, float32(math.Inf(-1)))
		}
	}
	inf := float32(math.Inf(1))
	xs = append(xs, inf, -inf, float32(math.NaN()), math.MaxFloat32, -math.MaxFloat32,
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, float32(math.Copysign(0, -1)))
	return xs
})

// refs caches the float64 reference results for scanPoints, one slice per
// entry of fns.
var refs = sync.OnceValue(func() [][]float32 {
	xs := scanPoints()
	out := make([][]float32, len(fns))
	for k, f := range fns {
		out[k] = make([]float32, len(xs))
		for i, x := range xs {
			out[k][i] = float32(f.ref(float64(x)))
		}
	}
	return out
})

// worst records the largest error seen.
type worst struct {
	ulp    int64
	x      float32
	got    float32
	want   float32
	n      int // results seen
	bad    int // results beyond the bound
	firstX float32
}

func (w *worst) add(x, got, want float32, bound int64) {
	d := ulpDist(got, want)
	if w.n == 0 || d > w.ulp {
		w.ulp, w.x, w.got, w.want = d, x, got, want
	}
	w.n++
	if d > bound {
		if w.bad == 0 {
			w.firstX = x
		}
		w.bad++
	}
}

func (w *worst) String() string {
	if w.n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d ulp at x=%v (%#08x): got %v, want %v", w.ulp, w.x, math.Float32bits(w.x), w.got, w.want)
}

// TestAccuracy scans every function over scanPoints on both paths. The
// bound applies where the true result is normal (or zero, infinite or
// NaN); where it is subnormal the result must be within the bound or
// flushed to zero.
func TestAccuracy(t *testing.T) {
	xs := scanPoints()
	rs := refs()
	withAsm(t, func(t *testing.T) {
		for k, f := range fns {
			t.Run(f.name, func(t *testing.T) {
				got := make([]float32, len(xs))
				f.vec(got, xs)
				var normal, sub worst
				flushed := 0
				for i, x := range xs {
					want := rs[k][i]
					if w := math.Abs(float64(want)); w > 0 && w < minNormal {
						if got[i] == 0 {
							flushed++
							continue
						}
						sub.add(x, got[i], want, f.bound)
					} else {
						normal.add(x, got[i], want, f.bound)
					}
				}
				t.Logf("%d points: worst %v; subnormal results: %d flushed to 0, others worst %v", len(xs), &normal, flushed, &sub)
				if normal.bad > 0 {
					t.Errorf("%d results beyond %d ulp, first at x=%v; worst %v", normal.bad, f.bound, normal.firstX, &normal)
				}
				if sub.bad > 0 {
					t.Errorf("%d subnormal results beyond %d ulp, first at x=%v; worst %v", sub.bad, f.bound, sub.firstX, &sub)
				}
			})
		}
	})
}

// TestEdgeValues checks the exact values at the edges and special inputs.
func TestEdgeValues(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	cases := []struct {
		f       func(dst, src []float32)
		name    string
		x, want float32
	}{
		{Sigmoid32, "Sigmoid32", 200, 1},
		{Sigmoid32, "Sigmoid32", -200, 0},
		{Sigmoid32, "Sigmoid32", 0, 0.5},
		{Sigmoid32, "Sigmoid32", inf, 1},
		{Sigmoid32, "Sigmoid32", -inf, 0},
		{Sigmoid32, "Sigmoid32", 1e30, 1},
		{Sigmoid32, "Sigmoid32", -1e30, 0},
		{Sigmoid32, "Sigmoid32", math.MaxFloat32, 1},
		{Sigmoid32, "Sigmoid32", -math.MaxFloat32, 0},
		{Sigmoid32, "Sigmoid32", nan, nan},
		{Tanh32, "Tanh32", 20, 1},
		{Tanh32, "Tanh32", -20, -1},
		{Tanh32, "Tanh32", 9.02, 1},
		{Tanh32, "Tanh32", -9.02, -1},
		{Tanh32, "Tanh32", 0, 0},
		{Tanh32, "Tanh32", inf, 1},
		{Tanh32, "Tanh32", -inf, -1},
		{Tanh32, "Tanh32", math.MaxFloat32, 1},
		{Tanh32, "Tanh32", nan, nan},
		{Tanh32, "Tanh32", 1e-30, 1e-30},
		{Tanh32, "Tanh32", math.SmallestNonzeroFloat32, math.SmallestNonzeroFloat32},
		{Exp32, "Exp32", 100, inf},
		{Exp32, "Exp32", -100, 0},
		{Exp32, "Exp32", -87.4, 0},                // subnormal result flushed
		{Exp32, "Exp32", expMin, 0x1.00004cp-126}, // e^expMin (0x00800026), the smallest normal result
		{Exp32, "Exp32", -200, 0},
		{Exp32, "Exp32", 89, inf},
		{Exp32, "Exp32", 0, 1},
		{Exp32, "Exp32", inf, inf},
		{Exp32, "Exp32", -inf, 0},
		{Exp32, "Exp32", math.MaxFloat32, inf},
		{Exp32, "Exp32", -math.MaxFloat32, 0},
		{Exp32, "Exp32", nan, nan},
	}
	withAsm(t, func(t *testing.T) {
		for _, c := range cases {
			// Fill a whole vector block and a tail with x.
			src := make([]float32, 19)
			for i := range src {
				src[i] = c.x
			}
			dst := make([]float32, len(src))
			c.f(dst, src)
			for i, got := range dst {
				if got != c.want && !(got != got && c.want != c.want) {
					t.Errorf("%s(%v)[%d] = %v, want %v", c.name, c.x, i, got, c.want)
					break
				}
			}
		}
	})
}

// TestNegativeZero checks −0 inputs.
func TestNegativeZero(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	withAsm(t, func(t *testing.T) {
		src := make([]float32, 9)
		for i := range src {
			src[i] = negZero
		}
		dst := make([]float32, len(src))
		Tanh32(dst, src)
		for i, v := range dst {
			if v != 0 || !math.Signbit(float64(v)) {
				t.Errorf("Tanh32(-0)[%d] = %v, want -0", i, v)
			}
		}
		Sigmoid32(dst, src)
		if dst[0] != 0.5 || dst[8] != 0.5 {
			t.Errorf("Sigmoid32(-0) = %v, %v; want 0.5", dst[0], dst[8])
		}
		Exp32(dst, src)
		if dst[0] != 1 || dst[8] != 1 {
			t.Errorf("Exp32(-0) = %v, %v; want 1", dst[0], dst[8])
		}
	})
}

// blockValue returns f applied to x by a call of length 8, i.e. by the
// vector kernel when useAsm is set.
func blockValue(f func(dst, src []float32), x float32) float32 {
	var src, dst [8]float32
	for i := range src {
		src[i] = x
	}
	f(dst[:], src[:])
	return dst[0]
}

// TestLengths checks every length 0..40 and some longer odd ones: each
// element must equal the vector kernel's value for blocks of 8 and the
// portable value for the tail, elements past the end must be untouched,
// and dst == src must give the same results.
func TestLengths(t *testing.T) {
	lengths := []int{}
	for n := 0; n <= 40; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 47, 63, 65, 127, 255, 257, 1001, 4099)
	const sentinel = -12345
	withAsm(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(1, 2))
		for _, f := range fns {
			for _, n := range lengths {
				src := make([]float32, n+8)
				for i := range src {
					src[i] = float32(rnd.NormFloat64() * 6)
				}
				orig := append([]float32(nil), src...)
				dst := make([]float32, n+8)
				for i := range dst {
					dst[i] = sentinel
				}
				f.vec(dst[:n], src[:n])
				vecEnd := 0
				if useAsm {
					vecEnd = n &^ 7
				}
				for i := range n {
					want := f.elem(src[i])
					if i < vecEnd {
						want = blockValue(f.vec, src[i])
					}
					if dst[i] != want {
						t.Fatalf("%s n=%d: dst[%d] = %v, want %v (x=%v)", f.name, n, i, dst[i], want, src[i])
					}
					if d := ulpDist(dst[i], float32(f.ref(float64(src[i])))); d > f.bound {
						t.Fatalf("%s n=%d: dst[%d] = %v is %d ulp off (x=%v)", f.name, n, i, dst[i], d, src[i])
					}
				}
				for i := n; i < len(dst); i++ {
					if dst[i] != sentinel {
						t.Fatalf("%s n=%d: dst[%d] = %v written past the end", f.name, n, i, dst[i])
					}
				}
				for i := range src {
					if math.Float32bits(src[i]) != math.Float32bits(orig[i]) {
						t.Fatalf("%s n=%d: src[%d] modified", f.name, n, i)
					}
				}
				// In place: the same results.
				f.vec(src[:n], src[:n])
				for i := range n {
					if src[i] != dst[i] {
						t.Fatalf("%s n=%d in place: [%d] = %v, want %v", f.name, n, i, src[i], dst[i])
					}
				}
				// Sub-slices at odd offsets (unaligned vectors).
				if n > 1 {
					copy(src, orig)
					off := make([]float32, n-1)
					f.vec(off, src[1:n])
					for i := range off {
						if off[i] != f.elem(src[i+1]) && off[i] != blockValue(f.vec, src[i+1]) {
							t.Fatalf("%s n=%d offset 1: [%d] = %v", f.name, n, i, off[i])
						}
					}
				}
			}
		}
	})
}

// TestLengthMismatch checks that different lengths panic.
func TestLengthMismatch(t *testing.T) {
	for _, f := range fns {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with len(dst) != len(src) did not panic", f.name)
				}
			}()
			f.vec(make([]float32, 8), make([]float32, 9))
		}()
	}
}

// TestAsmMatchesGo compares the two paths element by element on random
// inputs: both must be within the bound, and within 2·bound of each other.
func TestAsmMatchesGo(t *testing.T) {
	if !useAsm {
		t.Skip("no assembly kernel on this machine or build")
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	xs := make([]float32, 1<<16)
	for i := range xs {
		switch i % 3 {
		case 0:
			xs[i] = float32(rnd.NormFloat64() * 4)
		case 1:
			xs[i] = float32(rnd.Float64()*240 - 120)
		default:
			xs[i] = math.Float32frombits(rnd.Uint32())
		}
	}
	for _, f := range fns {
		got := make([]float32, len(xs))
		f.vec(got, xs)
		for i, x := range xs {
			g := f.elem(x)
			if d := ulpDist(got[i], g); d > 2*f.bound {
				t.Errorf("%s(%v): asm %v, go %v (%d ulp apart)", f.name, x, got[i], g, d)
			}
		}
	}
}

// fuzzCheck applies f to x (broadcast over a vector block and a tail) on
// both paths and checks both against the float64 reference (subnormal
// results may be flushed to zero) and against each other.
func fuzzCheck(t *testing.T, f fn, x float32) {
	want := float32(f.ref(float64(x)))
	saved := useAsm
	defer func() { useAsm = saved }()
	src := make([]float32, 13) // one vector block and a tail of 5
	for i := range src {
		src[i] = x
	}
	var results []float32
	for _, asm := range []bool{saved, false} {
		useAsm = asm
		dst := make([]float32, len(src))
		f.vec(dst, src)
		results = append(results, dst...)
	}
	subnormal := want != 0 && math.Abs(float64(want)) < minNormal
	for i, got := range results {
		if subnormal && got == 0 {
			continue // flushed to zero, as documented
		}
		d := ulpDist(got, want)
		if d > f.bound {
			t.Fatalf("%s(%v) = %v (result %d), want %v: %d ulp", f.name, x, got, i, want, d)
		}
	}
	if d := ulpDist(results[0], results[len(results)-1]); d > 2*f.bound {
		t.Fatalf("%s(%v): asm %v and go %v are %d ulp apart", f.name, x, results[0], results[len(results)-1], d)
	}
}

func fuzzSeeds(f *testing.F) {
	for _, x := range []float32{0, 1, -1, 0.3, -0.625, 0.625, 9.01, 20, -87.4, 88.72, -103.5, 200, -200, 1e-20, -1e30,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())} {
		f.Add(x)
	}
}

func FuzzSigmoid32(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, x float32) { fuzzCheck(t, fns[1], x) })
}

func FuzzTanh32(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, x float32) { fuzzCheck(t, fns[2], x) })
}

func FuzzExp32(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, x float32) { fuzzCheck(t, fns[0], x) })
}

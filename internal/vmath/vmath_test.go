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

// withPaths runs f once for each path (avx512, avx2, generic) as a
// subtest named after it, restoring the path afterwards. Paths this CPU or
// build cannot run are skipped; EnvPath does not restrict them.
func withPaths(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := currentPath()
	defer setPath(saved)
	for p := pathAVX512; p >= pathGeneric; p-- {
		t.Run(pathNames[p], func(t *testing.T) {
			if !canRun[p] {
				t.Skipf("this CPU or build cannot run the %s path", pathNames[p])
			}
			setPath(p)
			f(t)
		})
	}
}

// onPath returns f() computed on path p (which must be runnable), restoring
// the path afterwards.
func onPath[T any](p kernelPath, f func() T) T {
	saved := currentPath()
	defer setPath(saved)
	setPath(p)
	return f()
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
	withPaths(t, func(t *testing.T) {
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
	withPaths(t, func(t *testing.T) {
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
	withPaths(t, func(t *testing.T) {
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
// vector kernel on both assembly paths.
func blockValue(f func(dst, src []float32), x float32) float32 {
	var src, dst [8]float32
	for i := range src {
		src[i] = x
	}
	f(dst[:], src[:])
	return dst[0]
}

// avx2Value returns the AVX2 vector kernel's value of f at x, where this
// CPU can run it.
func avx2Value(f func(dst, src []float32), x float32) float32 {
	return onPath(pathAVX2, func() float32 { return blockValue(f, x) })
}

// TestLengths checks every length 0..40 and some longer odd ones: on the
// AVX2 path each element must equal the vector kernel's value for blocks
// of 8 and the portable value for the tail; on the AVX-512 path every
// element, masked tail included, must have the AVX2 vector kernel's bits;
// elements past the end must be untouched, and dst == src must give the
// same results.
func TestLengths(t *testing.T) {
	lengths := []int{}
	for n := 0; n <= 40; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 47, 63, 65, 127, 255, 257, 1001, 4099)
	const sentinel = -12345
	withPaths(t, func(t *testing.T) {
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
				switch currentPath() {
				case pathAVX2:
					vecEnd = n &^ 7
				case pathAVX512:
					vecEnd = n
				}
				for i := range n {
					want := f.elem(src[i])
					if i < vecEnd {
						want = avx2Value(f.vec, src[i])
					}
					if math.Float32bits(dst[i]) != math.Float32bits(want) {
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

// TestAsmMatchesGo compares each assembly path with the portable code
// element by element on random inputs: both must be within the bound, and
// within 2·bound of each other.
func TestAsmMatchesGo(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	xs := make([]float32, 1<<16+13)
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
	withPaths(t, func(t *testing.T) {
		if !useAsm {
			t.Skip("the portable code itself")
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
	})
}

// TestAVX512MatchesAVX2 checks that the AVX-512 kernels give every element
// the AVX2 kernels' bits (NaN payloads included), on all of scanPoints and
// on random inputs at every alignment and tail length up to 40.
func TestAVX512MatchesAVX2(t *testing.T) {
	if !canRun[pathAVX512] {
		t.Skip("this CPU or build cannot run the AVX-512 kernels")
	}
	xs := scanPoints()
	xs = append(xs[:len(xs):len(xs)], make([]float32, -len(xs)&7)...) // whole AVX2 blocks
	rnd := rand.New(rand.NewPCG(5, 6))
	ys := make([]float32, 4096)
	for i := range ys {
		if i%2 == 0 {
			ys[i] = float32(rnd.NormFloat64() * 8)
		} else {
			ys[i] = math.Float32frombits(rnd.Uint32())
		}
	}
	for _, f := range fns {
		run := func(p kernelPath, src []float32) []float32 {
			return onPath(p, func() []float32 {
				dst := make([]float32, len(src))
				f.vec(dst, src)
				return dst
			})
		}
		want, got := run(pathAVX2, xs), run(pathAVX512, xs)
		diff := 0
		for i, x := range xs {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				if diff == 0 {
					t.Errorf("%s(%v = %#08x): avx512 %#08x, avx2 %#08x", f.name, x, math.Float32bits(x), math.Float32bits(got[i]), math.Float32bits(want[i]))
				}
				diff++
			}
		}
		if diff > 0 {
			t.Errorf("%s: %d of %d scan points differ", f.name, diff, len(xs))
		}
		want = run(pathAVX2, ys)
		for off := range 16 {
			for n := 0; n <= 40; n++ {
				got := run(pathAVX512, ys[off:off+n])
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[off+i]) {
						t.Fatalf("%s offset %d length %d: [%d] = %#08x, avx2 %#08x (x=%v)", f.name, off, n, i,
							math.Float32bits(got[i]), math.Float32bits(want[off+i]), ys[off+i])
					}
				}
			}
		}
	}
}

// fuzzCheck applies f to x (broadcast over two vector blocks and a tail)
// on every path this CPU can run and checks each result against the
// float64 reference (subnormal results may be flushed to zero), the
// assembly paths against the portable code, and the AVX-512 results (tail
// included) against the AVX2 vector kernel's bits.
func fuzzCheck(t *testing.T, f fn, x float32) {
	want := float32(f.ref(float64(x)))
	src := make([]float32, 21) // 16 + 5 (AVX-512), 2·8 + 5 (AVX2)
	for i := range src {
		src[i] = x
	}
	var results [len(pathNames)][]float32
	for p := range kernelPath(len(pathNames)) {
		if !canRun[p] {
			continue
		}
		results[p] = onPath(p, func() []float32 {
			dst := make([]float32, len(src))
			f.vec(dst, src)
			return dst
		})
	}
	subnormal := want != 0 && math.Abs(float64(want)) < minNormal
	gen := results[pathGeneric][0]
	for p, res := range results {
		for i, got := range res {
			if !(subnormal && got == 0) { // flushed to zero, as documented
				if d := ulpDist(got, want); d > f.bound {
					t.Fatalf("%s(%v) on %s = %v (result %d), want %v: %d ulp", f.name, x, pathNames[p], got, i, want, d)
				}
			}
			if d := ulpDist(got, gen); d > 2*f.bound {
				t.Fatalf("%s(%v): %s %v and generic %v are %d ulp apart", f.name, x, pathNames[p], got, gen, d)
			}
		}
	}
	if avx2, avx512 := results[pathAVX2], results[pathAVX512]; avx2 != nil && avx512 != nil {
		for i, got := range avx512 {
			if math.Float32bits(got) != math.Float32bits(avx2[0]) {
				t.Fatalf("%s(%v): avx512 [%d] = %#08x, avx2 vector kernel %#08x", f.name, x, i, math.Float32bits(got), math.Float32bits(avx2[0]))
			}
		}
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

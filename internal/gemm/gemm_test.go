package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// sentinel marks elements of C outside the m×n result, which must not be
// touched.
const sentinel = -12345.0

// shape is one test case.
type shape struct {
	transA, transB bool
	m, n, k        int
	// Extra row-stride padding of A, B and C.
	padA, padB, padC int
	alpha, beta      float64
}

func (s shape) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,pad=%d/%d/%d,alpha=%v,beta=%v",
		s.transA, s.transB, s.m, s.n, s.k, s.padA, s.padB, s.padC, s.alpha, s.beta)
}

// operands holds the inputs of one test case in float64; they are exactly
// representable in float32 as well.
type operands struct {
	a, b, c       []float64
	lda, ldb, ldc int
}

// stored returns the stored rows and columns of op(X) of shape r×c.
func stored(trans bool, r, c int) (rows, cols int) {
	if trans {
		return c, r
	}
	return r, c
}

// minLen returns the minimal slice length for a rows×cols matrix with
// stride ld.
func minLen(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

// newOperands creates random operands of minimal length for s. C's padding
// holds sentinel; with beta == 0 C's elements are NaN.
func newOperands(s shape, rnd *rand.Rand) operands {
	ar, ac := stored(s.transA, s.m, s.k)
	br, bc := stored(s.transB, s.k, s.n)
	o := operands{lda: max(1, ac) + s.padA, ldb: max(1, bc) + s.padB, ldc: max(1, s.n) + s.padC}
	// Values with few mantissa bits keep float32 products exact enough.
	val := func() float64 { return float64(rnd.IntN(2001)-1000) / 256 }
	o.a = make([]float64, minLen(ar, ac, o.lda))
	for i := range o.a {
		o.a[i] = val()
	}
	o.b = make([]float64, minLen(br, bc, o.ldb))
	for i := range o.b {
		o.b[i] = val()
	}
	o.c = make([]float64, minLen(s.m, s.n, o.ldc))
	for i := range o.c {
		switch {
		case i%o.ldc >= s.n:
			o.c[i] = sentinel
		case s.beta == 0:
			o.c[i] = math.NaN()
		default:
			o.c[i] = val()
		}
	}
	return o
}

// reference computes alpha*op(A)*op(B) + beta*C in float64 with a naive
// triple loop. It also returns, per element, the magnitude
// |alpha|*sum|a*b| + |beta*c| against which rounding errors are measured.
func reference(s shape, o operands) (want, mag []float64) {
	want = append([]float64(nil), o.c...)
	mag = make([]float64, len(o.c))
	for i := range s.m {
		for j := range s.n {
			var sum, abs float64
			for q := range s.k {
				var x, y float64
				if s.transA {
					x = o.a[q*o.lda+i]
				} else {
					x = o.a[i*o.lda+q]
				}
				if s.transB {
					y = o.b[j*o.ldb+q]
				} else {
					y = o.b[q*o.ldb+j]
				}
				sum += x * y
				abs += math.Abs(x * y)
			}
			idx := i*o.ldc + j
			v := s.alpha * sum
			mag[idx] = math.Abs(s.alpha) * abs
			if s.beta != 0 {
				v += s.beta * o.c[idx]
				mag[idx] += math.Abs(s.beta * o.c[idx])
			}
			want[idx] = v
		}
	}
	return want, mag
}

// check compares got with want element by element, each within
// tol*mag (plus a tiny absolute slack).
func check(t *testing.T, s shape, got, want, mag []float64, tol float64) {
	t.Helper()
	bad := 0
	for i := range want {
		g, w := got[i], want[i]
		if w == sentinel {
			if g != sentinel {
				t.Errorf("%v: padding element %d modified: %v", s, i, g)
				bad++
			}
		} else if math.IsNaN(g) || math.Abs(g-w) > tol*mag[i]+1e-30 {
			t.Errorf("%v: c[%d] (row %d, col %d) = %v, want %v", s, i, i/max(1, s.n+s.padC), i%(s.n+s.padC), g, w)
			bad++
		}
		if bad > 5 {
			t.FailNow()
		}
	}
}

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// runShape tests Sgemm and Dgemm on one shape.
func runShape(t *testing.T, s shape, rnd *rand.Rand) {
	t.Helper()
	o := newOperands(s, rnd)
	want, mag := reference(s, o)

	c64 := append([]float64(nil), o.c...)
	Dgemm(s.transA, s.transB, s.m, s.n, s.k, s.alpha, o.a, o.lda, o.b, o.ldb, s.beta, c64, o.ldc)
	check(t, s, c64, want, mag, 1e-12)

	c32 := to32(o.c)
	Sgemm(s.transA, s.transB, s.m, s.n, s.k, float32(s.alpha), to32(o.a), o.lda, to32(o.b), o.ldb, float32(s.beta), c32, o.ldc)
	check(t, s, to64(c32), want, mag, 1e-5*math.Sqrt(float64(s.k)+1))
}

// forKernels runs f once with each kernel path this CPU supports.
func forKernels(t *testing.T, f func(t *testing.T)) {
	saved := path
	defer func() { path = saved }()
	for p := range kernelPath(len(pathNames)) {
		if !hasPath(p) {
			continue
		}
		path = p
		t.Run(pathNames[p], f)
	}
}

var (
	scalars = []float64{0, 1, 0.5, -2}
	transes = [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}}
)

func TestGemmSmallShapes(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(1, 2))
		dims := []int{0, 1, 2, 3, 5, 6, 7, 8, 15, 16, 17}
		for _, tr := range transes {
			for _, m := range dims {
				for _, n := range dims {
					for _, k := range []int{0, 1, 7, 33} {
						s := shape{transA: tr[0], transB: tr[1], m: m, n: n, k: k,
							padA: rnd.IntN(3), padB: rnd.IntN(3), padC: rnd.IntN(3),
							alpha: scalars[rnd.IntN(4)], beta: scalars[rnd.IntN(4)]}
						runShape(t, s, rnd)
					}
				}
			}
		}
	})
}

func TestGemmRandomShapes(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(3, 4))
		iters := 300
		if raceEnabled {
			iters = 100
		}
		for range iters {
			tr := transes[rnd.IntN(4)]
			s := shape{transA: tr[0], transB: tr[1],
				m: 1 + rnd.IntN(70), n: 1 + rnd.IntN(70), k: 1 + rnd.IntN(70),
				padA: rnd.IntN(4), padB: rnd.IntN(4), padC: rnd.IntN(4),
				alpha: scalars[rnd.IntN(4)], beta: scalars[rnd.IntN(4)]}
			runShape(t, s, rnd)
		}
	})
}

// TestGemmAlphaBeta covers every alpha/beta combination on a shape that
// takes the packed path.
func TestGemmAlphaBeta(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(5, 6))
		for _, tr := range transes {
			for _, alpha := range scalars {
				for _, beta := range scalars {
					s := shape{transA: tr[0], transB: tr[1], m: 37, n: 41, k: 29,
						padA: 1, padB: 2, padC: 3, alpha: alpha, beta: beta}
					runShape(t, s, rnd)
				}
			}
		}
	})
}

// TestGemmLarge covers several cache blocks in every dimension and, with
// GOMAXPROCS > 1, the parallel path.
func TestGemmLarge(t *testing.T) {
	shapes := []shape{
		{m: 151, n: 45, k: 270, padA: 3, padB: 1, padC: 2, alpha: 0.5, beta: -2},
		{m: 32, n: 530, k: 40, alpha: 1, beta: 1},
		{m: 75, n: 67, k: 260, padC: 5, alpha: -2, beta: 0},
	}
	forKernels(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(7, 8))
		for _, tr := range transes {
			for _, s := range shapes {
				s.transA, s.transB = tr[0], tr[1]
				runShape(t, s, rnd)
			}
		}
	})
}

// TestGemmSmallBlocks shrinks the cache blocks of the portable kernel so
// that moderate shapes exercise every blocking loop, including nc.
func TestGemmSmallBlocks(t *testing.T) {
	saved, savedPath := goBlocking, path
	defer func() { goBlocking, path = saved, savedPath }()
	path = pathGeneric
	goBlocking = blocking{mr: 4, nr: 4, mc: 8, kc: 5, nc: 12}
	rnd := rand.New(rand.NewPCG(9, 10))
	for range 40 {
		tr := transes[rnd.IntN(4)]
		s := shape{transA: tr[0], transB: tr[1],
			m: 3 + rnd.IntN(60), n: 4 + rnd.IntN(60), k: 1 + rnd.IntN(40),
			padA: rnd.IntN(3), padB: rnd.IntN(3), padC: rnd.IntN(3),
			alpha: scalars[1+rnd.IntN(3)], beta: scalars[rnd.IntN(4)]}
		runShape(t, s, rnd)
	}
}

// TestGemmParallel forces the parallel path with several goroutines.
func TestGemmParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(6))
	forKernels(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(11, 12))
		for _, s := range []shape{
			{m: 200, n: 64, k: 200, alpha: 1, beta: 0.5},
			{m: 20, n: 700, k: 160, transB: true, alpha: 1, beta: 0},
			{m: 130, n: 130, k: 130, transA: true, padC: 1, alpha: -2, beta: 1},
		} {
			runShape(t, s, rnd)
		}
	})
}

func TestGridSplit(t *testing.T) {
	for threads := 1; threads <= 9; threads++ {
		for _, mn := range [][2]int{{32, 1024}, {1120, 128}, {7, 20}, {1000, 1000}} {
			pm, pn := grid(threads, mn[0], mn[1], 6, 16)
			if pm < 1 || pn < 1 || pm*pn > threads {
				t.Errorf("grid(%d, %v) = %d×%d", threads, mn, pm, pn)
			}
			for _, part := range [][3]int{{mn[0], 6, pm}, {mn[1], 16, pn}} {
				total, unit, parts := part[0], part[1], part[2]
				next := 0
				for i := range parts {
					lo, hi := split(total, unit, parts, i)
					if lo != next || hi < lo || (hi != total && hi%unit != 0) {
						t.Errorf("split(%d, %d, %d, %d) = [%d, %d)", total, unit, parts, i, lo, hi)
					}
					next = hi
				}
				if next != total {
					t.Errorf("split(%d, %d, %d, ·) ends at %d", total, unit, parts, next)
				}
			}
		}
	}
}

// TestNoAllocs checks that steady-state serial calls do not allocate and
// parallel ones allocate only a little (goroutine closures).
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	a := make([]float32, 256*256)
	b := make([]float32, 256*256)
	c := make([]float32, 256*256)
	for _, tc := range []struct {
		m, n, k, procs int
		limit          float64
	}{
		{1, 128, 32, 1, 0},   // small path
		{64, 64, 64, 1, 0},   // packed, serial
		{256, 256, 64, 1, 0}, // large but GOMAXPROCS=1
		{256, 256, 64, 2, 6}, // parallel
	} {
		prev := runtime.GOMAXPROCS(tc.procs)
		allocs := testing.AllocsPerRun(20, func() {
			Sgemm(false, true, tc.m, tc.n, tc.k, 1, a, tc.k, b, tc.k, 0, c, tc.n)
		})
		runtime.GOMAXPROCS(prev)
		if allocs > tc.limit {
			t.Errorf("Sgemm %d×%d×%d with GOMAXPROCS=%d: %v allocations per call, want <= %v",
				tc.m, tc.n, tc.k, tc.procs, allocs, tc.limit)
		}
	}
}

// FuzzSgemm checks Sgemm on fuzzed shapes with every kernel path this CPU
// supports.
func FuzzSgemm(f *testing.F) {
	f.Add(uint8(3), uint8(5), uint8(7), uint8(0), uint64(1))
	f.Add(uint8(17), uint8(33), uint8(9), uint8(0xff), uint64(2))
	f.Add(uint8(0), uint8(4), uint8(0), uint8(0x12), uint64(3))
	f.Fuzz(func(t *testing.T, m, n, k, flags uint8, seed uint64) {
		rnd := rand.New(rand.NewPCG(seed, 99))
		s := shape{
			transA: flags&1 != 0, transB: flags&2 != 0,
			m: int(m % 48), n: int(n % 48), k: int(k % 48),
			padA: int(flags>>2) & 1, padB: int(flags>>3) & 1, padC: int(flags>>4) & 1,
			alpha: scalars[int(flags>>5)&3], beta: scalars[int(seed>>8)&3],
		}
		o := newOperands(s, rnd)
		want, mag := reference(s, o)
		saved := path
		defer func() { path = saved }()
		for p := range kernelPath(len(pathNames)) {
			if !hasPath(p) {
				continue
			}
			path = p
			c32 := to32(o.c)
			Sgemm(s.transA, s.transB, s.m, s.n, s.k, float32(s.alpha), to32(o.a), o.lda, to32(o.b), o.ldb, float32(s.beta), c32, o.ldc)
			check(t, s, to64(c32), want, mag, 1e-5*math.Sqrt(float64(s.k)+1))
		}
	})
}

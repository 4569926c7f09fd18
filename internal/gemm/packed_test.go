package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// sameBits32 reports the first element where got and want differ in their
// bits, or -1.
func sameBits32(got, want []float32) int {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return i
		}
	}
	return -1
}

func sameBits64(got, want []float64) int {
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			return i
		}
	}
	return -1
}

// runPacked checks that SgemmPacked and DgemmPacked give bit-identical
// results to Sgemm and Dgemm on s, packing into p32 and p64 (which may be
// nil) and returning them for reuse. It also checks the result against the
// float64 reference, so that Sgemm and SgemmPacked cannot agree on a wrong
// answer.
func runPacked(t *testing.T, s shape, rnd *rand.Rand, p32 *PackedB32, p64 *PackedB64) (*PackedB32, *PackedB64) {
	t.Helper()
	o := newOperands(s, rnd)
	want, mag := reference(s, o)

	c64 := append([]float64(nil), o.c...)
	Dgemm(s.transA, s.transB, s.m, s.n, s.k, s.alpha, o.a, o.lda, o.b, o.ldb, s.beta, c64, o.ldc)
	p64 = PackB64(p64, s.transB, s.k, s.n, o.b, o.ldb)
	if k, n := p64.Dims(); k != s.k || n != s.n {
		t.Fatalf("%v: PackedB64.Dims() = %d, %d", s, k, n)
	}
	d64 := append([]float64(nil), o.c...)
	DgemmPacked(s.transA, s.m, s.alpha, o.a, o.lda, p64, s.beta, d64, o.ldc)
	if i := sameBits64(d64, c64); i >= 0 {
		t.Fatalf("%v: DgemmPacked c[%d] = %v, Dgemm gives %v", s, i, d64[i], c64[i])
	}
	check(t, s, d64, want, mag, 1e-12)

	a32, b32 := to32(o.a), to32(o.b)
	c32 := to32(o.c)
	Sgemm(s.transA, s.transB, s.m, s.n, s.k, float32(s.alpha), a32, o.lda, b32, o.ldb, float32(s.beta), c32, o.ldc)
	p32 = PackB32(p32, s.transB, s.k, s.n, b32, o.ldb)
	if k, n := p32.Dims(); k != s.k || n != s.n {
		t.Fatalf("%v: PackedB32.Dims() = %d, %d", s, k, n)
	}
	clear(b32) // the packed copy must not depend on b any more
	d32 := to32(o.c)
	SgemmPacked(s.transA, s.m, float32(s.alpha), a32, o.lda, p32, float32(s.beta), d32, o.ldc)
	if i := sameBits32(d32, c32); i >= 0 {
		t.Fatalf("%v: SgemmPacked c[%d] = %v, Sgemm gives %v", s, i, d32[i], c32[i])
	}
	check(t, s, to64(d32), want, mag, 1e-5*math.Sqrt(float64(s.k)+1))
	return p32, p64
}

func TestPackedSmallShapes(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(21, 22))
		dims := []int{0, 1, 2, 3, 5, 6, 7, 8, 15, 16, 17, 33}
		var p32 *PackedB32
		var p64 *PackedB64
		for _, tr := range transes {
			for _, m := range dims {
				for _, n := range dims {
					for _, k := range []int{0, 1, 7, 33} {
						s := shape{transA: tr[0], transB: tr[1], m: m, n: n, k: k,
							padA: rnd.IntN(3), padB: rnd.IntN(3), padC: rnd.IntN(3),
							alpha: scalars[rnd.IntN(4)], beta: scalars[rnd.IntN(4)]}
						p32, p64 = runPacked(t, s, rnd, p32, p64)
					}
				}
			}
		}
	})
}

func TestPackedRandomShapes(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(23, 24))
		iters := 300
		if raceEnabled {
			iters = 100
		}
		for i := range iters {
			tr := transes[rnd.IntN(4)]
			s := shape{transA: tr[0], transB: tr[1],
				m: 1 + rnd.IntN(70), n: 1 + rnd.IntN(70), k: 1 + rnd.IntN(70),
				padA: rnd.IntN(4), padB: rnd.IntN(4), padC: rnd.IntN(4),
				alpha: scalars[rnd.IntN(4)], beta: scalars[rnd.IntN(4)]}
			if i%5 == 0 {
				s.m = 1 + rnd.IntN(5) // m below the 6 rows of the kernel
			}
			// Fresh and reused PackedBs alike.
			runPacked(t, s, rnd, nil, nil)
		}
	})
}

// TestPackedAlphaBeta covers every alpha/beta combination and both transA
// values on shapes that take the packed path, including m < 6 rows.
func TestPackedAlphaBeta(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(25, 26))
		for _, tr := range transes {
			for _, alpha := range scalars {
				for _, beta := range scalars {
					for _, m := range []int{1, 2, 3, 5, 37} {
						s := shape{transA: tr[0], transB: tr[1], m: m, n: 41, k: 29,
							padA: 1, padB: 2, padC: 3, alpha: alpha, beta: beta}
						runPacked(t, s, rnd, nil, nil)
					}
				}
			}
		}
	})
}

// TestPackedLarge covers several kc and nc blocks of the default blocking
// and, with GOMAXPROCS > 1, the parallel path.
func TestPackedLarge(t *testing.T) {
	shapes := []shape{
		{m: 151, n: 45, k: 270, padA: 3, padB: 1, padC: 2, alpha: 0.5, beta: -2},
		{m: 32, n: 530, k: 40, alpha: 1, beta: 1},
		{m: 75, n: 67, k: 530, padC: 5, alpha: -2, beta: 0},
		{m: 7, n: 4200, k: 260, padB: 1, alpha: 1, beta: 0.5}, // 2 nc blocks (float32), 3 (float64)
		{m: 2, n: 300, k: 600, padA: 2, alpha: 0.5, beta: 1},  // small path, several chunks
	}
	if raceEnabled {
		shapes[3].n = 2100
	}
	forKernels(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(27, 28))
		for _, tr := range transes {
			for _, s := range shapes {
				s.transA, s.transB = tr[0], tr[1]
				runPacked(t, s, rnd, nil, nil)
			}
		}
	})
}

// TestPackedSmallBlocks shrinks the cache blocks of the portable kernel so
// that moderate shapes exercise every blocking loop, including nc.
func TestPackedSmallBlocks(t *testing.T) {
	saved, savedPath := goBlocking, path
	defer func() { goBlocking, path = saved, savedPath }()
	path = pathGeneric
	goBlocking = blocking{mr: 4, nr: 4, mc: 8, kc: 5, nc: 12}
	rnd := rand.New(rand.NewPCG(29, 30))
	var p32 *PackedB32
	var p64 *PackedB64
	for range 60 {
		tr := transes[rnd.IntN(4)]
		s := shape{transA: tr[0], transB: tr[1],
			m: 1 + rnd.IntN(60), n: 1 + rnd.IntN(60), k: 1 + rnd.IntN(40),
			padA: rnd.IntN(3), padB: rnd.IntN(3), padC: rnd.IntN(3),
			alpha: scalars[1+rnd.IntN(3)], beta: scalars[rnd.IntN(4)]}
		p32, p64 = runPacked(t, s, rnd, p32, p64)
	}
}

// TestPackedParallel forces the parallel path with several goroutines
// sharing the packed panels.
func TestPackedParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(6))
	forKernels(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(31, 32))
		for _, s := range []shape{
			{m: 200, n: 64, k: 200, alpha: 1, beta: 0.5},
			{m: 20, n: 700, k: 160, transB: true, alpha: 1, beta: 0},
			{m: 130, n: 130, k: 130, transA: true, padC: 1, alpha: -2, beta: 1},
			{m: 32, n: 1024, k: 64, transB: true, alpha: 1, beta: 1},
		} {
			runPacked(t, s, rnd, nil, nil)
		}
	})
}

// TestPackedKernelSwitch checks that a PackedB keeps using the kernel it
// was packed for when the kernel path changes afterwards.
func TestPackedKernelSwitch(t *testing.T) {
	saved := path
	defer func() { path = saved }()
	rnd := rand.New(rand.NewPCG(33, 34))
	s := shape{transB: true, m: 20, n: 50, k: 70, alpha: 1, beta: 0}
	o := newOperands(s, rnd)
	a, b := to32(o.a), to32(o.b)
	want := to32(o.c)
	Sgemm(false, true, s.m, s.n, s.k, 1, a, o.lda, b, o.ldb, 0, want, o.ldc)
	pb := PackB32(nil, true, s.k, s.n, b, o.ldb)
	path = pathGeneric
	if saved == pathGeneric {
		path = bestPath()
	}
	got := to32(o.c)
	SgemmPacked(false, s.m, 1, a, o.lda, pb, 0, got, o.ldc)
	if i := sameBits32(got, want); i >= 0 {
		t.Fatalf("c[%d] = %v, want %v", i, got[i], want[i])
	}
}

// TestPackedReuse packs the recurrent weights of an LSTM step once and
// uses them for 35 products with different A and C, as the fused kernel
// does in the forward (gates += h·W_hhᵀ) and backward (dh += dG·W_hh)
// passes; each must equal Sgemm's. A few steps use other m, transA, alpha
// and beta.
func TestPackedReuse(t *testing.T) {
	batch, hidden, steps := 32, 256, 35
	if raceEnabled {
		batch, hidden, steps = 8, 32, 12
	}
	forKernels(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(35, 36))
		val := func() float32 { return float32(rnd.IntN(2001)-1000) / 256 }
		fill := func(x []float32) []float32 {
			for i := range x {
				x[i] = val()
			}
			return x
		}
		w := fill(make([]float32, 4*hidden*hidden)) // W_hh, 4H×H
		for _, dir := range []struct {
			name   string
			transB bool
			k, n   int
		}{
			{"forward", true, hidden, 4 * hidden},
			{"backward", false, 4 * hidden, hidden},
		} {
			ldb := dir.k
			if !dir.transB {
				ldb = dir.n
			}
			pb := PackB32(nil, dir.transB, dir.k, dir.n, w, ldb)
			w64 := to64(w)
			pb64 := PackB64(nil, dir.transB, dir.k, dir.n, w64, ldb)
			for step := range steps {
				m, transA, alpha, beta := batch, false, float32(1), float32(1)
				switch step % 7 {
				case 3:
					m = 1 + step%5
				case 5:
					transA, alpha, beta = true, -2, 0.5
				case 6:
					alpha, beta = 0.5, 0
				}
				lda := dir.k
				if transA {
					lda = m
				}
				a := fill(make([]float32, m*dir.k))
				c0 := fill(make([]float32, m*dir.n))
				if beta == 0 {
					for i := range c0 {
						c0[i] = float32(math.NaN())
					}
				}
				want := append([]float32(nil), c0...)
				Sgemm(transA, dir.transB, m, dir.n, dir.k, alpha, a, lda, w, ldb, beta, want, dir.n)
				got := append([]float32(nil), c0...)
				SgemmPacked(transA, m, alpha, a, lda, pb, beta, got, dir.n)
				if i := sameBits32(got, want); i >= 0 {
					t.Fatalf("%s step %d (m=%d): c[%d] = %v, want %v", dir.name, step, m, i, got[i], want[i])
				}
				a64, c64 := to64(a), to64(c0)
				want64 := append([]float64(nil), c64...)
				Dgemm(transA, dir.transB, m, dir.n, dir.k, float64(alpha), a64, lda, w64, ldb, float64(beta), want64, dir.n)
				DgemmPacked(transA, m, float64(alpha), a64, lda, pb64, float64(beta), c64, dir.n)
				if i := sameBits64(c64, want64); i >= 0 {
					t.Fatalf("%s step %d (m=%d): float64 c[%d] = %v, want %v", dir.name, step, m, i, c64[i], want64[i])
				}
			}
		}
	})
}

// TestPackedConcurrent runs SgemmPacked from several goroutines on one
// PackedB32 (for the race detector).
func TestPackedConcurrent(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	rnd := rand.New(rand.NewPCG(37, 38))
	s := shape{transB: true, m: 40, n: 300, k: 90, alpha: 1, beta: 0}
	o := newOperands(s, rnd)
	a, b := to32(o.a), to32(o.b)
	want := to32(o.c)
	Sgemm(false, true, s.m, s.n, s.k, 1, a, o.lda, b, o.ldb, 0, want, o.ldc)
	pb := PackB32(nil, true, s.k, s.n, b, o.ldb)
	errs := make(chan string, 4)
	for range 4 {
		go func() {
			got := to32(o.c)
			SgemmPacked(false, s.m, 1, a, o.lda, pb, 0, got, o.ldc)
			if i := sameBits32(got, want); i >= 0 {
				errs <- fmt.Sprintf("c[%d] = %v, want %v", i, got[i], want[i])
				return
			}
			errs <- ""
		}()
	}
	for range 4 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}

// TestPackedNoAllocs checks that steady-state serial SgemmPacked and
// DgemmPacked calls, and repacking into a large enough PackedB, do not
// allocate.
func TestPackedNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	a := make([]float32, 1024*256)
	b := make([]float32, 1024*256)
	c := make([]float32, 1024*256)
	a64, b64, c64 := to64(a), to64(b), to64(c)
	for _, tc := range []struct{ m, n, k int }{
		{1, 128, 32},    // small path
		{2, 1024, 256},  // small path, several chunks
		{64, 64, 64},    // packed
		{32, 1024, 256}, // the LSTM step, serial
	} {
		pb := PackB32(nil, true, tc.k, tc.n, b, tc.k)
		pb64 := PackB64(nil, true, tc.k, tc.n, b64, tc.k)
		if allocs := testing.AllocsPerRun(10, func() {
			SgemmPacked(false, tc.m, 1, a, tc.k, pb, 0, c, tc.n)
		}); allocs > 0 {
			t.Errorf("SgemmPacked %d×%d×%d: %v allocations per call", tc.m, tc.n, tc.k, allocs)
		}
		if allocs := testing.AllocsPerRun(10, func() {
			DgemmPacked(false, tc.m, 1, a64, tc.k, pb64, 0, c64, tc.n)
		}); allocs > 0 {
			t.Errorf("DgemmPacked %d×%d×%d: %v allocations per call", tc.m, tc.n, tc.k, allocs)
		}
		if allocs := testing.AllocsPerRun(10, func() {
			PackB32(pb, false, tc.k, tc.n, b, tc.n)
		}); allocs > 0 {
			t.Errorf("PackB32 %d×%d: %v allocations per call", tc.k, tc.n, allocs)
		}
	}
}

// BenchmarkPacked compares the recurrent products of one LSTM sequence (T =
// 35 steps) done with Sgemm against one PackB32 followed by 35 SgemmPacked
// calls. The shapes are the forward gates += h·W_hhᵀ (m×4H×H, B
// transposed) and the backward dh += dG·W_hh (m×H×4H) for batch m and
// hidden size H.
func BenchmarkPacked(b *testing.B) {
	const steps = 35
	for _, m := range []int{32, 64} {
		for _, h := range []int{256, 512} {
			for _, dir := range []struct {
				name   string
				transB bool
				k, n   int
			}{
				{"fwd", true, h, 4 * h},
				{"bwd", false, 4 * h, h},
			} {
				s := benchShape{transB: dir.transB, m: m, n: dir.n, k: dir.k}
				x, lda, w, ldb, c, ldc := benchOperands[float32](s)
				name := fmt.Sprintf("m=%d/H=%d/%s", m, h, dir.name)
				b.Run(name+"/Sgemm", func(b *testing.B) {
					for b.Loop() {
						for range steps {
							Sgemm(false, s.transB, m, s.n, s.k, 1, x, lda, w, ldb, 1, c, ldc)
						}
					}
				})
				b.Run(name+"/Packed", func(b *testing.B) {
					var pb *PackedB32
					for b.Loop() {
						pb = PackB32(pb, s.transB, s.k, s.n, w, ldb)
						for range steps {
							SgemmPacked(false, m, 1, x, lda, pb, 1, c, ldc)
						}
					}
				})
			}
		}
	}
}

// TestPackedCols checks that SgemmPackedCols and DgemmPackedCols, run over
// column ranges that cover C, give SgemmPacked's and DgemmPacked's result
// bit for bit, that a range leaves the other columns alone, and that they
// refuse what they cannot do.
func TestPackedCols(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		rnd := rand.New(rand.NewPCG(31, 32))
		shapes := []shape{{m: 32, n: 1024, k: 256, alpha: 1, beta: 1}, {m: 64, n: 1536, k: 512, alpha: 1, beta: 0}}
		for range 40 {
			shapes = append(shapes, shape{transA: rnd.IntN(2) == 0, transB: rnd.IntN(2) == 0,
				m: 3 + rnd.IntN(70), n: 16 + rnd.IntN(300), k: 24 + rnd.IntN(300),
				padA: rnd.IntN(4), padB: rnd.IntN(4), padC: rnd.IntN(4),
				alpha: scalars[rnd.IntN(4)], beta: scalars[rnd.IntN(4)]})
		}
		for _, s := range shapes {
			if s.m*s.n*s.k < smallWork {
				continue // SgemmPackedCols refuses these (tested below)
			}
			o := newOperands(s, rnd)
			if s.alpha == 0 {
				s.alpha = 1
			}
			p64 := PackB64(nil, s.transB, s.k, s.n, o.b, o.ldb)
			want64 := append([]float64(nil), o.c...)
			DgemmPacked(s.transA, s.m, s.alpha, o.a, o.lda, p64, s.beta, want64, o.ldc)
			a32, b32 := to32(o.a), to32(o.b)
			p32 := PackB32(nil, s.transB, s.k, s.n, b32, o.ldb)
			want32 := to32(o.c)
			SgemmPacked(s.transA, s.m, float32(s.alpha), a32, o.lda, p32, float32(s.beta), want32, o.ldc)

			// Random cuts at multiples of the alignment; the ranges between
			// them, split into two calls (one with every other range), cover C.
			cover := func(align int) (odd, even [][2]int) {
				cuts := []int{0}
				for j := align * (1 + rnd.IntN(3)); j < s.n; j += align * (1 + rnd.IntN(4)) {
					cuts = append(cuts, j)
				}
				cuts = append(cuts, s.n)
				for i := 1; i < len(cuts); i++ {
					r := [2]int{cuts[i-1], cuts[i]}
					if i%2 == 1 {
						odd = append(odd, r)
					} else {
						even = append(even, r)
					}
				}
				return odd, even
			}
			got64 := append([]float64(nil), o.c...)
			odd, even := cover(p64.ColAlign())
			for _, rs := range [][][2]int{odd, even} {
				if len(rs) > 0 && !DgemmPackedCols(s.transA, s.m, s.alpha, o.a, o.lda, p64, rs, s.beta, got64, o.ldc) {
					t.Fatalf("%v: DgemmPackedCols refused %v", s, rs)
				}
			}
			if i := sameBits64(got64, want64); i >= 0 {
				t.Fatalf("%v ranges %v %v: DgemmPackedCols c[%d] = %v, DgemmPacked gives %v", s, odd, even, i, got64[i], want64[i])
			}
			got32 := to32(o.c)
			odd, even = cover(p32.ColAlign())
			for _, rs := range [][][2]int{odd, even} {
				if len(rs) > 0 && !SgemmPackedCols(s.transA, s.m, float32(s.alpha), a32, o.lda, p32, rs, float32(s.beta), got32, o.ldc) {
					t.Fatalf("%v: SgemmPackedCols refused %v", s, rs)
				}
			}
			if i := sameBits32(got32, want32); i >= 0 {
				t.Fatalf("%v ranges %v %v: SgemmPackedCols c[%d] = %v, SgemmPacked gives %v", s, odd, even, i, got32[i], want32[i])
			}

			// One range: the columns outside it stay as they were.
			nr := p32.ColAlign()
			j0 := nr * rnd.IntN((s.n-1)/nr+1)
			j1 := j0 + 1 + rnd.IntN(s.n-j0)
			one := to32(o.c)
			SgemmPackedCols(s.transA, s.m, float32(s.alpha), a32, o.lda, p32, [][2]int{{j0, j1}}, float32(s.beta), one, o.ldc)
			orig := to32(o.c)
			for i := range s.m {
				for j := range s.n {
					x := i*o.ldc + j
					w := orig[x]
					if j >= j0 && j < j1 {
						w = want32[x]
					}
					if math.Float32bits(one[x]) != math.Float32bits(w) {
						t.Fatalf("%v range [%d, %d): c[%d][%d] = %v, want %v", s, j0, j1, i, j, one[x], w)
					}
				}
			}
			// Refusals: a misaligned start, an empty or out-of-range range.
			for _, r := range [][2]int{{1, s.n}, {0, 0}, {0, s.n + 1}, {-nr, s.n}} {
				if SgemmPackedCols(s.transA, s.m, 1, a32, o.lda, p32, [][2]int{{0, nr}, r}, 0, one, o.ldc) {
					t.Fatalf("%v: SgemmPackedCols accepted [%d, %d)", s, r[0], r[1])
				}
			}
		}
		// A small product is left to SgemmPacked.
		pb := PackB32(nil, false, 4, 16, make([]float32, 64), 16)
		if SgemmPackedCols(false, 3, 1, make([]float32, 12), 4, pb, [][2]int{{0, 16}}, 0, make([]float32, 48), 16) {
			t.Fatal("SgemmPackedCols accepted a product below the small-product threshold")
		}
	})
}

package gemm

import (
	"runtime"
	"sync"
)

// float is the set of element types the generic driver is instantiated for.
type float interface {
	float32 | float64
}

// kernelFunc is a micro-kernel. It computes
//
//	C[0:mr, 0:nr] += alpha * Ap * Bp
//
// or, with zero set, C[0:mr, 0:nr] = 0 + alpha * Ap * Bp without reading C
// (the first k block of a product with beta = 0, so C need not be cleared
// first; the bits are those of the first form over a cleared C),
// where Ap is a packed mr×k sliver of A (column p at a[p*mr:(p+1)*mr]) and
// Bp a packed k×nr sliver of B (row p at b[p*nr:(p+1)*nr]); C has row stride
// ldc. k >= 1 and the whole mr×nr tile of c must be addressable.
type kernelFunc[T float] func(k int, a, b, c []T, ldc int, alpha T, zero bool)

// blocking holds the register-block (mr×nr) and cache-block (mc, kc, nc)
// sizes of a kernel. mc is a multiple of mr and nc a multiple of nr.
type blocking struct {
	mr, nr     int
	mc, kc, nc int
}

// impl bundles a micro-kernel with its blocking parameters.
type impl[T float] struct {
	blocking
	kernel kernelFunc[T]
	// strided and rows are packStrided and packRows or accelerated
	// equivalents.
	strided, rows packFunc[T]
	// dotRows and axpy are the vector routines of the small path.
	dotRows func(alpha T, x, b []T, ldb int, y []T)
	axpy    func(s T, x, y []T)
}

// packFunc is the signature of packStrided and packRows.
type packFunc[T float] func(d, src []T, ld, start, kb, cnt, w int)

// Tuning thresholds, counted in multiply-adds (m*n*k).
const (
	// Products below smallWork use the simple loops without packing.
	smallWork = 24 * 24 * 24
	// Each goroutine gets at least this much work; products below twice
	// this run on the calling goroutine only.
	workPerThread = 1 << 20
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major float32
// matrices, where op(X) is X, or Xᵀ when the corresponding trans flag is
// set. op(A) is m×k, op(B) is k×n and C is m×n; lda, ldb and ldc are the
// row strides of A, B and C as stored.
//
// As in BLAS, when beta is zero C is overwritten without being read (so NaN
// or Inf values in C are ignored), and when k is zero or alpha is zero C is
// only scaled by beta. The arguments are not validated; see the package
// documentation for the preconditions.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	p := problem[float32]{transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc}
	run(&p, sgemmImpl(), &pool32, nil)
}

// Dgemm computes C = alpha*op(A)*op(B) + beta*C for row-major float64
// matrices, where op(X) is X, or Xᵀ when the corresponding trans flag is
// set. op(A) is m×k, op(B) is k×n and C is m×n; lda, ldb and ldc are the
// row strides of A, B and C as stored.
//
// As in BLAS, when beta is zero C is overwritten without being read (so NaN
// or Inf values in C are ignored), and when k is zero or alpha is zero C is
// only scaled by beta. The arguments are not validated; see the package
// documentation for the preconditions.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	p := problem[float64]{transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc}
	run(&p, dgemmImpl(), &pool64, nil)
}

// problem describes one GEMM call.
type problem[T float] struct {
	transA, transB bool
	m, n, k        int
	alpha          T
	a              []T
	lda            int
	b              []T
	ldb            int
	beta           T
	c              []T
	ldc            int
}

// workspace holds one goroutine's packing buffers.
type workspace[T float] struct {
	a, b, tile []T
}

var pool32, pool64 sync.Pool

// getWorkspace returns a workspace from pool, allocating one if needed.
func getWorkspace[T float](pool *sync.Pool) *workspace[T] {
	if ws, ok := pool.Get().(*workspace[T]); ok {
		return ws
	}
	return new(workspace[T])
}

// grow returns buf resliced to length n, reallocating only if its capacity
// is too small.
func grow[T float](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// run dispatches a GEMM call to the trivial, small, serial or parallel path.
// If pb is not nil, op(B) is taken from its packed panels (p.b is unused)
// and im must be pb.im.
func run[T float](p *problem[T], im impl[T], pool *sync.Pool, pb *packedB[T]) {
	m, n, k := p.m, p.n, p.k
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || p.alpha == 0 {
		scaleC(p.beta, p.c, p.ldc, 0, m, 0, n)
		return
	}
	work := m * n * k
	if work < smallWork || m < 3 || n < 4 {
		if pb != nil {
			smallPacked(p, im, pb, pool)
			return
		}
		smallGemm(p, im)
		return
	}
	threads := min(runtime.GOMAXPROCS(0), work/workPerThread)
	pm, pn := 1, 1
	if threads > 1 {
		pm, pn = grid(threads, m, n, im.mr, im.nr)
	}
	if pm*pn == 1 {
		ws := getWorkspace[T](pool)
		blocked(p, im, ws, pb, 0, m, 0, n)
		pool.Put(ws)
		return
	}
	// The goroutines share a heap copy of the problem, so that the serial
	// paths above do not allocate.
	shared := new(problem[T])
	*shared = *p
	var wg sync.WaitGroup
	for bi := range pm {
		i0, i1 := split(m, im.mr, pm, bi)
		for bj := range pn {
			j0, j1 := split(n, im.nr, pn, bj)
			if i0 == i1 || j0 == j1 {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				ws := getWorkspace[T](pool)
				blocked(shared, im, ws, pb, i0, i1, j0, j1)
				pool.Put(ws)
			}()
		}
	}
	wg.Wait()
}

// grid chooses how to split the m×n output among at most threads
// goroutines as a pm×pn grid. Every goroutine packs its own rows of A and
// columns of B (or, with a pre-packed B, reads its columns of the panels),
// so the total packing traffic is proportional to m*pn + n*pm; grid picks
// the factorisation minimising it, keeping at least one register block per
// part.
func grid(threads, m, n, mr, nr int) (pm, pn int) {
	pm, pn = 1, 1
	best := -1
	for t := threads; t >= 2 && best < 0; t-- {
		for f := 1; f <= t; f++ {
			if t%f != 0 {
				continue
			}
			g := t / f
			if m < f*mr || n < g*nr {
				continue
			}
			if cost := m*g + n*f; best < 0 || cost < best {
				best, pm, pn = cost, f, g
			}
		}
	}
	return pm, pn
}

// split returns the half-open range of part i when [0, total) is divided
// into parts pieces whose boundaries are multiples of unit.
func split(total, unit, parts, i int) (lo, hi int) {
	units := (total + unit - 1) / unit
	lo = min(units*i/parts*unit, total)
	hi = min(units*(i+1)/parts*unit, total)
	return lo, hi
}

// scaleC sets C[i0:i1, j0:j1] *= beta, writing zeros when beta is zero.
func scaleC[T float](beta T, c []T, ldc, i0, i1, j0, j1 int) {
	if beta == 1 {
		return
	}
	for i := i0; i < i1; i++ {
		row := c[i*ldc+j0 : i*ldc+j1]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// blocked computes the block C[i0:i1, j0:j1] with packing and the
// micro-kernel, in the loop order of the Goto/BLIS algorithm. If pb is not
// nil, the panels of B are taken from it instead of being packed.
//
// The result does not depend on i0, i1, j0, j1 beyond the block they
// select (as long as i0 and j0 are multiples of mr and nr, as split makes
// them): register tiles always start at multiples of mr and nr, only those
// at the bottom and right edges of C are partial, and the k dimension is
// always cut at multiples of kc. So every split computes bit-identical C.
func blocked[T float](p *problem[T], im impl[T], ws *workspace[T], pb *packedB[T], i0, i1, j0, j1 int) {
	if p.beta != 0 { // beta = 0: the first k block's kernels write C
		scaleC(p.beta, p.c, p.ldc, i0, i1, j0, j1)
	}
	mr, nr := im.mr, im.nr
	kc := min(im.kc, p.k)
	mc := min(im.mc, roundUp(i1-i0, mr))
	nc := min(im.nc, roundUp(j1-j0, nr))
	ws.a = grow(ws.a, mc*kc)
	if pb == nil {
		ws.b = grow(ws.b, kc*nc)
	}
	ws.tile = grow(ws.tile, mr*nr)
	for jc := j0; jc < j1; jc += nc {
		nb := min(nc, j1-jc)
		for pc := 0; pc < p.k; pc += kc {
			kb := min(kc, p.k-pc)
			var bp []T
			if pb == nil {
				packB(p, im.strided, ws.b, pc, kb, jc, nb, nr)
				bp = ws.b
			} else {
				bp = pb.panel(pc, kb, jc, nb)
			}
			for ic := i0; ic < i1; ic += mc {
				mb := min(mc, i1-ic)
				packA(p, im.strided, im.rows, ws.a, ic, mb, pc, kb, mr)
				macroKernel(p, im, ws, bp, ic, mb, jc, nb, kb, pc == 0 && p.beta == 0)
			}
		}
	}
}

// macroKernel multiplies the packed mb×kb block of A (in ws.a) by the
// packed kb×nb panel of B (in b, as packB lays it out) into
// C[ic:ic+mb, jc:jc+nb] by looping over register tiles. Partial tiles at
// the right and bottom edges go through ws.tile. With zero (the first k
// block of a product with beta = 0) C is written, not added to, and need
// not have been cleared.
func macroKernel[T float](p *problem[T], im impl[T], ws *workspace[T], b []T, ic, mb, jc, nb, kb int, zero bool) {
	mr, nr := im.mr, im.nr
	c, ldc, alpha := p.c, p.ldc, p.alpha
	tile := ws.tile
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		bp := b[jr*kb : (jr+nr)*kb]
		for ir := 0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			ap := ws.a[ir*kb : (ir+mr)*kb]
			off := (ic+ir)*ldc + jc + jr
			if rows == mr && cols == nr {
				im.kernel(kb, ap, bp, c[off:], ldc, alpha, zero)
				continue
			}
			im.kernel(kb, ap, bp, tile, nr, alpha, true)
			for i := range rows {
				dst := c[off+i*ldc : off+i*ldc+cols]
				src := tile[i*nr : i*nr+cols]
				if zero {
					// 0 + alpha·acc, as the kernel gives it: never −0.
					copy(dst, src)
					continue
				}
				for j, v := range src {
					dst[j] += v
				}
			}
		}
	}
}

// roundUp rounds x up to a multiple of unit.
func roundUp(x, unit int) int {
	return (x + unit - 1) / unit * unit
}

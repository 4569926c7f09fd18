package gemm

import "sync"

// PackedB32 is a B operand of Sgemm packed once for many products with
// different A and C (see PackB32 and SgemmPacked). It holds a copy of op(B)
// in the panel layout of the micro-kernel, k·⌈n/16⌉·16 elements with the
// AVX2 kernels (k·⌈n/32⌉·32 with the AVX-512 ones).
//
// The zero value is an empty (0×0) operand. A PackedB32 may be read by
// any number of concurrent SgemmPacked calls, but must not be repacked by
// PackB32 while it is in use by SgemmPacked.
type PackedB32 struct {
	b packedB[float32]
}

// PackedB64 is a B operand of Dgemm packed once for many products with
// different A and C (see PackB64 and DgemmPacked). It holds a copy of op(B)
// in the panel layout of the micro-kernel, k·⌈n/8⌉·8 elements with the
// AVX2 kernels (k·⌈n/16⌉·16 with the AVX-512 ones).
//
// The zero value is an empty (0×0) operand. A PackedB64 may be read by
// any number of concurrent DgemmPacked calls, but must not be repacked by
// PackB64 while it is in use by DgemmPacked.
type PackedB64 struct {
	b packedB[float64]
}

// PackB32 packs op(B), the k×n matrix B (or Bᵀ when transB is set) stored
// row-major in b with row stride ldb, into p for use with SgemmPacked, and
// returns p. If p is nil a new PackedB32 is allocated; otherwise p's memory
// is reused when large enough. The preconditions on k, n, b and ldb are
// those of Sgemm. PackB32 copies b: later changes to b do not affect p.
//
// p must not be used by a concurrent SgemmPacked call while it is packed.
func PackB32(p *PackedB32, transB bool, k, n int, b []float32, ldb int) *PackedB32 {
	if p == nil {
		p = new(PackedB32)
	}
	p.b.pack(sgemmImpl(), transB, k, n, b, ldb)
	return p
}

// PackB64 packs op(B), the k×n matrix B (or Bᵀ when transB is set) stored
// row-major in b with row stride ldb, into p for use with DgemmPacked, and
// returns p. If p is nil a new PackedB64 is allocated; otherwise p's memory
// is reused when large enough. The preconditions on k, n, b and ldb are
// those of Dgemm. PackB64 copies b: later changes to b do not affect p.
//
// p must not be used by a concurrent DgemmPacked call while it is packed.
func PackB64(p *PackedB64, transB bool, k, n int, b []float64, ldb int) *PackedB64 {
	if p == nil {
		p = new(PackedB64)
	}
	p.b.pack(dgemmImpl(), transB, k, n, b, ldb)
	return p
}

// Dims returns the shape k×n of the packed op(B).
func (p *PackedB32) Dims() (k, n int) { return p.b.k, p.b.n }

// Dims returns the shape k×n of the packed op(B).
func (p *PackedB64) Dims() (k, n int) { return p.b.k, p.b.n }

// SgemmPacked computes C = alpha*op(A)*B + beta*C like Sgemm, with the
// k×n operand op(B) packed beforehand by PackB32 (k and n are taken from
// pb). op(A) is m×k; lda and ldc are the row strides of A and C as stored.
//
// The result is bit-identical to that of Sgemm(transA, transB, m, n, k,
// alpha, a, lda, b, ldb, beta, c, ldc) with the arguments pb was packed
// from: the same kernels, blocking and small-product loops are used (those
// selected when pb was packed). Large products are split across goroutines
// as in Sgemm, all reading pb. Steady-state calls on the calling goroutine
// do not allocate.
//
// Products that Sgemm computes with its unpacked small-product loops (m <
// 3, n < 4 or m·n·k < 24³) are computed the same way here, from columns of
// B copied back out of pb, and so gain nothing from the packing.
func SgemmPacked(transA bool, m int, alpha float32, a []float32, lda int, pb *PackedB32, beta float32, c []float32, ldc int) {
	b := &pb.b
	p := problem[float32]{transA, b.transB, m, b.n, b.k, alpha, a, lda, nil, 0, beta, c, ldc}
	run(&p, b.im, &pool32, b)
}

// DgemmPacked computes C = alpha*op(A)*B + beta*C like Dgemm, with the
// k×n operand op(B) packed beforehand by PackB64 (k and n are taken from
// pb). op(A) is m×k; lda and ldc are the row strides of A and C as stored.
//
// The result is bit-identical to that of Dgemm(transA, transB, m, n, k,
// alpha, a, lda, b, ldb, beta, c, ldc) with the arguments pb was packed
// from: the same kernels, blocking and small-product loops are used (those
// selected when pb was packed). Large products are split across goroutines
// as in Dgemm, all reading pb. Steady-state calls on the calling goroutine
// do not allocate.
//
// Products that Dgemm computes with its unpacked small-product loops (m <
// 3, n < 4 or m·n·k < 24³) are computed the same way here, from columns of
// B copied back out of pb, and so gain nothing from the packing.
func DgemmPacked(transA bool, m int, alpha float64, a []float64, lda int, pb *PackedB64, beta float64, c []float64, ldc int) {
	b := &pb.b
	p := problem[float64]{transA, b.transB, m, b.n, b.k, alpha, a, lda, nil, 0, beta, c, ldc}
	run(&p, b.im, &pool64, b)
}

// ColAlign returns the column alignment SgemmPackedCols needs: the
// kernel's register block width.
func (p *PackedB32) ColAlign() int { return p.b.im.nr }

// ColAlign returns the column alignment DgemmPackedCols needs.
func (p *PackedB64) ColAlign() int { return p.b.im.nr }

// SgemmPackedCols computes the columns in ranges (each [j0, j1)) of
// C = alpha*op(A)*B + beta*C, op(B) packed by PackB32, on the calling
// goroutine: for products that are split across goroutines, callers that
// have parallel work of their own can run a set of columns each. Each row
// block of op(A) is packed once for all the ranges. The columns are
// bit-identical to those SgemmPacked computes. It computes nothing and
// reports false when SgemmPacked would use its small-product loops (see
// PackedColsOK; then call SgemmPacked), when alpha is 0, or when a range is
// empty, out of bounds, or starts off a multiple of ColAlign.
func SgemmPackedCols(transA bool, m int, alpha float32, a []float32, lda int, pb *PackedB32, ranges [][2]int, beta float32, c []float32, ldc int) bool {
	b := &pb.b
	p := problem[float32]{transA, b.transB, m, b.n, b.k, alpha, a, lda, nil, 0, beta, c, ldc}
	return runCols(&p, b.im, &pool32, b, ranges)
}

// DgemmPackedCols is SgemmPackedCols for float64.
func DgemmPackedCols(transA bool, m int, alpha float64, a []float64, lda int, pb *PackedB64, ranges [][2]int, beta float64, c []float64, ldc int) bool {
	b := &pb.b
	p := problem[float64]{transA, b.transB, m, b.n, b.k, alpha, a, lda, nil, 0, beta, c, ldc}
	return runCols(&p, b.im, &pool64, b, ranges)
}

// PackedColsOK reports whether SgemmPackedCols and DgemmPackedCols compute
// an m×n product over k with a non-zero alpha (aligned, in-range columns).
func PackedColsOK(m, n, k int) bool {
	return m*n*k >= smallWork && m >= 3 && n >= 4 && k > 0
}

// runCols is run's blocked path for the columns in ranges only.
func runCols[T float](p *problem[T], im impl[T], pool *sync.Pool, pb *packedB[T], ranges [][2]int) bool {
	if !PackedColsOK(p.m, p.n, p.k) || p.alpha == 0 {
		return false
	}
	for _, r := range ranges {
		if r[0] < 0 || r[0] >= r[1] || r[1] > p.n || r[0]%im.nr != 0 {
			return false
		}
	}
	ws := getWorkspace[T](pool)
	blockedCols(p, im, ws, pb, ranges)
	pool.Put(ws)
	return true
}

// blockedCols is blocked for all rows and the columns in ranges of a packed
// B, with the loops over column blocks inside the loop over row blocks, so
// that each block of A is packed once for all the ranges. Every element of
// C still sums its k blocks in order, as in blocked.
func blockedCols[T float](p *problem[T], im impl[T], ws *workspace[T], pb *packedB[T], ranges [][2]int) {
	mr, nr := im.mr, im.nr
	kc := min(im.kc, p.k)
	mc := min(im.mc, roundUp(p.m, mr))
	if p.beta != 0 { // beta = 0: the first k block's kernels write C
		for _, r := range ranges {
			scaleC(p.beta, p.c, p.ldc, 0, p.m, r[0], r[1])
		}
	}
	ws.a = grow(ws.a, mc*kc)
	ws.tile = grow(ws.tile, mr*nr)
	for pc := 0; pc < p.k; pc += kc {
		kb := min(kc, p.k-pc)
		for ic := 0; ic < p.m; ic += mc {
			mb := min(mc, p.m-ic)
			packA(p, im.strided, im.rows, ws.a, ic, mb, pc, kb, mr)
			for _, r := range ranges {
				for jc := r[0]; jc < r[1]; jc += im.nc {
					nb := min(im.nc, r[1]-jc)
					macroKernel(p, im, ws, pb.panel(pc, kb, jc, nb), ic, mb, jc, nb, kb, pc == 0 && p.beta == 0)
				}
			}
		}
	}
}

// packedB is the whole of op(B) packed as blocked packs it, one kc×nc
// panel at a time: for each block of kc rows starting at pc (the last one
// possibly shorter, kb rows), the kb×np block (np = n rounded up to nr) is
// stored at data[pc*np:] as packB lays out a panel, in slivers of nr
// columns with row q of sliver s at s*kb*nr + q*nr. A panel of any nc
// columns starting at a multiple of nr is thus a contiguous slice.
type packedB[T float] struct {
	// im is the implementation the panels are laid out for; products
	// with them use it, whatever the implementation is by then.
	im     impl[T]
	transB bool
	k, n   int
	np     int // n rounded up to a multiple of im.nr
	data   []T
}

// pack packs op(B) into pb for implementation im.
func (pb *packedB[T]) pack(im impl[T], transB bool, k, n int, b []T, ldb int) {
	pb.im, pb.transB, pb.k, pb.n = im, transB, k, n
	pb.np = roundUp(n, im.nr)
	pb.data = grow(pb.data, k*pb.np)
	if k == 0 || n == 0 {
		return
	}
	kc := min(im.kc, k)
	p := problem[T]{transB: transB, b: b, ldb: ldb}
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		packB(&p, im.strided, pb.data[pc*pb.np:(pc+kb)*pb.np], pc, kb, 0, n, im.nr)
	}
}

// panel returns the packed panel of rows [pc, pc+kb) and columns
// [jc, jc+nb) of op(B); pc is a multiple of kc and jc of nr.
func (pb *packedB[T]) panel(pc, kb, jc, nb int) []T {
	o := pc*pb.np + jc*kb
	return pb.data[o : o+roundUp(nb, pb.im.nr)*kb]
}

// smallChunk is the number of elements of B that smallPacked copies back
// out of the panels at a time (128 KiB of float32).
const smallChunk = 1 << 15

// smallPacked is smallGemm for a packed B. It copies B back out of the
// panels, a chunk of columns at a time, into the layout it was packed from
// (transposed or not) and runs smallGemm on each chunk. Every element of C
// is computed as in smallGemm on the whole of B: the axpy loops are
// element-wise and the dot-product loops are per column of op(B).
func smallPacked[T float](p *problem[T], im impl[T], pb *packedB[T], pool *sync.Pool) {
	n, k, nr := p.n, p.k, im.nr
	w := min(max(nr, smallChunk/k/nr*nr), roundUp(n, nr))
	ws := getWorkspace[T](pool)
	ws.b = grow(ws.b, w*k)
	sub := *p
	for j0 := 0; j0 < n; j0 += w {
		wn := min(w, n-j0)
		sub.n, sub.c = wn, p.c[j0:]
		sub.b, sub.ldb = pb.unpack(ws.b, j0, wn)
		smallGemm(&sub, im)
	}
	pool.Put(ws)
}

// unpack copies columns [j0, j0+wn) of op(B) out of the panels into dst
// as a tight row-major matrix in the layout B was packed from: op(B)
// itself (k×wn) if !transB, its transpose (wn×k) if transB. It returns the
// matrix and its row stride.
func (pb *packedB[T]) unpack(dst []T, j0, wn int) ([]T, int) {
	k, nr, np := pb.k, pb.im.nr, pb.np
	dst = dst[:k*wn]
	kc := min(pb.im.kc, k)
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		for j := j0; j < j0+wn; {
			s := j / nr
			c0 := j - s*nr
			cols := min(nr-c0, j0+wn-j)
			o := pc*np + s*kb*nr + c0
			sl := pb.data[o : o+(kb-1)*nr+cols]
			if pb.transB {
				for c := range cols {
					d := dst[(j-j0+c)*k+pc : (j-j0+c)*k+pc+kb]
					for q := range d {
						d[q] = sl[q*nr+c]
					}
				}
			} else {
				for q := range kb {
					copy(dst[(pc+q)*wn+j-j0:(pc+q)*wn+j-j0+cols], sl[q*nr:q*nr+cols])
				}
			}
			j += cols
		}
	}
	if pb.transB {
		return dst, k
	}
	return dst, wn
}

package blas

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, op
// transposing where tA or tB says; C is m×n and k is the inner dimension.
// It goes to the build's matrix multiply (see Name). With k = 0, C = beta·C.
func Gemm[T float32 | float64](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
				continue
			}
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	switch av := any(a).(type) {
	case []float32:
		sgemm(tA, tB, m, n, k, float32(alpha), av, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		dgemm(tA, tB, m, n, k, float64(alpha), av, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// PackedB is a B operand packed once for many products C = alpha·A·op(B) +
// beta·C with different A and C: the recurrent weight of a fused pass, used
// at every step. The pure-Go build packs it into the kernel's panels once
// (bit-identical to Gemm); the OpenBLAS build hands it to OpenBLAS as it is.
type PackedB[T float32 | float64] struct {
	p32 packedB32
	p64 packedB64
}

// Pack packs op(B), k×n.
func (p *PackedB[T]) Pack(transB bool, k, n int, b []T, ldb int) {
	switch bv := any(b).(type) {
	case []float32:
		p.p32.pack(transB, k, n, bv, ldb)
	case []float64:
		p.p64.pack(transB, k, n, bv, ldb)
	}
}

// Mul computes C = alpha·A·op(B) + beta·C for A m×k.
func (p *PackedB[T]) Mul(m int, alpha T, a []T, lda int, beta T, c []T, ldc int) {
	switch av := any(a).(type) {
	case []float32:
		p.p32.mul(m, float32(alpha), av, lda, float32(beta), any(c).([]float32), ldc)
	case []float64:
		p.p64.mul(m, float64(alpha), av, lda, float64(beta), any(c).([]float64), ldc)
	}
}

// ColAlign returns the column alignment MulCols needs for products of m
// rows, or 0 when the build does not split products by columns.
func (p *PackedB[T]) ColAlign(m int) int {
	var zero T
	if _, ok := any(zero).(float32); ok {
		return p.p32.colAlign(m)
	}
	return p.p64.colAlign(m)
}

// MulCols computes the columns in ranges (each [j0, j1)) of C =
// alpha·A·op(B) + beta·C for A m×k on the calling goroutine, bit-identical
// to those columns of Mul; each range must start at a multiple of
// ColAlign(m) > 0. It reports whether it did.
func (p *PackedB[T]) MulCols(m int, alpha T, a []T, lda int, ranges [][2]int, beta T, c []T, ldc int) bool {
	switch av := any(a).(type) {
	case []float32:
		return p.p32.mulCols(m, float32(alpha), av, lda, ranges, float32(beta), any(c).([]float32), ldc)
	case []float64:
		return p.p64.mulCols(m, float64(alpha), av, lda, ranges, float64(beta), any(c).([]float64), ldc)
	}
	return false
}

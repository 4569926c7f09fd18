package gemm

// smallGemm computes the whole product with simple loops and no packing.
// It is used for tiny products and for degenerate shapes (very few rows or
// columns) where packing would cost more than it saves.
func smallGemm[T float](p *problem[T], im impl[T]) {
	m, n, k := p.m, p.n, p.k
	a, lda, b, ldb, c, ldc := p.a, p.lda, p.b, p.ldb, p.c, p.ldc
	alpha := p.alpha
	scaleC(p.beta, c, ldc, 0, m, 0, n)
	switch {
	case !p.transB:
		// C[i,:] += alpha*op(A)[i,q] * B[q,:]: row updates along
		// contiguous rows of B and C.
		for i := range m {
			crow := c[i*ldc : i*ldc+n]
			for q := range k {
				var s T
				if p.transA {
					s = a[q*lda+i]
				} else {
					s = a[i*lda+q]
				}
				im.axpy(alpha*s, b[q*ldb:q*ldb+n], crow)
			}
		}
	case !p.transA:
		// C[i,j] += alpha * dot(A[i,:], B[j,:]): both contiguous.
		for i := range m {
			arow := a[i*lda : i*lda+k]
			im.dotRows(alpha, arow, b, ldb, c[i*ldc:i*ldc+n])
		}
	default:
		// Both transposed: C[i,j] += alpha * sum_q a[q*lda+i]*b[j*ldb+q].
		for i := range m {
			crow := c[i*ldc : i*ldc+n]
			for j := range crow {
				brow := b[j*ldb : j*ldb+k]
				var s T
				for q, v := range brow {
					s += a[q*lda+i] * v
				}
				crow[j] += alpha * s
			}
		}
	}
}

// axpy computes y += s*x; len(y) must equal len(x).
func axpy[T float](s T, x, y []T) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xx := x[i : i+4 : i+4]
		yy := y[i : i+4 : i+4]
		yy[0] += s * xx[0]
		yy[1] += s * xx[1]
		yy[2] += s * xx[2]
		yy[3] += s * xx[3]
	}
	for ; i < len(x); i++ {
		y[i] += s * x[i]
	}
}

// dotRows sets y[j] += alpha * dot(x, b[j*ldb:j*ldb+len(x)]) for
// j < len(y).
func dotRows[T float](alpha T, x, b []T, ldb int, y []T) {
	for j := range y {
		y[j] += alpha * dot(x, b[j*ldb:j*ldb+len(x)])
	}
}

// dot returns the dot product of x and y; len(y) must be >= len(x).
func dot[T float](x, y []T) T {
	y = y[:len(x)]
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xx := x[i : i+4 : i+4]
		yy := y[i : i+4 : i+4]
		s0 += xx[0] * yy[0]
		s1 += xx[1] * yy[1]
		s2 += xx[2] * yy[2]
		s3 += xx[3] * yy[3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

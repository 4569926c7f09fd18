package gemm

// Blocking of the portable pure-Go micro-kernel.
var goBlocking = blocking{mr: 4, nr: 4, mc: 128, kc: 256, nc: 2048}

// Pure-Go implementations, built once: building them per call would
// allocate a closure for each generic function value.
var (
	portable32 = portable[float32]()
	portable64 = portable[float64]()
)

// portableImpl returns base with the current goBlocking (which tests
// change).
func portableImpl[T float](base impl[T]) impl[T] {
	base.blocking = goBlocking
	return base
}

// portable returns the pure-Go implementation.
func portable[T float]() impl[T] {
	return impl[T]{
		blocking: goBlocking,
		kernel:   kernelGo[T],
		strided:  packStrided[T],
		rows:     packRows[T],
		dotRows:  dotRows[T],
		axpy:     axpy[T],
	}
}

// kernelGo is the portable micro-kernel for 4×4 tiles (see kernelFunc).
// Sixteen scalar accumulators stay in registers on most architectures.
func kernelGo[T float](k int, a, b, c []T, ldc int, alpha T, zero bool) {
	var (
		c00, c01, c02, c03 T
		c10, c11, c12, c13 T
		c20, c21, c22, c23 T
		c30, c31, c32, c33 T
	)
	a = a[:4*k]
	b = b[:4*k]
	for q := 0; q < len(a); q += 4 {
		aa := a[q : q+4 : q+4]
		bb := b[q : q+4 : q+4]
		a0, a1, a2, a3 := aa[0], aa[1], aa[2], aa[3]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	if zero {
		for i := range 4 {
			clear(c[i*ldc : i*ldc+4])
		}
	}
	addRow(c[0:4:4], alpha, c00, c01, c02, c03)
	addRow(c[ldc:ldc+4:ldc+4], alpha, c10, c11, c12, c13)
	addRow(c[2*ldc:2*ldc+4:2*ldc+4], alpha, c20, c21, c22, c23)
	addRow(c[3*ldc:3*ldc+4:3*ldc+4], alpha, c30, c31, c32, c33)
}

// addRow adds alpha*(x0, x1, x2, x3) to the four elements of row.
func addRow[T float](row []T, alpha, x0, x1, x2, x3 T) {
	row[0] += alpha * x0
	row[1] += alpha * x1
	row[2] += alpha * x2
	row[3] += alpha * x3
}

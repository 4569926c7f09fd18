//go:build openblas

package gemm

// This file compares against OpenBLAS through cgo. Run it with
//
//	CGO_LDFLAGS=-lopenblas go test -tags openblas -bench OpenBLAS ./internal/gemm/

import (
	"testing"

	"gonum.org/v1/netlib/blas/netlib"
)

func BenchmarkSgemmOpenBLAS(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			x, lda, y, ldb, c, ldc := benchOperands[float32](s)
			benchGemm(b, s, func() {
				netlib.Implementation{}.Sgemm(trans(s.transA), trans(s.transB), s.m, s.n, s.k, 1, x, lda, y, ldb, float32(s.beta), c, ldc)
			})
		})
	}
}

func BenchmarkDgemmOpenBLAS(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			x, lda, y, ldb, c, ldc := benchOperands[float64](s)
			benchGemm(b, s, func() {
				netlib.Implementation{}.Dgemm(trans(s.transA), trans(s.transB), s.m, s.n, s.k, 1, x, lda, y, ldb, s.beta, c, ldc)
			})
		})
	}
}

//go:build !openblas || !cgo

package blas

import kernel "github.com/rnnkit/rnnkit/internal/gemm"

// Name names the matrix multiply this build uses: rnnkit's own pure-Go one
// (internal/gemm: packed panels and AVX2/FMA assembly kernels, no cgo) by
// default, OpenBLAS with the build tag openblas (and cgo, and Debian's
// libopenblas-dev installed): go build -tags openblas ./...
const Name = "rnnkit-gemm"

func sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kernel.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	kernel.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// packedB32 is a float32 B operand packed once for many products.
type packedB32 struct{ p *kernel.PackedB32 }

func (p *packedB32) pack(transB bool, k, n int, b []float32, ldb int) {
	p.p = kernel.PackB32(p.p, transB, k, n, b, ldb)
}

func (p *packedB32) mul(m int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int) {
	kernel.SgemmPacked(false, m, alpha, a, lda, p.p, beta, c, ldc)
}

// packedB64 is packedB32 for float64.
type packedB64 struct{ p *kernel.PackedB64 }

func (p *packedB64) pack(transB bool, k, n int, b []float64, ldb int) {
	p.p = kernel.PackB64(p.p, transB, k, n, b, ldb)
}

func (p *packedB64) mul(m int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	kernel.DgemmPacked(false, m, alpha, a, lda, p.p, beta, c, ldc)
}

// colAlign returns the column alignment of mulCols, 0 if products of
// m rows cannot be split by columns.
func (p *packedB32) colAlign(m int) int {
	if k, n := p.p.Dims(); !kernel.PackedColsOK(m, n, k) {
		return 0
	}
	return p.p.ColAlign()
}

// mulCols computes the columns in ranges of C = alpha·A·op(B) + beta·C on
// the calling goroutine; each range must start at a multiple of
// colAlign(m) > 0. It reports whether it did.
func (p *packedB32) mulCols(m int, alpha float32, a []float32, lda int, ranges [][2]int, beta float32, c []float32, ldc int) bool {
	return kernel.SgemmPackedCols(false, m, alpha, a, lda, p.p, ranges, beta, c, ldc)
}

func (p *packedB64) colAlign(m int) int {
	if k, n := p.p.Dims(); !kernel.PackedColsOK(m, n, k) {
		return 0
	}
	return p.p.ColAlign()
}

func (p *packedB64) mulCols(m int, alpha float64, a []float64, lda int, ranges [][2]int, beta float64, c []float64, ldc int) bool {
	return kernel.DgemmPackedCols(false, m, alpha, a, lda, p.p, ranges, beta, c, ldc)
}

// OwnThreads is false: the products run on the calling goroutine, and the
// fused kernels hand work to the cores through internal/parallel's team.
const OwnThreads = false

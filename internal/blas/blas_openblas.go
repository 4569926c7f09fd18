//go:build openblas && cgo

package blas

// #cgo LDFLAGS: -lopenblas
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/gorgonia"
)

// Name names the BLAS implementation this build uses.
const Name = "openblas"

func init() {
	blas32.Use(netlib.Implementation{})
	blas64.Use(netlib.Implementation{})
	gorgonia.Use(netlib.Implementation{})
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

func sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	netlib.Implementation{}.Sgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	netlib.Implementation{}.Dgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// packedB32 keeps a B operand for many products; OpenBLAS packs it itself.
type packedB32 struct {
	transB bool
	k, n   int
	b      []float32
	ldb    int
}

func (p *packedB32) pack(transB bool, k, n int, b []float32, ldb int) {
	*p = packedB32{transB, k, n, b, ldb}
}

func (p *packedB32) mul(m int, alpha float32, a []float32, lda int, beta float32, c []float32, ldc int) {
	sgemm(false, p.transB, m, p.n, p.k, alpha, a, lda, p.b, p.ldb, beta, c, ldc)
}

// packedB64 is packedB32 for float64.
type packedB64 struct {
	transB bool
	k, n   int
	b      []float64
	ldb    int
}

func (p *packedB64) pack(transB bool, k, n int, b []float64, ldb int) {
	*p = packedB64{transB, k, n, b, ldb}
}

func (p *packedB64) mul(m int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	dgemm(false, p.transB, m, p.n, p.k, alpha, a, lda, p.b, p.ldb, beta, c, ldc)
}

// colAlign is 0: OpenBLAS splits its products over its own threads, so the
// fused kernels do not split them by columns themselves.
func (p *packedB32) colAlign(m int) int { return 0 }

func (p *packedB32) mulCols(m int, alpha float32, a []float32, lda int, ranges [][2]int, beta float32, c []float32, ldc int) bool {
	return false
}

func (p *packedB64) colAlign(m int) int { return 0 }

func (p *packedB64) mulCols(m int, alpha float64, a []float64, lda int, ranges [][2]int, beta float64, c []float64, ldc int) bool {
	return false
}

// OwnThreads is true: OpenBLAS runs its products on threads of its own,
// which a team worker spinning between the steps' element-wise passes
// would compete with (the OpenBLAS build's LSTM train/S1 fell to 0.38 of
// PyTorch with it), so internal/parallel uses goroutines instead.
const OwnThreads = true

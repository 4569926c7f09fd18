//go:build amd64 && !purego

package gemm

// Blocking of the AVX-512 kernels. kc is that of the AVX2 kernels, so both
// paths cut the k dimension at the same places and sum each element of C in
// the same order (see TestPathsAgree). A packed kc×nr sliver of B is 32 KiB
// for both element types.
var (
	sgemmBlocking512 = blocking{mr: 12, nr: 32, mc: 144, kc: 256, nc: 4096}
	dgemmBlocking512 = blocking{mr: 12, nr: 16, mc: 72, kc: 256, nc: 2048}
)

// The AVX-512 implementations. Packing uses the AVX2 transposes (the
// packing moves data and does no arithmetic); the small-product loops are
// those of the AVX2 path, so both paths compute small products alike.
var (
	sgemmAVX512 = impl[float32]{
		blocking: sgemmBlocking512,
		kernel:   sgemmKernelAVX512,
		strided:  packStrided32,
		rows:     packRows[float32],
		dotRows:  dotRowsAVX2,
		axpy:     axpyAVX2,
	}
	dgemmAVX512 = impl[float64]{
		blocking: dgemmBlocking512,
		kernel:   dgemmKernelAVX512,
		strided:  packStrided[float64],
		rows:     packRows[float64],
		dotRows:  dotRowsAVX2f64,
		axpy:     axpyAVX2f64,
	}
)

// sgemmKernelAVX512 adapts sgemmKernel12x32 to kernelFunc.
func sgemmKernelAVX512(k int, a, b, c []float32, ldc int, alpha float32, zero bool) {
	sgemmKernel12x32(k, &a[0], &b[0], &c[0], ldc, alpha, zero)
}

// dgemmKernelAVX512 adapts dgemmKernel12x16 to kernelFunc.
func dgemmKernelAVX512(k int, a, b, c []float64, ldc int, alpha float64, zero bool) {
	dgemmKernel12x16(k, &a[0], &b[0], &c[0], ldc, alpha, zero)
}

// sgemmKernel12x32 computes C[0:12, 0:32] += alpha * A*B from a packed
// 12×k sliver of A and a packed k×32 sliver of B; C has row stride ldc
// (elements); with zero set, C is written (0 + alpha * A*B), not read.
// k must be >= 1. It needs AVX-512F.
//
//go:noescape
func sgemmKernel12x32(k int, a, b, c *float32, ldc int, alpha float32, zero bool)

// dgemmKernel12x16 computes C[0:12, 0:16] += alpha * A*B from a packed
// 12×k sliver of A and a packed k×16 sliver of B; C has row stride ldc
// (elements); with zero set, C is written (0 + alpha * A*B), not read.
// k must be >= 1. It needs AVX-512F.
//
//go:noescape
func dgemmKernel12x16(k int, a, b, c *float64, ldc int, alpha float64, zero bool)

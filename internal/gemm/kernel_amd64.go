//go:build amd64 && !purego

package gemm

import "github.com/rnnkit/rnnkit/internal/cpufeat"

// hasPath reports whether this CPU can run kernel path p.
func hasPath(p kernelPath) bool {
	switch p {
	case pathAVX2:
		return cpufeat.AVX2FMA
	case pathAVX512:
		return cpufeat.AVX512
	}
	return true
}

// Blocking of the assembly kernels. A packed kc×nr sliver of B (16 KiB)
// stays in L1, an mc×kc block of A (144 KiB) in L2 and a kc×nc panel of B
// in L3.
var (
	sgemmBlocking = blocking{mr: 6, nr: 16, mc: 144, kc: 256, nc: 4096}
	dgemmBlocking = blocking{mr: 6, nr: 8, mc: 72, kc: 256, nc: 2048}
)

// sgemmImpl returns the float32 micro-kernel, its blocking and helpers.
func sgemmImpl() impl[float32] {
	switch path {
	case pathAVX512:
		return sgemmAVX512
	case pathAVX2:
		return impl[float32]{
			blocking: sgemmBlocking,
			kernel:   sgemmKernelAVX2,
			strided:  packStrided32,
			rows:     packRows32,
			dotRows:  dotRowsAVX2,
			axpy:     axpyAVX2,
		}
	}
	return portableImpl(portable32)
}

// dgemmImpl returns the float64 micro-kernel, its blocking and helpers.
func dgemmImpl() impl[float64] {
	switch path {
	case pathAVX512:
		return dgemmAVX512
	case pathAVX2:
		return impl[float64]{
			blocking: dgemmBlocking,
			kernel:   dgemmKernelAVX2,
			strided:  packStrided[float64],
			rows:     packRows[float64],
			dotRows:  dotRowsAVX2f64,
			axpy:     axpyAVX2f64,
		}
	}
	return portableImpl(portable64)
}

// sgemmKernelAVX2 adapts sgemmKernel6x16 to kernelFunc.
func sgemmKernelAVX2(k int, a, b, c []float32, ldc int, alpha float32, zero bool) {
	sgemmKernel6x16(k, &a[0], &b[0], &c[0], ldc, alpha, zero)
}

// dgemmKernelAVX2 adapts dgemmKernel6x8 to kernelFunc.
func dgemmKernelAVX2(k int, a, b, c []float64, ldc int, alpha float64, zero bool) {
	dgemmKernel6x8(k, &a[0], &b[0], &c[0], ldc, alpha, zero)
}

// sgemmKernel6x16 computes C[0:6, 0:16] += alpha * A*B from a packed 6×k
// sliver of A and a packed k×16 sliver of B; C has row stride ldc
// (elements); with zero set, C is written (0 + alpha * A*B), not read.
// k must be >= 1.
//
//go:noescape
func sgemmKernel6x16(k int, a, b, c *float32, ldc int, alpha float32, zero bool)

// dgemmKernel6x8 computes C[0:6, 0:8] += alpha * A*B from a packed 6×k
// sliver of A and a packed k×8 sliver of B; C has row stride ldc
// (elements); with zero set, C is written (0 + alpha * A*B), not read.
// k must be >= 1.
//
//go:noescape
func dgemmKernel6x8(k int, a, b, c *float64, ldc int, alpha float64, zero bool)

// sdotRowsAVX2 sets y[j] += alpha * sum_{q<k} x[q]*b[j*ldb+q] for j < n.
//
//go:noescape
func sdotRowsAVX2(alpha float32, x *float32, k int, b *float32, ldb int, y *float32, n int)

// saxpyAVX2 sets y[i] += s*x[i] for i < n.
//
//go:noescape
func saxpyAVX2(s float32, x, y *float32, n int)

// dotRowsAVX2 is dotRows for float32 using AVX2 and FMA.
func dotRowsAVX2(alpha float32, x, b []float32, ldb int, y []float32) {
	if len(x) == 0 || len(y) == 0 {
		return
	}
	_ = b[(len(y)-1)*ldb+len(x)-1]
	sdotRowsAVX2(alpha, &x[0], len(x), &b[0], ldb, &y[0], len(y))
}

// axpyAVX2 is axpy for float32 using AVX2 and FMA.
func axpyAVX2(s float32, x, y []float32) {
	if len(x) == 0 {
		return
	}
	y = y[:len(x)]
	saxpyAVX2(s, &x[0], &y[0], len(x))
}

// ddotRowsAVX2 sets y[j] += alpha * sum_{q<k} x[q]*b[j*ldb+q] for j < n.
//
//go:noescape
func ddotRowsAVX2(alpha float64, x *float64, k int, b *float64, ldb int, y *float64, n int)

// daxpyAVX2 sets y[i] += s*x[i] for i < n.
//
//go:noescape
func daxpyAVX2(s float64, x, y *float64, n int)

// dotRowsAVX2f64 is dotRows for float64 using AVX2 and FMA.
func dotRowsAVX2f64(alpha float64, x, b []float64, ldb int, y []float64) {
	if len(x) == 0 || len(y) == 0 {
		return
	}
	_ = b[(len(y)-1)*ldb+len(x)-1]
	ddotRowsAVX2(alpha, &x[0], len(x), &b[0], ldb, &y[0], len(y))
}

// axpyAVX2f64 is axpy for float64 using AVX2 and FMA.
func axpyAVX2f64(s float64, x, y []float64) {
	if len(x) == 0 {
		return
	}
	y = y[:len(x)]
	daxpyAVX2(s, &x[0], &y[0], len(x))
}

// asmBuilt reports whether this build contains the assembly kernels.
const asmBuilt = true

//go:build amd64 && !purego

package vmath

// dotAVX2, axpyAVX2 and crossAxpyAVX2 are Dot32, Axpy32 and CrossAxpy32
// over n > 0 elements in AVX2/FMA assembly (dot_amd64.s): 32 elements per
// loop iteration, then 8, then one at a time.
//
//go:noescape
func dotAVX2(x, y *float32, n int) float32

//go:noescape
func axpyAVX2(a float32, x, y *float32, n int)

//go:noescape
func crossAxpyAVX2(a float32, x, y, ex, dy *float32, n int)

// dotAsm runs dotAVX2 over len(x) > 0 elements; y is at least as long.
func dotAsm(x, y []float32) float32 { return dotAVX2(&x[0], &y[0], len(x)) }

// axpyAsm runs axpyAVX2 over len(x) > 0 elements; y is at least as long.
func axpyAsm(a float32, x, y []float32) { axpyAVX2(a, &x[0], &y[0], len(x)) }

// crossAxpyAsm runs crossAxpyAVX2 over len(x) > 0 elements; the other
// slices are at least as long.
func crossAxpyAsm(a float32, x, y, ex, dy []float32) {
	crossAxpyAVX2(a, &x[0], &y[0], &ex[0], &dy[0], len(x))
}

// prefetchT0 issues PREFETCHT0 for every 64-byte line of the n > 0 floats
// at x.
//
//go:noescape
func prefetchT0(x *float32, n int)

// prefetchAsm prefetches the lines of x (len(x) > 0).
func prefetchAsm(x []float32) { prefetchT0(&x[0], len(x)) }

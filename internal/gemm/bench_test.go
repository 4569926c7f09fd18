package gemm

import (
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/rnnkit/rnnkit/internal/cputime"
)

// benchShape is a GEMM shape taken from the LSTM workloads (S1: B=32, T=35,
// I=128, H=256; S2: B=64, T=35, I=256, H=512; four gates).
type benchShape struct {
	name           string
	transA, transB bool
	m, n, k        int
	beta           float64
}

var benchShapes = []benchShape{
	{name: "S1/inproj", transB: true, m: 1120, n: 1024, k: 128},
	{name: "S1/recur", transB: true, m: 32, n: 1024, k: 256},
	{name: "S1/dX", m: 1120, n: 128, k: 1024},
	{name: "S1/dW", transA: true, m: 1024, n: 128, k: 1120},
	{name: "S1/dh", m: 32, n: 256, k: 1024},
	{name: "S1/dWhh", transA: true, m: 1024, n: 256, k: 32, beta: 1},
	{name: "S2/inproj", transB: true, m: 2240, n: 2048, k: 256},
	{name: "S2/recur", transB: true, m: 64, n: 2048, k: 512},
	{name: "S2/dX", m: 2240, n: 256, k: 2048},
	{name: "S2/dW", transA: true, m: 2048, n: 256, k: 2240},
	{name: "S2/dh", m: 64, n: 512, k: 2048},
	{name: "S2/dWhh", transA: true, m: 2048, n: 512, k: 64, beta: 1},
	{name: "tiny", transB: true, m: 1, n: 128, k: 32},
}

// benchOperands returns tight row-major operands for s.
func benchOperands[T float](s benchShape) (a []T, lda int, b []T, ldb int, c []T, ldc int) {
	ar, ac := stored(s.transA, s.m, s.k)
	br, bc := stored(s.transB, s.k, s.n)
	a, b, c = make([]T, ar*ac), make([]T, br*bc), make([]T, s.m*s.n)
	for i := range a {
		a[i] = T(i%7) * 0.25
	}
	for i := range b {
		b[i] = T(i%5) * 0.5
	}
	return a, ac, b, bc, c, s.n
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// benchGemm runs f b.N times and reports GFLOP/s for shape s, and GFLOP
// per CPU-second of the process (GFLOP/CPU-s), which the other load on a
// shared machine disturbs much less: with -cpu 1 it is one core's rate
// while the benchmark holds it, comparable with benchmarks/peak's.
func benchGemm(b *testing.B, s benchShape, f func()) {
	f() // warm up pools and caches
	b.ResetTimer()
	c0 := cputime.Seconds()
	for b.Loop() {
		f()
	}
	gflop := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N) / 1e9
	b.ReportMetric(gflop/b.Elapsed().Seconds(), "GFLOP/s")
	if cpu := cputime.Seconds() - c0; c0 >= 0 && cpu > 0 {
		b.ReportMetric(gflop/cpu, "GFLOP/CPU-s")
	}
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			x, lda, y, ldb, c, ldc := benchOperands[float32](s)
			benchGemm(b, s, func() {
				Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, x, lda, y, ldb, float32(s.beta), c, ldc)
			})
		})
	}
}

func BenchmarkSgemmGonum(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			x, lda, y, ldb, c, ldc := benchOperands[float32](s)
			benchGemm(b, s, func() {
				gonum.Implementation{}.Sgemm(trans(s.transA), trans(s.transB), s.m, s.n, s.k, 1, x, lda, y, ldb, float32(s.beta), c, ldc)
			})
		})
	}
}

func BenchmarkDgemm(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			x, lda, y, ldb, c, ldc := benchOperands[float64](s)
			benchGemm(b, s, func() {
				Dgemm(s.transA, s.transB, s.m, s.n, s.k, 1, x, lda, y, ldb, s.beta, c, ldc)
			})
		})
	}
}

func BenchmarkDgemmGonum(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			x, lda, y, ldb, c, ldc := benchOperands[float64](s)
			benchGemm(b, s, func() {
				gonum.Implementation{}.Dgemm(trans(s.transA), trans(s.transB), s.m, s.n, s.k, 1, x, lda, y, ldb, s.beta, c, ldc)
			})
		})
	}
}

// BenchmarkPaths measures Sgemm and Dgemm with each kernel path this CPU
// supports on the same shapes: BenchmarkPaths/avx2/f32/S2/inproj and so on.
func BenchmarkPaths(b *testing.B) {
	saved := path
	defer func() { path = saved }()
	for p := range kernelPath(len(pathNames)) {
		if !hasPath(p) {
			continue
		}
		b.Run(pathNames[p], func(b *testing.B) {
			path = p
			b.Run("f32", BenchmarkSgemm)
			b.Run("f64", BenchmarkDgemm)
		})
	}
}

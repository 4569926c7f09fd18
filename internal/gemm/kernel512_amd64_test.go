//go:build amd64 && !purego

package gemm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// emulatedKernel is a Go model of an mr×nr assembly micro-kernel: one FMA
// per element and k step, then C += alpha*acc with one FMA. fma must round
// once, as the hardware does.
func emulatedKernel[T float](mr, nr int, fma func(x, y, z T) T) kernelFunc[T] {
	return func(k int, a, b, c []T, ldc int, alpha T, zero bool) {
		if zero {
			for r := range mr {
				clear(c[r*ldc : r*ldc+nr])
			}
		}
		acc := make([]T, mr*nr)
		for q := range k {
			for r := range mr {
				for j := range nr {
					acc[r*nr+j] = fma(a[q*mr+r], b[q*nr+j], acc[r*nr+j])
				}
			}
		}
		for r := range mr {
			for j := range nr {
				c[r*ldc+j] = fma(acc[r*nr+j], alpha, c[r*ldc+j])
			}
		}
	}
}

// TestAVX512DriverEmulated runs the AVX-512 path's blocking and packing
// (12-row slivers of A, 32- and 16-column slivers of B, the AVX2
// transposes that fill them) with Go models of its micro-kernels, so that
// everything but the two assembly kernels is checked on CPUs without
// AVX-512 too. float64 is compared bit for bit with the AVX2 path (math.FMA
// rounds once, as VFMADD231PD does) on full-mantissa data; float32, whose
// FMA has no exact Go model, on data whose products and sums are exact,
// bit for bit as well, plainly and through PackB32.
func TestAVX512DriverEmulated(t *testing.T) {
	if !hasPath(pathAVX2) {
		t.Skip("no AVX2: the path the emulation is compared with does not run here")
	}
	saved := path
	defer func() { path = saved }()
	path = pathAVX2
	im32 := sgemmAVX512
	im32.kernel = emulatedKernel(12, 32, func(x, y, z float32) float32 {
		return float32(math.FMA(float64(x), float64(y), float64(z)))
	})
	im64 := dgemmAVX512
	im64.kernel = emulatedKernel(12, 16, math.FMA)
	rnd := rand.New(rand.NewPCG(51, 52))
	for _, s := range pathShapes {
		s.alpha = 1
		ar, ac := stored(s.transA, s.m, s.k)
		br, bc := stored(s.transB, s.k, s.n)

		a, b, c := randomFull(rnd, ar*ac), randomFull(rnd, br*bc), randomFull(rnd, s.m*s.n)
		want := slices.Clone(c)
		Dgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, ac, b, bc, s.beta, want, s.n)
		got := slices.Clone(c)
		p := problem[float64]{s.transA, s.transB, s.m, s.n, s.k, 1, a, ac, b, bc, s.beta, got, s.n}
		run(&p, im64, &pool64, nil)
		if e := sameBits64(got, want); e >= 0 {
			t.Errorf("%v: float64 emulated AVX-512 gives %v at %d, AVX2 %v", s, got[e], e, want[e])
		}

		o := newOperands(shape{transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, beta: s.beta, alpha: 1}, rnd)
		a32, b32 := to32(o.a), to32(o.b)
		want32 := to32(o.c)
		Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a32, o.lda, b32, o.ldb, float32(s.beta), want32, o.ldc)
		got32 := to32(o.c)
		p32 := problem[float32]{s.transA, s.transB, s.m, s.n, s.k, 1, a32, o.lda, b32, o.ldb, float32(s.beta), got32, o.ldc}
		run(&p32, im32, &pool32, nil)
		if e := sameBits32(got32, want32); e >= 0 {
			t.Errorf("%v: float32 emulated AVX-512 gives %v at %d, AVX2 %v", s, got32[e], e, want32[e])
		}
		var pb packedB[float32]
		pb.pack(im32, s.transB, s.k, s.n, b32, o.ldb)
		got32 = to32(o.c)
		p32 = problem[float32]{s.transA, s.transB, s.m, s.n, s.k, 1, a32, o.lda, nil, 0, float32(s.beta), got32, o.ldc}
		run(&p32, im32, &pool32, &pb)
		if e := sameBits32(got32, want32); e >= 0 {
			t.Errorf("%v: float32 emulated AVX-512 with packed B gives %v at %d, AVX2 %v", s, got32[e], e, want32[e])
		}
	}
}

// TestPackStrided32Widths checks the AVX2 transposes at the sliver widths
// of both paths against the portable packing, with and without a
// remainder of k.
func TestPackStrided32Widths(t *testing.T) {
	if !hasPath(pathAVX2) {
		t.Skip("no AVX2: packStrided32 falls back to the portable code")
	}
	rnd := rand.New(rand.NewPCG(61, 62))
	for _, w := range []int{6, 12, 16, 32} {
		for _, kb := range []int{8, 13, 64, 71} {
			ld := kb + rnd.IntN(5)
			src := to32(randomFull(rnd, (w-1)*ld+kb+3))
			start := rnd.IntN(3)
			got := make([]float32, kb*w)
			want := make([]float32, kb*w)
			packStrided32(got, src, ld, start, kb, w, w)
			packStrided(want, src, ld, start, kb, w, w)
			if e := sameBits32(got, want); e >= 0 {
				t.Errorf("w=%d kb=%d ld=%d: packed[%d] = %v, want %v", w, kb, ld, e, got[e], want[e])
			}
		}
	}
}

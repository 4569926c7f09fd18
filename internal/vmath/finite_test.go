package vmath

import (
	"math"
	"testing"
)

// FirstNonFinite finds the first NaN or infinity at every position of
// blocks of several lengths, and none among the largest finite values,
// subnormals and signed zeros.
func TestFirstNonFinite(t *testing.T) {
	specials32 := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	specials64 := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	for _, n := range []int{0, 1, 7, finiteBlock - 1, finiteBlock, finiteBlock + 1, 3*finiteBlock + 5} {
		a := make([]float32, n)
		b := make([]float64, n)
		for i := range a {
			a[i] = []float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Copysign(0, -1)), 1.5}[i%5]
			b[i] = []float64{math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, math.Copysign(0, -1), 1.5}[i%5]
		}
		if got := FirstNonFinite32(a); got != -1 {
			t.Fatalf("n %d: float32 finite values, found %d", n, got)
		}
		if got := FirstNonFinite64(b); got != -1 {
			t.Fatalf("n %d: float64 finite values, found %d", n, got)
		}
		for i := 0; i < n; i++ {
			for k := range specials32 {
				a[i], b[i] = specials32[k], specials64[k]
				if n > i+3 {
					a[i+3], b[i+3] = specials32[(k+1)%3], specials64[(k+1)%3] // a later one does not hide it
				}
				if got := FirstNonFinite32(a); got != i {
					t.Fatalf("n %d: float32 %v at %d, found %d", n, a[i], i, got)
				}
				if got := FirstNonFinite64(b); got != i {
					t.Fatalf("n %d: float64 %v at %d, found %d", n, b[i], i, got)
				}
				a[i], b[i] = 1, 1
				if n > i+3 {
					a[i+3], b[i+3] = 1, 1
				}
			}
		}
	}
}

func BenchmarkFirstNonFinite32(b *testing.B) {
	xs := make([]float32, 1<<20)
	for i := range xs {
		xs[i] = float32(i)
	}
	b.SetBytes(4 << 20)
	for range b.N {
		if FirstNonFinite32(xs) != -1 {
			b.Fatal("found one")
		}
	}
}

package blas

import (
	"math"
	"math/rand/v2"
	"testing"
)

// A packed operand gives the products Gemm gives, and with k = 0 Gemm
// scales C by beta.
func TestPackedEqualsGemm(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	const m, k, n = 5, 7, 9
	fill := func(l int) []float64 {
		v := make([]float64, l)
		for i := range v {
			v[i] = rnd.Float64()*2 - 1
		}
		return v
	}
	a, b := fill(m*k), fill(n*k) // b is [n, k]: the product uses bᵀ
	want, got := make([]float64, m*n), make([]float64, m*n)
	Gemm(false, true, m, n, k, 1, a, k, b, k, 0, want, n)
	var p PackedB[float64]
	p.Pack(true, k, n, b, k)
	p.Mul(m, 1, a, k, 0, got, n)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-13 {
			t.Fatalf("%s: packed [%d] = %v, Gemm %v", Name, i, got[i], want[i])
		}
	}
	c := []float64{1, 2, 3, 4}
	Gemm(false, false, 2, 2, 0, 1, nil, 0, nil, 0, 0.5, c, 2)
	if c[0] != 0.5 || c[3] != 2 {
		t.Fatalf("k = 0: C = %v, want C/2", c)
	}
}

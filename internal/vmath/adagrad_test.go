package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Adagrad32 updates the longest multiple-of-8 prefix as the scalar
// definition does (float32 multiply-adds through float64 fused ones, which
// differ from a single float32 rounding only at ties), with and without
// weight decay, and leaves the gradient and the tail alone.
func TestAdagrad32(t *testing.T) {
	if !useAsm {
		t.Skip("no AVX2/FMA: Adagrad32 updates nothing")
	}
	r := rand.New(rand.NewPCG(3, 4))
	fma := func(x, y, z float32) float32 { return float32(math.FMA(float64(x), float64(y), float64(z))) }
	for _, wd := range []float32{0, 1e-4, 0.3} {
		for _, n := range []int{0, 5, 8, 13, 64, 1001} {
			p, g, s := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range p {
				p[i], g[i], s[i] = float32(r.NormFloat64()), float32(r.NormFloat64()*0.1), float32(r.Float64())
			}
			wp, ws := append([]float32(nil), p...), append([]float32(nil), s...)
			g0 := append([]float32(nil), g...)
			const lr, eps = 0.05, 1e-10
			k := Adagrad32(p, g, s, wd, lr, eps)
			if k != n&^7 {
				t.Fatalf("n %d: updated %d", n, k)
			}
			for i := 0; i < k; i++ {
				gi := g0[i]
				if wd != 0 {
					gi = fma(wp[i], wd, gi)
				}
				ws[i] = fma(gi, gi, ws[i])
				std := float32(math.Sqrt(float64(ws[i]))) + eps
				wp[i] += float32(float32(-lr*gi) / std)
			}
			for i := range p {
				if math.Float32bits(p[i]) != math.Float32bits(wp[i]) || math.Float32bits(s[i]) != math.Float32bits(ws[i]) || g[i] != g0[i] {
					t.Fatalf("wd %v, n %d, element %d: p %v s %v g %v, want %v %v %v", wd, n, i, p[i], s[i], g[i], wp[i], ws[i], g0[i])
				}
			}
		}
	}
}

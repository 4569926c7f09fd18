package graph

import (
	"math"
	"testing"
)

// ulps32 returns |a − b| in units of b's last place.
func ulps32(a, b float32) float64 {
	if a == b {
		return 0
	}
	d := math.Abs(float64(a) - float64(b))
	u := math.Abs(float64(math.Nextafter32(b, float32(math.Inf(1)))) - float64(b))
	return d / u
}

func TestFastMath32(t *testing.T) {
	const n = 1 << 20
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = float32(-100 + 200*float64(i)/n)
		if i%2 == 1 {
			xs[i] = float32(-3 + 6*float64(i)/n)
		}
	}
	sig, th := make([]float32, n), make([]float32, n)
	sigmoidTo(sig, xs)
	tanhTo(th, xs)
	var we, ws, wt float64
	for i, x := range xs {
		if e := math.Exp(float64(x)); e > 0x1p-126 && e < math.MaxFloat32 {
			we = max(we, ulps32(exp32(x), float32(e)))
		}
		if s := sigmoid64(float64(x)); s > 0x1p-126 {
			ws = max(ws, ulps32(sig[i], float32(s)))
		}
		wt = max(wt, ulps32(th[i], float32(math.Tanh(float64(x)))))
	}
	t.Logf("worst: exp %.0f ulp, sigmoid %.0f ulp, tanh %.0f ulp", we, ws, wt)
	if we > 1 || ws > 2 || wt > 3 {
		t.Errorf("exp %.0f ulp (want ≤ 1), sigmoid %.0f (≤ 2), tanh %.0f (≤ 3)", we, ws, wt)
	}
	edge := []struct {
		got, want float32
	}{
		{exp32(100), float32(math.Inf(1))}, {exp32(-100), 0}, {exp32(0), 1}, {exp32(88.7), float32(math.Exp(float64(float32(88.7))))},
	}
	for i, e := range edge {
		if e.got != e.want {
			t.Errorf("edge case %d: %v, want %v", i, e.got, e.want)
		}
	}
	if v := exp32(float32(math.NaN())); v == v {
		t.Errorf("exp32(NaN) = %v", v)
	}
}

func BenchmarkActivations(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(i-2048) / 256
	}
	y := make([]float32, len(x))
	x64 := make([]float64, len(x))
	y64 := make([]float64, len(x))
	for i := range x {
		x64[i] = float64(x[i])
	}
	b.Run("sigmoid32", func(b *testing.B) {
		for range b.N {
			sigmoidTo(y, x)
		}
	})
	b.Run("tanh32", func(b *testing.B) {
		for range b.N {
			tanhTo(y, x)
		}
	})
	b.Run("sigmoid64", func(b *testing.B) {
		for range b.N {
			sigmoidTo(y64, x64)
		}
	})
	b.Run("tanh64", func(b *testing.B) {
		for range b.N {
			tanhTo(y64, x64)
		}
	})
}

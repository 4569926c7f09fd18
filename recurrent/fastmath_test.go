package recurrent

import (
	"math"
	"testing"

	"github.com/rnnkit/rnnkit/internal/vmath"
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
	var ws, wt float64
	for i, x := range xs {
		if s := vmath.Sigmoid64(float64(x)); s > 0x1p-126 {
			ws = max(ws, ulps32(sig[i], float32(s)))
		}
		wt = max(wt, ulps32(th[i], float32(math.Tanh(float64(x)))))
	}
	t.Logf("worst: sigmoid %.0f ulp, tanh %.0f ulp", ws, wt)
	if ws > 2 || wt > 3 {
		t.Errorf("sigmoid %.0f ulp (want ≤ 2), tanh %.0f (≤ 3)", ws, wt)
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

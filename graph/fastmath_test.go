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

func TestExp32(t *testing.T) {
	const n = 1 << 20
	var we float64
	for i := 0; i < n; i++ {
		x := float32(-100 + 200*float64(i)/n)
		if i%2 == 1 {
			x = float32(-3 + 6*float64(i)/n)
		}
		if e := math.Exp(float64(x)); e > 0x1p-126 && e < math.MaxFloat32 {
			we = max(we, ulps32(exp32(x), float32(e)))
		}
	}
	t.Logf("worst: exp %.0f ulp", we)
	if we > 1 {
		t.Errorf("exp %.0f ulp (want ≤ 1)", we)
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

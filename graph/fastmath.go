package graph

import "math"

// exp32 serves the loss's log-sum-exp one value at a time (within 1 ulp);
// the fused recurrent kernels' vector activations are in package recurrent
// (fastmath.go) and internal/vmath.

const (
	log2e32 = 1.44269504088896341
	ln2hi32 = 0.693359375              // ln 2, high bits: n·ln2hi is exact for |n| < 2⁹
	ln2lo32 = -2.12194440e-4           // ln 2 − ln2hi32
	expMax  = 88.72283905206835        // ln(MaxFloat32)
	expMin  = -87.33654475055310898657 // ln(2⁻¹²⁶), the smallest normal float32
)

// exp32 returns e^x in float32: x = n·ln 2 + r with |r| ≤ ln2/2, e^r by a
// degree-7 Taylor polynomial (truncation error below 2⁻²⁵), then the
// exponent n added to the bits. Results below the smallest normal float32
// flush to zero; above MaxFloat32 they are +Inf.
func exp32(x float32) float32 {
	if x > expMax {
		return float32(math.Inf(1))
	}
	if x < expMin {
		return 0
	}
	if x != x {
		return x
	}
	t := x * log2e32
	var e int32
	if t >= 0 {
		e = int32(t + 0.5)
	} else {
		e = int32(t - 0.5)
	}
	n := float32(e)
	r := x - n*ln2hi32 - n*ln2lo32
	p := float32(1.0 / 5040)
	p = p*r + 1.0/720
	p = p*r + 1.0/120
	p = p*r + 1.0/24
	p = p*r + 1.0/6
	p = p*r + 0.5
	p = p*r + 1
	p = p*r + 1
	if e < -126 { // x ≥ expMin gives n ≥ −126 except at the rounding edge
		return p * math.Float32frombits(uint32(e+127+64)<<23) * (1.0 / (1 << 64))
	}
	if e > 127 {
		return p * 2 * math.Float32frombits(uint32(e-1+127)<<23)
	}
	return p * math.Float32frombits(uint32(e+127)<<23)
}

package graph

import (
	"math"

	"github.com/rnnkit/rnnkit/internal/vmath"
)

// The element-wise activations of the fused recurrent kernels. float64
// values go through the standard library (the PyTorch fixtures are matched
// to 1e-9 in float64); float32 slices go to internal/vmath (AVX2/FMA
// assembly, 8 to 16 values at a time, within 2 (sigmoid) and 3 (tanh) ulp of
// the correctly rounded result), and exp32 below serves the loss's
// log-sum-exp one value at a time (within 1 ulp).

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

// sigmoidTo writes σ(src) into dst (the same length; they may alias).
func sigmoidTo[T float32 | float64](dst, src []T) {
	switch d := any(dst).(type) {
	case []float32:
		vmath.Sigmoid32(d, any(src).([]float32)[:len(d)])
	case []float64:
		s := any(src).([]float64)
		s = s[:len(d)]
		for i, v := range s {
			d[i] = sigmoid64(v)
		}
	}
}

// tanhTo writes tanh(src) into dst (the same length; they may alias).
func tanhTo[T float32 | float64](dst, src []T) {
	switch d := any(dst).(type) {
	case []float32:
		vmath.Tanh32(d, any(src).([]float32)[:len(d)])
	case []float64:
		s := any(src).([]float64)
		s = s[:len(d)]
		for i, v := range s {
			d[i] = math.Tanh(v)
		}
	}
}

// reluTo writes max(src, 0) into dst (the same length; they may alias).
func reluTo[T float32 | float64](dst, src []T) {
	src = src[:len(dst)]
	for i, v := range src {
		if v > 0 {
			dst[i] = v
		} else {
			dst[i] = 0
		}
	}
}

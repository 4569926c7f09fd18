package recurrent

import (
	"math"

	"github.com/rnnkit/rnnkit/internal/vmath"
)

// The element-wise activations of the fused recurrent kernels. float64
// values go through the standard library (the PyTorch fixtures are matched
// to 1e-9 in float64); float32 slices go to internal/vmath (AVX-512 or
// AVX2/FMA assembly, up to 32 values at a time, within 2 (sigmoid) and 3
// (tanh) ulp of the correctly rounded result).

// sigmoidTo writes σ(src) into dst (the same length; they may alias).
func sigmoidTo[T float32 | float64](dst, src []T) {
	switch d := any(dst).(type) {
	case []float32:
		vmath.Sigmoid32(d, any(src).([]float32)[:len(d)])
	case []float64:
		s := any(src).([]float64)
		s = s[:len(d)]
		for i, v := range s {
			d[i] = vmath.Sigmoid64(v)
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

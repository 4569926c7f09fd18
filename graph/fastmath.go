package graph

import "math"

// The element-wise activations of the fused recurrent kernels. float64
// values go through the standard library (the PyTorch fixtures are matched
// to 1e-9 in float64); float32 values use the single-precision polynomials
// below, within 1 (exp), 2 (sigmoid) and 3 (tanh) ulp of the correctly rounded result (tested against
// math.Exp and math.Tanh over the whole float32 range), and several times
// faster than converting to float64 and back.

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

// sigmoid32 returns 1/(1+e^−x) in float32.
func sigmoid32(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + exp32(-x))
	}
	e := exp32(x)
	return e / (1 + e)
}

// tanh32 returns tanh x in float32: a [7/6] Padé approximant near zero,
// where 1 − e^−2|x| would cancel, and (1 − e)/(1 + e) with e = e^−2|x|
// elsewhere.
func tanh32(x float32) float32 {
	a := x
	if a < 0 {
		a = -a
	}
	switch {
	case a < 0.625:
		x2 := x * x
		num := x * (135135 + x2*(17325+x2*(378+x2)))
		den := 135135 + x2*(62370+x2*(3150+x2*28))
		return num / den
	case a > 9.01: // tanh(9.01) rounds to 1 in float32
		if x > 0 {
			return 1
		}
		return -1
	}
	e := exp32(-2 * a)
	t := (1 - e) / (1 + e)
	if x < 0 {
		return -t
	}
	return t
}

// sigmoidTo writes σ(src) into dst (the same length; they may alias).
func sigmoidTo[T float32 | float64](dst, src []T) {
	switch d := any(dst).(type) {
	case []float32:
		s := any(src).([]float32)
		s = s[:len(d)]
		for i, v := range s {
			d[i] = sigmoid32(v)
		}
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
		s := any(src).([]float32)
		s = s[:len(d)]
		for i, v := range s {
			d[i] = tanh32(v)
		}
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

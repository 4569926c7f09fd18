package vmath

import "math"

// Constants shared by the portable code and (as 32-byte tables) the
// assembly.
const (
	log2e = 1.44269504088896341 // log₂ e
	// ln2hi is ln 2 rounded to 9 significant bits, so n·ln2hi is exact
	// for |n| < 2¹⁵ and x − n·ln2hi is exact near the reduction point.
	ln2hi = 0.693359375
	ln2lo = -2.12194440e-4 // ln 2 − ln2hi

	// Inputs of the exponential above expHi are clamped to it (e^expHi
	// overflows to +Inf). Below expMin, the smallest float32 not below
	// ln 2⁻¹²⁶ (0xc2aeac4f), e^x is subnormal and is flushed to zero. In
	// between, the exponent n stays in [−126, 129], so 2^⌊n/2⌋ and
	// 2^(n−⌊n/2⌋) are normal.
	expHi  = 89.0
	expMin = -87.33654022216796875

	// Taylor coefficients of e^r: 1/k! for k = 7 .. 2 (1/1! = 1/0! = 1).
	c7 = 1.0 / 5040
	c6 = 1.0 / 720
	c5 = 1.0 / 120
	c4 = 1.0 / 24
	c3 = 1.0 / 6
	c2 = 0.5

	// tanhSmall is the bound below which tanh uses the Padé approximant.
	tanhSmall = 0.625

	// roundMagic is 1.5·2²³: adding it to a float32 t with |t| < 2²²
	// rounds t to the nearest integer (ties to even) in the low mantissa
	// bits.
	roundMagic = 12582912.0
	roundBits  = 0x4B400000 // math.Float32bits(roundMagic)

	signBit = 0x80000000
)

// Sigmoid32 writes the logistic function 1/(1+e^−x) of each element of src
// into dst. dst and src must have the same length (Sigmoid32 panics
// otherwise); they may be the same slice but must not partially overlap.
// See the package documentation for accuracy and edge cases.
func Sigmoid32(dst, src []float32) {
	checkLen(dst, src)
	i := 0
	if useAsm {
		i = sigmoidAsm(dst, src)
	}
	sigmoidGo(dst[i:], src[i:])
}

// Tanh32 writes tanh x of each element x of src into dst. dst and src must
// have the same length (Tanh32 panics otherwise); they may be the same
// slice but must not partially overlap. See the package documentation for
// accuracy and edge cases.
func Tanh32(dst, src []float32) {
	checkLen(dst, src)
	i := 0
	if useAsm {
		i = tanhAsm(dst, src)
	}
	tanhGo(dst[i:], src[i:])
}

// Exp32 writes e^x of each element x of src into dst. dst and src must have
// the same length (Exp32 panics otherwise); they may be the same slice but
// must not partially overlap. See the package documentation for accuracy
// and edge cases.
func Exp32(dst, src []float32) {
	checkLen(dst, src)
	i := 0
	if useAsm {
		i = expAsm(dst, src)
	}
	expGo(dst[i:], src[i:])
}

// checkLen panics unless dst and src have the same length.
func checkLen(dst, src []float32) {
	if len(dst) != len(src) {
		panic("vmath: dst and src have different lengths")
	}
}

// sigmoidGo is the portable loop of Sigmoid32 (len(dst) == len(src)).
func sigmoidGo(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = sigmoid32(x)
	}
}

// tanhGo is the portable loop of Tanh32 (len(dst) == len(src)).
func tanhGo(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = tanh32(x)
	}
}

// expGo is the portable loop of Exp32 (len(dst) == len(src)).
func expGo(dst, src []float32) {
	src = src[:len(dst)]
	for i, x := range src {
		dst[i] = exp32(x)
	}
}

// exp32 returns e^x: the scalar version of the assembly kernel (see the
// package documentation). NaN propagates through the clamp (the min
// built-in returns NaN if an argument is NaN) and the arithmetic.
func exp32(x float32) float32 {
	if x < expMin {
		return 0
	}
	x = min(x, expHi)
	// n = round(x·log₂e); |x·log₂e| < 129, well inside the magic range.
	k := x*log2e + roundMagic
	n := k - roundMagic
	e := int32(math.Float32bits(k)) - roundBits
	r := x - n*ln2hi
	r -= n * ln2lo
	p := float32(c7)
	p = p*r + c6
	p = p*r + c5
	p = p*r + c4
	p = p*r + c3
	p = p*r + c2
	p = p*r + 1
	p = p*r + 1
	// 2ⁿ in two normal factors, so that n = 128 (x near ln MaxFloat32)
	// works; the second product overflows to +Inf where e^x does.
	e1 := e >> 1
	e2 := e - e1
	p *= math.Float32frombits(uint32(e1+127) << 23)
	return p * math.Float32frombits(uint32(e2+127)<<23)
}

// sigmoid32 returns 1/(1+e^−x) as num/(1+e) with e = e^−|x| and num = 1
// for x ≥ 0 (sign bit clear), num = e otherwise.
func sigmoid32(x float32) float32 {
	bits := math.Float32bits(x)
	e := exp32(math.Float32frombits(bits | signBit))
	num := float32(1)
	if bits&signBit != 0 {
		num = e
	}
	return num / (1 + e)
}

// tanh32 returns tanh x: the Padé approximant for |x| < tanhSmall,
// (1−e)/(1+e) with e = e^−2|x| otherwise, and the sign of x.
func tanh32(x float32) float32 {
	bits := math.Float32bits(x)
	a := math.Float32frombits(bits &^ signBit)
	var num, den float32
	if a < tanhSmall {
		a2 := a * a
		num = a * (135135 + a2*(17325+a2*(378+a2)))
		den = 135135 + a2*(62370+a2*(3150+a2*28))
	} else {
		e := exp32(-2 * a)
		num, den = 1-e, 1+e
	}
	return math.Float32frombits(math.Float32bits(num/den) | bits&signBit)
}

// Sigmoid64 is the float64 logistic function 1/(1+e^−x), computed without
// overflow for every x: the one graph.Sigmoid and the fused kernels use.
func Sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

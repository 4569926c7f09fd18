package optim

import "math"

// powInt returns xⁿ for a whole n ≥ 0 (a step count), correctly rounded but
// for values within about 2⁻⁹⁰ of a rounding boundary: exponentiation by
// squaring in double-double arithmetic. Python's float ** float (C's pow),
// which PyTorch's bias corrections use, is correctly rounded in practice;
// Go's math.Pow multiplies in plain float64 and is off by a few units in
// the last place after a few steps, which is enough to change float64
// parameters in their last bit.
func powInt(x, n float64) float64 {
	if n < 0 || n != math.Trunc(n) || n > 1<<53 {
		return math.Pow(x, n)
	}
	k := uint64(n)
	rh, rl := 1.0, 0.0
	bh, bl := x, 0.0
	for k > 0 {
		if k&1 == 1 {
			rh, rl = ddMul(rh, rl, bh, bl)
		}
		k >>= 1
		if k > 0 {
			bh, bl = ddMul(bh, bl, bh, bl)
		}
	}
	return rh + rl
}

// ddMul multiplies two double-double numbers (h + l, |l| ≤ ulp(h)/2).
func ddMul(ah, al, bh, bl float64) (h, l float64) {
	p := ah * bh
	e := math.FMA(ah, bh, -p) + (ah*bl + al*bh)
	h = p + e
	return h, e - (h - p)
}

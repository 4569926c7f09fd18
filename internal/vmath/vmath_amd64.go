//go:build amd64 && !purego

package vmath

import "github.com/rnnkit/rnnkit/internal/cpufeat"

// canRun says which paths this CPU and build can run (index kernelPath).
var canRun = [len(pathNames)]bool{true, cpufeat.AVX2FMA, cpufeat.AVX512}

// sigmoidAVX512, tanhAVX512 and expAVX512 are sigmoidAVX2, tanhAVX2 and
// expAVX2 for any n ≥ 1, with AVX-512 (vmath512_amd64.s): the same bits
// per element.
//
//go:noescape
func sigmoidAVX512(dst, src *float32, n int)

//go:noescape
func tanhAVX512(dst, src *float32, n int)

//go:noescape
func expAVX512(dst, src *float32, n int)

// sigmoidAVX2, tanhAVX2 and expAVX2 apply their function to the n
// elements at src and store the results at dst; n must be a positive
// multiple of 8. dst may equal src.
//
//go:noescape
func sigmoidAVX2(dst, src *float32, n int)

//go:noescape
func tanhAVX2(dst, src *float32, n int)

//go:noescape
func expAVX2(dst, src *float32, n int)

// sigmoidAsm runs sigmoidAVX512 on all of src (with use512), or else
// sigmoidAVX2 on the longest prefix of src whose length is a multiple of 8,
// and returns the number of elements done (len(dst) == len(src)).
func sigmoidAsm(dst, src []float32) int {
	if use512 {
		if n := len(src); n > 0 {
			_ = dst[n-1]
			sigmoidAVX512(&dst[0], &src[0], n)
		}
		return len(src)
	}
	n := len(src) &^ 7
	if n > 0 {
		_ = dst[n-1]
		sigmoidAVX2(&dst[0], &src[0], n)
	}
	return n
}

// tanhAsm is sigmoidAsm for tanhAVX2.
func tanhAsm(dst, src []float32) int {
	if use512 {
		if n := len(src); n > 0 {
			_ = dst[n-1]
			tanhAVX512(&dst[0], &src[0], n)
		}
		return len(src)
	}
	n := len(src) &^ 7
	if n > 0 {
		_ = dst[n-1]
		tanhAVX2(&dst[0], &src[0], n)
	}
	return n
}

// expAsm is sigmoidAsm for expAVX2.
func expAsm(dst, src []float32) int {
	if use512 {
		if n := len(src); n > 0 {
			_ = dst[n-1]
			expAVX512(&dst[0], &src[0], n)
		}
		return len(src)
	}
	n := len(src) &^ 7
	if n > 0 {
		_ = dst[n-1]
		expAVX2(&dst[0], &src[0], n)
	}
	return n
}

// lstmBackAVX2 runs LSTMBack32's row over n elements, n a positive
// multiple of 8, on the 13 slices whose first elements p points to (in
// LSTMBack32's argument order).
//
//go:noescape
func lstmBackAVX2(p *[13]*float32, n int)

// lstmBackAVX512 is lstmBackAVX2 for any n ≥ 1, with AVX-512
// (lstm512_amd64.s).
//
//go:noescape
func lstmBackAVX512(p *[13]*float32, n int)

// lstmBackAsm runs lstmBackAVX512 on the whole row of n ≥ 1 elements
// (with use512), or else lstmBackAVX2 on the longest prefix whose length
// is a multiple of 8, and returns the number of elements done; p points to
// the first elements of LSTMBack32's 13 slices of length n.
func lstmBackAsm(p *[13]*float32, n int) int {
	if use512 {
		lstmBackAVX512(p, n)
		return n
	}
	n &^= 7
	if n > 0 {
		lstmBackAVX2(p, n)
	}
	return n
}

// gruBackAVX2 runs GRUBack32's row over its first m elements, m a
// positive multiple of 8, on the slices of n elements whose first elements
// p points to (g, hn, hp, y, dh, dg, dgh, dt: GRUBack32's argument order;
// g, dg and dgh hold 3·n values, three blocks of n).
//
//go:noescape
func gruBackAVX2(p *[8]*float32, m, n int)

// gruBackAVX512 is gruBackAVX2 for any n ≥ 1, with AVX-512
// (gru512_amd64.s).
//
//go:noescape
func gruBackAVX512(p *[8]*float32, n int)

// gruBackAsm runs gruBackAVX512 on the whole row of n ≥ 1 elements (with
// use512), or else gruBackAVX2 on the longest prefix whose length is a
// multiple of 8, and returns the number of elements done.
func gruBackAsm(p *[8]*float32, n int) int {
	if use512 {
		gruBackAVX512(p, n)
		return n
	}
	m := n &^ 7
	if m > 0 {
		gruBackAVX2(p, m, n)
	}
	return m
}

// peepholeBackAVX2 runs PeepholeBack32's row over its first m elements, m
// a positive multiple of 8, on the slices of n elements whose first
// elements p points to (g, tc, cp, y, dh, dc, pi, pf, po, dg:
// PeepholeBack32's argument order; g and dg hold 4·n values, four blocks
// of n).
//
//go:noescape
func peepholeBackAVX2(p *[10]*float32, m, n int)

// peepholeBackAVX512 is peepholeBackAVX2 for any n ≥ 1, with AVX-512
// (peephole512_amd64.s).
//
//go:noescape
func peepholeBackAVX512(p *[10]*float32, n int)

// peepholeBackAsm is gruBackAsm for PeepholeBack32.
func peepholeBackAsm(p *[10]*float32, n int) int {
	if use512 {
		peepholeBackAVX512(p, n)
		return n
	}
	m := n &^ 7
	if m > 0 {
		peepholeBackAVX2(p, m, n)
	}
	return m
}

// adagradAVX2 updates n elements (n a positive multiple of 8; see
// Adagrad32); c holds wd, −lr and eps; decay ≠ 0 applies the weight decay.
//
//go:noescape
func adagradAVX2(param, grad, sum *float32, n int, c *[3]float32, decay int)

// adagradAsm runs adagradAVX2 on the longest prefix whose length is a
// multiple of 8 and returns that length.
func adagradAsm(p, g, s []float32, wd, lr, eps float32) int {
	n := len(p) &^ 7
	if n == 0 {
		return 0
	}
	_, _ = g[n-1], s[n-1]
	c := [3]float32{wd, -lr, eps}
	decay := 0
	if wd != 0 {
		decay = 1
	}
	adagradAVX2(&p[0], &g[0], &s[0], n, &c, decay)
	return n
}

// nonFinite32AVX2 reports whether any of the n values at x (n a positive
// multiple of 8) is NaN or infinite.
//
//go:noescape
func nonFinite32AVX2(x *float32, n int) bool

// nonFinite32Asm reports whether a block whose length is a positive
// multiple of 8 holds a NaN or an infinity.
func nonFinite32Asm(xs []float32) bool { return nonFinite32AVX2(&xs[0], len(xs)) }

// maxAVX512 writes into out the lane maxima of the n ≥ 1 elements at x,
// each lane starting at x[0] (vmath512_amd64.s).
//
//go:noescape
func maxAVX512(x *float32, n int, out *[16]float32)

// expShiftSumAVX512 writes e^(src[i] − m) into dst for the n ≥ 1
// elements and 16 float64 partial sums of them into out.
//
//go:noescape
func expShiftSumAVX512(dst, src *float32, n int, m float32, out *[16]float64)

// max512 is Max32 with maxAVX512 (len(x) ≥ 1).
func max512(x []float32) float32 {
	var out [16]float32
	maxAVX512(&x[0], len(x), &out)
	m := out[0]
	for _, v := range out[1:] {
		if v > m {
			m = v
		}
	}
	return m
}

// expShiftSum512 is ExpShiftSum32 with expShiftSumAVX512 (len(src) ≥ 1,
// len(dst) == len(src)).
func expShiftSum512(dst, src []float32, m float32) float64 {
	var out [16]float64
	_ = dst[len(src)-1]
	expShiftSumAVX512(&dst[0], &src[0], len(src), m, &out)
	s := 0.0
	for _, v := range out {
		s += v
	}
	return s
}

// gruPreAVX2, gruMidAVX2 and gruOutAVX2 run GRUForward32's element-wise
// passes (gruPreGo, gruMidGo and gruOutGo) over the first m elements, m a
// positive multiple of 8, of a row of n whose slices start at the pointers
// (grufwd_amd64.s); gates holds 3·n values, three blocks of n.
//
//go:noescape
func gruPreAVX2(gates, bias, gh, bhh, hn *float32, m, n int)

//go:noescape
func gruMidAVX2(gates, hn *float32, m, n int)

//go:noescape
func gruOutAVX2(gates, hp, h *float32, m, n int)

// peepPreAVX2, peepMidAVX2 and peepOutAVX2 run PeepholeForward32's
// element-wise passes (peepPreGo, peepMidGo and peepOutGo) over the first
// m elements, m a positive multiple of 8, of a row of n whose slices start
// at the pointers (peepfwd_amd64.s); gates holds 4·n values, four blocks
// of n.
//
//go:noescape
func peepPreAVX2(gates, bias, cp, pi, pf *float32, m, n int)

//go:noescape
func peepMidAVX2(gates, cp, po, c *float32, m, n int)

//go:noescape
func peepOutAVX2(gates, tc, h *float32, m, n int)

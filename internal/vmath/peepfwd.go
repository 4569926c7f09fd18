package vmath

// PeepholeForward32 computes one row of a peephole LSTM's forward step for
// float32. g holds the row's summed projections x·W_ihᵀ + h_{t−1}·W_hhᵀ
// of the gates i, f, g and o one after the other (len 4·H, H = len(cp)),
// bias = b_ih + b_hh (len 4·H), cp = c_{t−1} and pi, pf, po the peephole
// weights. It computes
//
//	i, f = σ((g + b) + p_i·c_{t−1}), σ((g + b) + p_f·c_{t−1})
//	       (Sigmoid32 over the 2·H values of i and f at once)
//	g    = tanh(g + b) (Tanh32)
//	c    = f·c_{t−1} + i·g
//	o    = σ((g_o + b_o) + p_o·c) (Sigmoid32)
//	tc   = tanh c (Tanh32)
//	h    = o·tc
//
// and writes i, f, g and o over g, c into c, tc into tc and h into h. The
// lengths must match (PeepholeForward32 panics otherwise) and c, tc and h
// must not overlap the other slices or each other. The activations are
// Sigmoid32 and Tanh32 on those blocks, so on every path the result has
// the bits of the scalar loops around those calls; the element-wise sums
// and products around them run 8 elements at a time in AVX2 assembly
// (avx2 and avx512 paths; the last 0–7 in Go) without fused
// multiply-adds, in the portable code's order.
func PeepholeForward32(g, bias, cp, pi, pf, po, c, tc, h []float32) {
	n := len(cp)
	if len(g) != 4*n || len(bias) != 4*n || len(pi) != n || len(pf) != n || len(po) != n || len(c) != n || len(tc) != n || len(h) != n {
		panic("vmath: PeepholeForward32: slices of mismatched lengths")
	}
	if n == 0 {
		return
	}
	m := 0
	if useAsm {
		m = n &^ 7
	}
	if m > 0 {
		peepPreAVX2(&g[0], &bias[0], &cp[0], &pi[0], &pf[0], m, n)
	}
	peepPreGo(g, bias, cp, pi, pf, m)
	Sigmoid32(g[:2*n], g[:2*n])
	Tanh32(g[2*n:3*n], g[2*n:3*n])
	if m > 0 {
		peepMidAVX2(&g[0], &cp[0], &po[0], &c[0], m, n)
	}
	peepMidGo(g, cp, po, c, m)
	Sigmoid32(g[3*n:], g[3*n:])
	Tanh32(tc, c)
	if m > 0 {
		peepOutAVX2(&g[0], &tc[0], &h[0], m, n)
	}
	peepOutGo(g, tc, h, m)
}

// peepPreGo adds the biases to the four gates and the peephole terms to i
// and f on elements [from, len(cp)). The float32 conversions keep the
// compiler from fusing a product into a sum (as it may with GOAMD64=v3),
// which would round differently from the assembly.
func peepPreGo(g, bias, cp, pi, pf []float32, from int) {
	n := len(cp)
	g, bias, pi, pf = g[:4*n], bias[:4*n], pi[:n], pf[:n]
	for j := from; j < n; j++ {
		v := cp[j]
		g[j] = (g[j] + bias[j]) + float32(pi[j]*v)
		g[n+j] = (g[n+j] + bias[n+j]) + float32(pf[j]*v)
		g[2*n+j] += bias[2*n+j]
		g[3*n+j] += bias[3*n+j]
	}
}

// peepMidGo writes c = f·c_{t−1} + i·g and adds p_o·c to o's
// pre-activation on elements [from, len(cp)).
func peepMidGo(g, cp, po, c []float32, from int) {
	n := len(cp)
	gi, gf, gg, og := g[:n], g[n:2*n], g[2*n:3*n], g[3*n:4*n]
	po, c = po[:n], c[:n]
	for j := from; j < n; j++ {
		cj := float32(gf[j]*cp[j]) + float32(gi[j]*gg[j])
		c[j] = cj
		og[j] += float32(po[j] * cj)
	}
}

// peepOutGo writes h = o·tc on elements [from, len(h)).
func peepOutGo(g, tc, h []float32, from int) {
	n := len(h)
	og, tc := g[3*n:4*n], tc[:n]
	for j := from; j < n; j++ {
		h[j] = og[j] * tc[j]
	}
}

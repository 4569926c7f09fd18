package vmath

// GRUForward32 computes one row of a GRU's forward step for float32. g
// holds the row's input projections x·W_ihᵀ of the gates r, z and n one
// after the other (len 3·H, H = len(hp)), bias = b_ih, gh the row's hidden
// projection h_{t−1}·W_hhᵀ, bhh = b_hh (all of len 3·H, in the order of g)
// and hp = h_{t−1}. With the r and z pre-activations
// (g + b_ih) + (gh + b_hh) and hn = gh_n + b_hn, it computes
//
//	r, z = σ(…) (Sigmoid32 over the 2·H values of r and z at once)
//	n    = tanh((g_n + b_in) + r·hn) (Tanh32 over the H values)
//	h    = (1 − z)·n + z·hp
//
// and writes r, z and n over g, hn into hn and h into h. The lengths must
// match (GRUForward32 panics otherwise) and hn and h must not overlap the
// other slices or each other. The activations are Sigmoid32 and Tanh32 on
// whole blocks, so on every path the result has the bits of the scalar
// loops around those two calls; the element-wise sums and products around
// them run 8 elements at a time in AVX2 assembly (avx2 and avx512 paths;
// the last 0–7 in Go) without fused multiply-adds, in the portable code's
// order.
func GRUForward32(g, bias, gh, bhh, hp, hn, h []float32) {
	n := len(hp)
	if len(g) != 3*n || len(bias) != 3*n || len(gh) != 3*n || len(bhh) != 3*n || len(hn) != n || len(h) != n {
		panic("vmath: GRUForward32: slices of mismatched lengths")
	}
	if n == 0 {
		return
	}
	m := 0
	if useAsm {
		m = n &^ 7
	}
	if m > 0 {
		gruPreAVX2(&g[0], &bias[0], &gh[0], &bhh[0], &hn[0], m, n)
	}
	gruPreGo(g, bias, gh, bhh, hn, m)
	Sigmoid32(g[:2*n], g[:2*n])
	if m > 0 {
		gruMidAVX2(&g[0], &hn[0], m, n)
	}
	gruMidGo(g, hn, m)
	Tanh32(g[2*n:], g[2*n:])
	if m > 0 {
		gruOutAVX2(&g[0], &hp[0], &h[0], m, n)
	}
	gruOutGo(g, hp, h, m)
}

// gruPreGo adds the biases and the hidden projection to the gates of
// elements [from, len(hn)) (GRUForward32's first pass).
func gruPreGo(g, bias, gh, bhh, hn []float32, from int) {
	n := len(hn)
	g, bias, gh, bhh = g[:3*n], bias[:3*n], gh[:3*n], bhh[:3*n]
	for j := from; j < n; j++ {
		g[j] = (g[j] + bias[j]) + (gh[j] + bhh[j])
		g[n+j] = (g[n+j] + bias[n+j]) + (gh[n+j] + bhh[n+j])
		g[2*n+j] += bias[2*n+j]
		hn[j] = gh[2*n+j] + bhh[2*n+j]
	}
}

// gruMidGo adds r·hn to the n gate's pre-activation on elements
// [from, len(hn)). The float32 conversion keeps the compiler from fusing
// the product into the sum (as it may with GOAMD64=v3), which would round
// differently from the assembly.
func gruMidGo(g, hn []float32, from int) {
	n := len(hn)
	gr, gn := g[:n], g[2*n:3*n]
	for j := from; j < n; j++ {
		gn[j] += float32(gr[j] * hn[j])
	}
}

// gruOutGo writes h = (1 − z)·n + z·hp on elements [from, len(h)).
func gruOutGo(g, hp, h []float32, from int) {
	n := len(h)
	gz, gn, hp := g[n:2*n], g[2*n:3*n], hp[:n]
	for j := from; j < n; j++ {
		z := gz[j]
		h[j] = float32((1-z)*gn[j]) + float32(z*hp[j])
	}
}

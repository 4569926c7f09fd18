package vmath

// PeepholeBack32 computes one row of a peephole LSTM's backward step for
// float32, element by element. g holds the row's gate activations i, f,
// g, o one after the other (len 4·H, H = len(tc)); tc = tanh(c_t), cp =
// c_{t−1}, y is the output's gradient, dh = ∂L/∂h_t from later steps, dc
// = ∂L/∂c_t, and pi, pf, po are the peephole weights; with
//
//	dht = dh + y
//	do  = ((dht·t)·o)·(1 − o)
//	dct = (dc + (dht·o)·(1 − t·t)) + do·p_o
//	di  = ((dct·g)·i)·(1 − i)
//	df  = ((dct·c_{t−1})·f)·(1 − f)
//	dgg = (dct·i)·(1 − g·g)
//	dc  ← dct·f + (di·p_i + df·p_f)   (∂L/∂c_{t−1})
//
// it writes the gate pre-activations' gradients di, df, dgg, do into dg
// (len 4·H, in the order of g). The lengths must match (PeepholeBack32
// panics otherwise); dg must not overlap the inputs, and dc, which is read
// and written, must not overlap the others. As for LSTMBack32, the
// assembly paths perform the portable code's operations in its order (no
// fused multiply-add): every path gives the same bits.
func PeepholeBack32(g, tc, cp, y, dh, dc, pi, pf, po, dg []float32) {
	n := len(tc)
	if len(g) != 4*n || len(cp) != n || len(y) != n || len(dh) != n || len(dc) != n ||
		len(pi) != n || len(pf) != n || len(po) != n || len(dg) != 4*n {
		panic("vmath: PeepholeBack32: slices of mismatched lengths")
	}
	if n == 0 {
		return
	}
	i := 0
	if useAsm {
		p := [10]*float32{&g[0], &tc[0], &cp[0], &y[0], &dh[0], &dc[0], &pi[0], &pf[0], &po[0], &dg[0]}
		if i = peepholeBackAsm(&p, n); i == n {
			return
		}
	}
	peepholeBackGo(g, tc, cp, y, dh, dc, pi, pf, po, dg, i)
}

// peepholeBackGo is the portable PeepholeBack32 on elements
// [from, len(tc)).
func peepholeBackGo(g, tc, cp, y, dh, dc, pi, pf, po, dg []float32, from int) {
	n := len(tc)
	gi, gf, gg, og := g[:n], g[n:2*n], g[2*n:3*n], g[3*n:4*n]
	di, df, dgg, do := dg[:n], dg[n:2*n], dg[2*n:3*n], dg[3*n:4*n]
	cp, y, dh, dc, pi, pf, po = cp[:n], y[:n], dh[:n], dc[:n], pi[:n], pf[:n], po[:n]
	// The float32 conversions keep the compiler from fusing products into
	// the next addition or subtraction (see gruBackGo).
	for j := from; j < n; j++ {
		t, i, f, c, o := tc[j], gi[j], gf[j], gg[j], og[j]
		dht := dh[j] + y[j]
		dpo := dht * t * o * (1 - o)
		dct := dc[j] + float32(float32(dht*o)*(1-float32(t*t))) + float32(dpo*po[j])
		dpi := dct * c * i * (1 - i)
		dpf := dct * cp[j] * f * (1 - f)
		dc[j] = float32(dct*f) + (float32(dpi*pi[j]) + float32(dpf*pf[j]))
		di[j], df[j], dgg[j], do[j] = dpi, dpf, dct*i*(1-float32(c*c)), dpo
	}
}

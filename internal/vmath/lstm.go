package vmath

// LSTMBack32 computes one row of an LSTM's backward step (no peepholes)
// for float32, element by element: given the gate activations i = gi,
// f = gf, g = gg, o = og, t = tanh(c_t) = tc, c_{t−1} = cp, the output's
// gradient y, dh = ∂L/∂h_t from later steps and dc = ∂L/∂c_t,
//
//	dht = dh + y
//	dct = dc + (dht·o)·(1 − t·t)
//	dc  ← dct·f                      (∂L/∂c_{t−1})
//	di  = ((dct·g)·i)·(1 − i)
//	df  = ((dct·c_{t−1})·f)·(1 − f)
//	dgg = (dct·i)·(1 − g·g)
//	do  = ((dht·t)·o)·(1 − o)
//
// the gradients of the four gate pre-activations. Every slice must have
// the same length (LSTMBack32 panics otherwise); the outputs must not
// overlap the inputs, except dc, which is read and written. With AVX2 the
// row runs 8 elements at a time (with AVX-512 16, the last 1–15 under an
// opmask), each operation rounded as in the portable code (no fused
// multiply-add), so the results are the same bits on every path.
func LSTMBack32(gi, gf, gg, og, tc, cp, y, dh, dc, di, df, dgg, do []float32) {
	n := len(gi)
	if len(gf) != n || len(gg) != n || len(og) != n || len(tc) != n || len(cp) != n || len(y) != n ||
		len(dh) != n || len(dc) != n || len(di) != n || len(df) != n || len(dgg) != n || len(do) != n {
		panic("vmath: LSTMBack32: slices of different lengths")
	}
	i := 0
	if useAsm && n > 0 {
		p := [13]*float32{&gi[0], &gf[0], &gg[0], &og[0], &tc[0], &cp[0], &y[0], &dh[0], &dc[0], &di[0], &df[0], &dgg[0], &do[0]}
		if i = lstmBackAsm(&p, n); i == n {
			return
		}
	}
	s := [13][]float32{gi[i:], gf[i:], gg[i:], og[i:], tc[i:], cp[i:], y[i:], dh[i:], dc[i:], di[i:], df[i:], dgg[i:], do[i:]}
	lstmBackGo(&s)
}

// lstmBackGo is the portable LSTMBack32.
func lstmBackGo(s *[13][]float32) {
	gi, gf, gg, og, tc, cp, y, dh, dc := s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]
	di, df, dgg, do := s[9], s[10], s[11], s[12]
	n := len(tc)
	gi, gf, gg, og, cp, y, dh, dc = gi[:n], gf[:n], gg[:n], og[:n], cp[:n], y[:n], dh[:n], dc[:n]
	di, df, dgg, do = di[:n], df[:n], dgg[:n], do[:n]
	// The float32 conversions keep the compiler from fusing a product into
	// the next addition (the Go spec allows it, as with GOAMD64=v3), which
	// would round differently from the assembly.
	for j, t := range tc {
		i, f, c, o := gi[j], gf[j], gg[j], og[j]
		dht := dh[j] + y[j]
		dct := dc[j] + float32(float32(dht*o)*(1-float32(t*t)))
		dc[j] = dct * f
		di[j] = dct * c * i * (1 - i)
		df[j] = dct * cp[j] * f * (1 - f)
		dgg[j] = dct * i * (1 - float32(c*c))
		do[j] = dht * t * o * (1 - o)
	}
}

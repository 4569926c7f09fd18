package vmath

// GRUBack32 computes one row of a GRU's backward step for float32, element
// by element. g holds the row's gate activations r, z and n one after the
// other (len 3·H, H = len(hn)), hn = W_hn h_{t−1} + b_hn, hp = h_{t−1}, y
// the output's gradient and dh = ∂L/∂h_t from later steps; with
//
//	dht = dh + y
//	dn  = (dht·(1 − z))·(1 − n·n)
//	dz  = ((dht·(hp − n))·z)·(1 − z)
//	dr  = ((dn·hn)·r)·(1 − r)
//
// it writes the gradients of the input-side pre-activations (dr, dz, dn)
// into dg, those of the hidden-side ones (dr, dz, dn·r) into dgh (both of
// len 3·H, in the order of g) and the direct path dht·z to h_{t−1} into
// dt. The lengths must match (GRUBack32 panics otherwise) and the outputs
// must not overlap the inputs or each other. The assembly paths run 8
// (AVX2) or 16 (AVX-512, the last 1–15 under an opmask) elements at a
// time with the portable code's operations in its order (no fused
// multiply-add), so every path gives the same bits.
func GRUBack32(g, hn, hp, y, dh, dg, dgh, dt []float32) {
	n := len(hn)
	if len(g) != 3*n || len(hp) != n || len(y) != n || len(dh) != n || len(dg) != 3*n || len(dgh) != 3*n || len(dt) != n {
		panic("vmath: GRUBack32: slices of mismatched lengths")
	}
	if n == 0 {
		return
	}
	i := 0
	if useAsm {
		p := [8]*float32{&g[0], &hn[0], &hp[0], &y[0], &dh[0], &dg[0], &dgh[0], &dt[0]}
		if i = gruBackAsm(&p, n); i == n {
			return
		}
	}
	gruBackGo(g, hn, hp, y, dh, dg, dgh, dt, i)
}

// gruBackGo is the portable GRUBack32 on elements [from, len(hn)).
func gruBackGo(g, hn, hp, y, dh, dg, dgh, dt []float32, from int) {
	n := len(hn)
	gr, gz, gn := g[:n], g[n:2*n], g[2*n:3*n]
	dr, dz, dn := dg[:n], dg[n:2*n], dg[2*n:3*n]
	hr, hz, hnn := dgh[:n], dgh[n:2*n], dgh[2*n:3*n]
	hp, y, dh, dt = hp[:n], y[:n], dh[:n], dt[:n]
	// The float32 conversion keeps the compiler from fusing n·n into the
	// subtraction (the Go spec allows it, as with GOAMD64=v3), which would
	// round differently from the assembly.
	for j := from; j < n; j++ {
		r, z, nn := gr[j], gz[j], gn[j]
		dht := dh[j] + y[j]
		dpn := dht * (1 - z) * (1 - float32(nn*nn))
		dpz := dht * (hp[j] - nn) * z * (1 - z)
		dpr := dpn * hn[j] * r * (1 - r)
		dr[j], dz[j], dn[j] = dpr, dpz, dpn
		hr[j], hz[j], hnn[j] = dpr, dpz, dpn*r
		dt[j] = dht * z
	}
}

package recurrent

import (
	"runtime"

	"github.com/rnnkit/rnnkit/internal/blas"
	"github.com/rnnkit/rnnkit/internal/parallel"
	"github.com/rnnkit/rnnkit/internal/vmath"
)

// The fused recurrent kernels: a whole sequence forward, and its whole
// backward pass, for the RNN, LSTM, peephole LSTM and GRU. Matrices are
// row-major and time-major: row t·B + b of x [T·B, I] is sequence b at
// step t. The input projections of all steps are one matrix product, the
// recurrent projection one product per step, and the gates one pass over
// memory per step, spread over the cores; the weight gradients are one
// product each over all steps. Buffers live in recWS and are reused from
// run to run; the work of a step is handed to the cores by a team of
// worker goroutines (internal/parallel).

// recDims are a fused recurrence's sizes and options.
type recDims struct {
	kind    Kind
	T, B    int // steps, batch
	I, H    int // input and hidden sizes
	reverse bool
	masked  bool
	noXGrad bool // X's gradient is not computed (Inputs.NoInputGrad)
}

// gates returns the number of gate blocks G in the weight matrices.
func (d recDims) gates() int {
	switch d.kind {
	case LSTM, Peephole:
		return 4
	case GRU:
		return 3
	}
	return 1
}

// lstm reports whether the recurrence carries a cell state.
func (d recDims) lstm() bool { return d.kind == LSTM || d.kind == Peephole }

// states returns the number of state tensors (2 for LSTMs).
func (d recDims) states() int {
	if d.lstm() {
		return 2
	}
	return 1
}

// step returns the time index of the s-th step processed.
func (d recDims) step(s int) int {
	if d.reverse {
		return d.T - 1 - s
	}
	return s
}

// recIn are the inputs of a fused recurrence, as slices of their values.
type recIn[T float32 | float64] struct {
	x, h0, c0          []T // [T·B, I], [B, H], [B, H] (c0: LSTMs only)
	wih, whh, bih, bhh []T // [G·H, I], [G·H, H], [G·H], [G·H]
	pi, pf, po         []T // [H] each: peephole LSTM only
	mask               []T // [T·B] of 0/1, or nil
}

// recWS is the workspace a forward pass leaves for its backward pass.
type recWS[T float32 | float64] struct {
	d     recDims
	gates []T             // [T·B, G·H]: input projections, then the gate activations
	hs    []T             // [T·B, H]: h after each step (kept through padding)
	cs    []T             // [T·B, H]: c after each step (LSTMs)
	tc    []T             // [T·B, H]: tanh(c) of each step's new c (LSTMs)
	hn    []T             // [T·B, H]: W_hn h + b_hn of each step (GRU)
	gh    []T             // [B, 3H]: a step's hidden projection (GRU)
	bias  []T             // [G·H]: b_ih + b_hh (RNN, LSTMs)
	dg    []T             // [T·B, G·H]: gradients of the gate pre-activations
	dgh   []T             // [T·B, 3H]: the same on the hidden side (GRU)
	dh    []T             // [B, H]: running ∂L/∂h
	dc    []T             // [B, H]: running ∂L/∂c (LSTMs)
	dtmp  []T             // [B, H]
	whh   blas.PackedB[T] // W_hh packed once per pass for the per-step products
	cols  [][][2]int      // per part of a split step product, its column range
	job   stepJob[T]      // the step being handed to the team
	mulFn func(int)       // w.mulPart, bound once
	rowFn func(int)       // w.rowPart, bound once
}

// grow returns s resized to n, reusing its memory when it is large enough.
func grow[T float32 | float64](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

func (w *recWS[T]) ensure(d recDims) {
	w.d = d
	tb, g, h := d.T*d.B, d.gates(), d.H
	w.gates = grow(w.gates, tb*g*h)
	w.hs = grow(w.hs, tb*h)
	if d.lstm() {
		w.cs = grow(w.cs, tb*h)
		w.tc = grow(w.tc, tb*h)
	}
	if d.kind == GRU {
		w.hn = grow(w.hn, tb*h)
		w.gh = grow(w.gh, d.B*3*h)
	}
	w.bias = grow(w.bias, g*h)
}

// prev returns the state (h or c) before the s-th processed step: s0 at
// the first step, else the state after the previous one.
func (w *recWS[T]) prev(all, s0 []T, s int) []T {
	if s == 0 {
		return s0
	}
	t := w.d.step(s - 1)
	n := w.d.B * w.d.H
	return all[t*n : (t+1)*n]
}

// recOutRows returns the number of rows of a fused recurrence's result:
// T·B outputs, then the final h, then (LSTMs) the final c.
func (d recDims) outRows() int { return (d.T + d.states()) * d.B }

// forward runs the recurrence and writes the result into out
// [(T + states)·B, H].
func (w *recWS[T]) forward(in recIn[T], out []T) {
	d := w.d
	B, H, G := d.B, d.H, d.gates()
	GH, tb := G*H, d.T*d.B
	// Input projections of all steps: x·W_ihᵀ, plus the biases.
	blas.Gemm(false, true, tb, GH, d.I, 1, in.x, d.I, in.wih, d.I, 0, w.gates, GH)
	if d.kind == GRU {
		copy(w.bias, in.bih) // b_hh is added with the hidden projection
	} else {
		for j := range w.bias {
			w.bias[j] = in.bih[j] + in.bhh[j]
		}
	}
	// The biases are added row by row in the gate passes, while the row is
	// in cache.
	w.whh.Pack(true, H, GH, in.whh, H) // h·W_hhᵀ at every step
	w.job.back, w.job.in, w.job.out = false, in, out
	for s := 0; s < d.T; s++ {
		t := d.step(s)
		hp := w.prev(w.hs, in.h0, s)
		j := &w.job
		j.t, j.hp, j.mask = t, hp, nil
		if in.mask != nil {
			j.mask = in.mask[t*B : (t+1)*B]
		}
		if d.lstm() {
			j.cp = w.prev(w.cs, in.c0, s)
		}
		if d.kind == GRU {
			w.stepMul(B, hp, H, 0, w.gh, GH, GH) // b_hn goes inside r ⊙ (…)
		} else {
			w.stepMul(B, hp, H, 1, w.gates[t*B*GH:(t+1)*B*GH], GH, GH)
		}
		w.rows()
	}
	w.job = stepJob[T]{} // the pass's slices are not kept alive
	// The final states after the outputs.
	last := d.step(d.T - 1)
	n := B * H
	copy(out[tb*H:tb*H+n], w.hs[last*n:(last+1)*n])
	if d.lstm() {
		copy(out[tb*H+n:tb*H+2*n], w.cs[last*n:(last+1)*n])
	}
}

// rnnRows computes rows [lo, hi) of step t of an Elman RNN.
func (w *recWS[T]) rnnRows(t int, hp, m, out []T, lo, hi int) {
	B, H := w.d.B, w.d.H
	for b := lo; b < hi; b++ {
		r := t*B + b
		a := w.gates[r*H : (r+1)*H]
		h := w.hs[r*H : (r+1)*H]
		o := out[r*H : (r+1)*H]
		if m != nil && m[b] == 0 {
			copy(h, hp[b*H:(b+1)*H])
			clear(o)
			continue
		}
		addTo(a, w.bias)
		if w.d.kind == ReLU {
			reluTo(a, a)
		} else {
			tanhTo(a, a)
		}
		copy(h, a)
		copy(o, a)
	}
}

// lstmRows computes rows [lo, hi) of step t of an LSTM without
// peepholes (peepRows does the peephole LSTM). The gate block of a row
// becomes i, f, g, o.
func (w *recWS[T]) lstmRows(t int, hp, cp, m, out []T, lo, hi int) {
	B, H := w.d.B, w.d.H
	for b := lo; b < hi; b++ {
		r := t*B + b
		g := w.gates[r*4*H : (r+1)*4*H]
		c := w.cs[r*H : (r+1)*H]
		h := w.hs[r*H : (r+1)*H]
		tc := w.tc[r*H : (r+1)*H]
		o := out[r*H : (r+1)*H]
		cpb := cp[b*H : (b+1)*H]
		if m != nil && m[b] == 0 {
			copy(c, cpb)
			copy(h, hp[b*H:(b+1)*H])
			clear(o)
			continue
		}
		addTo(g, w.bias)
		gi, gf, gg, og := g[:H], g[H:2*H], g[2*H:3*H], g[3*H:4*H]
		sigmoidTo(g[:2*H], g[:2*H])
		tanhTo(gg, gg)
		for j, v := range cpb {
			c[j] = gf[j]*v + gi[j]*gg[j]
		}
		sigmoidTo(og, og)
		tanhTo(tc, c)
		for j, v := range tc {
			h[j] = og[j] * v
		}
		copy(o, h)
	}
}

// peepRows computes rows [lo, hi) of step t of a peephole LSTM. The gate
// block of a row becomes i, f, g, o.
func (w *recWS[T]) peepRows(in recIn[T], t int, hp, cp, m, out []T, lo, hi int) {
	B, H := w.d.B, w.d.H
	pi, pf, po := in.pi[:H], in.pf[:H], in.po[:H]
	for b := lo; b < hi; b++ {
		r := t*B + b
		c := w.cs[r*H : (r+1)*H]
		h := w.hs[r*H : (r+1)*H]
		o := out[r*H : (r+1)*H]
		cpb := cp[b*H : (b+1)*H]
		if m != nil && m[b] == 0 {
			copy(c, cpb)
			copy(h, hp[b*H:(b+1)*H])
			clear(o)
			continue
		}
		g := w.gates[r*4*H : (r+1)*4*H]
		peepholeRow(g, w.bias, cpb, pi, pf, po, c, w.tc[r*H:(r+1)*H], h)
		copy(o, h)
	}
}

// peepholeRow is one row of peepRows for the peephole LSTM: g holds the
// row's gate pre-activations i, f, g, o without their bias and becomes
// the activations, bias = b_ih + b_hh, cp = c_{t−1}, pi, pf, po the
// peephole weights; c, tc and h receive c_t, tanh c_t and h_t. float32
// rows go to internal/vmath.PeepholeForward32, which computes the same
// operations in the same order (Sigmoid32 and Tanh32 on the same blocks).
func peepholeRow[T float32 | float64](g, bias, cp, pi, pf, po, c, tc, h []T) {
	if g32, ok := any(g).([]float32); ok {
		f := func(s []T) []float32 { return any(s).([]float32) }
		vmath.PeepholeForward32(g32, f(bias), f(cp), f(pi), f(pf), f(po), f(c), f(tc), f(h))
		return
	}
	H := len(cp)
	addTo(g, bias)
	gi, gf, gg, og := g[:H], g[H:2*H], g[2*H:3*H], g[3*H:4*H]
	for j, v := range cp {
		gi[j] += pi[j] * v
		gf[j] += pf[j] * v
	}
	sigmoidTo(g[:2*H], g[:2*H])
	tanhTo(gg, gg)
	for j, v := range cp {
		c[j] = gf[j]*v + gi[j]*gg[j]
	}
	for j, v := range c {
		og[j] += po[j] * v
	}
	sigmoidTo(og, og)
	tanhTo(tc, c)
	for j, v := range tc {
		h[j] = og[j] * v
	}
}

// gruRows computes rows [lo, hi) of step t of a GRU; w.gh holds the step's
// h·W_hhᵀ. The gate block of a row becomes r, z, n.
func (w *recWS[T]) gruRows(in recIn[T], t int, hp, m, out []T, lo, hi int) {
	B, H := w.d.B, w.d.H
	for b := lo; b < hi; b++ {
		r := t*B + b
		h := w.hs[r*H : (r+1)*H]
		o := out[r*H : (r+1)*H]
		hpb := hp[b*H : (b+1)*H]
		if m != nil && m[b] == 0 {
			copy(h, hpb)
			clear(o)
			continue
		}
		g := w.gates[r*3*H : (r+1)*3*H]
		gruRow(g, w.bias, w.gh[b*3*H:(b+1)*3*H], in.bhh, hpb, w.hn[r*H:(r+1)*H], h)
		copy(o, h)
	}
}

// gruRow is one row of gruRows: g holds the row's input projections of
// the gates r, z, n and becomes their activations, bias = b_ih, gh the
// row's hidden projection, bhh = b_hh, hp = h_{t−1}; hn receives
// W_hn h_{t−1} + b_hn and h the new state. float32 rows go to
// internal/vmath.GRUForward32, which computes the same operations in the
// same order (Sigmoid32 and Tanh32 on the same blocks).
func gruRow[T float32 | float64](g, bias, gh, bhh, hp, hn, h []T) {
	if g32, ok := any(g).([]float32); ok {
		f := func(s []T) []float32 { return any(s).([]float32) }
		vmath.GRUForward32(g32, f(bias), f(gh), f(bhh), f(hp), f(hn), f(h))
		return
	}
	H := len(hp)
	bhr, bhz, bhn := bhh[:H], bhh[H:2*H], bhh[2*H:]
	addTo(g, bias)
	gr, gz, gn := g[:H], g[H:2*H], g[2*H:]
	for j := range gr {
		gr[j] += gh[j] + bhr[j]
		gz[j] += gh[H+j] + bhz[j]
		hn[j] = gh[2*H+j] + bhn[j]
	}
	sigmoidTo(g[:2*H], g[:2*H])
	for j, v := range hn {
		gn[j] += gr[j] * v
	}
	tanhTo(gn, gn)
	for j, v := range hp {
		z := gz[j]
		h[j] = (1-z)*gn[j] + z*v
	}
}

// recGrads are the gradients of a fused recurrence's inputs, slices of one
// packed result in the order of recIn (mask excluded).
type recGrads[T float32 | float64] struct {
	x, h0, c0          []T
	wih, whh, bih, bhh []T
	pi, pf, po         []T
}

// gradLayout returns the sizes of the packed gradient's parts, in order:
// x, h0, [c0], W_ih, W_hh, b_ih, b_hh, [p_i, p_f, p_o].
func (d recDims) gradLayout() []int {
	GH := d.gates() * d.H
	sizes := []int{d.B * d.H}
	if !d.noXGrad {
		sizes = append([]int{d.T * d.B * d.I}, sizes...)
	}
	if d.lstm() {
		sizes = append(sizes, d.B*d.H)
	}
	sizes = append(sizes, GH*d.I, GH*d.H, GH, GH)
	if d.kind == Peephole {
		sizes = append(sizes, d.H, d.H, d.H)
	}
	return sizes
}

// split cuts a packed gradient into its parts.
func splitGrads[T float32 | float64](d recDims, packed []T) recGrads[T] {
	var parts [][]T
	off := 0
	for _, n := range d.gradLayout() {
		parts = append(parts, packed[off:off+n])
		off += n
	}
	var g recGrads[T]
	if !d.noXGrad {
		g.x, parts = parts[0], parts[1:]
	}
	g.h0, parts = parts[0], parts[1:]
	if d.lstm() {
		g.c0, parts = parts[0], parts[1:]
	}
	g.wih, g.whh, g.bih, g.bhh = parts[0], parts[1], parts[2], parts[3]
	if d.kind == Peephole {
		g.pi, g.pf, g.po = parts[4], parts[5], parts[6]
	}
	return g
}

// backward computes every input's gradient from dOut, the gradient of the
// forward result (outputs, final h, final c), into grads. It needs the
// workspace of the forward pass over the same inputs.
func (w *recWS[T]) backward(in recIn[T], dOut []T, grads recGrads[T]) {
	d := w.d
	B, H, G := d.B, d.H, d.gates()
	GH, tb, n := G*H, d.T*d.B, d.B*d.H
	w.dg = grow(w.dg, tb*GH)
	if d.kind == GRU {
		w.dgh = grow(w.dgh, tb*GH)
	}
	w.dh = grow(w.dh, n)
	w.dtmp = grow(w.dtmp, n)
	copy(w.dh, dOut[tb*H:tb*H+n])
	if d.lstm() {
		w.dc = grow(w.dc, n)
		copy(w.dc, dOut[tb*H+n:tb*H+2*n])
	}
	w.whh.Pack(false, GH, H, in.whh, H) // dG_t·W_hh at every step
	w.job.back, w.job.in = true, in
	for s := d.T - 1; s >= 0; s-- {
		t := d.step(s)
		j := &w.job
		j.t, j.mask, j.dy = t, nil, dOut[t*n:(t+1)*n]
		if in.mask != nil {
			j.mask = in.mask[t*B : (t+1)*B]
		}
		switch d.kind {
		case GRU:
			j.hp = w.prev(w.hs, in.h0, s)
		case LSTM, Peephole:
			j.cp = w.prev(w.cs, in.c0, s)
		}
		w.rows()
		hidden := w.dg[t*B*GH : (t+1)*B*GH] // the gradient on the hidden side
		if d.kind == GRU {
			hidden = w.dgh[t*B*GH : (t+1)*B*GH]
		}
		w.stepMul(B, hidden, GH, 1, w.dtmp, H, H)
		w.dh, w.dtmp = w.dtmp, w.dh
	}
	w.job = stepJob[T]{}
	copy(grads.h0, w.dh)
	if d.lstm() {
		copy(grads.c0, w.dc)
	}
	dgh := w.dg // the gradient on the hidden side
	if d.kind == GRU {
		dgh = w.dgh
	}
	if grads.x != nil {
		blas.Gemm(false, false, tb, d.I, GH, 1, w.dg, GH, in.wih, d.I, 0, grads.x, d.I)
	}
	blas.Gemm(true, false, GH, d.I, tb, 1, w.dg, GH, in.x, d.I, 0, grads.wih, d.I)
	// ∂W_hh = Σ_t dg_tᵀ·h_{t−1}: the states before steps 2…T are the states
	// after steps 1…T−1, contiguous in hs; the first step saw h0.
	first, rest, prevs := 0, n*GH/H, 0 // offsets into dg (rows of the later steps) and hs
	if d.reverse {
		first, rest, prevs = (d.T-1)*B*GH, 0, n
	}
	blas.Gemm(true, false, GH, H, (d.T-1)*B, 1, dgh[rest:], GH, w.hs[prevs:], H, 0, grads.whh, H)
	blas.Gemm(true, false, GH, H, B, 1, dgh[first:], GH, in.h0, H, 1, grads.whh, H)
	colSums(w.dg, GH, grads.bih)
	if d.kind == GRU {
		colSums(dgh, GH, grads.bhh)
	} else {
		copy(grads.bhh, grads.bih) // the two biases are added together
	}
	if d.kind == Peephole {
		clear(grads.pi)
		clear(grads.pf)
		clear(grads.po)
		for s := 0; s < d.T; s++ {
			t := d.step(s)
			cp := w.prev(w.cs, in.c0, s)
			for b := 0; b < B; b++ {
				r := t*B + b
				dg := w.dg[r*GH : (r+1)*GH]
				c, cpb := w.cs[r*H:(r+1)*H], cp[b*H:(b+1)*H]
				for j := 0; j < H; j++ {
					grads.pi[j] += dg[j] * cpb[j]
					grads.pf[j] += dg[H+j] * cpb[j]
					grads.po[j] += dg[3*H+j] * c[j]
				}
			}
		}
	}
}

// addTo adds v to dst element by element (len(v) ≥ len(dst)).
func addTo[T float32 | float64](dst, v []T) {
	v = v[:len(dst)]
	for j, x := range v {
		dst[j] += x
	}
}

// colSums writes the column sums of the row-major matrix a (n columns) into dst.
func colSums[T float32 | float64](a []T, n int, dst []T) {
	clear(dst)
	for off := 0; off < len(a); off += n {
		for j, v := range a[off : off+n] {
			dst[j] += v
		}
	}
}

// rnnBack computes rows [lo, hi) of step t's backward pass of an Elman RNN:
// the gate gradient into dg and dtmp primed for dtmp += dg·W_hh.
func (w *recWS[T]) rnnBack(t int, m, dy []T, lo, hi int) {
	B, H := w.d.B, w.d.H
	relu := w.d.kind == ReLU
	for b := lo; b < hi; b++ {
		r := t*B + b
		dg := w.dg[r*H : (r+1)*H]
		dh, dt := w.dh[b*H:(b+1)*H], w.dtmp[b*H:(b+1)*H]
		if m != nil && m[b] == 0 {
			clear(dg)
			copy(dt, dh)
			continue
		}
		a := w.gates[r*H : (r+1)*H]
		y := dy[b*H : (b+1)*H]
		for j, v := range a {
			g := dh[j] + y[j]
			if relu {
				if v <= 0 {
					g = 0
				}
			} else {
				g *= 1 - v*v
			}
			dg[j] = g
		}
		clear(dt)
	}
}

// lstmBack computes rows [lo, hi) of step t's backward pass of an LSTM:
// ∂ of the four gate pre-activations into dg, ∂c_{t−1} into dc, and dtmp
// primed for dtmp += dg·W_hh.
func (w *recWS[T]) lstmBack(in recIn[T], t int, cp, m, dy []T, lo, hi int) {
	B, H := w.d.B, w.d.H
	peep := w.d.kind == Peephole
	for b := lo; b < hi; b++ {
		r := t*B + b
		dg := w.dg[r*4*H : (r+1)*4*H]
		dh, dc, dt := w.dh[b*H:(b+1)*H], w.dc[b*H:(b+1)*H], w.dtmp[b*H:(b+1)*H]
		if m != nil && m[b] == 0 {
			clear(dg)
			copy(dt, dh)
			continue
		}
		g := w.gates[r*4*H : (r+1)*4*H]
		lstmBackRow(g, dg, w.tc[r*H:(r+1)*H], cp[b*H:(b+1)*H], dy[b*H:(b+1)*H], dh, dc, in, peep)
		clear(dt)
	}
}

// lstmBackRow is one row of lstmBack: g holds the gates i, f, g, o of the
// row and dg receives their pre-activation gradients; tc = tanh(c_t), cp =
// c_{t−1}, y = ∂L/∂out_t, dh = ∂L/∂h_t from later steps, dc = ∂L/∂c_t on
// entry and ∂L/∂c_{t−1} on return. The slices are cut to one length so the
// compiler drops the bounds checks of the loop.
func lstmBackRow[T float32 | float64](g, dg, tc, cp, y, dh, dc []T, in recIn[T], peep bool) {
	H := len(tc)
	gi, gf, gg, og := g[:H], g[H:2*H], g[2*H:3*H], g[3*H:4*H]
	di, df, dgg, do := dg[:H], dg[H:2*H], dg[2*H:3*H], dg[3*H:4*H]
	cp, y, dh, dc = cp[:H], y[:H], dh[:H], dc[:H]
	if peep {
		if t32, ok := any(tc).([]float32); ok {
			// The same arithmetic, 8 or 16 elements at a time (internal/vmath).
			f := func(s []T) []float32 { return any(s).([]float32) }
			vmath.PeepholeBack32(f(g), t32, f(cp), f(y), f(dh), f(dc), f(in.pi[:H]), f(in.pf[:H]), f(in.po[:H]), f(dg))
			return
		}
		pi, pf, po := in.pi[:H], in.pf[:H], in.po[:H]
		for j, t := range tc {
			i, f, c, o := gi[j], gf[j], gg[j], og[j]
			dht := dh[j] + y[j]
			dpo := dht * t * o * (1 - o)
			dct := dc[j] + dht*o*(1-t*t) + dpo*po[j]
			dpi := dct * c * i * (1 - i)
			dpf := dct * cp[j] * f * (1 - f)
			dc[j] = dct*f + (dpi*pi[j] + dpf*pf[j])
			di[j], df[j], dgg[j], do[j] = dpi, dpf, dct*i*(1-c*c), dpo
		}
		return
	}
	if t32, ok := any(tc).([]float32); ok {
		// The same arithmetic, 8 or 16 elements at a time (internal/vmath).
		f := func(s []T) []float32 { return any(s).([]float32) }
		vmath.LSTMBack32(f(gi), f(gf), f(gg), f(og), t32, f(cp), f(y), f(dh), f(dc), f(di), f(df), f(dgg), f(do))
		return
	}
	for j, t := range tc {
		i, f, c, o := gi[j], gf[j], gg[j], og[j]
		dht := dh[j] + y[j]
		dct := dc[j] + dht*o*(1-t*t)
		dc[j] = dct * f
		di[j] = dct * c * i * (1 - i)
		df[j] = dct * cp[j] * f * (1 - f)
		dgg[j] = dct * i * (1 - c*c)
		do[j] = dht * t * o * (1 - o)
	}
}

// gruBack computes rows [lo, hi) of step t's backward pass of a GRU: the
// input-side gate gradients into dg, the hidden-side ones into dgh, and
// dtmp primed with the direct path z ⊙ ∂h_t for dtmp += dgh·W_hh.
func (w *recWS[T]) gruBack(t int, hp, m, dy []T, lo, hi int) {
	B, H := w.d.B, w.d.H
	for b := lo; b < hi; b++ {
		r := t*B + b
		dg := w.dg[r*3*H : (r+1)*3*H]
		dgh := w.dgh[r*3*H : (r+1)*3*H]
		dh, dt := w.dh[b*H:(b+1)*H], w.dtmp[b*H:(b+1)*H]
		if m != nil && m[b] == 0 {
			clear(dg)
			clear(dgh)
			copy(dt, dh)
			continue
		}
		g := w.gates[r*3*H : (r+1)*3*H]
		gruBackRow(g, w.hn[r*H:(r+1)*H], hp[b*H:(b+1)*H], dy[b*H:(b+1)*H], dh, dg, dgh, dt)
	}
}

// gruBackRow is one row of gruBack: g holds the gates r, z, n of the row,
// hn = W_hn h_{t−1} + b_hn, hp = h_{t−1}, y = ∂L/∂out_t and dh = ∂L/∂h_t
// from later steps; dg and dgh receive the input- and hidden-side
// pre-activation gradients, dt the direct path dht·z. float32 rows go to
// internal/vmath.GRUBack32, which computes the same operations in the same
// order.
func gruBackRow[T float32 | float64](g, hn, hp, y, dh, dg, dgh, dt []T) {
	if g32, ok := any(g).([]float32); ok {
		f := func(s []T) []float32 { return any(s).([]float32) }
		vmath.GRUBack32(g32, f(hn), f(hp), f(y), f(dh), f(dg), f(dgh), f(dt))
		return
	}
	H := len(hn)
	gr, gz, gn := g[:H], g[H:2*H], g[2*H:3*H]
	dr, dz, dn := dg[:H], dg[H:2*H], dg[2*H:3*H]
	hr, hz, hnn := dgh[:H], dgh[H:2*H], dgh[2*H:3*H]
	hp, y, dh, dt = hp[:H], y[:H], dh[:H], dt[:H]
	for j, v := range hn {
		rr, z, nn := gr[j], gz[j], gn[j]
		dht := dh[j] + y[j]
		dpn := dht * (1 - z) * (1 - nn*nn)
		dpz := dht * (hp[j] - nn) * z * (1 - z)
		dpr := dpn * v * rr * (1 - rr)
		dr[j], dz[j], dn[j] = dpr, dpz, dpn
		hr[j], hz[j], hnn[j] = dpr, dpz, dpn*rr
		dt[j] = dht * z
	}
}

// splitSteps enables stepMul's split (tests turn it off to compare).
var splitSteps = true

// splitWork is the size (multiply-adds) of a step's recurrent product from
// which stepMul splits it over the cores; internal/gemm splits a product of
// this size over two goroutines.
const splitWork = 2 << 20

// stepMul computes C = A·op(W_hh) + beta·C for the packed W_hh of the pass
// (A m×k, C m×n): a step's recurrent product. A large one is split by
// columns over the team's workers (one part per core, each a range of
// columns starting at a multiple of the kernel's panel width), which hand
// off in well under a microsecond where goroutines take tens; the columns
// are bit-identical to the unsplit product's.
func (w *recWS[T]) stepMul(m int, a []T, k int, beta T, c []T, n, ldc int) {
	parts := runtime.GOMAXPROCS(0)
	al := 0
	if splitSteps && parts > 1 && m*n*k >= splitWork {
		al = w.whh.ColAlign(m)
	}
	per := 0
	if al > 0 {
		per = ((n+parts-1)/parts + al - 1) / al * al
	}
	if per == 0 || per >= n {
		w.whh.Mul(m, 1, a, k, beta, c, ldc)
		return
	}
	parts = (n + per - 1) / per
	for len(w.cols) < parts {
		w.cols = append(w.cols, make([][2]int, 1))
	}
	j := &w.job
	j.m, j.k, j.n, j.ldc, j.per, j.a, j.c, j.beta = m, k, n, ldc, per, a, c, beta
	w.bind()
	parallel.Run(parts, w.mulFn)
	j.a, j.c = nil, nil
}

// stepJob holds what a step hands to the team: the arguments of its
// recurrent product, split by columns (mulPart), and of its element-wise
// pass, split by rows (rowPart). Those methods are bound to func values
// once per workspace (bind), so a hand-off allocates nothing.
type stepJob[T float32 | float64] struct {
	m, k, n, ldc, per int // C [m, n] = A [m, k]·op(W_hh) + beta·C; per columns a part
	a, c              []T
	beta              T
	back              bool // the element-wise pass is the backward one
	in                recIn[T]
	t, chunk          int // the step; rows a part
	hp, cp, mask      []T // h_{t−1}, c_{t−1}, the step's mask
	out, dy           []T // forward: the outputs; backward: ∂L/∂out_t
}

// bind makes the func values of mulPart and rowPart, once.
func (w *recWS[T]) bind() {
	if w.mulFn == nil {
		w.mulFn, w.rowFn = w.mulPart, w.rowPart
	}
}

// mulPart computes columns [p·per, (p+1)·per) of the step's product. The
// ranges pass mulCols's checks (aligned, in range, alpha 1, and colAlign >
// 0 only for products it computes), so every part runs.
func (w *recWS[T]) mulPart(p int) {
	j := &w.job
	cols := w.cols[p][:1]
	cols[0] = [2]int{p * j.per, min((p+1)*j.per, j.n)}
	w.whh.MulCols(j.m, 1, j.a, j.k, cols, j.beta, j.c, j.ldc)
}

// rowPart runs rows [p·chunk, (p+1)·chunk) of the step's element-wise
// pass.
func (w *recWS[T]) rowPart(p int) {
	j := &w.job
	lo := p * j.chunk
	hi := min(lo+j.chunk, w.d.B)
	switch {
	case w.d.kind == GRU && !j.back:
		w.gruRows(j.in, j.t, j.hp, j.mask, j.out, lo, hi)
	case w.d.kind == GRU:
		w.gruBack(j.t, j.hp, j.mask, j.dy, lo, hi)
	case w.d.kind == Peephole && !j.back:
		w.peepRows(j.in, j.t, j.hp, j.cp, j.mask, j.out, lo, hi)
	case w.d.lstm() && !j.back:
		w.lstmRows(j.t, j.hp, j.cp, j.mask, j.out, lo, hi)
	case w.d.lstm():
		w.lstmBack(j.in, j.t, j.cp, j.mask, j.dy, lo, hi)
	case !j.back:
		w.rnnRows(j.t, j.hp, j.mask, j.out, lo, hi)
	default:
		w.rnnBack(j.t, j.mask, j.dy, lo, hi)
	}
}

// rows runs the step's element-wise pass, its rows split over the team
// when the pass is large enough to be worth it (as parallel.For decides).
func (w *recWS[T]) rows() {
	B := w.d.B
	parts := min(runtime.GOMAXPROCS(0), B)
	if parts <= 1 || B*8*w.d.gates()*w.d.H < 1<<15 {
		w.job.chunk = B
		w.rowPart(0)
		return
	}
	w.job.chunk = (B + parts - 1) / parts
	w.bind()
	parallel.Run((B+w.job.chunk-1)/w.job.chunk, w.rowFn)
}

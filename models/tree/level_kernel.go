package tree

import (
	"math"

	"github.com/rnnkit/rnnkit/internal/gemm"
	"github.com/rnnkit/rnnkit/internal/vmath"
)

// schedule is the level-by-level plan of one batch shape: every internal
// node of one height goes through one matrix product. A level's input
// matrix A has one row per node: [h_L; h_R] for the binary models, Σ_k h_k
// for the child-sum Tree-LSTM, whose forget gates read K, the stacked h
// of every child of the level's nodes.
type schedule struct {
	kind       Kind
	N, L, E, H int
	leaves     []int   // leaf j → its node
	levels     [][]int // levels[ℓ−1]: the internal nodes of height ℓ, in batch order
	kids       [][]int // per node, its children
	aOff, kOff []int   // per level, its first row in the stacked A and K
	aRows      int     // internal nodes
	kRows      int     // children of internal nodes (child-sum)
	maxRows    int     // the most rows any level (or the leaves) has
}

func newSchedule(c Config, b *Batch) *schedule {
	s := &schedule{kind: c.Kind, N: b.Len(), E: c.embed(), H: c.Hidden, kids: b.Children}
	s.leaves = b.Leaves()
	s.L = len(s.leaves)
	hs := b.Heights()
	for i, h := range hs {
		if h == 0 {
			continue
		}
		for len(s.levels) < h {
			s.levels = append(s.levels, nil)
		}
		s.levels[h-1] = append(s.levels[h-1], i)
	}
	s.maxRows = s.L
	for _, nodes := range s.levels {
		s.aOff = append(s.aOff, s.aRows)
		s.kOff = append(s.kOff, s.kRows)
		s.aRows += len(nodes)
		m := 0
		for _, n := range nodes {
			m += len(s.kids[n])
		}
		s.kRows += m
		s.maxRows = max(s.maxRows, len(nodes), m)
	}
	return s
}

// aw is the width of a level's input A.
func (s *schedule) aw() int {
	if s.kind == ChildSumLSTM {
		return s.H
	}
	return 2 * s.H
}

// states is the number of [N, H] blocks the op returns: h, and c.
func (s *schedule) states() int {
	if s.kind.LSTM() {
		return 2
	}
	return 1
}

// internal reports whether the batch has a node with children (else the
// composition weights are not inputs of the op).
func (s *schedule) internal() bool { return s.aRows > 0 }

// levelIn names the op's input values.
type levelIn[T float32 | float64] struct {
	x          []T // [L, E]: the leaves' word vectors
	w, b       []T // RNN: W.weight [H, 2H], W.bias [H]
	wiou, biou []T // W_iou.weight [3H, E], b_iou [1, 3H]
	uiou       []T // U_iou.weight [3H, aw]
	uf, ufb    []T // U_f.weight [kH, kH], U_f.bias [kH]
}

// levelWS is the workspace of one fused node, shared by its forward and
// backward passes.
type levelWS[T float32 | float64] struct {
	s            *schedule
	h, c, tc     []T // [N, H]: h, c, tanh c
	gates        []T // [N, 3H]: σ(i), σ(o), tanh(u)
	f            []T // [N, H]: the forget gate a node's parent puts on its cell (0 at roots)
	a, k         []T // stacked level inputs A [aRows, aw] and K [kRows, H]
	pre, fpre    []T // per-level scratch
	dh, dc       []T // backward: [N, H]
	dpre, df, da []T // backward: every level's pre-activation gradients (rows as in A, and K for df), scratch
	// wp, up: the composition weights (W or U_iou, and U_f) as the level
	// products' B operands, packed once a pass instead of once a level
	wp, up packed[T]
	ran    bool
}

// packed is a B operand packed once for the products of every level
// (internal/gemm: the products are those of mm, bit for bit). Products
// small enough for gemm's unpacked loops (a level of one or two nodes)
// read B as it is.
type packed[T float32 | float64] struct {
	p32  *gemm.PackedB32
	p64  *gemm.PackedB64
	tB   bool
	k, n int
	b    []T
	ldb  int
}

// pack packs op(B), k×n, for mm.
func (p *packed[T]) pack(tB bool, k, n int, b []T, ldb int) {
	p.tB, p.k, p.n, p.b, p.ldb = tB, k, n, b, ldb
	switch b := any(b).(type) {
	case []float32:
		p.p32 = gemm.PackB32(p.p32, tB, k, n, b, ldb)
	case []float64:
		p.p64 = gemm.PackB64(p.p64, tB, k, n, b, ldb)
	}
}

// mm is C = A·op(B) + beta·C with the packed op(B) (A m×k, not transposed).
func (p *packed[T]) mm(m int, a []T, lda int, beta T, c []T, ldc int) {
	if !gemm.PackedColsOK(m, p.n, p.k) {
		mm(false, p.tB, m, p.n, p.k, a, lda, p.b, p.ldb, beta, c, ldc)
		return
	}
	switch a := any(a).(type) {
	case []float32:
		gemm.SgemmPacked(false, m, 1, a, lda, p.p32, float32(beta), any(c).([]float32), ldc)
	case []float64:
		gemm.DgemmPacked(false, m, 1, a, lda, p.p64, float64(beta), any(c).([]float64), ldc)
	}
}

// ensure sizes the workspace for s, reusing its buffers where they are
// large enough (a level-batched graph gets a new schedule per batch).
func (w *levelWS[T]) ensure(s *schedule) {
	if w.s == s {
		return
	}
	N, H, R := s.N, s.H, s.maxRows
	w.s, w.ran = s, false
	for _, b := range []struct {
		p *[]T
		n int
	}{
		{&w.h, N * H}, {&w.c, N * H}, {&w.tc, N * H}, {&w.gates, N * 3 * H}, {&w.f, N * H},
		{&w.a, s.aRows * s.aw()}, {&w.k, s.kRows * H}, {&w.pre, R * 3 * H}, {&w.fpre, R * 2 * H},
		{&w.dh, N * H}, {&w.dc, N * H}, {&w.dpre, max(R, s.aRows) * 3 * H}, {&w.df, max(R*2*H, s.aRows*2*H, s.kRows*H)},
		{&w.da, R * max(2*H, s.E)},
	} {
		if cap(*b.p) < b.n {
			*b.p = make([]T, b.n)
		}
		*b.p = (*b.p)[:b.n]
	}
}

// mm is C = op(A)·op(B) + beta·C, row-major, for either float type.
func mm[T float32 | float64](tA, tB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	switch a := any(a).(type) {
	case []float64:
		gemm.Dgemm(tA, tB, m, n, k, 1, a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	case []float32:
		gemm.Sgemm(tA, tB, m, n, k, 1, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	}
}

// sigmoidAdd sets dst[j] = σ(a[j] + b[j]), tanhAdd dst[j] = tanh(a[j] +
// b[j]) and tanhTo dst[j] = tanh(a[j]); float32 through internal/vmath's
// vector code (within a few units in the last place), float64 through
// package math.
func sigmoidAdd[T float32 | float64](dst, a, b []T) {
	if d, ok := any(dst).([]float32); ok {
		addTo(d, any(a).([]float32), any(b).([]float32))
		vmath.Sigmoid32(d, d)
		return
	}
	for j := range dst {
		dst[j] = sigm(a[j] + b[j])
	}
}

func tanhAdd[T float32 | float64](dst, a, b []T) {
	if d, ok := any(dst).([]float32); ok {
		addTo(d, any(a).([]float32), any(b).([]float32))
		vmath.Tanh32(d, d)
		return
	}
	for j := range dst {
		dst[j] = tanh(a[j] + b[j])
	}
}

func tanhTo[T float32 | float64](dst, a []T) {
	if d, ok := any(dst).([]float32); ok {
		vmath.Tanh32(d, any(a).([]float32))
		return
	}
	for j := range dst {
		dst[j] = tanh(a[j])
	}
}

func addTo(dst, a, b []float32) {
	b = b[:len(dst)]
	a = a[:len(dst)]
	for j := range dst {
		dst[j] = a[j] + b[j]
	}
}

func sigm[T float32 | float64](x T) T {
	if x >= 0 {
		return T(1 / (1 + math.Exp(-float64(x))))
	}
	e := math.Exp(float64(x))
	return T(e / (1 + e))
}

func tanh[T float32 | float64](x T) T { return T(math.Tanh(float64(x))) }

// colSums adds the column sums of a [rows, n] matrix into dst [n].
func colSums[T float32 | float64](a []T, rows, n int, dst []T) {
	for r := 0; r < rows; r++ {
		for j, v := range a[r*n : (r+1)*n] {
			dst[j] += v
		}
	}
}

// row returns row i of an [·, n] matrix.
func row[T float32 | float64](a []T, i, n int) []T { return a[i*n : (i+1)*n] }

// forward computes every node, level by level, into out [states·N, H]
// (h, then c).
func (w *levelWS[T]) forward(in levelIn[T], out []T) {
	s := w.s
	H, aw := s.H, s.aw()
	clear(w.f)
	// Leaves: one product for all of them.
	if s.kind == RNN {
		for j, n := range s.leaves {
			copy(row(w.h, n, H), row(in.x, j, H))
		}
	} else {
		mm(false, true, s.L, 3*H, s.E, in.x, s.E, in.wiou, s.E, 0, w.pre, 3*H)
		for j, n := range s.leaves {
			w.lstmNode(n, row(w.pre, j, 3*H), in.biou, nil)
		}
	}
	if len(s.levels) > 0 {
		switch s.kind {
		case RNN:
			w.wp.pack(true, aw, H, in.w, aw)
		case BinaryLSTM:
			w.wp.pack(true, aw, 3*H, in.uiou, aw)
			w.up.pack(true, aw, 2*H, in.uf, aw)
		case ChildSumLSTM:
			w.wp.pack(true, aw, 3*H, in.uiou, aw)
			w.up.pack(true, H, H, in.uf, H)
		}
	}
	for lv, nodes := range s.levels {
		n := len(nodes)
		a := w.a[s.aOff[lv]*aw : (s.aOff[lv]+n)*aw]
		for r, node := range nodes {
			ar := row(a, r, aw)
			kids := s.kids[node]
			if s.kind == ChildSumLSTM {
				copy(ar, row(w.h, kids[0], H))
				for _, k := range kids[1:] {
					for j, v := range row(w.h, k, H) {
						ar[j] += v
					}
				}
			} else {
				copy(ar[:H], row(w.h, kids[0], H))
				copy(ar[H:], row(w.h, kids[1], H))
			}
		}
		switch s.kind {
		case RNN:
			w.wp.mm(n, a, aw, 0, w.pre, H)
			for r, node := range nodes {
				tanhAdd(row(w.h, node, H), row(w.pre, r, H), in.b)
			}
		case BinaryLSTM:
			w.wp.mm(n, a, aw, 0, w.pre, 3*H)
			w.up.mm(n, a, aw, 0, w.fpre, 2*H)
			for r, node := range nodes {
				fp := row(w.fpre, r, 2*H)
				for side, k := range s.kids[node] {
					sigmoidAdd(row(w.f, k, H), fp[side*H:(side+1)*H], in.ufb[side*H:(side+1)*H])
				}
				w.lstmNode(node, row(w.pre, r, 3*H), in.biou, s.kids[node])
			}
		case ChildSumLSTM:
			w.wp.mm(n, a, aw, 0, w.pre, 3*H)
			kmat := w.k[s.kOff[lv]*H:]
			q := 0
			for _, node := range nodes {
				for _, k := range s.kids[node] {
					copy(row(kmat, q, H), row(w.h, k, H))
					q++
				}
			}
			w.up.mm(q, kmat, H, 0, w.fpre, H)
			q = 0
			for r, node := range nodes {
				for _, k := range s.kids[node] {
					sigmoidAdd(row(w.f, k, H), row(w.fpre, q, H), in.ufb)
					q++
				}
				w.lstmNode(node, row(w.pre, r, 3*H), in.biou, s.kids[node])
			}
		}
	}
	copy(out, w.h)
	if s.kind.LSTM() {
		copy(out[s.N*H:], w.c)
	}
	w.ran = true
}

// lstmNode computes node n's gates, c and h from its pre-activations (b_iou
// not yet added) and its children's cells and forget gates.
func (w *levelWS[T]) lstmNode(n int, pre, biou []T, kids []int) {
	H := w.s.H
	g := row(w.gates, n, 3*H)
	c, tc, h := row(w.c, n, H), row(w.tc, n, H), row(w.h, n, H)
	sigmoidAdd(g[:2*H], pre[:2*H], biou[:2*H]) // i, o
	tanhAdd(g[2*H:], pre[2*H:3*H], biou[2*H:3*H])
	for j := 0; j < H; j++ {
		c[j] = g[j] * g[2*H+j]
	}
	for _, k := range kids {
		f, ck := row(w.f, k, H), row(w.c, k, H)
		for j := range c {
			c[j] += f[j] * ck[j]
		}
	}
	tanhTo(tc, c)
	for j := range c {
		h[j] = g[H+j] * tc[j]
	}
}

// levelGrads names the parts of the packed gradient, in input order.
type levelGrads[T float32 | float64] struct {
	x, w, b, wiou, biou, uiou, uf, ufb []T
}

// backward computes every input's gradient from dOut [states·N, H], top
// level first: a node's dh and dc are complete once every level above it
// has sent its share down.
func (w *levelWS[T]) backward(in levelIn[T], dOut []T, gr levelGrads[T]) {
	s := w.s
	N, H, aw := s.N, s.H, s.aw()
	copy(w.dh, dOut[:N*H])
	if s.kind.LSTM() {
		copy(w.dc, dOut[N*H:2*N*H])
	}
	if len(s.levels) > 0 {
		switch s.kind {
		case RNN:
			w.wp.pack(false, H, aw, in.w, aw)
		case BinaryLSTM:
			w.wp.pack(false, 3*H, aw, in.uiou, aw)
			w.up.pack(false, 2*H, aw, in.uf, aw)
		case ChildSumLSTM:
			w.wp.pack(false, 3*H, H, in.uiou, H)
			w.up.pack(false, H, H, in.uf, H)
		}
	}
	for lv := len(s.levels) - 1; lv >= 0; lv-- {
		nodes := s.levels[lv]
		n := len(nodes)
		// This level's rows of the gradients of the pre-activations, kept
		// for the weight gradients after the loop.
		dpre, df := w.dpre[s.aOff[lv]*3*H:], w.df[s.aOff[lv]*2*H:]
		switch s.kind {
		case RNN:
			dz := w.dpre[s.aOff[lv]*H : (s.aOff[lv]+n)*H]
			for r, node := range nodes {
				h, dh, d := row(w.h, node, H), row(w.dh, node, H), row(dz, r, H)
				for j := range d {
					d[j] = dh[j] * (1 - h[j]*h[j])
				}
			}
			w.wp.mm(n, dz, H, 0, w.da, aw)
		case BinaryLSTM:
			for r, node := range nodes {
				w.lstmBack(node, row(dpre, r, 3*H))
				dcc := row(w.dc, node, H)
				for side, k := range s.kids[node] {
					f, ck, dck, df := row(w.f, k, H), row(w.c, k, H), row(w.dc, k, H), row(df, r, 2*H)[side*H:]
					for j := 0; j < H; j++ {
						df[j] = dcc[j] * ck[j] * f[j] * (1 - f[j])
						dck[j] += dcc[j] * f[j]
					}
				}
			}
			w.wp.mm(n, dpre, 3*H, 0, w.da, aw)
			w.up.mm(n, df, 2*H, 1, w.da, aw)
		case ChildSumLSTM:
			df = w.df[s.kOff[lv]*H:]
			q := 0
			for r, node := range nodes {
				w.lstmBack(node, row(dpre, r, 3*H))
				dcc := row(w.dc, node, H)
				for _, k := range s.kids[node] {
					f, ck, dck, df := row(w.f, k, H), row(w.c, k, H), row(w.dc, k, H), row(df, q, H)
					for j := 0; j < H; j++ {
						df[j] = dcc[j] * ck[j] * f[j] * (1 - f[j])
						dck[j] += dcc[j] * f[j]
					}
					q++
				}
			}
			w.wp.mm(n, dpre, 3*H, 0, w.da, H)
			// Each child gets its parent's dA (through the sum) and, through
			// its own forget gate, its row of dF·U_f.
			dk := w.fpre[:q*H] // the forward's scratch is free now
			w.up.mm(q, df, H, 0, dk, H)
			q = 0
			for r, node := range nodes {
				da := row(w.da, r, H)
				for _, k := range s.kids[node] {
					dh, dkr := row(w.dh, k, H), row(dk, q, H)
					for j := range dh {
						dh[j] += da[j] + dkr[j]
					}
					q++
				}
			}
			continue
		}
		for r, node := range nodes { // binary: dA's halves to the children
			da := row(w.da, r, aw)
			for side, k := range s.kids[node] {
				dh := row(w.dh, k, H)
				for j := range dh {
					dh[j] += da[side*H+j]
				}
			}
		}
	}
	// The composition's weight gradients: one product over every level's
	// rows (dPreᵀ·A, dFᵀ·A or dFᵀ·K), not one per level.
	R, K := s.aRows, s.kRows
	switch {
	case R == 0: // no internal nodes: the composition is not an input
	case s.kind == RNN:
		mm(true, false, H, aw, R, w.dpre, H, w.a, aw, 1, gr.w, aw)
		colSums(w.dpre, R, H, gr.b)
	case s.kind == BinaryLSTM:
		mm(true, false, 3*H, aw, R, w.dpre, 3*H, w.a, aw, 1, gr.uiou, aw)
		mm(true, false, 2*H, aw, R, w.df, 2*H, w.a, aw, 1, gr.uf, aw)
		colSums(w.dpre, R, 3*H, gr.biou)
		colSums(w.df, R, 2*H, gr.ufb)
	case s.kind == ChildSumLSTM:
		mm(true, false, 3*H, H, R, w.dpre, 3*H, w.a, H, 1, gr.uiou, H)
		mm(true, false, H, H, K, w.df, H, w.k, H, 1, gr.uf, H)
		colSums(w.dpre, R, 3*H, gr.biou)
		colSums(w.df, K, H, gr.ufb)
	}
	// Leaves.
	if s.kind == RNN {
		for j, n := range s.leaves {
			copy(row(gr.x, j, H), row(w.dh, n, H))
		}
		return
	}
	for j, n := range s.leaves {
		w.lstmBack(n, row(w.dpre, j, 3*H))
	}
	mm(false, false, s.L, s.E, 3*H, w.dpre, 3*H, in.wiou, s.E, 0, gr.x, s.E)
	mm(true, false, 3*H, s.E, s.L, w.dpre, 3*H, in.x, s.E, 1, gr.wiou, s.E)
	colSums(w.dpre, s.L, 3*H, gr.biou)
}

// lstmBack turns node n's dh and dc into its gates' pre-activation
// gradients dpre [3H] and leaves in dc the gradient of its cell, complete:
// dc += dh·o·(1 − tanh²c).
func (w *levelWS[T]) lstmBack(n int, dpre []T) {
	H := w.s.H
	g, tc := row(w.gates, n, 3*H), row(w.tc, n, H)
	dh, dc := row(w.dh, n, H), row(w.dc, n, H)
	for j := 0; j < H; j++ {
		i, o, u := g[j], g[H+j], g[2*H+j]
		dc[j] += dh[j] * o * (1 - tc[j]*tc[j])
		dpre[j] = dc[j] * u * i * (1 - i)
		dpre[H+j] = dh[j] * tc[j] * o * (1 - o)
		dpre[2*H+j] = dc[j] * i * (1 - u*u)
	}
}

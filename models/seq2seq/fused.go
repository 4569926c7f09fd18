package seq2seq

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/internal/gemm"
	"github.com/rnnkit/rnnkit/internal/parallel"
	"github.com/rnnkit/rnnkit/internal/vmath"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/internal/rows"
)

// The fused decoder step: for float32 LSTM decoders, plain or with dot or
// general attention, a Generator steps the decoder with a hand-written
// float32 step (matrix products through internal/gemm, σ and tanh through
// internal/vmath) instead of the one-step graph. It computes what the graph
// step computes (stepGraph, through bound.step), to float32 rounding:
//
//	pre   = (emb[tok]·W_ihᵀ + b_ih) + (h·W_hhᵀ + b_hh)   per layer (the layer below's h for x above layer 0)
//	i, f, g, o = σ, σ, tanh, σ of pre's four blocks
//	c'    = f⊙c + i⊙g,  h' = o⊙tanh(c')
//	α     = softmax over the source's real positions of h'·e_j (or (h'·W_a)·e_j)
//	out   = [h'; Σ_j α_j e_j] (Attention) or h' (Plain)
//	logits = out·fcᵀ + fc.bias
//
// Its state keeps the encoder's outputs once per source, in float32, and
// maps each row to its source: beam search's Select reorders the rows'
// h and c and that map, never the memory. TestFusedStepMatchesGraph checks
// the logits, states and attention weights against the graph step, and the
// decoders' answers for equality.

// fusedNet is a snapshot of the decoder's weights, laid out for the fused
// step. It is taken by Encode and shared, read-only, by every state that
// descends from that Encode.
type fusedNet struct {
	fusedLSTM // the decoder
	V, E      int
	attention bool
	general   bool
	wa        *gemm.PackedB32 // General: W_a [H, H]
	fc        *gemm.PackedB32 // fcᵀ [outWidth, V]
	fcb       []float32
}

// fusedLSTM is a stack of LSTM layers' weights, laid out for the fused
// step; layer 0 reads the embedding.
type fusedLSTM struct {
	L, H int
	tab  []float32         // [V, 4H]: embedding·W_ih0ᵀ + b_ih0, rounded as the graph rounds x·W_ihᵀ + b_ih
	whh  []*gemm.PackedB32 // per layer: W_hhᵀ [H, 4H]
	bhh  [][]float32       // per layer [4H]
	wih  []*gemm.PackedB32 // per layer (nil for layer 0): W_ihᵀ [H, 4H]
	bih  [][]float32
}

// fusedMemory is the encoder's output per source, [B, T, H] (source b's
// step j at (b·T + j)·H), and each source's length.
type fusedMemory struct {
	T    int
	data []float32
	lens []int
}

// fusedState is a State's content on the fused path: the decoder's state
// tensors in the order of State.tensors (top layer first; h, c), each
// [·, H], and each row's source. Select copies no state: row r's state is
// the tensors' row at[r] (row r itself when at is nil), gathered by the
// next step.
type fusedState struct {
	net *fusedNet
	mem *fusedMemory // nil for Plain
	src []int32      // row → source (read-only, may be shared)
	at  []int32      // row → its row of st; nil: the identity
	st  [][]float32  // read-only, may be shared
}

// row returns the row of f.st that holds row r's state.
func (f *fusedState) row(r int) int {
	if f.at == nil {
		return r
	}
	return int(f.at[r])
}

// fusedScratch are a Generator's buffers for the fused step.
type fusedScratch struct {
	pre, gi, q, out, lg []float32
	h, c                []float32 // the previous state's rows, gathered
}

func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// fusable reports whether the fused step computes this model: float32
// parameters, LSTM cells, a plain decoder or dot or general attention.
func (gen *Generator) fusable() bool {
	c := gen.cfg
	if gen.graphOnly || gen.ps.Dtype() != tensor.Float32 || c.Cell != cells.LSTMKind {
		return false
	}
	switch c.decoder() {
	case Plain:
		return true
	case Attention:
		return c.score() == Dot || c.score() == General
	}
	return false
}

// param returns the float32 data of parameter name, checking its size.
func (gen *Generator) param(name string, size int) ([]float32, error) {
	t, ok := gen.ps.Get(name)
	if !ok {
		return nil, errors.Errorf("seq2seq: no parameter %s", name)
	}
	d, ok := t.Data().([]float32)
	if !ok || len(d) != size {
		return nil, errors.Errorf("seq2seq: parameter %s has shape %v, want %d float32 values", name, t.Shape(), size)
	}
	return d, nil
}

// fusedWeights takes the snapshot of the decoder's weights.
func (gen *Generator) fusedWeights() (*fusedNet, error) {
	c := gen.cfg
	H, V := c.Hidden, c.Vocab
	n := &fusedNet{V: V, E: c.Embed, attention: c.decoder() == Attention}
	n.general = n.attention && c.score() == General
	dec, err := gen.fusedStack("decoder.")
	if err != nil {
		return nil, err
	}
	n.fusedLSTM = *dec
	if n.general {
		wa, err := gen.param("attn.weight", H*H)
		if err != nil {
			return nil, err
		}
		n.wa = gemm.PackB32(nil, false, H, H, wa, H)
	}
	W := c.outWidth()
	fc, err := gen.param("fc.weight", V*W)
	if err != nil {
		return nil, err
	}
	fcb, err := gen.param("fc.bias", V)
	if err != nil {
		return nil, err
	}
	n.fc = gemm.PackB32(nil, true, W, V, fc, W)
	n.fcb = append([]float32(nil), fcb...)
	return n, nil
}

// fusedStack takes the snapshot of the weights of the LSTM stack whose
// parameters' names start with prefix ("encoder." or "decoder.").
func (gen *Generator) fusedStack(prefix string) (*fusedLSTM, error) {
	c := gen.cfg
	H, V, E := c.Hidden, c.Vocab, c.Embed
	G := 4 * H
	n := &fusedLSTM{L: c.layers(), H: H}
	emb, err := gen.param(c.embedConfig().ParamName(), V*E)
	if err != nil {
		return nil, err
	}
	for k, cc := range c.cellConfigs(prefix) {
		ps := cc.Params()
		in := H
		if k == 0 {
			in = E
		}
		if len(ps) != 4 || cc.InputSize != in {
			return nil, errors.Errorf("seq2seq: %slayer %d is not a plain LSTM", prefix, k)
		}
		wih, err := gen.param(ps[0].Name, G*cc.InputSize)
		if err != nil {
			return nil, err
		}
		whh, err := gen.param(ps[1].Name, G*H)
		if err != nil {
			return nil, err
		}
		bih, err := gen.param(ps[2].Name, G)
		if err != nil {
			return nil, err
		}
		bhh, err := gen.param(ps[3].Name, G)
		if err != nil {
			return nil, err
		}
		n.whh = append(n.whh, gemm.PackB32(nil, true, H, G, whh, H))
		n.bhh = append(n.bhh, append([]float32(nil), bhh...))
		if k == 0 {
			n.tab = make([]float32, V*G)
			gemm.Sgemm(false, true, V, G, E, 1, emb, E, wih, E, 0, n.tab, G)
			for v := 0; v < V; v++ {
				row := n.tab[v*G : (v+1)*G]
				for j := range row {
					row[j] += bih[j]
				}
			}
			n.wih = append(n.wih, nil)
			n.bih = append(n.bih, nil)
			continue
		}
		n.wih = append(n.wih, gemm.PackB32(nil, true, H, G, wih, H))
		n.bih = append(n.bih, append([]float32(nil), bih...))
	}
	return n, nil
}

// layer steps layer k of the stack for m rows: the previous state hPrev,
// cPrev, the input tokens (layer 0) or the layer below's h (in), into h
// and c; pre and gi are scratch of m·4H.
func (l *fusedLSTM) layer(k, m int, tokens []int, in, hPrev, cPrev, h, c, pre, gi []float32) {
	H, G := l.H, 4*l.H
	mulRows(m, hPrev, H, l.whh[k], pre, G)
	bhh := l.bhh[k]
	if k == 0 {
		for i, tok := range tokens[:m] {
			row, x := pre[i*G:(i+1)*G], l.tab[tok*G:(tok+1)*G]
			for j := range row {
				row[j] = x[j] + float32(row[j]+bhh[j])
			}
		}
	} else {
		mulRows(m, in, H, l.wih[k], gi, G)
		bih := l.bih[k]
		for i := 0; i < m; i++ {
			row, x := pre[i*G:(i+1)*G], gi[i*G:(i+1)*G]
			for j := range row {
				row[j] = float32(x[j]+bih[j]) + float32(row[j]+bhh[j])
			}
		}
	}
	lstmRows(pre, cPrev, h, c, m, H)
}

// fusedEncodable reports whether fusedEncode computes the encoder: a
// unidirectional LSTM stack (the decoder being fusable).
func (gen *Generator) fusedEncodable() bool {
	return gen.fusable() && !gen.cfg.Bidirectional
}

// fusedEncode is Encode on the fused path, for padded sources src
// (batch-major, T tokens each, lens[b] of them real; every token checked
// to lie in the vocabulary): the encoder of cells.Sequence with a mask
// (UnrollMasked's meaning: at a padded step a source keeps its state and
// outputs zeros), one source's steps at a time in chunks of sources
// taken in turn by the cores.
func (gen *Generator) fusedEncode(src [][]int, lens []int, T int) (*State, error) {
	enc, err := gen.fusedStack("encoder.")
	if err != nil {
		return nil, err
	}
	net, err := gen.fusedWeights()
	if err != nil {
		return nil, err
	}
	B, H, L := len(src), gen.cfg.Hidden, enc.L
	G := 4 * H
	f := &fusedState{net: net, src: make([]int32, B), st: make([][]float32, 2*L)}
	for i := range f.src {
		f.src[i] = int32(i)
	}
	for k := range f.st {
		f.st[k] = make([]float32, B*H)
	}
	var mem *fusedMemory
	if net.attention {
		mem = &fusedMemory{T: T, data: make([]float32, B*T*H), lens: append([]int(nil), lens...)}
		f.mem = mem
	}
	chunks := (B + fusedChunk - 1) / fusedChunk
	parallel.Pull(chunks, chunks, func(_, ch int) {
		b0, b1 := ch*fusedChunk, min((ch+1)*fusedChunk, B)
		m := b1 - b0
		pre, gi := make([]float32, m*G), make([]float32, m*G)
		hs, cs := make([][]float32, L), make([][]float32, L) // per layer, [m, H], from zeros
		for k := range hs {
			hs[k], cs[k] = make([]float32, m*H), make([]float32, m*H)
		}
		hn, cn, out := make([]float32, m*H), make([]float32, m*H), make([][]float32, L)
		for k := range out {
			out[k] = make([]float32, m*H)
		}
		tok := make([]int, m)
		for t := 0; t < T; t++ {
			for i := range tok {
				tok[i] = src[b0+i][t]
			}
			for k := 0; k < L; k++ {
				var in []float32
				if k > 0 {
					in = out[k-1]
				}
				enc.layer(k, m, tok, in, hs[k], cs[k], hn, cn, pre, gi)
				for i := 0; i < m; i++ {
					o := out[k][i*H : (i+1)*H]
					if t >= lens[b0+i] { // padding: keep the state, output zeros
						clear(o)
						continue
					}
					copy(hs[k][i*H:(i+1)*H], hn[i*H:(i+1)*H])
					copy(cs[k][i*H:(i+1)*H], cn[i*H:(i+1)*H])
					copy(o, hn[i*H:(i+1)*H])
				}
			}
			if mem != nil {
				for i := 0; i < m; i++ {
					copy(mem.data[((b0+i)*T+t)*H:((b0+i)*T+t+1)*H], out[L-1][i*H:(i+1)*H])
				}
			}
		}
		for k := 0; k < L; k++ {
			hi := 2 * (L - 1 - k) // the state tensors run from the top layer down
			copy(f.st[hi][b0*H:b1*H], hs[k])
			copy(f.st[hi+1][b0*H:b1*H], cs[k])
		}
	})
	return &State{fused: f}, nil
}

// float32s copies a float32 tensor value of size n.
func float32s(v gorgonia.Value, n int) ([]float32, error) {
	t, ok := v.(tensor.Tensor)
	if !ok {
		return nil, errors.Errorf("seq2seq: value of type %T, want a float32 tensor", v)
	}
	d, ok := t.Data().([]float32)
	if !ok || len(d) != n {
		return nil, errors.Errorf("seq2seq: value of shape %v and type %v, want %d float32 values", t.Shape(), t.Dtype(), n)
	}
	return append([]float32(nil), d...), nil
}

// fusedEncoded builds the fused state from an encoder run's values: the
// final state (finalV, [B, H] each) and, for Attention, the outputs per
// source step (outV).
func (gen *Generator) fusedEncoded(e *encoderGraph, lens []int, T int) (*State, error) {
	net, err := gen.fusedWeights()
	if err != nil {
		return nil, err
	}
	B, H := len(lens), gen.cfg.Hidden
	f := &fusedState{net: net, src: make([]int32, B), st: make([][]float32, len(e.finalV))}
	for i := range f.src {
		f.src[i] = int32(i)
	}
	for k, v := range e.finalV {
		if f.st[k], err = float32s(v, B*H); err != nil {
			return nil, err
		}
	}
	if net.attention {
		m := &fusedMemory{T: T, data: make([]float32, B*T*H), lens: append([]int(nil), lens...)}
		for j, v := range e.outV {
			t, ok := v.(tensor.Tensor)
			var d []float32
			if ok {
				d, ok = t.Data().([]float32)
			}
			if !ok || len(d) != B*H {
				return nil, errors.Errorf("seq2seq: encoder output %d is not [%d, %d] float32", j, B, H)
			}
			for b := 0; b < B; b++ {
				copy(m.data[(b*T+j)*H:(b*T+j+1)*H], d[b*H:(b+1)*H])
			}
		}
		f.mem = m
	}
	return &State{fused: f}, nil
}

// selectRows returns the fused state whose row i is f's row idx[i].
func (f *fusedState) selectRows(idx []int) (*fusedState, error) {
	n := len(f.src)
	out := &fusedState{net: f.net, mem: f.mem, src: make([]int32, len(idx)), at: make([]int32, len(idx)), st: f.st}
	for i, r := range idx {
		if r < 0 || r >= n {
			return nil, errors.Errorf("rows: select row %d of %d", r, n)
		}
		out.src[i] = f.src[r]
		out.at[i] = int32(f.row(r))
	}
	return out, nil
}

// toRows returns the fused state as the graph path's State.
func (f *fusedState) toRows() *State {
	n, H := len(f.src), f.net.H
	s := &State{tensors: make([]rows.Matrix, len(f.st))}
	for k, t := range f.st {
		s.tensors[k] = make(rows.Matrix, n)
		for r := range s.tensors[k] {
			s.tensors[k][r] = make([]float64, H)
			i := f.row(r)
			for j, v := range t[i*H : (i+1)*H] {
				s.tensors[k][r][j] = float64(v)
			}
		}
	}
	if m := f.mem; m != nil {
		s.memory = make([]rows.Matrix, m.T)
		for j := range s.memory {
			s.memory[j] = make(rows.Matrix, n)
			for r, b := range f.src {
				row := make([]float64, H)
				for i, v := range m.data[(int(b)*m.T+j)*H : (int(b)*m.T+j+1)*H] {
					row[i] = float64(v)
				}
				s.memory[j][r] = row
			}
		}
		s.mask = make(rows.Matrix, n)
		for r, b := range f.src {
			s.mask[r] = make([]float64, m.T)
			for j := 0; j < m.lens[b]; j++ {
				s.mask[r][j] = 1
			}
		}
	}
	return s
}

// fusedChunk is how many rows one goroutine steps at a time: a multiple
// of the GEMM micro-kernels' 6 and 12 rows, small enough for a batch of
// 128 to give every core a share. The rows are split into chunks of this
// size whatever the number of cores, so the results do not depend on it.
const fusedChunk = 24

// fusedStep is Step on the fused path. Every row's step depends on that
// row alone, so the rows are stepped in chunks, taken in turn by the cores
// (parallel.Pull: one hand-off per step, no spinning); each chunk's
// products run on the goroutine that took it.
func (gen *Generator) fusedStep(s *State, tokens []int) ([][]float64, decode.State, error) {
	f := s.fused
	net := f.net
	n, H, V := len(f.src), net.H, net.V
	G := 4 * H
	if len(tokens) != n {
		return nil, nil, errors.Errorf("seq2seq: %d tokens for %d rows", len(tokens), n)
	}
	if len(f.st) != 2*net.L {
		return nil, nil, errors.Errorf("seq2seq: state has %d tensors, the decoder %d", len(f.st), 2*net.L)
	}
	for i, t := range tokens {
		if t < 0 || t >= V {
			return nil, nil, errors.Errorf("seq2seq: token %d of row %d outside the vocabulary [0, %d)", t, i, V)
		}
	}
	sc := &gen.scratch
	sc.pre = grow(sc.pre, n*G)
	if net.L > 1 {
		sc.gi = grow(sc.gi, n*G)
	}
	if net.general {
		sc.q = grow(sc.q, n*H)
	}
	if net.attention {
		sc.out = grow(sc.out, n*2*H)
	}
	sc.lg = grow(sc.lg, n*V)
	if f.at != nil {
		sc.h, sc.c = grow(sc.h, n*H), grow(sc.c, n*H)
	}
	next := &fusedState{net: net, mem: f.mem, src: f.src, st: make([][]float32, len(f.st))}
	for k := range next.st {
		next.st[k] = make([]float32, n*H)
	}
	flat := make([]float64, n*V)
	var aflat []float64
	if net.attention {
		aflat = make([]float64, n*f.mem.T)
	}
	chunks := (n + fusedChunk - 1) / fusedChunk
	parallel.Pull(chunks, chunks, func(_, c int) {
		stepRows(f, next, sc, tokens, c*fusedChunk, min((c+1)*fusedChunk, n), flat, aflat)
	})
	logits := make([][]float64, n)
	for r := range logits {
		logits[r] = flat[r*V : (r+1)*V : (r+1)*V]
	}
	var alpha [][]float64
	if net.attention {
		T := f.mem.T
		alpha = make([][]float64, n)
		for r := range alpha {
			alpha[r] = aflat[r*T : (r+1)*T : (r+1)*T]
		}
	}
	return logits, &State{fused: next, Attention: alpha}, nil
}

// mulRows sets c = a·op(B) for the m rows of a (row stride lda) on the
// calling goroutine.
func mulRows(m int, a []float32, lda int, pb *gemm.PackedB32, c []float32, ldc int) {
	_, n := pb.Dims()
	if !gemm.SgemmPackedCols(false, m, 1, a, lda, pb, [][2]int{{0, n}}, 0, c, ldc) {
		gemm.SgemmPacked(false, m, 1, a, lda, pb, 0, c, ldc) // a small product: on the calling goroutine too
	}
}

// stepRows steps rows [r0, r1) of f into next: the state tensors, the
// logits (flat, [n, V]) and the attention weights (aflat, [n, T]); sc's
// buffers hold n rows, of which it uses its own.
func stepRows(f, next *fusedState, sc *fusedScratch, tokens []int, r0, r1 int, flat, aflat []float64) {
	net := f.net
	H, V, G, m := net.H, net.V, 4*net.H, r1-r0
	pre := sc.pre[r0*G : r1*G]
	var in []float32 // the layer below's h
	for k := 0; k < net.L; k++ {
		hi := 2 * (net.L - 1 - k) // the state tensors run from the top layer down
		var hPrev, cPrev []float32
		if f.at == nil {
			hPrev, cPrev = f.st[hi][r0*H:r1*H:r1*H], f.st[hi+1][r0*H:r1*H:r1*H]
		} else { // gather the rows Select chose
			hPrev, cPrev = sc.h[r0*H:r1*H:r1*H], sc.c[r0*H:r1*H:r1*H]
			for i, a := range f.at[r0:r1] {
				copy(hPrev[i*H:(i+1)*H], f.st[hi][int(a)*H:(int(a)+1)*H])
				copy(cPrev[i*H:(i+1)*H], f.st[hi+1][int(a)*H:(int(a)+1)*H])
			}
		}
		var gi []float32
		if k > 0 {
			gi = sc.gi[r0*G : r1*G]
		}
		h, c := next.st[hi][r0*H:r1*H], next.st[hi+1][r0*H:r1*H]
		net.layer(k, m, tokens[r0:r1], in, hPrev, cPrev, h, c, pre, gi)
		in = h
	}
	out, width := in, H
	if net.attention {
		out = attendRows(f, sc, in, r0, r1, aflat)
		width = 2 * H
	}
	lg := sc.lg[r0*V : r1*V]
	mulRows(m, out, width, net.fc, lg, V)
	dst := flat[r0*V : r1*V]
	for i := 0; i < m; i++ {
		row, l := dst[i*V:(i+1)*V], lg[i*V:(i+1)*V]
		for j := range row {
			row[j] = float64(l[j] + net.fcb[j])
		}
	}
}

// lstmRows computes the LSTM's element-wise step for n rows: pre [n, 4H]
// holds the gates' pre-activations (overwritten by their activations), c
// the previous cell state; h and c2 receive the new ones.
func lstmRows(pre, c, h, c2 []float32, n, H int) {
	G := 4 * H
	for r := 0; r < n; r++ {
		g := pre[r*G : (r+1)*G]
		vmath.Sigmoid32(g[:2*H], g[:2*H])
		vmath.Tanh32(g[2*H:3*H], g[2*H:3*H])
		vmath.Sigmoid32(g[3*H:], g[3*H:])
		gi, gf, gg, gouts := g[:H], g[H:2*H], g[2*H:3*H], g[3*H:]
		cp, cn, hn := c[r*H:(r+1)*H], c2[r*H:(r+1)*H], h[r*H:(r+1)*H]
		for j := range cn {
			cn[j] = float32(gf[j]*cp[j]) + float32(gi[j]*gg[j])
		}
		vmath.Tanh32(hn, cn)
		for j := range hn {
			hn[j] = gouts[j] * hn[j]
		}
	}
}

// attendRows computes, for rows [r0, r1), the attention of each row's
// top-layer h (h holds those rows) over its source's memory; it returns
// [h; context] for those rows (in sc.out) and writes their attention
// weights into aflat ([n, T]).
func attendRows(f *fusedState, sc *fusedScratch, h []float32, r0, r1 int, aflat []float64) []float32 {
	net, m := f.net, f.mem
	H, T := net.H, m.T
	q := h
	if net.general {
		q = sc.q[r0*H : r1*H]
		mulRows(r1-r0, h, H, net.wa, q, H)
	}
	out := sc.out[r0*2*H : r1*2*H]
	var e [64]float64
	es := e[:]
	if T > len(es) {
		es = make([]float64, T)
	}
	for i, b := range f.src[r0:r1] {
		mem := m.data[int(b)*T*H : (int(b)+1)*T*H]
		L := m.lens[b]
		qr := q[i*H : (i+1)*H]
		mx := math.Inf(-1)
		for j := 0; j < L; j++ {
			s := float64(vmath.Dot32(qr, mem[j*H:(j+1)*H]))
			es[j] = s
			mx = math.Max(mx, s)
		}
		sum := 0.0
		for j := 0; j < L; j++ {
			es[j] = math.Exp(es[j] - mx)
			sum += es[j]
		}
		row := out[i*2*H : (i+1)*2*H]
		copy(row[:H], h[i*H:(i+1)*H])
		ctx := row[H:]
		clear(ctx)
		a := aflat[(r0+i)*T : (r0+i+1)*T]
		for j := 0; j < L; j++ {
			w := float32(es[j] / sum)
			a[j] = float64(w)
			vmath.Axpy32(w, mem[j*H:(j+1)*H], ctx)
		}
	}
	return out
}

package transformer

import (
	"fmt"
	"math"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/blas"
	"github.com/rnnkit/rnnkit/models/decode"
)

// Generator runs a trained Seq2Seq Transformer for inference in plain Go
// (float64, matrix products through internal/blas), with a key/value
// cache: each decoder layer keeps the keys and values of the positions
// already generated, and the keys and values of the memory are computed
// once per source, so generating token t costs O(t) attention work and
// the prefix is never run again. It implements decode.Model, so
// decode.Greedy, decode.Sample and decode.Beam drive it.
//
// The weights are copied from the Params when the Generator is made;
// later training does not reach it. A Generator is safe for concurrent
// use (Step only reads it); a State is not.
type Generator struct {
	cfg    Config
	w      map[string][]float64
	packed map[string]*blas.PackedB[float64] // the weight matrices, packed once for the products
	record bool
}

// Record makes the Generator keep, after each step, every decoder layer's
// and head's attention weights over the source (State.CrossAttention):
// what the heat maps show. It costs an allocation per row, layer and step.
func (gen *Generator) Record(on bool) { gen.record = on }

// CrossAttention returns row i's attention weights over its source at the
// last step, [layer][head][source position], when the Generator records
// them (Record), else nil.
func (s *State) CrossAttention(i int) [][][]float64 {
	if i < 0 || i >= len(s.rows) {
		return nil
	}
	return s.rows[i].cross
}

// NewGenerator copies the parameters of cfg from ps.
func NewGenerator(ps *graph.Params, cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ps == nil {
		return nil, errors.New("transformer: nil params")
	}
	gen := &Generator{cfg: cfg, w: map[string][]float64{}, packed: map[string]*blas.PackedB[float64]{}}
	for _, p := range cfg.Params() {
		t, err := ps.Lookup(p.Name, p.Shape...)
		if err != nil {
			return nil, errors.Wrap(err, "transformer: generator")
		}
		if gen.w[p.Name], err = graph.Float64s(t); err != nil {
			return nil, errors.Wrapf(err, "transformer: generator: %s", p.Name)
		}
		if len(p.Shape) != 2 || p.Name == "embedding.weight" {
			continue
		}
		// the products x·Wᵀ of linear and proj: Wᵀ packed here, not at
		// every step
		out, in := p.Shape[0], p.Shape[1]
		if strings.HasSuffix(p.Name, ".in_proj_weight") {
			E := out / 3
			for k := 0; k < 3; k++ {
				pb := new(blas.PackedB[float64])
				pb.Pack(true, in, E, gen.w[p.Name][k*E*in:(k+1)*E*in], in)
				gen.packed[fmt.Sprintf("%s#%d", p.Name, k)] = pb
			}
			continue
		}
		pb := new(blas.PackedB[float64])
		pb.Pack(true, in, out, gen.w[p.Name], in)
		gen.packed[p.Name] = pb
	}
	return gen, nil
}

// Vocab implements decode.Model.
func (gen *Generator) Vocab() int { return gen.cfg.Vocab }

// State is the decoder state of a batch of rows (hypotheses). It
// implements decode.State.
type State struct{ rows []*rowState }

// rowState is one row: its next position, the self-attention cache per
// decoder layer (keys and values of positions 0…pos−1, pos·E each, never
// modified in place once shared) and the memory's keys and values per
// layer (read-only, shared by the rows of one source).
type rowState struct {
	pos          int
	cross        [][][]float64 // with Record: [layer][head][source position] of the last step
	selfK, selfV [][]float64
	memK, memV   [][]float64
	srcLen       int
}

// Rows implements decode.State.
func (s *State) Rows() int { return len(s.rows) }

// Select implements decode.State. Rows may repeat: they share their
// caches until the next Step, which copies on append.
func (s *State) Select(idx []int) (decode.State, error) {
	out := &State{rows: make([]*rowState, len(idx))}
	for i, r := range idx {
		if r < 0 || r >= len(s.rows) {
			return nil, errors.Errorf("transformer: select row %d of %d", r, len(s.rows))
		}
		out.rows[i] = s.rows[r]
	}
	return out, nil
}

// Encode runs the encoder over each source (ids, each of its own length
// ≥ 1 and at most the positional table) and returns the state that starts
// the decoder, one row per source.
func (gen *Generator) Encode(src [][]int) (*State, error) {
	if len(src) == 0 {
		return nil, errors.Wrap(ErrShape, "no sources")
	}
	c := gen.cfg
	s := &State{rows: make([]*rowState, len(src))}
	for b, ids := range src {
		T := len(ids)
		if T == 0 {
			return nil, errors.Wrapf(ErrShape, "source %d is empty", b)
		}
		x, err := gen.embed(ids, 0)
		if err != nil {
			return nil, errors.Wrapf(err, "source %d", b)
		}
		for l := 0; l < c.EncoderLayers; l++ {
			p := fmt.Sprintf("transformer.encoder.layers.%d", l)
			x = gen.layer(x, T, p, func(h []float64) []float64 {
				return gen.attend(h, T, h, T, p+".self_attn", false)
			}, nil)
		}
		mem := gen.norm(x, T, "transformer.encoder.norm")
		r := &rowState{srcLen: T}
		for l := 0; l < c.DecoderLayers; l++ {
			p := fmt.Sprintf("transformer.decoder.layers.%d.multihead_attn", l)
			k := gen.proj(mem, T, p, 1)
			v := gen.proj(mem, T, p, 2)
			r.memK, r.memV = append(r.memK, k), append(r.memV, v)
			r.selfK, r.selfV = append(r.selfK, nil), append(r.selfV, nil)
		}
		s.rows[b] = r
	}
	return s, nil
}

// Step implements decode.Model: it feeds tokens[i] to row i at the row's
// next position and returns the logits of the token after it.
func (gen *Generator) Step(ds decode.State, tokens []int) ([][]float64, decode.State, error) {
	s, ok := ds.(*State)
	if !ok || s == nil {
		return nil, nil, errors.Errorf("transformer: Step of a %T, want *transformer.State", ds)
	}
	if len(tokens) != len(s.rows) {
		return nil, nil, errors.Wrapf(ErrShape, "%d tokens for %d rows", len(tokens), len(s.rows))
	}
	c := gen.cfg
	E, V, H := c.Layer.Embed, c.Vocab, c.Layer.Heads
	R := len(s.rows)
	next := &State{rows: make([]*rowState, R)}
	// The rows go through every linear part together ([R, E] products);
	// only attention reads each row's own cache.
	x := make([]float64, R*E)
	for i, r := range s.rows {
		if r == nil {
			return nil, nil, errors.Errorf("transformer: row %d has no state", i)
		}
		xi, err := gen.embed(tokens[i:i+1], r.pos)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "row %d", i)
		}
		copy(x[i*E:], xi)
		next.rows[i] = &rowState{pos: r.pos + 1, memK: r.memK, memV: r.memV, srcLen: r.srcLen,
			selfK: make([][]float64, c.DecoderLayers), selfV: make([][]float64, c.DecoderLayers)}
	}
	for l := 0; l < c.DecoderLayers; l++ {
		p := fmt.Sprintf("transformer.decoder.layers.%d", l)
		x = gen.layer(x, R, p, func(h []float64) []float64 {
			q := gen.proj(h, R, p+".self_attn", 0)
			k := gen.proj(h, R, p+".self_attn", 1)
			v := gen.proj(h, R, p+".self_attn", 2)
			ctx := make([]float64, R*E)
			for i, r := range s.rows {
				// Append this position's key and value to a new slice:
				// rows selected from one parent share the old one.
				nr := next.rows[i]
				nr.selfK[l] = append(append(make([]float64, 0, len(r.selfK[l])+E), r.selfK[l]...), k[i*E:(i+1)*E]...)
				nr.selfV[l] = append(append(make([]float64, 0, len(r.selfV[l])+E), r.selfV[l]...), v[i*E:(i+1)*E]...)
				copy(ctx[i*E:], attendRows(q[i*E:(i+1)*E], 1, nr.selfK[l], nr.selfV[l], nr.pos, E, H))
			}
			return gen.outProj(ctx, R, p+".self_attn")
		}, func(h []float64) []float64 {
			q := gen.proj(h, R, p+".multihead_attn", 0)
			ctx := make([]float64, R*E)
			for i, r := range s.rows {
				var w [][]float64
				if gen.record {
					w = make([][]float64, H)
					for h := range w {
						w[h] = make([]float64, r.srcLen)
					}
					next.rows[i].cross = append(next.rows[i].cross, w)
				}
				copy(ctx[i*E:], attendRowsW(q[i*E:(i+1)*E], 1, r.memK[l], r.memV[l], r.srcLen, E, H, w))
			}
			return gen.outProj(ctx, R, p+".multihead_attn")
		})
	}
	x = gen.norm(x, R, "transformer.decoder.norm")
	flat := gen.linear(x, R, "fc", V)
	logits := make([][]float64, R)
	for i := range logits {
		logits[i] = flat[i*V : (i+1)*V]
	}
	return logits, next, nil
}

// embed returns embedding[ids]·√E + PE[start + t], [T, E].
func (gen *Generator) embed(ids []int, start int) ([]float64, error) {
	c := gen.cfg
	E := c.Layer.Embed
	pe, err := Positions(1, len(ids), E, start, c.MaxLenOr())
	if err != nil {
		return nil, err
	}
	table := gen.w["embedding.weight"]
	scale := math.Sqrt(float64(E))
	for t, id := range ids {
		if id < 0 || id >= c.Vocab {
			return nil, errors.Wrapf(ErrShape, "token %d at position %d is outside the vocabulary [0, %d)", id, start+t, c.Vocab)
		}
		row := pe[t*E : (t+1)*E]
		for j := range row {
			row[j] += table[id*E+j] * scale
		}
	}
	return pe, nil
}

// layer runs one encoder layer (cross nil) or decoder layer over x [T, E]
// under prefix p, with self and cross the attention sub-layers.
func (gen *Generator) layer(x []float64, T int, p string, self, cross func([]float64) []float64) []float64 {
	c := gen.cfg.Layer
	subs := []func([]float64) []float64{self}
	if cross != nil {
		subs = append(subs, cross)
	}
	subs = append(subs, func(h []float64) []float64 {
		a := gen.linear(h, T, p+".linear1", c.FF)
		for i, v := range a {
			a[i] = actF(c.Act(), v)
		}
		return gen.linear(a, T, p+".linear2", c.Embed)
	})
	for i, f := range subs {
		norm := fmt.Sprintf("%s.norm%d", p, i+1)
		if c.NormFirst {
			y := f(gen.norm(x, T, norm))
			for j := range x {
				x[j] += y[j]
			}
			continue
		}
		y := f(x)
		for j := range y {
			y[j] += x[j]
		}
		x = gen.norm(y, T, norm)
	}
	return x
}

// linear returns x·Wᵀ + b for p.weight [out, in], x [T, in].
func (gen *Generator) linear(x []float64, T int, p string, out int) []float64 {
	b := gen.w[p+".bias"]
	in := len(x) / T
	y := make([]float64, T*out)
	for t := 0; t < T; t++ {
		copy(y[t*out:(t+1)*out], b)
	}
	gen.mulAdd(x, T, in, p+".weight", gen.w[p+".weight"], y, out)
	return y
}

// proj returns the k-th (0 q, 1 k, 2 v) input projection of attention p.
func (gen *Generator) proj(x []float64, T int, p string, k int) []float64 {
	E := gen.cfg.Layer.Embed
	b := gen.w[p+".in_proj_bias"][k*E : (k+1)*E]
	y := make([]float64, T*E)
	for t := 0; t < T; t++ {
		copy(y[t*E:(t+1)*E], b)
	}
	gen.mulAdd(x, T, E, fmt.Sprintf("%s.in_proj_weight#%d", p, k), gen.w[p+".in_proj_weight"][k*E*E:(k+1)*E*E], y, E)
	return y
}

// mulAdd adds x·Wᵀ to y [T, out] for x [T, in] and w [out, in], packed
// under key: the packed product from three rows up (below, the matrix
// multiply's small-product loops would copy the columns back out of the
// packing), the plain one for one or two rows.
func (gen *Generator) mulAdd(x []float64, T, in int, key string, w, y []float64, out int) {
	if pb := gen.packed[key]; pb != nil && T >= 3 {
		pb.Mul(T, 1, x, in, 1, y, out)
		return
	}
	blas.Gemm(false, true, T, out, in, 1, x, in, w, in, 1, y, out)
}

func (gen *Generator) outProj(x []float64, T int, p string) []float64 {
	return gen.linear(x, T, p+".out_proj", gen.cfg.Layer.Embed)
}

// attend is attention p from x [Tq, E] to kv [Tk, E], causal or not.
func (gen *Generator) attend(x []float64, Tq int, kv []float64, Tk int, p string, causal bool) []float64 {
	E := gen.cfg.Layer.Embed
	q := gen.proj(x, Tq, p, 0)
	k := gen.proj(kv, Tk, p, 1)
	v := gen.proj(kv, Tk, p, 2)
	var ctx []float64
	if causal {
		ctx = make([]float64, Tq*E)
		for i := 0; i < Tq; i++ {
			copy(ctx[i*E:(i+1)*E], attendRows(q[i*E:(i+1)*E], 1, k, v, i+1, E, gen.cfg.Layer.Heads))
		}
	} else {
		ctx = attendRows(q, Tq, k, v, Tk, E, gen.cfg.Layer.Heads)
	}
	return gen.outProj(ctx, Tq, p)
}

// attendRows returns, for Tq queries q [Tq, E], multi-head attention over
// the first n keys and values (rows of k, v, E wide).
func attendRows(q []float64, Tq int, k, v []float64, n, E, heads int) []float64 {
	return attendRowsW(q, Tq, k, v, n, E, heads, nil)
}

// attendRowsW is attendRows that also writes, for a single query (Tq = 1),
// each head's weights into w[h] (n long) where w is not nil.
func attendRowsW(q []float64, Tq int, k, v []float64, n, E, heads int, w [][]float64) []float64 {
	d := E / heads
	scale := 1 / math.Sqrt(float64(d))
	out := make([]float64, Tq*E)
	s := make([]float64, n)
	for i := 0; i < Tq; i++ {
		for h := 0; h < heads; h++ {
			qh := q[i*E+h*d : i*E+(h+1)*d]
			mx := math.Inf(-1)
			for j := 0; j < n; j++ {
				kh := k[j*E+h*d : j*E+(h+1)*d]
				var dot float64
				for c, a := range qh {
					dot += a * kh[c]
				}
				s[j] = dot * scale
				mx = math.Max(mx, s[j])
			}
			var sum float64
			for j := 0; j < n; j++ {
				s[j] = math.Exp(s[j] - mx)
				sum += s[j]
			}
			o := out[i*E+h*d : i*E+(h+1)*d]
			if w != nil {
				for j := 0; j < n; j++ {
					w[h][j] = s[j] / sum
				}
			}
			for j := 0; j < n; j++ {
				w := s[j] / sum
				vh := v[j*E+h*d : j*E+(h+1)*d]
				for c := range o {
					o[c] += w * vh[c]
				}
			}
		}
	}
	return out
}

// norm is LayerNorm p over the rows of x [T, E].
func (gen *Generator) norm(x []float64, T int, p string) []float64 {
	E := len(x) / T
	g, b := gen.w[p+".weight"], gen.w[p+".bias"]
	eps := gen.cfg.Layer.EpsOr()
	y := make([]float64, len(x))
	for t := 0; t < T; t++ {
		row := x[t*E : (t+1)*E]
		var mean, vr float64
		for _, v := range row {
			mean += v
		}
		mean /= float64(E)
		for _, v := range row {
			vr += (v - mean) * (v - mean)
		}
		r := 1 / math.Sqrt(vr/float64(E)+eps)
		for j, v := range row {
			y[t*E+j] = (v-mean)*r*g[j] + b[j]
		}
	}
	return y
}

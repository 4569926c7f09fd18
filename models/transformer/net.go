package transformer

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/attention"
	"github.com/rnnkit/rnnkit/graph"
)

// Net builds Transformer blocks into one graph. Activations are
// batch-major matrices: B sequences of T positions are [B·T, E], row
// b·T + t holding position t of sequence b (PyTorch's sequence-first
// [T, B, E] tensors are reordered by the caller). Parameters are bound
// from the graph's Params by their PyTorch names under the prefix each
// method takes.
//
// With Fused unset the blocks are the definition, built op by op from
// rnnkit's and Gorgonia's differentiable ops: per sequence and head
// QKᵀ/√d, the masked softmax, ·V; LayerNorm from matrix products, squares
// and 1/√·. With Fused set, attention over all heads and LayerNorm are one
// op each with their own backward pass (fused.go), checked against the
// definition.
type Net struct {
	G     *graph.Graph
	Drop  *graph.Dropout // nil: no dropout
	Fused bool
	// Logits, with Fused, also builds the output logits as a node
	// (Seq2SeqGraph.Logits) beside the fused loss, which never makes
	// one: for reading them, at the cost of their matrix product. Without
	// Fused the loss reads the logits node and it is always built.
	Logits bool

	consts map[string]*gorgonia.Node
}

// NewNet returns a Net over g.
func NewNet(g *graph.Graph, drop *graph.Dropout, fused bool) (*Net, error) {
	if g == nil {
		return nil, errors.New("transformer: NewNet of a nil graph")
	}
	return &Net{G: g, Drop: drop, Fused: fused, consts: map[string]*gorgonia.Node{}}, nil
}

// constant returns an input node holding fixed values, made once per
// graph under name.
func (n *Net) constant(name string, data []float64, shape ...int) (*gorgonia.Node, error) {
	if c, ok := n.consts[name]; ok {
		return c, nil
	}
	c, err := n.G.Input("transformer."+name, shape...)
	if err != nil {
		return nil, err
	}
	if err := graph.Set(c, data); err != nil {
		return nil, err
	}
	n.consts[name] = c
	return c, nil
}

// dropout applies the Net's dropout to x (x itself without one): with
// Fused, as one op drawing its own mask (graph.Dropout.ApplyFused),
// otherwise as the product with a mask input.
func (n *Net) dropout(x *gorgonia.Node) (*gorgonia.Node, error) {
	if n.Drop == nil {
		return x, nil
	}
	if n.Fused {
		return n.Drop.ApplyFused(n.G, x)
	}
	return n.Drop.Apply(n.G, x)
}

// dropMask returns a node holding a fresh dropout mask of the given shape
// (the dropout applied to a constant of ones), for the fused attention.
func (n *Net) dropMask(r, c int) (*gorgonia.Node, error) {
	ones := make([]float64, r*c)
	for i := range ones {
		ones[i] = 1
	}
	o, err := n.constant(fmt.Sprintf("ones%dx%d", r, c), ones, r, c)
	if err != nil {
		return nil, err
	}
	return n.Drop.ApplyFused(n.G, o)
}

func cols(x *gorgonia.Node) int { return x.Shape()[1] }
func rows(x *gorgonia.Node) int { return x.Shape()[0] }

// Linear returns x·Wᵀ + b for prefix.weight [out, in] and prefix.bias
// [out], x being [N, in].
func (n *Net) Linear(x *gorgonia.Node, prefix string, out int) (*gorgonia.Node, error) {
	in := cols(x)
	w, err := n.G.Param(prefix+".weight", out, in)
	if err != nil {
		return nil, err
	}
	b, err := n.G.Param(prefix+".bias", out)
	if err != nil {
		return nil, err
	}
	y, err := graph.MatMul(x, w, false, true)
	if err != nil {
		return nil, errors.Wrap(err, prefix)
	}
	y, err = graph.AddRow(y, b)
	return y, errors.Wrap(err, prefix)
}

// LayerNorm normalises every row of x [N, E] to zero mean and unit
// (biased) variance, then scales by prefix.weight and shifts by
// prefix.bias: (x − μ)/√(σ² + ε)·γ + β.
func (n *Net) LayerNorm(x *gorgonia.Node, prefix string, eps float64) (*gorgonia.Node, error) {
	E := cols(x)
	gamma, err := n.G.Param(prefix+".weight", E)
	if err != nil {
		return nil, err
	}
	beta, err := n.G.Param(prefix+".bias", E)
	if err != nil {
		return nil, err
	}
	if n.Fused {
		return LayerNormOp(x, gamma, beta, eps)
	}
	return n.layerNormDef(x, gamma, beta, eps)
}

// layerNormDef is LayerNorm op by op: the centring as a product with
// I − J/E, the variance as a product with a column of 1/E, the broadcast
// back over the row as a product with a row of ones.
func (n *Net) layerNormDef(x, gamma, beta *gorgonia.Node, eps float64) (*gorgonia.Node, error) {
	E := cols(x)
	center := make([]float64, E*E)
	mean := make([]float64, E)
	ones := make([]float64, E)
	for i := 0; i < E; i++ {
		for j := 0; j < E; j++ {
			center[i*E+j] = -1 / float64(E)
		}
		center[i*E+i] += 1
		mean[i] = 1 / float64(E)
		ones[i] = 1
	}
	C, err := n.constant(fmt.Sprintf("center%d", E), center, E, E)
	if err != nil {
		return nil, err
	}
	M, err := n.constant(fmt.Sprintf("mean%d", E), mean, E, 1)
	if err != nil {
		return nil, err
	}
	O, err := n.constant(fmt.Sprintf("ones%d", E), ones, 1, E)
	if err != nil {
		return nil, err
	}
	wrap := func(err error) error { return errors.Wrap(err, "transformer: layer norm") }
	xc, err := graph.MatMul(x, C, false, false)
	if err != nil {
		return nil, wrap(err)
	}
	sq, err := gorgonia.Square(xc)
	if err != nil {
		return nil, wrap(err)
	}
	v, err := graph.MatMul(sq, M, false, false)
	if err != nil {
		return nil, wrap(err)
	}
	if v, err = gorgonia.Add(v, n.G.Scalar(eps)); err != nil {
		return nil, wrap(err)
	}
	// Not gorgonia.InverseSqrt: its gradient in v0.9.18 is −dy/(2y³)
	// instead of −dy·y³/2 (TestGorgoniaInverseSqrtTrap).
	r, err := gorgonia.Sqrt(v)
	if err != nil {
		return nil, wrap(err)
	}
	if r, err = gorgonia.Inverse(r); err != nil {
		return nil, wrap(err)
	}
	rf, err := graph.MatMul(r, O, false, false)
	if err != nil {
		return nil, wrap(err)
	}
	y, err := gorgonia.HadamardProd(xc, rf)
	if err != nil {
		return nil, wrap(err)
	}
	if y, err = graph.MulRow(y, gamma); err != nil {
		return nil, wrap(err)
	}
	y, err = graph.AddRow(y, beta)
	return y, wrap(err)
}

// Attention is PyTorch's MultiheadAttention under prefix (in_proj_weight
// [3E, E], in_proj_bias [3E], out_proj.*): q = query·W_qᵀ + b_q,
// k = kv·W_kᵀ + b_k, v = kv·W_vᵀ + b_v; for each of B sequences and each
// head h (columns h·d … (h+1)·d, d = E/heads)
//
//	softmax(q_h k_hᵀ / √d, masked by keep) · v_h
//
// the heads joined along the columns, then out_proj. query is [B·Tq, E],
// kv [B·Tk, E], keep the 0/1 mask [B·Tq, Tk] of KeepMask (nil for none).
// Attention weights go through the Net's dropout.
func (n *Net) Attention(query, kv, keep *gorgonia.Node, prefix string, B, heads int) (*gorgonia.Node, error) {
	E := cols(query)
	if cols(kv) != E || rows(query)%B != 0 || rows(kv)%B != 0 {
		return nil, errors.Wrapf(ErrShape, "%s: query %v and keys %v for %d sequences", prefix, query.Shape(), kv.Shape(), B)
	}
	if heads <= 0 || E%heads != 0 {
		return nil, errors.Wrapf(ErrConfig, "%s: E = %d is not divisible by %d heads", prefix, E, heads)
	}
	Tq, Tk := rows(query)/B, rows(kv)/B
	if keep != nil && (rows(keep) != B*Tq || cols(keep) != Tk) {
		return nil, errors.Wrapf(ErrMask, "%s: mask %v, want [%d %d]", prefix, keep.Shape(), B*Tq, Tk)
	}
	W, err := n.G.Param(prefix+".in_proj_weight", 3*E, E)
	if err != nil {
		return nil, err
	}
	bias, err := n.G.Param(prefix+".in_proj_bias", 3*E)
	if err != nil {
		return nil, err
	}
	proj := func(x *gorgonia.Node, k int) (*gorgonia.Node, error) {
		w, err := graph.Rows(W, k*E, (k+1)*E)
		if err != nil {
			return nil, err
		}
		b, err := graph.Rows(bias, k*E, (k+1)*E)
		if err != nil {
			return nil, err
		}
		y, err := graph.MatMul(x, w, false, true)
		if err != nil {
			return nil, err
		}
		return graph.AddRow(y, b)
	}
	q, err := proj(query, 0)
	if err != nil {
		return nil, errors.Wrap(err, prefix)
	}
	k, err := proj(kv, 1)
	if err != nil {
		return nil, errors.Wrap(err, prefix)
	}
	v, err := proj(kv, 2)
	if err != nil {
		return nil, errors.Wrap(err, prefix)
	}
	var ctx *gorgonia.Node
	if n.Fused {
		var dropMask *gorgonia.Node
		if n.Drop != nil {
			if dropMask, err = n.dropMask(B*heads*Tq, Tk); err != nil {
				return nil, err
			}
		}
		ctx, err = AttentionOp(q, k, v, keep, dropMask, B, heads)
	} else {
		ctx, err = n.attentionDef(q, k, v, keep, B, heads)
	}
	if err != nil {
		return nil, errors.Wrap(err, prefix)
	}
	return n.Linear(ctx, prefix+".out_proj", E)
}

// attentionDef is scaled dot-product attention per sequence and head.
func (n *Net) attentionDef(q, k, v, keep *gorgonia.Node, B, heads int) (*gorgonia.Node, error) {
	E := cols(q)
	d := E / heads
	Tq, Tk := rows(q)/B, rows(k)/B
	scale := n.G.Scalar(1 / math.Sqrt(float64(d)))
	seqs := make([]*gorgonia.Node, B)
	for b := 0; b < B; b++ {
		qb, err := graph.Rows(q, b*Tq, (b+1)*Tq)
		if err != nil {
			return nil, err
		}
		kb, err := graph.Rows(k, b*Tk, (b+1)*Tk)
		if err != nil {
			return nil, err
		}
		vb, err := graph.Rows(v, b*Tk, (b+1)*Tk)
		if err != nil {
			return nil, err
		}
		var mb *gorgonia.Node
		if keep != nil {
			if mb, err = graph.Rows(keep, b*Tq, (b+1)*Tq); err != nil {
				return nil, err
			}
		}
		hs := make([]*gorgonia.Node, heads)
		for h := 0; h < heads; h++ {
			part := func(x *gorgonia.Node) (*gorgonia.Node, error) {
				if heads == 1 {
					return x, nil
				}
				return graph.Cols(x, h*d, (h+1)*d)
			}
			qh, err := part(qb)
			if err != nil {
				return nil, err
			}
			kh, err := part(kb)
			if err != nil {
				return nil, err
			}
			vh, err := part(vb)
			if err != nil {
				return nil, err
			}
			s, err := graph.MatMul(qh, kh, false, true)
			if err != nil {
				return nil, err
			}
			if s, err = gorgonia.Mul(s, scale); err != nil {
				return nil, err
			}
			p, err := attention.SoftmaxRows(s, mb)
			if err != nil {
				return nil, err
			}
			if p, err = n.dropout(p); err != nil {
				return nil, err
			}
			if hs[h], err = graph.MatMul(p, vh, false, false); err != nil {
				return nil, err
			}
		}
		seqs[b] = hs[0]
		if heads > 1 {
			var err error
			if seqs[b], err = graph.ConcatCols(hs...); err != nil {
				return nil, err
			}
		}
	}
	if B == 1 {
		return seqs[0], nil
	}
	return graph.ConcatRows(seqs...)
}

// FeedForward is linear2(dropout(act(linear1(x)))) under prefix ("" for
// none): linear1 [F, E], linear2 [E, F].
func (n *Net) FeedForward(x *gorgonia.Node, prefix string, F int, act Activation) (*gorgonia.Node, error) {
	h, err := n.Linear(x, join(prefix, "linear1"), F)
	if err != nil {
		return nil, err
	}
	if h, err = Activate(h, act); err != nil {
		return nil, err
	}
	if h, err = n.dropout(h); err != nil {
		return nil, err
	}
	return n.Linear(h, join(prefix, "linear2"), cols(x))
}

// residual returns x + dropout(y).
func (n *Net) residual(x, y *gorgonia.Node) (*gorgonia.Node, error) {
	y, err := n.dropout(y)
	if err != nil {
		return nil, err
	}
	return gorgonia.Add(y, x)
}

// block applies one sub-layer f with its residual and norm, post-norm
// (norm(x + f(x))) or pre-norm (x + f(norm(x))).
func (n *Net) block(x *gorgonia.Node, c LayerConfig, norm string, f func(*gorgonia.Node) (*gorgonia.Node, error)) (*gorgonia.Node, error) {
	if c.NormFirst {
		h, err := n.LayerNorm(x, norm, c.EpsOr())
		if err != nil {
			return nil, err
		}
		y, err := f(h)
		if err != nil {
			return nil, err
		}
		return n.residual(x, y)
	}
	y, err := f(x)
	if err != nil {
		return nil, err
	}
	s, err := n.residual(x, y)
	if err != nil {
		return nil, err
	}
	return n.LayerNorm(s, norm, c.EpsOr())
}

// EncoderLayer is torch.nn.TransformerEncoderLayer under prefix: x is
// [B·T, E], keep the self-attention's mask [B·T, T] (nil for none).
//
//	post-norm: x = norm1(x + SA(x)); x = norm2(x + FF(x))
//	pre-norm:  x = x + SA(norm1(x)); x = x + FF(norm2(x))
func (n *Net) EncoderLayer(x, keep *gorgonia.Node, prefix string, c LayerConfig, B int) (*gorgonia.Node, error) {
	x, err := n.block(x, c, join(prefix, "norm1"), func(h *gorgonia.Node) (*gorgonia.Node, error) {
		return n.Attention(h, h, keep, join(prefix, "self_attn"), B, c.Heads)
	})
	if err != nil {
		return nil, err
	}
	return n.block(x, c, join(prefix, "norm2"), func(h *gorgonia.Node) (*gorgonia.Node, error) {
		return n.FeedForward(h, prefix, c.FF, c.Act())
	})
}

// DecoderLayer is torch.nn.TransformerDecoderLayer under prefix: y is
// [B·Tt, E], mem the encoder's output [B·Ts, E], selfKeep [B·Tt, Tt] the
// self-attention's mask (causal and target padding), memKeep [B·Tt, Ts]
// the mask over the memory (its padding); either may be nil.
//
//	post-norm: y = norm1(y + SA(y)); y = norm2(y + MHA(y, mem)); y = norm3(y + FF(y))
//	pre-norm:  y = y + SA(norm1(y)); y = y + MHA(norm2(y), mem); y = y + FF(norm3(y))
func (n *Net) DecoderLayer(y, mem, selfKeep, memKeep *gorgonia.Node, prefix string, c LayerConfig, B int) (*gorgonia.Node, error) {
	y, err := n.block(y, c, join(prefix, "norm1"), func(h *gorgonia.Node) (*gorgonia.Node, error) {
		return n.Attention(h, h, selfKeep, join(prefix, "self_attn"), B, c.Heads)
	})
	if err != nil {
		return nil, err
	}
	y, err = n.block(y, c, join(prefix, "norm2"), func(h *gorgonia.Node) (*gorgonia.Node, error) {
		return n.Attention(h, mem, memKeep, join(prefix, "multihead_attn"), B, c.Heads)
	})
	if err != nil {
		return nil, err
	}
	return n.block(y, c, join(prefix, "norm3"), func(h *gorgonia.Node) (*gorgonia.Node, error) {
		return n.FeedForward(h, prefix, c.FF, c.Act())
	})
}

// Encoder is torch.nn.TransformerEncoder under prefix: layers
// prefix.layers.{k} for k < L, then the final prefix.norm.
func (n *Net) Encoder(x, keep *gorgonia.Node, prefix string, c LayerConfig, L, B int) (*gorgonia.Node, error) {
	var err error
	for k := 0; k < L; k++ {
		if x, err = n.EncoderLayer(x, keep, fmt.Sprintf("%s.layers.%d", prefix, k), c, B); err != nil {
			return nil, errors.Wrapf(err, "encoder layer %d", k)
		}
	}
	return n.LayerNorm(x, prefix+".norm", c.EpsOr())
}

// Decoder is torch.nn.TransformerDecoder under prefix: layers
// prefix.layers.{k} for k < L, then the final prefix.norm.
func (n *Net) Decoder(y, mem, selfKeep, memKeep *gorgonia.Node, prefix string, c LayerConfig, L, B int) (*gorgonia.Node, error) {
	var err error
	for k := 0; k < L; k++ {
		if y, err = n.DecoderLayer(y, mem, selfKeep, memKeep, fmt.Sprintf("%s.layers.%d", prefix, k), c, B); err != nil {
			return nil, errors.Wrapf(err, "decoder layer %d", k)
		}
	}
	return n.LayerNorm(y, prefix+".norm", c.EpsOr())
}

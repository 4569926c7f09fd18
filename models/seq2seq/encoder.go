package seq2seq

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/birnn"
	"github.com/rnnkit/rnnkit/models/embed"
)

// bound is the model's parts bound into one graph.
type bound struct {
	g        *graph.Graph
	cfg      Config
	emb      *embed.Embedding
	enc, dec cells.Cell
	fcW, fcB *gorgonia.Node
	attn     []*gorgonia.Node // General: {W}; Additive: {W_enc, W_dec, v}
	bienc    *birnn.Stacked   // Bidirectional
	bridge   []*gorgonia.Node // Bidirectional: weight, bias per (layer, state tensor), then memory.weight
}

// bind binds the model into g; d (nil for none) drops out between stacked layers.
func bind(g *graph.Graph, c Config, d *graph.Dropout) (*bound, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	b := &bound{g: g, cfg: c}
	var err error
	if b.emb, err = embed.New(g, c.embedConfig()); err != nil {
		return nil, err
	}
	stack := func(prefix string) (cells.Cell, error) {
		var cs []cells.Cell
		for _, cc := range c.cellConfigs(prefix) {
			cell, err := cells.New(g, cc)
			if err != nil {
				return nil, err
			}
			cs = append(cs, cell)
		}
		if len(cs) == 1 {
			return cs[0], nil
		}
		st, err := cells.NewStack(cs...)
		if err != nil || d == nil {
			return st, err
		}
		return st.WithDropout(g, d)
	}
	if c.Bidirectional {
		if b.bienc, err = birnn.NewStack(g, c.Cell, c.Embed, c.Hidden, c.layers(), "encoder."); err != nil {
			return nil, errors.Wrap(err, "seq2seq: encoder")
		}
		for _, p := range c.bridgeParams() {
			n, err := g.Param(p.Name, p.Shape...)
			if err != nil {
				return nil, err
			}
			b.bridge = append(b.bridge, n)
		}
	} else if b.enc, err = stack("encoder."); err != nil {
		return nil, errors.Wrap(err, "seq2seq: encoder")
	}
	if b.dec, err = stack("decoder."); err != nil {
		return nil, errors.Wrap(err, "seq2seq: decoder")
	}
	if b.fcW, err = g.Param("fc.weight", c.Vocab, c.outWidth()); err != nil {
		return nil, err
	}
	if b.fcB, err = g.Param("fc.bias", c.Vocab); err != nil {
		return nil, err
	}
	if c.decoder() == Attention {
		var names []string
		switch c.score() {
		case General:
			names = []string{"attn.weight"}
		case Additive:
			names = []string{"attn.W_enc", "attn.W_dec", "attn.v"}
		}
		for _, n := range names {
			rows := c.Hidden
			if n == "attn.v" {
				rows = 1
			}
			p, err := g.Param(n, rows, c.Hidden)
			if err != nil {
				return nil, err
			}
			b.attn = append(b.attn, p)
		}
	}
	return b, nil
}

// encode runs the encoder over xs with masks and returns the memory the
// decoder attends to (one [B, H] node per source step) and the decoder's
// initial state.
func (b *bound) encode(xs, masks []*gorgonia.Node) ([]*gorgonia.Node, cells.State, error) {
	if !b.cfg.Bidirectional {
		outs, final, err := cells.UnrollMasked(b.enc, xs, nil, masks)
		return outs, final, err
	}
	outs, finals, err := b.bienc.Encode(xs, masks, nil)
	if err != nil {
		return nil, nil, err
	}
	init, err := b.bridgeState(finals)
	if err != nil {
		return nil, nil, err
	}
	if b.cfg.decoder() != Attention {
		return outs, init, nil
	}
	mem := make([]*gorgonia.Node, len(outs))
	for j, o := range outs {
		if mem[j], err = graph.MatMul(o, b.bridge[len(b.bridge)-1], false, true); err != nil {
			return nil, nil, err
		}
	}
	return mem, init, nil
}

// encodeSeq is encode over the whole source at once, x [Ts·B, E] and mask
// [Ts·B] time-major, each encoder layer (and direction) one fused node. It
// returns the memory [Ts·B, H] (or [Ts·B, 2H] for a bidirectional encoder
// without attention) and the decoder's initial state.
func (b *bound) encodeSeq(x *gorgonia.Node, batch int, mask *gorgonia.Node) (*gorgonia.Node, cells.State, error) {
	if !b.cfg.Bidirectional {
		return cells.Sequence(b.enc, x, batch, nil, cells.SeqOptions{Mask: mask})
	}
	out, finals, err := b.bienc.EncodeSeq(x, batch, mask, nil)
	if err != nil {
		return nil, nil, err
	}
	init, err := b.bridgeState(finals)
	if err != nil || b.cfg.decoder() != Attention {
		return out, init, err
	}
	mem, err := graph.MatMul(out, b.bridge[len(b.bridge)-1], false, true)
	return mem, init, err
}

// bridgeState maps a bidirectional encoder's final states to the
// decoder's initial state: per decoder layer and state tensor,
// W·[fwd; bwd] + b.
func (b *bound) bridgeState(finals []cells.State) (cells.State, error) {
	var err error
	L, S := b.cfg.layers(), b.cfg.numStates()
	layers := make([]cells.State, L)
	for k := 0; k < L; k++ {
		for s := 0; s < S; s++ {
			cat, err := graph.ConcatCols(finals[2*k][s], finals[2*k+1][s])
			if err != nil {
				return nil, err
			}
			w, bias := b.bridge[2*(k*S+s)], b.bridge[2*(k*S+s)+1]
			z, err := graph.MatMul(cat, w, false, true)
			if err != nil {
				return nil, err
			}
			if z, err = graph.AddRow(z, bias); err != nil {
				return nil, err
			}
			layers[k] = append(layers[k], z)
		}
	}
	var init cells.State
	if st, ok := b.dec.(interface {
		Join([]cells.State) (cells.State, error)
	}); ok {
		if init, err = st.Join(layers); err != nil {
			return nil, err
		}
	} else {
		init = layers[0]
	}
	return init, nil
}

package seq2seq

import (
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/attention"
	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
)

// memory is what the decoder reads of the encoder at every step.
type memory struct {
	summary *gorgonia.Node   // [B, H]: the encoder's final top-layer h (Peeky)
	keys    []*gorgonia.Node // [B, H] per source step (Attention): encoder outputs, or W_enc·e_j for Additive
	values  []*gorgonia.Node // [B, H] per source step (Attention): encoder outputs
	mask    *gorgonia.Node   // [B, Ts]: 1 on real source positions (Attention)
}

// newMemory prepares the decoder's view of the encoder outputs.
func (b *bound) newMemory(encOut []*gorgonia.Node, summary, mask *gorgonia.Node) (*memory, error) {
	m := &memory{summary: summary, values: encOut, keys: encOut, mask: mask}
	if b.cfg.decoder() == Attention && b.cfg.score() == Additive {
		m.keys = make([]*gorgonia.Node, len(encOut))
		for j, e := range encOut {
			k, err := graph.MatMul(e, b.attn[0], false, true)
			if err != nil {
				return nil, err
			}
			m.keys[j] = k
		}
	}
	return m, nil
}

// step runs one decoder step on the embedded token x and returns the
// logits, the attention weights (nil unless Attention), the output h and
// the next state.
func (b *bound) step(x *gorgonia.Node, s cells.State, mem *memory) (logits, alpha *gorgonia.Node, next cells.State, err error) {
	in := x
	if b.cfg.decoder() == Peeky {
		if in, err = graph.ConcatCols(x, mem.summary); err != nil {
			return nil, nil, nil, err
		}
	}
	h, next, err := b.dec.Step(in, s)
	if err != nil {
		return nil, nil, nil, err
	}
	out := h
	switch b.cfg.decoder() {
	case Peeky:
		if out, err = graph.ConcatCols(h, mem.summary); err != nil {
			return nil, nil, nil, err
		}
	case Attention:
		scores, err := b.scores(h, mem)
		if err != nil {
			return nil, nil, nil, err
		}
		if alpha, err = attention.SoftmaxRows(scores, mem.mask); err != nil {
			return nil, nil, nil, err
		}
		ctx, err := attention.Attend(alpha, mem.values)
		if err != nil {
			return nil, nil, nil, err
		}
		if out, err = graph.ConcatCols(h, ctx); err != nil {
			return nil, nil, nil, err
		}
	}
	logits, err = b.project(out)
	return logits, alpha, next, err
}

// scores returns the attention scores [B, Ts] of h against the memory.
func (b *bound) scores(h *gorgonia.Node, mem *memory) (*gorgonia.Node, error) {
	switch b.cfg.score() {
	case General:
		q, err := graph.MatMul(h, b.attn[0], false, false) // (W_aᵀ h) · e_j = h · (W_a e_j)
		if err != nil {
			return nil, err
		}
		return attention.DotScores(q, mem.keys)
	case Additive:
		q, err := graph.MatMul(h, b.attn[1], false, true) // W_dec h
		if err != nil {
			return nil, err
		}
		cols := make([]*gorgonia.Node, len(mem.keys))
		for j, k := range mem.keys {
			a, err := gorgonia.Add(k, q)
			if err != nil {
				return nil, err
			}
			u, err := gorgonia.Tanh(a)
			if err != nil {
				return nil, err
			}
			if cols[j], err = graph.MatMul(u, b.attn[2], false, true); err != nil { // [B, 1]
				return nil, err
			}
		}
		return graph.ConcatCols(cols...)
	default:
		return attention.DotScores(h, mem.keys)
	}
}

// project returns the logits [B, V] of decoder outputs h [B, H].
func (b *bound) project(h *gorgonia.Node) (*gorgonia.Node, error) {
	return graph.Linear(h, b.fcW, b.fcB)
}

package seq2seq

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/attention"
	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/embed"
)

// Batch is one padded batch: batch-major token ids. Src[b] is padded to the
// graph's source length, TgtIn[b] and TgtOut[b] to its target length; the
// lengths say how many tokens are real (at least 1).
type Batch struct {
	Src    [][]int
	SrcLen []int
	TgtIn  [][]int // decoder inputs: start token, then the target shifted right
	TgtOut [][]int // labels: the target
	TgtLen []int
}

// TrainGraph is the unrolled model for one shape (B, Ts, Tt), with teacher
// forcing and the loss. Build it once per shape; Set a batch and run its
// machine for each batch of that shape.
type TrainGraph struct {
	G         *graph.Graph
	B, Ts, Tt int
	Loss      *gorgonia.Node   // mean cross-entropy over real target positions
	Logits    []*gorgonia.Node // [B, V] per target step
	// LogitMatrix is every step's logits in one node, [Tt·B, V] time-major,
	// the node the loss reads (nil in the step-by-step graph of additive
	// attention, where the loss reads Logits).
	LogitMatrix *gorgonia.Node
	Attention   []*gorgonia.Node // [B, Ts] attention weights per target step (Attention decoders)
	EncOut      []*gorgonia.Node // per source step: the top layer's outputs, [B, H] ([B, 2H] if Bidirectional; through memory.weight to [B, H] for Attention)
	DecOut      []*gorgonia.Node // [B, H] per target step (top layer)
	EncFinal    cells.State      // the state handed to the decoder (through the bridge if Bidirectional)
	DecFinal    cells.State
	src, tgt    *embed.Tokens
	srcMask     []*gorgonia.Node
	srcMaskMat  *gorgonia.Node // [B, Ts]; fused: [Tt·B, Ts], one row per query
	tgtMask     []*gorgonia.Node
	targets     []*graph.Targets
	cfg         Config
	// The fused graph (every decoder but the additive-attention one): one
	// node per layer for each of encoder and decoder, attention and loss
	// over all target steps at once.
	fused          bool
	srcSeq, tgtSeq *gorgonia.Node // [Ts·B], [Tt·B] masks
	target         *graph.Targets // Tt·B rows
	// Dropout is the training graph's dropout (nil without); Set draws new
	// masks, SetTraining(false) turns it off for evaluation.
	Dropout *graph.Dropout
}

// NewTrainGraph builds the training graph for batch size B, source length
// Ts and target length Tt over the parameters in ps, checked by
// [graph.Build]. To add nodes of one's own (gorgonia.Grad, reads), call
// [BuildTrainGraph] inside one's own graph.Build instead.
func NewTrainGraph(ps *graph.Params, c Config, B, Ts, Tt int) (*TrainGraph, error) {
	_, t, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) {
		return BuildTrainGraph(g, c, B, Ts, Tt)
	})
	return t, err
}

// BuildTrainGraph builds the training graph for batch size B, source length
// Ts and target length Tt into g (typically inside [graph.Build]).
func BuildTrainGraph(g *graph.Graph, c Config, B, Ts, Tt int) (*TrainGraph, error) {
	if g == nil {
		return nil, errors.New("seq2seq: nil graph")
	}
	if B <= 0 || Ts <= 0 || Tt <= 0 {
		return nil, errors.Errorf("seq2seq: batch %d, source length %d and target length %d must be positive", B, Ts, Tt)
	}
	d, err := graph.OptionalDropout(c.Dropout, c.Seed)
	if err != nil {
		return nil, err
	}
	m, err := bind(g, c, d)
	if err != nil {
		return nil, err
	}
	t := &TrainGraph{G: g, B: B, Ts: Ts, Tt: Tt, cfg: c, Dropout: d}
	if c.decoder() != Attention || c.score() != Additive {
		if err := t.buildFused(m); err != nil {
			return nil, err
		}
		return t, nil
	}
	var xs, ys []*gorgonia.Node
	if t.src, xs, err = m.emb.Sequence(Ts, B); err != nil {
		return nil, err
	}
	if t.tgt, ys, err = m.emb.Sequence(Tt, B); err != nil {
		return nil, err
	}
	if t.srcMask, err = masks(g, "src_mask", Ts, B); err != nil {
		return nil, err
	}
	if t.tgtMask, err = masks(g, "tgt_mask", Tt, B); err != nil {
		return nil, err
	}
	if t.EncOut, t.EncFinal, err = m.encode(xs, t.srcMask); err != nil {
		return nil, errors.Wrap(err, "seq2seq: encoder")
	}
	if t.srcMaskMat, err = g.Input("src_mask_matrix", B, Ts); err != nil {
		return nil, err
	}
	mem, err := m.newMemory(t.EncOut, t.EncFinal[0], t.srcMaskMat)
	if err != nil {
		return nil, errors.Wrap(err, "seq2seq: attention memory")
	}
	st := t.EncFinal
	for s, y := range ys {
		z, alpha, next, err := m.step(y, st, mem)
		if err != nil {
			return nil, errors.Wrapf(err, "seq2seq: decoder step %d", s)
		}
		// A finished target keeps its state and outputs zeros, as in UnrollMasked.
		h, kept, err := cells.Keep(t.tgtMask[s], st, next)
		if err != nil {
			return nil, err
		}
		st = kept
		t.DecOut = append(t.DecOut, h)
		t.Attention = append(t.Attention, alpha)
		t.Logits = append(t.Logits, z)
		tg, err := graph.NewTargets(B, c.Vocab)
		if err != nil {
			return nil, err
		}
		t.targets = append(t.targets, tg)
		ce, err := graph.CrossEntropy(z, tg)
		if err != nil {
			return nil, err
		}
		sum, err := gorgonia.Sum(ce)
		if err != nil {
			return nil, err
		}
		if t.Loss == nil {
			t.Loss = sum
		} else if t.Loss, err = gorgonia.Add(t.Loss, sum); err != nil {
			return nil, err
		}
	}
	t.DecFinal = st
	return t, nil
}

// buildFused builds the whole model over all steps at once: the source
// and target look-ups as [T·B, E] matrices, each encoder and decoder layer
// one fused recurrence (teacher forcing lets the decoder run over all
// target steps, since its inputs are known), the attention of every target
// step in one batched product, one output projection and one loss. It
// computes what the step-by-step graph computes (tested), several times
// faster.
func (t *TrainGraph) buildFused(m *bound) error {
	g, c, B, Ts, Tt := t.G, t.cfg, t.B, t.Ts, t.Tt
	t.fused = true
	var x, y *gorgonia.Node
	var err error
	if t.src, x, err = m.emb.Matrix(Ts, B); err != nil {
		return err
	}
	if t.tgt, y, err = m.emb.Matrix(Tt, B); err != nil {
		return err
	}
	if t.srcSeq, err = g.Input("src_mask", Ts*B); err != nil {
		return err
	}
	if t.tgtSeq, err = g.Input("tgt_mask", Tt*B); err != nil {
		return err
	}
	mem, init, err := m.encodeSeq(x, B, t.srcSeq)
	if err != nil {
		return errors.Wrap(err, "seq2seq: encoder")
	}
	t.EncFinal = init
	in, summary := y, init[0]
	var rep *gorgonia.Node // the summary repeated for every target step (Peeky)
	if c.decoder() == Peeky {
		reps := make([]*gorgonia.Node, Tt)
		for i := range reps {
			reps[i] = summary
		}
		if rep, err = graph.ConcatRows(reps...); err != nil {
			return err
		}
		if in, err = graph.ConcatCols(y, rep); err != nil {
			return err
		}
	}
	dec, final, err := cells.Sequence(m.dec, in, B, init, cells.SeqOptions{Mask: t.tgtSeq})
	if err != nil {
		return errors.Wrap(err, "seq2seq: decoder")
	}
	t.DecFinal = final
	out := dec
	var alpha *gorgonia.Node
	switch c.decoder() {
	case Peeky:
		if out, err = graph.ConcatCols(dec, rep); err != nil {
			return err
		}
	case Attention:
		if t.srcMaskMat, err = g.Input("src_mask_matrix", Tt*B, Ts); err != nil {
			return err
		}
		q := dec
		if c.score() == General {
			if q, err = graph.MatMul(dec, m.attn[0], false, false); err != nil {
				return err
			}
		}
		scores, err := attention.SeqScores(q, mem, B)
		if err != nil {
			return err
		}
		if alpha, err = attention.SoftmaxRows(scores, t.srcMaskMat); err != nil {
			return err
		}
		ctx, err := attention.SeqAttend(alpha, mem, B)
		if err != nil {
			return err
		}
		if out, err = graph.ConcatCols(dec, ctx); err != nil {
			return err
		}
	}
	logits, err := m.project(out)
	if err != nil {
		return err
	}
	t.LogitMatrix = logits
	if t.target, err = graph.NewTargets(Tt*B, c.Vocab); err != nil {
		return err
	}
	ce, err := graph.CrossEntropy(logits, t.target)
	if err != nil {
		return err
	}
	if t.Loss, err = gorgonia.Sum(ce); err != nil {
		return err
	}
	// The per-step views of the exported fields: copies, off the loss's path.
	steps := func(n *gorgonia.Node, T int) ([]*gorgonia.Node, error) {
		out := make([]*gorgonia.Node, T)
		for s := range out {
			var err error
			if out[s], err = graph.Rows(n, s*B, (s+1)*B); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if t.EncOut, err = steps(mem, Ts); err != nil {
		return err
	}
	if t.DecOut, err = steps(dec, Tt); err != nil {
		return err
	}
	if t.Logits, err = steps(logits, Tt); err != nil {
		return err
	}
	t.Attention = make([]*gorgonia.Node, Tt)
	if alpha != nil {
		if t.Attention, err = steps(alpha, Tt); err != nil {
			return err
		}
	}
	return nil
}

func masks(g *graph.Graph, name string, T, B int) ([]*gorgonia.Node, error) {
	out := make([]*gorgonia.Node, T)
	for s := range out {
		var err error
		if out[s], err = g.Input(fmt.Sprintf("%s_%d", name, s), B); err != nil {
			return nil, err
		}
	}
	return out, nil
}

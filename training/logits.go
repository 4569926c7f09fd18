package training

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/training/data"
)

// LogitGraph is a loss graph whose loss is a weighted cross-entropy over
// the rows of one logits matrix: what knowledge distillation
// (training/distill) adds its term to. The loss graphs of [LM] and
// [Seq2Seq] (but for the step-by-step graph of additive attention) are
// LogitGraphs.
type LogitGraph interface {
	Graph
	// Logits returns the [R, V] logits node the loss reads.
	Logits() *gorgonia.Node
	// RowWeights returns each row's weight in the loss for batch b (the
	// graph's shape): 1/n for each of the n real positions, 0 for padding.
	RowWeights(b Batch) ([]float64, error)
	// Targets returns each row's target token for batch b (padding rows:
	// any valid id).
	Targets(b Batch) ([]int, error)
}

// Logits implements LogitGraph: [T·B, V], time-major.
func (g *lmGraph) Logits() *gorgonia.Node { return g.m.Logits }

// RowWeights implements LogitGraph.
func (g *lmGraph) RowWeights(b Batch) ([]float64, error) {
	w, err := batchOf[window](b, LMKind)
	if err != nil {
		return nil, err
	}
	B, T := g.m.B, g.m.T
	n := 0
	for _, l := range w.c.Lengths {
		n += l
	}
	out := make([]float64, T*B)
	for t := range T {
		for b, l := range w.c.Lengths {
			if t < l {
				out[t*B+b] = 1 / float64(n)
			}
		}
	}
	return out, nil
}

// Targets implements LogitGraph: the next token of each position.
func (g *lmGraph) Targets(b Batch) ([]int, error) {
	w, err := batchOf[window](b, LMKind)
	if err != nil {
		return nil, err
	}
	B, T := g.m.B, g.m.T
	out := make([]int, T*B)
	for t := range T {
		for b, s := range w.c.Seqs {
			out[t*B+b] = s[t+1]
		}
	}
	return out, nil
}

// Logits implements LogitGraph: [Tt·B, V], time-major (nil for the
// step-by-step graph of additive attention).
func (g *s2sGraph) Logits() *gorgonia.Node { return g.m.LogitMatrix }

// padded returns the batch padded to the graph's lengths.
func (g *s2sGraph) padded(b Batch) (data.Encoded, error) {
	pb, err := batchOf[pairBatch](b, Seq2SeqKind)
	if err != nil {
		return data.Encoded{}, err
	}
	return data.PadBatch(*pb.e, pb.idx, pb.ts, pb.tt)
}

// RowWeights implements LogitGraph.
func (g *s2sGraph) RowWeights(b Batch) ([]float64, error) {
	p, err := g.padded(b)
	if err != nil {
		return nil, err
	}
	B, T := len(p.TgtLen), g.m.Tt
	n := 0
	for _, l := range p.TgtLen {
		n += l
	}
	if n == 0 {
		return nil, errors.New("training: a batch without target tokens")
	}
	out := make([]float64, T*B)
	for t := range T {
		for b, l := range p.TgtLen {
			if t < l {
				out[t*B+b] = 1 / float64(n)
			}
		}
	}
	return out, nil
}

// Targets implements LogitGraph: the answer's tokens.
func (g *s2sGraph) Targets(b Batch) ([]int, error) {
	p, err := g.padded(b)
	if err != nil {
		return nil, err
	}
	B, T := len(p.TgtLen), g.m.Tt
	out := make([]int, T*B)
	for t := range T {
		for b, s := range p.TgtOut {
			out[t*B+b] = s[t]
		}
	}
	return out, nil
}

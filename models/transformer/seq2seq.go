package transformer

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
)

// Seq2SeqGraph is the Seq2Seq Transformer (Config) built into one graph
// for B pairs of Ts source and Tt target positions, with the mean
// cross-entropy of the next target token as its loss. Every sequence
// input is batch-major (position t of pair b at b·T + t). Set a batch with
// Set before each run.
type Seq2SeqGraph struct {
	Cfg       Config
	B, Ts, Tt int

	Src, DecIn *graph.IDs     // source ids [B·Ts], decoder inputs [B·Tt]
	Targets    *graph.Targets // the next target token per decoder position
	// The 0/1 attention masks (KeepMask): the encoder's self-attention
	// [B·Ts, Ts], the decoder's causal self-attention [B·Tt, Tt] and its
	// attention over the memory [B·Tt, Ts].
	SrcKeep, TgtKeep, MemKeep *gorgonia.Node

	Memory *gorgonia.Node // the encoder's output [B·Ts, E]
	DecOut *gorgonia.Node // the decoder's output [B·Tt, E]
	// Logits [B·Tt, V]: nil for a fused Net (the loss is one
	// graph.LinearCrossEntropy op) unless its Logits is set.
	Logits *gorgonia.Node
	Loss   *gorgonia.Node // scalar: Σ weight · cross-entropy
}

// Embed returns embedding.weight[ids]·√E + PE[position] for B sequences of
// T ids each (batch-major), positions start, start+1, …, followed by the
// Net's dropout. The positional values are a constant input of the graph;
// a sequence beyond the table (maxLen) is ErrTooLong.
func (n *Net) Embed(ids *graph.IDs, B, T, start int, cfg Config) (*gorgonia.Node, error) {
	E := cfg.Layer.Embed
	if ids.Len() != B*T {
		return nil, errors.Wrapf(ErrShape, "embedding: %d ids for %d sequences of %d", ids.Len(), B, T)
	}
	table, err := n.G.Param("embedding.weight", cfg.Vocab, E)
	if err != nil {
		return nil, err
	}
	pe, err := Positions(B, T, E, start, cfg.MaxLenOr())
	if err != nil {
		return nil, err
	}
	peNode, err := n.constant(n.G.UniqueName("positions"), pe, B*T, E)
	if err != nil {
		return nil, err
	}
	x, err := graph.Gather(table, ids, -1)
	if err != nil {
		return nil, err
	}
	if x, err = gorgonia.Mul(x, n.G.Scalar(math.Sqrt(float64(E)))); err != nil {
		return nil, errors.Wrap(err, "transformer: embedding scale")
	}
	if x, err = gorgonia.Add(x, peNode); err != nil {
		return nil, errors.Wrap(err, "transformer: positional encoding")
	}
	return n.dropout(x)
}

// BuildSeq2Seq builds the model and its loss into n's graph. The masks
// start with no padding (all 1 except the causal one); Set replaces them.
func BuildSeq2Seq(n *Net, cfg Config, B, Ts, Tt int) (*Seq2SeqGraph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if B <= 0 || Ts <= 0 || Tt <= 0 {
		return nil, errors.Wrapf(ErrShape, "batch %d, source length %d, target length %d must be positive", B, Ts, Tt)
	}
	max := cfg.MaxLenOr()
	if Ts > max || Tt > max {
		return nil, errors.Wrapf(ErrTooLong, "source %d, target %d positions; the table holds %d", Ts, Tt, max)
	}
	s := &Seq2SeqGraph{Cfg: cfg, B: B, Ts: Ts, Tt: Tt}
	var err error
	if s.Src, err = graph.NewIDs(B*Ts, cfg.Vocab); err != nil {
		return nil, err
	}
	if s.DecIn, err = graph.NewIDs(B*Tt, cfg.Vocab); err != nil {
		return nil, err
	}
	if s.Targets, err = graph.NewTargets(B*Tt, cfg.Vocab); err != nil {
		return nil, err
	}
	mask := func(name string, r, c int) (*gorgonia.Node, error) {
		return n.G.Input(n.G.UniqueName(name), r, c)
	}
	if s.SrcKeep, err = mask("src_keep", B*Ts, Ts); err != nil {
		return nil, err
	}
	if s.TgtKeep, err = mask("tgt_keep", B*Tt, Tt); err != nil {
		return nil, err
	}
	if s.MemKeep, err = mask("mem_keep", B*Tt, Ts); err != nil {
		return nil, err
	}
	if err := s.Set(make([]int, B*Ts), nil, make([]int, B*Tt), make([]int, B*Tt), nil); err != nil {
		return nil, err
	}
	src, err := n.Embed(s.Src, B, Ts, 0, cfg)
	if err != nil {
		return nil, errors.Wrap(err, "source")
	}
	tgt, err := n.Embed(s.DecIn, B, Tt, 0, cfg)
	if err != nil {
		return nil, errors.Wrap(err, "target")
	}
	L := cfg.Layer
	if s.Memory, err = n.Encoder(src, s.SrcKeep, "transformer.encoder", L, cfg.EncoderLayers, B); err != nil {
		return nil, err
	}
	if s.DecOut, err = n.Decoder(tgt, s.Memory, s.TgtKeep, s.MemKeep, "transformer.decoder", L, cfg.DecoderLayers, B); err != nil {
		return nil, err
	}
	if !n.Fused || n.Logits {
		if s.Logits, err = n.Linear(s.DecOut, "fc", cfg.Vocab); err != nil {
			return nil, err
		}
	}
	var xent *gorgonia.Node
	if n.Fused {
		xent, err = n.linearLoss(s.DecOut, "fc", s.Targets)
	} else {
		xent, err = graph.CrossEntropy(s.Logits, s.Targets)
	}
	if err != nil {
		return nil, err
	}
	if s.Loss, err = gorgonia.Sum(xent); err != nil {
		return nil, err
	}
	return s, nil
}

// linearLoss is graph.LinearCrossEntropy of x through prefix.weight and
// prefix.bias: the Linear layer and the cross-entropy as one op.
func (n *Net) linearLoss(x *gorgonia.Node, prefix string, t *graph.Targets) (*gorgonia.Node, error) {
	w, err := n.G.Param(prefix+".weight", t.Classes(), cols(x))
	if err != nil {
		return nil, err
	}
	b, err := n.G.Param(prefix+".bias", t.Classes())
	if err != nil {
		return nil, err
	}
	xent, err := graph.LinearCrossEntropy(x, w, b, t)
	return xent, errors.Wrap(err, prefix)
}

// Set gives the graph a batch: src [B·Ts] and decIn, labels [B·Tt] ids,
// batch-major; srcLen and tgtLen the pairs' lengths (nil: all full),
// positions beyond which are padding: masked as keys and left out of the
// loss. The loss is the mean over the target positions that are not
// padding.
func (s *Seq2SeqGraph) Set(src []int, srcLen []int, decIn, labels []int, tgtLen []int) error {
	if err := s.Src.Set(src); err != nil {
		return errors.Wrap(err, "transformer: source")
	}
	if err := s.DecIn.Set(decIn); err != nil {
		return errors.Wrap(err, "transformer: decoder input")
	}
	var srcPad, tgtPad []float64
	var err error
	if srcLen != nil {
		if len(srcLen) != s.B {
			return errors.Wrapf(ErrShape, "%d source lengths for %d pairs", len(srcLen), s.B)
		}
		if srcPad, err = PaddingMask(srcLen, s.Ts); err != nil {
			return errors.Wrap(err, "source")
		}
	}
	weights := make([]float64, s.B*s.Tt)
	count := 0
	for b := 0; b < s.B; b++ {
		n := s.Tt
		if tgtLen != nil {
			n = tgtLen[b]
		}
		for t := 0; t < n && t < s.Tt; t++ {
			weights[b*s.Tt+t] = 1
			count++
		}
	}
	if tgtLen != nil {
		if len(tgtLen) != s.B {
			return errors.Wrapf(ErrShape, "%d target lengths for %d pairs", len(tgtLen), s.B)
		}
		if tgtPad, err = PaddingMask(tgtLen, s.Tt); err != nil {
			return errors.Wrap(err, "target")
		}
	}
	for i := range weights {
		weights[i] /= float64(count)
	}
	if err := s.Targets.Set(labels, weights); err != nil {
		return errors.Wrap(err, "transformer: labels")
	}
	for _, m := range []struct {
		node    *gorgonia.Node
		tq, tk  int
		causal  bool
		padding []float64
	}{{s.SrcKeep, s.Ts, s.Ts, false, srcPad}, {s.TgtKeep, s.Tt, s.Tt, true, tgtPad}, {s.MemKeep, s.Tt, s.Ts, false, srcPad}} {
		keep, err := KeepMask(s.B, m.tq, m.tk, m.causal, nil, m.padding)
		if err != nil {
			return err
		}
		if err := graph.Set(m.node, keep); err != nil {
			return err
		}
	}
	return nil
}

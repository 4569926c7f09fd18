package mlm

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/transformer"
)

// Graph is the masked language model built into one graph for B
// sequences of T positions with P prediction slots, and its loss. Give it
// a batch with Set before each run.
type Graph struct {
	Cfg     Config
	B, T, P int

	IDs     *graph.IDs     // the inputs [B·T], batch-major
	Slots   *graph.IDs     // the rows of the selected positions [P], in 0..B·T−1
	Targets *graph.Targets // the original token of each slot, weighted
	Keep    *gorgonia.Node // the self-attention's key padding mask [B·T, T]

	Hidden *gorgonia.Node // the encoder's output [B·T, E]
	Logits *gorgonia.Node // [P, V], the selected rows' scores
	Loss   *gorgonia.Node // scalar: the mean cross-entropy over the selected positions

	selected int // slots filled by the last Set
}

// Build builds the model and its loss into n's graph for B sequences of
// T positions and P prediction slots (the most positions one batch may
// select). The encoder is n's: fused or the definition, with n's dropout.
func Build(n *transformer.Net, cfg Config, B, T, P int) (*Graph, error) {
	if n == nil {
		return nil, errors.New("mlm: Build with a nil Net")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if B <= 0 || T <= 0 || P <= 0 {
		return nil, errors.Wrapf(ErrShape, "batch %d, length %d, slots %d must be positive", B, T, P)
	}
	if T > cfg.MaxLenOr() {
		return nil, errors.Wrapf(transformer.ErrTooLong, "mlm: %d positions, the table holds %d", T, cfg.MaxLenOr())
	}
	g := &Graph{Cfg: cfg, B: B, T: T, P: P}
	var err error
	if g.IDs, err = graph.NewIDs(B*T, cfg.Vocab); err != nil {
		return nil, err
	}
	if g.Slots, err = graph.NewIDs(P, B*T); err != nil {
		return nil, err
	}
	if g.Targets, err = graph.NewTargets(P, cfg.Vocab); err != nil {
		return nil, err
	}
	if g.Keep, err = n.G.Input(n.G.UniqueName("mlm.keep"), B*T, T); err != nil {
		return nil, err
	}
	x, err := n.Embed(g.IDs, B, T, 0, cfg.embedding())
	if err != nil {
		return nil, errors.Wrap(err, "mlm: embedding")
	}
	L := cfg.Layer
	for k := 0; k < cfg.Layers; k++ {
		if x, err = n.EncoderLayer(x, g.Keep, fmt.Sprintf("encoder.layers.%d", k), L, B); err != nil {
			return nil, errors.Wrapf(err, "mlm: encoder layer %d", k)
		}
	}
	if L.NormFirst {
		if x, err = n.LayerNorm(x, "encoder.norm", L.EpsOr()); err != nil {
			return nil, errors.Wrap(err, "mlm: final norm")
		}
	}
	g.Hidden = x
	h, err := graph.Gather(x, g.Slots, -1)
	if err != nil {
		return nil, errors.Wrap(err, "mlm: selected rows")
	}
	if g.Logits, err = head(n, h, cfg); err != nil {
		return nil, err
	}
	xent, err := graph.CrossEntropy(g.Logits, g.Targets)
	if err != nil {
		return nil, err
	}
	if g.Loss, err = gorgonia.Sum(xent); err != nil {
		return nil, errors.Wrap(err, "mlm: loss")
	}
	full := make([]int, B)
	for b := range full {
		full[b] = T
	}
	if err := g.Set(make([]int, B*T), full, make([]int, B*T), make([]bool, B*T)); err != nil {
		return nil, err
	}
	return g, nil
}

// head returns the output layer's logits h·Wᵀ + fc.bias, W being
// fc.weight or, tied, embedding.weight.
func head(n *transformer.Net, h *gorgonia.Node, cfg Config) (*gorgonia.Node, error) {
	if !cfg.Tied {
		y, err := n.Linear(h, "fc", cfg.Vocab)
		return y, errors.Wrap(err, "mlm: output layer")
	}
	w, err := n.G.Param("embedding.weight", cfg.Vocab, cfg.Layer.Embed)
	if err != nil {
		return nil, err
	}
	b, err := n.G.Param("fc.bias", cfg.Vocab)
	if err != nil {
		return nil, err
	}
	y, err := graph.Linear(h, w, b)
	return y, errors.Wrap(err, "mlm: tied output layer")
}

// Set gives the graph a batch, every slice batch-major [B·T]: inputs the
// ids the model reads (the masked sequences), labels the original tokens,
// selected the positions scored; lengths [B] the sequences' lengths, each
// in 0..T (positions at or beyond it are padding: masked as keys, and
// never selected; a length 0 is an empty row). The loss is the mean
// cross-entropy of the labels at the selected positions (0 when none is);
// an unselected position's label is not read. More selected positions
// than the graph's P slots is ErrShape.
func (g *Graph) Set(inputs []int, lengths []int, labels []int, selected []bool) error {
	n := g.B * g.T
	if len(inputs) != n || len(labels) != n || len(selected) != n || len(lengths) != g.B {
		return errors.Wrapf(ErrShape, "%d inputs, %d labels, %d selection flags (want %d), %d lengths (want %d)",
			len(inputs), len(labels), len(selected), n, len(lengths), g.B)
	}
	pad := make([]float64, g.B*g.T)
	for b, l := range lengths {
		if l < 0 || l > g.T {
			return errors.Wrapf(ErrShape, "length %d of sequence %d outside 0..%d", l, b, g.T)
		}
		for t := l; t < g.T; t++ {
			pad[b*g.T+t] = 1
			if selected[b*g.T+t] {
				return errors.Wrapf(ErrShape, "sequence %d: padding position %d (length %d) is selected", b, t, l)
			}
		}
	}
	slots := make([]int, g.P)
	ids := make([]int, g.P)
	weights := make([]float64, g.P)
	k := 0
	for i, s := range selected {
		if !s {
			continue
		}
		if k == g.P {
			return errors.Wrapf(ErrShape, "more than %d positions selected (the graph's slots)", g.P)
		}
		if labels[i] < 0 || labels[i] >= g.Cfg.Vocab {
			return errors.Wrapf(ErrShape, "label %d at sequence %d, position %d outside the vocabulary of %d", labels[i], i/g.T, i%g.T, g.Cfg.Vocab)
		}
		slots[k], ids[k] = i, labels[i]
		k++
	}
	for i := 0; i < k; i++ {
		weights[i] = 1 / float64(k)
	}
	if err := g.IDs.Set(inputs); err != nil {
		return errors.Wrap(err, "mlm: inputs")
	}
	keep, err := transformer.KeepMask(g.B, g.T, g.T, false, nil, pad)
	if err != nil {
		return err
	}
	if err := graph.Set(g.Keep, keep); err != nil {
		return err
	}
	if err := g.Slots.Set(slots); err != nil {
		return err
	}
	if err := g.Targets.Set(ids, weights); err != nil {
		return err
	}
	g.selected = k
	return nil
}

// Selected returns the number of slots the last Set filled: the first
// that many rows of Logits are the selected positions, in batch-major
// order.
func (g *Graph) Selected() int { return g.selected }

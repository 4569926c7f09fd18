package seq2seq

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/embed"
)

// Config describes a Seq2Seq model.
type Config struct {
	Vocab  int        `json:"vocab"`
	Embed  int        `json:"embed"`
	Hidden int        `json:"hidden"`
	Cell   cells.Kind `json:"cell"`
	Layers int        `json:"layers"` // encoder and decoder depth; 0 means 1
}

func (c Config) layers() int {
	if c.Layers <= 0 {
		return 1
	}
	return c.Layers
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.Vocab <= 0 || c.Embed <= 0 || c.Hidden <= 0 {
		return errors.Errorf("seq2seq: vocab %d, embed %d and hidden %d must be greater than zero", c.Vocab, c.Embed, c.Hidden)
	}
	return (cells.Config{Kind: c.Cell, InputSize: 1, HiddenSize: 1}).Validate()
}

func (c Config) embedConfig() embed.Config { return embed.Config{Vocab: c.Vocab, Dim: c.Embed} }

// cellConfigs returns the cell configs of the encoder or decoder stack.
func (c Config) cellConfigs(prefix string) []cells.Config {
	out := make([]cells.Config, c.layers())
	for k := range out {
		in := c.Embed
		if k > 0 {
			in = c.Hidden
		}
		out[k] = cells.Config{Kind: c.Cell, InputSize: in, HiddenSize: c.Hidden, Layer: k, Prefix: prefix}
	}
	return out
}

// Init creates every parameter in ps from src: the embedding N(0, 1), the
// recurrent layers and fc U(−1/√H, 1/√H), as PyTorch initialises them.
func (c Config) Init(ps *graph.Params, src graph.Source) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := c.embedConfig().Init(ps, src); err != nil {
		return err
	}
	for _, prefix := range []string{"encoder.", "decoder."} {
		for _, cc := range c.cellConfigs(prefix) {
			if err := cc.Init(ps, src); err != nil {
				return errors.Wrap(err, "seq2seq")
			}
		}
	}
	fc, err := graph.NewScope(ps).Sub("fc")
	if err != nil {
		return err
	}
	init := graph.PyTorchDefault(c.Hidden)
	if _, err := fc.New("weight", init, src, c.Vocab, c.Hidden); err != nil {
		return err
	}
	_, err = fc.New("bias", init, src, c.Vocab)
	return err
}

// bound is the model's parts bound into one graph.
type bound struct {
	g        *graph.Graph
	cfg      Config
	emb      *embed.Embedding
	enc, dec cells.Cell
	fcW, fcB *gorgonia.Node
}

func bind(g *graph.Graph, c Config) (*bound, error) {
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
		return cells.NewStack(cs...)
	}
	if b.enc, err = stack("encoder."); err != nil {
		return nil, errors.Wrap(err, "seq2seq: encoder")
	}
	if b.dec, err = stack("decoder."); err != nil {
		return nil, errors.Wrap(err, "seq2seq: decoder")
	}
	if b.fcW, err = g.Param("fc.weight", c.Vocab, c.Hidden); err != nil {
		return nil, err
	}
	if b.fcB, err = g.Param("fc.bias", c.Vocab); err != nil {
		return nil, err
	}
	return b, nil
}

// project returns the logits [B, V] of decoder outputs h [B, H].
func (b *bound) project(h *gorgonia.Node) (*gorgonia.Node, error) {
	z, err := graph.MatMul(h, b.fcW, false, true)
	if err != nil {
		return nil, err
	}
	return graph.AddRow(z, b.fcB)
}

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
	G          *graph.Graph
	B, Ts, Tt  int
	Loss       *gorgonia.Node   // mean cross-entropy over real target positions
	Logits     []*gorgonia.Node // [B, V] per target step
	EncOut     []*gorgonia.Node // [B, H] per source step (top layer)
	DecOut     []*gorgonia.Node // [B, H] per target step (top layer)
	EncFinal   cells.State      // the state handed to the decoder
	DecFinal   cells.State
	src, tgt   *embed.Tokens
	srcMask    []*gorgonia.Node
	tgtMask    []*gorgonia.Node
	targets    []*graph.Targets
	cfg        Config
	initStates cells.State
}

// NewTrainGraph builds the training graph for batch size B, source length
// Ts and target length Tt over the parameters in ps.
func NewTrainGraph(ps *graph.Params, c Config, B, Ts, Tt int) (*TrainGraph, error) {
	if B <= 0 || Ts <= 0 || Tt <= 0 {
		return nil, errors.Errorf("seq2seq: batch %d, source length %d and target length %d must be positive", B, Ts, Tt)
	}
	g, err := graph.New(ps)
	if err != nil {
		return nil, err
	}
	m, err := bind(g, c)
	if err != nil {
		return nil, err
	}
	t := &TrainGraph{G: g, B: B, Ts: Ts, Tt: Tt, cfg: c}
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
	if t.initStates, err = m.enc.ZeroState(B); err != nil {
		return nil, err
	}
	if t.EncOut, t.EncFinal, err = cells.UnrollMasked(m.enc, xs, t.initStates, t.srcMask); err != nil {
		return nil, errors.Wrap(err, "seq2seq: encoder")
	}
	if t.DecOut, t.DecFinal, err = cells.UnrollMasked(m.dec, ys, t.EncFinal, t.tgtMask); err != nil {
		return nil, errors.Wrap(err, "seq2seq: decoder")
	}
	for s, h := range t.DecOut {
		z, err := m.project(h)
		if err != nil {
			return nil, errors.Wrapf(err, "seq2seq: output layer, step %d", s)
		}
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
	return t, nil
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

// InitialState returns the encoder's initial-state input nodes (zeros
// unless set).
func (t *TrainGraph) InitialState() cells.State { return t.initStates }

// Set loads a batch: token ids, masks, and targets weighted 1/N over the N
// real target positions, so Loss is their mean cross-entropy.
func (t *TrainGraph) Set(b Batch) error {
	if len(b.Src) != t.B || len(b.SrcLen) != t.B || len(b.TgtIn) != t.B || len(b.TgtOut) != t.B || len(b.TgtLen) != t.B {
		return errors.Errorf("seq2seq: batch of %d sources, %d lengths, %d/%d targets, %d lengths; want %d each",
			len(b.Src), len(b.SrcLen), len(b.TgtIn), len(b.TgtOut), len(b.TgtLen), t.B)
	}
	if err := t.src.SetBatchMajor(b.Src); err != nil {
		return errors.Wrap(err, "seq2seq: source")
	}
	if err := t.tgt.SetBatchMajor(b.TgtIn); err != nil {
		return errors.Wrap(err, "seq2seq: decoder input")
	}
	n := 0
	for i := 0; i < t.B; i++ {
		if b.SrcLen[i] < 1 || b.SrcLen[i] > t.Ts || b.TgtLen[i] < 1 || b.TgtLen[i] > t.Tt {
			return errors.Errorf("seq2seq: sequence %d: lengths %d and %d outside [1, %d] and [1, %d]", i, b.SrcLen[i], b.TgtLen[i], t.Ts, t.Tt)
		}
		if len(b.TgtOut[i]) != t.Tt {
			return errors.Errorf("seq2seq: labels of sequence %d have %d tokens, want %d", i, len(b.TgtOut[i]), t.Tt)
		}
		n += b.TgtLen[i]
	}
	if err := setMasks(t.srcMask, b.SrcLen); err != nil {
		return err
	}
	if err := setMasks(t.tgtMask, b.TgtLen); err != nil {
		return err
	}
	for s, tg := range t.targets {
		ids, w := make([]int, t.B), make([]float64, t.B)
		for i := 0; i < t.B; i++ {
			ids[i] = b.TgtOut[i][s]
			if s < b.TgtLen[i] {
				w[i] = 1 / float64(n)
			}
		}
		if err := tg.Set(ids, w); err != nil {
			return errors.Wrapf(err, "seq2seq: labels at step %d", s)
		}
	}
	return nil
}

func setMasks(ms []*gorgonia.Node, lengths []int) error {
	for s, m := range ms {
		v := make([]float64, len(lengths))
		for i, l := range lengths {
			if s < l {
				v[i] = 1
			}
		}
		if err := graph.Set(m, v); err != nil {
			return err
		}
	}
	return nil
}

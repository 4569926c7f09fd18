package lm

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/embed"
	"github.com/rnnkit/rnnkit/models/internal/rows"
)

// Config describes a language model.
type Config struct {
	Vocab  int        `json:"vocab"`
	Embed  int        `json:"embed"`
	Hidden int        `json:"hidden"`
	Cell   cells.Kind `json:"cell"`
	Layers int        `json:"layers"` // 0 means 1
	Tied   bool       `json:"tied,omitempty"`
	// Dropout is the probability of dropping each output of every layer
	// but the top one before the next layer reads it, in training graphs
	// only; Seed seeds its masks.
	Dropout float64 `json:"dropout,omitempty"`
	Seed    uint64  `json:"seed,omitempty"`
}

func (c Config) layers() int { return max(1, c.Layers) }

// Validate checks the config.
func (c Config) Validate() error {
	if c.Vocab <= 0 || c.Embed <= 0 || c.Hidden <= 0 {
		return errors.Errorf("lm: vocab %d, embed %d and hidden %d must be greater than zero", c.Vocab, c.Embed, c.Hidden)
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return errors.Errorf("lm: dropout %v must be in [0, 1)", c.Dropout)
	}
	if c.Tied && c.Embed != c.Hidden {
		return errors.Errorf("lm: tied weights need embed = hidden, got %d and %d", c.Embed, c.Hidden)
	}
	return (cells.Config{Kind: c.Cell, InputSize: 1, HiddenSize: 1}).Validate()
}

func (c Config) cellConfigs() []cells.Config {
	out := make([]cells.Config, c.layers())
	for k := range out {
		in := c.Embed
		if k > 0 {
			in = c.Hidden
		}
		out[k] = cells.Config{Kind: c.Cell, InputSize: in, HiddenSize: c.Hidden, Layer: k, Prefix: "rnn."}
	}
	return out
}

// Init creates the parameters: embedding.weight, rnn.weight_ih_l0 …,
// fc.weight (unless Tied) and fc.bias.
func (c Config) Init(ps *graph.Params, src graph.Source) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := (embed.Config{Vocab: c.Vocab, Dim: c.Embed}).Init(ps, src); err != nil {
		return err
	}
	for _, cc := range c.cellConfigs() {
		if err := cc.Init(ps, src); err != nil {
			return errors.Wrap(err, "lm")
		}
	}
	fc, err := graph.NewScope(ps).Sub("fc")
	if err != nil {
		return err
	}
	init := graph.PyTorchDefault(c.Hidden)
	if !c.Tied {
		if _, err := fc.New("weight", init, src, c.Vocab, c.Hidden); err != nil {
			return err
		}
	}
	_, err = fc.New("bias", init, src, c.Vocab)
	return err
}

type bound struct {
	cfg      Config
	emb      *embed.Embedding
	rnn      cells.Cell
	fcW, fcB *gorgonia.Node
}

func bind(g *graph.Graph, c Config, d *graph.Dropout) (*bound, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	b := &bound{cfg: c}
	var err error
	if b.emb, err = embed.New(g, embed.Config{Vocab: c.Vocab, Dim: c.Embed}); err != nil {
		return nil, err
	}
	var cs []cells.Cell
	for _, cc := range c.cellConfigs() {
		cell, err := cells.New(g, cc)
		if err != nil {
			return nil, err
		}
		cs = append(cs, cell)
	}
	if len(cs) == 1 {
		b.rnn = cs[0]
	} else {
		st, err := cells.NewStack(cs...)
		if err != nil {
			return nil, err
		}
		if d != nil {
			if st, err = st.WithDropout(g, d); err != nil {
				return nil, err
			}
		}
		b.rnn = st
	}
	if c.Tied {
		b.fcW = b.emb.Weight()
	} else if b.fcW, err = g.Param("fc.weight", c.Vocab, c.Hidden); err != nil {
		return nil, err
	}
	if b.fcB, err = g.Param("fc.bias", c.Vocab); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *bound) project(h *gorgonia.Node) (*gorgonia.Node, error) {
	return graph.Linear(h, b.fcW, b.fcB)
}

// TrainGraph is the model unrolled over T steps for batch B, with the
// next-token loss.
type TrainGraph struct {
	G      *graph.Graph
	B, T   int
	Loss   *gorgonia.Node // mean cross-entropy over the real positions
	Logits *gorgonia.Node // [T·B, V], time-major (rows t·B … t·B+B−1 are step t)
	Init   cells.State    // initial state inputs (zeros unless set)
	Final  cells.State    // the state after each sequence's last real token
	// Dropout is the training graph's dropout (nil without); Set draws new
	// masks, SetTraining(false) turns it off for evaluation.
	Dropout *graph.Dropout
	tokens  *embed.Tokens
	mask    *gorgonia.Node // [T·B]
	tgts    *graph.Targets // T·B rows
}

// NewTrainGraph builds the training graph for batch B and T steps over the
// parameters in ps, checked by [graph.Build]. To add nodes of one's own
// (gorgonia.Grad, reads), call [BuildTrainGraph] inside one's own
// graph.Build instead.
func NewTrainGraph(ps *graph.Params, c Config, B, T int) (*TrainGraph, error) {
	_, t, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) {
		return BuildTrainGraph(g, c, B, T)
	})
	return t, err
}

// BuildTrainGraph builds the training graph for batch B and T steps into g
// (typically inside [graph.Build]).
func BuildTrainGraph(g *graph.Graph, c Config, B, T int) (*TrainGraph, error) {
	if g == nil {
		return nil, errors.New("lm: nil graph")
	}
	if B <= 0 || T <= 0 {
		return nil, errors.Errorf("lm: batch %d and length %d must be positive", B, T)
	}
	d, err := graph.OptionalDropout(c.Dropout, c.Seed)
	if err != nil {
		return nil, err
	}
	m, err := bind(g, c, d)
	if err != nil {
		return nil, err
	}
	t := &TrainGraph{G: g, B: B, T: T, Dropout: d}
	// The whole window at once: one look-up, one fused recurrence per layer,
	// one output projection and one loss over all T·B positions.
	var x *gorgonia.Node
	if t.tokens, x, err = m.emb.Matrix(T, B); err != nil {
		return nil, err
	}
	if t.mask, err = g.Input("mask", T*B); err != nil {
		return nil, err
	}
	if t.Init, err = m.rnn.ZeroState(B); err != nil {
		return nil, err
	}
	hs, final, err := cells.Sequence(m.rnn, x, B, t.Init, cells.SeqOptions{Mask: t.mask})
	if err != nil {
		return nil, errors.Wrap(err, "lm")
	}
	t.Final = final
	if t.Logits, err = m.project(hs); err != nil {
		return nil, err
	}
	if t.tgts, err = graph.NewTargets(T*B, c.Vocab); err != nil {
		return nil, err
	}
	ce, err := graph.CrossEntropy(t.Logits, t.tgts)
	if err != nil {
		return nil, err
	}
	if t.Loss, err = gorgonia.Sum(ce); err != nil {
		return nil, err
	}
	return t, nil
}

// Set loads a batch: seqs[b] holds T+1 tokens (the input is seqs[b][:T],
// the labels seqs[b][1:]), of which lengths[b]+1 are real (lengths[b] in
// [1, T] predictions). The loss is the mean over all real predictions.
func (t *TrainGraph) Set(seqs [][]int, lengths []int) error {
	if len(seqs) != t.B || len(lengths) != t.B {
		return errors.Errorf("lm: %d sequences and %d lengths, want %d", len(seqs), len(lengths), t.B)
	}
	in := make([][]int, t.B)
	n := 0
	for b, s := range seqs {
		if len(s) != t.T+1 {
			return errors.Errorf("lm: sequence %d has %d tokens, want %d", b, len(s), t.T+1)
		}
		if lengths[b] < 1 || lengths[b] > t.T {
			return errors.Errorf("lm: sequence %d: length %d outside [1, %d]", b, lengths[b], t.T)
		}
		in[b] = s[:t.T]
		n += lengths[b]
	}
	if err := t.tokens.SetBatchMajor(in); err != nil {
		return errors.Wrap(err, "lm")
	}
	if t.Dropout != nil {
		if err := t.Dropout.Resample(); err != nil {
			return err
		}
	}
	TB := t.T * t.B
	m, ids, w := make([]float64, TB), make([]int, TB), make([]float64, TB)
	for s := 0; s < t.T; s++ {
		for b := range seqs {
			r := s*t.B + b
			ids[r] = seqs[b][s+1]
			if s < lengths[b] {
				m[r], w[r] = 1, 1/float64(n)
			}
		}
	}
	if err := graph.Set(t.mask, m); err != nil {
		return err
	}
	if err := t.tgts.Set(ids, w); err != nil {
		return errors.Wrap(err, "lm: labels")
	}
	return nil
}

// Generator samples from a trained model through models/decode; it
// implements decode.Model. Not safe for concurrent use.
type Generator struct {
	ps    *graph.Params
	cfg   Config
	steps *graph.Cache[int, *stepGraph]
}

type stepGraph struct {
	m      gorgonia.VM
	ids    *graph.IDs
	state  cells.State
	logitV gorgonia.Value
	nextV  []gorgonia.Value
}

func (s *stepGraph) Close() error { return s.m.Close() }

// NewGenerator returns a generator over ps.
func NewGenerator(ps *graph.Params, c Config) (*Generator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if ps == nil {
		return nil, errors.New("lm: nil params")
	}
	steps, err := graph.NewCache[int, *stepGraph](16)
	if err != nil {
		return nil, err
	}
	return &Generator{ps: ps, cfg: c, steps: steps}, nil
}

// Close releases the compiled machines.
func (gen *Generator) Close() error { return gen.steps.Close() }

// Vocab implements decode.Model.
func (gen *Generator) Vocab() int { return gen.cfg.Vocab }

// State is the recurrent state of a batch of rows; it implements decode.State.
type State struct{ tensors []rows.Matrix }

// Rows implements decode.State.
func (s *State) Rows() int {
	if len(s.tensors) == 0 {
		return 0
	}
	return len(s.tensors[0])
}

// Select implements decode.State.
func (s *State) Select(idx []int) (decode.State, error) {
	t, err := rows.SelectAll(s.tensors, idx)
	if err != nil {
		return nil, err
	}
	return &State{tensors: t}, nil
}

// Start returns the zero state for a batch of rows.
func (gen *Generator) Start(n int) (*State, error) {
	if n <= 0 {
		return nil, errors.Errorf("lm: %d rows", n)
	}
	k := (cells.Config{Kind: gen.cfg.Cell}).NumStates() * gen.cfg.layers()
	s := &State{tensors: make([]rows.Matrix, k)}
	for k := range s.tensors {
		s.tensors[k] = make(rows.Matrix, n)
		for r := range s.tensors[k] {
			s.tensors[k][r] = make([]float64, gen.cfg.Hidden)
		}
	}
	return s, nil
}

// Prime feeds the tokens of prompts (one per row, each non-empty, all of
// the same length) and returns the state after them and the last token of
// each, to start decoding from.
func (gen *Generator) Prime(prompts [][]int) (decode.State, []int, error) {
	if len(prompts) == 0 || len(prompts[0]) == 0 {
		return nil, nil, errors.New("lm: empty prompt")
	}
	L := len(prompts[0])
	for r, p := range prompts { // every token, the last ones included, before any run
		if len(p) != L {
			return nil, nil, errors.Errorf("lm: prompt %d has %d tokens, want %d", r, len(p), L)
		}
		for t, id := range p {
			if id < 0 || id >= gen.cfg.Vocab {
				return nil, nil, errors.Errorf("lm: prompt %d, token %d: id %d outside the vocabulary of %d", r, t, id, gen.cfg.Vocab)
			}
		}
	}
	s0, err := gen.Start(len(prompts))
	if err != nil {
		return nil, nil, err
	}
	var st decode.State = s0
	for t := 0; t < L-1; t++ {
		toks := make([]int, len(prompts))
		for r, p := range prompts {
			toks[r] = p[t]
		}
		if _, st, err = gen.Step(st, toks); err != nil {
			return nil, nil, err
		}
	}
	last := make([]int, len(prompts))
	for r, p := range prompts {
		last[r] = p[L-1]
	}
	return st, last, nil
}

func (gen *Generator) build(rows int) (*stepGraph, error) {
	g, s, err := graph.Build(gen.ps, func(g *graph.Graph) (*stepGraph, error) { return gen.buildStep(g, rows) })
	if err != nil {
		return nil, err
	}
	if s.m, err = graph.NewMachine(g); err != nil {
		return nil, err
	}
	return s, nil
}

func (gen *Generator) buildStep(g *graph.Graph, rows int) (*stepGraph, error) {
	m, err := bind(g, gen.cfg, nil)
	if err != nil {
		return nil, err
	}
	s := &stepGraph{}
	if s.ids, err = graph.NewIDs(rows, gen.cfg.Vocab); err != nil {
		return nil, err
	}
	x, err := m.emb.Lookup(s.ids)
	if err != nil {
		return nil, err
	}
	zero, err := m.rnn.ZeroState(rows)
	if err != nil {
		return nil, err
	}
	s.state = zero
	h, next, err := m.rnn.Step(x, s.state)
	if err != nil {
		return nil, err
	}
	z, err := m.project(h)
	if err != nil {
		return nil, err
	}
	gorgonia.Read(z, &s.logitV)
	s.nextV = make([]gorgonia.Value, len(next)) // Read keeps a pointer into this slice: allocate it once
	for i, n := range next {
		gorgonia.Read(n, &s.nextV[i])
	}
	return s, nil
}

// Step implements decode.Model.
func (gen *Generator) Step(st decode.State, tokens []int) ([][]float64, decode.State, error) {
	s, ok := st.(*State)
	if !ok || s == nil {
		return nil, nil, errors.Errorf("lm: state of type %T, want *lm.State", st)
	}
	n := s.Rows()
	if n == 0 || len(tokens) != n {
		return nil, nil, errors.Errorf("lm: %d tokens for %d rows", len(tokens), n)
	}
	sg, err := gen.steps.Get(n, func() (*stepGraph, error) { return gen.build(n) })
	if err != nil {
		return nil, nil, err
	}
	if len(s.tensors) != len(sg.state) {
		return nil, nil, errors.Errorf("lm: state has %d tensors, the model %d", len(s.tensors), len(sg.state))
	}
	if err := sg.ids.Set(tokens); err != nil {
		return nil, nil, err
	}
	for k, t := range s.tensors {
		if err := rows.Set(sg.state[k], t); err != nil {
			return nil, nil, err
		}
	}
	if err := graph.Run(sg.m); err != nil {
		return nil, nil, errors.Wrap(err, "lm: step")
	}
	sg.m.Reset()
	logits, err := rows.Logits(sg.logitV, n, gen.cfg.Vocab)
	if err != nil {
		return nil, nil, err
	}
	next, err := rows.FromValues(sg.nextV, n, gen.cfg.Hidden)
	if err != nil {
		return nil, nil, err
	}
	return logits, &State{tensors: next}, nil
}

package vae

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/internal/rows"
)

// Encode returns the posterior q(z | x) of each sentence (token ids
// without <s> and </s>, at least one each): its mean μ and log-variance,
// one row per sentence. It runs the model's graph once (a graph for the
// longest sentence, compiled for this call).
func Encode(ps *graph.Params, c Config, sents [][]int) (mu, logvar [][]float64, err error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	if c.Latent == 0 {
		return nil, nil, errors.Wrap(ErrConfig, "a model without a latent encodes nothing")
	}
	if ps == nil || len(sents) == 0 {
		return nil, nil, errors.Wrap(ErrInput, "nothing to encode (no parameters or no sentence)")
	}
	T := 0
	for i, s := range sents {
		if len(s) == 0 {
			return nil, nil, errors.Wrapf(ErrInput, "sentence %d is empty", i)
		}
		T = max(T, len(s))
	}
	type enc struct {
		t      *TrainGraph
		mu, lv gorgonia.Value
	}
	g, e, err := graph.Build(ps, func(g *graph.Graph) (*enc, error) {
		t, err := BuildTrainGraph(g, c, len(sents), T, Options{})
		if err != nil {
			return nil, err
		}
		e := &enc{t: t}
		gorgonia.Read(t.Mu, &e.mu)
		gorgonia.Read(t.LogVar, &e.lv)
		return e, nil
	})
	if err != nil {
		return nil, nil, err
	}
	if err := e.t.Set(sents, Inputs{Beta: 1}); err != nil {
		return nil, nil, err
	}
	vm, err := graph.NewMachine(g)
	if err != nil {
		return nil, nil, err
	}
	defer vm.Close()
	if err := graph.Run(vm); err != nil {
		return nil, nil, errors.Wrap(err, "vae: encode")
	}
	out, err := rows.FromValues([]gorgonia.Value{e.mu, e.lv}, len(sents), c.Latent)
	if err != nil {
		return nil, nil, err
	}
	return out[0], out[1], nil
}

// Generator runs the decoder one token at a time for models/decode: it
// implements decode.Model. Its states start from latent codes
// ([Generator.Start]) or, for a model without a latent, from zeros. Not
// safe for concurrent use.
type Generator struct {
	ps    *graph.Params
	cfg   Config
	steps *graph.Cache[int, *stepGraph]
}

type stepGraph struct {
	m      gorgonia.VM
	ids    *graph.IDs
	state  cells.State
	z      *gorgonia.Node // ZInput: [rows, Latent]
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
		return nil, errors.New("vae: nil params")
	}
	steps, err := graph.NewCache[int, *stepGraph](8)
	if err != nil {
		return nil, err
	}
	return &Generator{ps: ps, cfg: c, steps: steps}, nil
}

// Close releases the compiled machines.
func (gen *Generator) Close() error { return gen.steps.Close() }

// Vocab implements decode.Model.
func (gen *Generator) Vocab() int { return gen.cfg.Vocab }

// State is the decoder's state for a batch of rows, and each row's z (with
// Config.ZInput); it implements decode.State.
type State struct {
	tensors []rows.Matrix // the cell's state tensors
	z       rows.Matrix   // nil unless ZInput
}

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
	z, err := rows.Select(s.z, idx)
	if err != nil {
		return nil, err
	}
	return &State{tensors: t, z: z}, nil
}

// param returns a parameter's values as float64s.
func (gen *Generator) param(name string) ([]float64, error) {
	d, ok := gen.ps.Get(name)
	if !ok {
		return nil, errors.Errorf("vae: no parameter %s", name)
	}
	return graph.ValueFloat64s(d)
}

// Start returns the decoder's state for codes z (one row of Latent values
// each): tanh(latent2hidden(z)), cut into the cell's state tensors. For a
// model without a latent, z must be n empty rows, and the state is zeros.
func (gen *Generator) Start(z [][]float64) (*State, error) {
	c := gen.cfg
	if len(z) == 0 {
		return nil, errors.Wrap(ErrInput, "no rows to start from")
	}
	S, H := c.numStates(), c.Hidden
	st := &State{tensors: make([]rows.Matrix, S)}
	for k := range st.tensors {
		st.tensors[k] = make(rows.Matrix, len(z))
	}
	var w, b []float64
	if c.Latent > 0 {
		var err error
		if w, err = gen.param("latent2hidden.weight"); err != nil {
			return nil, err
		}
		if b, err = gen.param("latent2hidden.bias"); err != nil {
			return nil, err
		}
	}
	for r, zr := range z {
		if len(zr) != c.Latent {
			return nil, errors.Wrapf(ErrInput, "code %d has %d values, the model's latent %d", r, len(zr), c.Latent)
		}
		for _, v := range zr {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, errors.Wrapf(ErrInput, "code %d is not finite", r)
			}
		}
		for k := range S {
			row := make([]float64, H)
			for i := range row {
				if c.Latent == 0 {
					continue
				}
				o := k*H + i
				a := b[o]
				for j, v := range zr {
					a += w[o*c.Latent+j] * v
				}
				row[i] = math.Tanh(a)
			}
			st.tensors[k][r] = row
		}
	}
	if c.ZInput {
		st.z = make(rows.Matrix, len(z))
		for r := range z {
			st.z[r] = append([]float64(nil), z[r]...)
		}
	}
	return st, nil
}

func (gen *Generator) build(n int) (*stepGraph, error) {
	g, s, err := graph.Build(gen.ps, func(g *graph.Graph) (*stepGraph, error) { return gen.buildStep(g, n) })
	if err != nil {
		return nil, err
	}
	if s.m, err = graph.NewMachine(g); err != nil {
		return nil, err
	}
	return s, nil
}

func (gen *Generator) buildStep(g *graph.Graph, n int) (*stepGraph, error) {
	m, err := bind(g, gen.cfg)
	if err != nil {
		return nil, err
	}
	s := &stepGraph{}
	if s.ids, err = graph.NewIDs(n, gen.cfg.Vocab); err != nil {
		return nil, err
	}
	x, err := m.emb.Lookup(s.ids)
	if err != nil {
		return nil, err
	}
	if gen.cfg.ZInput {
		if s.z, err = g.Input("z", n, gen.cfg.Latent); err != nil {
			return nil, err
		}
		if x, err = graph.ConcatCols(x, s.z); err != nil {
			return nil, err
		}
	}
	if s.state, err = m.dec.ZeroState(n); err != nil {
		return nil, err
	}
	h, next, err := m.dec.Step(x, s.state)
	if err != nil {
		return nil, err
	}
	logits, err := m.affine("fc", h)
	if err != nil {
		return nil, err
	}
	gorgonia.Read(logits, &s.logitV)
	s.nextV = make([]gorgonia.Value, len(next)) // Read keeps a pointer into this slice: allocate it once
	for i, nd := range next {
		gorgonia.Read(nd, &s.nextV[i])
	}
	return s, nil
}

// Step implements decode.Model.
func (gen *Generator) Step(st decode.State, tokens []int) ([][]float64, decode.State, error) {
	s, ok := st.(*State)
	if !ok || s == nil {
		return nil, nil, errors.Errorf("vae: state of type %T, want *vae.State", st)
	}
	n := s.Rows()
	if n == 0 || len(tokens) != n {
		return nil, nil, errors.Errorf("vae: %d tokens for %d rows", len(tokens), n)
	}
	sg, err := gen.steps.Get(n, func() (*stepGraph, error) { return gen.build(n) })
	if err != nil {
		return nil, nil, err
	}
	if len(s.tensors) != len(sg.state) {
		return nil, nil, errors.Errorf("vae: state has %d tensors, the model %d", len(s.tensors), len(sg.state))
	}
	if err := sg.ids.Set(tokens); err != nil {
		return nil, nil, err
	}
	for k, t := range s.tensors {
		if err := rows.Set(sg.state[k], t); err != nil {
			return nil, nil, err
		}
	}
	if sg.z != nil {
		if err := rows.Set(sg.z, s.z); err != nil {
			return nil, nil, err
		}
	}
	if err := graph.Run(sg.m); err != nil {
		return nil, nil, errors.Wrap(err, "vae: step")
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
	return logits, &State{tensors: next, z: s.z}, nil
}

// Decode decodes a sentence from each code z (rows of Latent values; for
// a model without a latent, empty rows), greedily (so nil) or by sampling,
// at most maxLen tokens each; the tokens come without </s>.
func (gen *Generator) Decode(z [][]float64, maxLen int, so *decode.SampleOptions) ([][]int, error) {
	st, err := gen.Start(z)
	if err != nil {
		return nil, err
	}
	opt := decode.Options{BOS: BOS, EOS: EOS, MaxLen: maxLen}
	if so != nil {
		return decode.Sample(gen, st, opt, *so)
	}
	return decode.Greedy(gen, st, opt)
}

// Interpolate returns steps ≥ 2 codes evenly spaced on the line from a to
// b, both included: (1 − t)·a + t·b for t = 0, 1/(steps−1), …, 1.
func Interpolate(a, b []float64, steps int) ([][]float64, error) {
	if len(a) != len(b) {
		return nil, errors.Wrapf(ErrInput, "codes of %d and %d values", len(a), len(b))
	}
	if steps < 2 {
		return nil, errors.Wrapf(ErrInput, "%d interpolation steps, want at least 2 (the two ends)", steps)
	}
	out := make([][]float64, steps)
	for i := range out {
		t := float64(i) / float64(steps-1)
		out[i] = make([]float64, len(a))
		for j := range a {
			out[i][j] = (1-t)*a[j] + t*b[j]
		}
	}
	return out, nil
}

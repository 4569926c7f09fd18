package hred

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/internal/rows"
)

// MaxCached bounds how many compiled graphs a Generator keeps of each kind.
const MaxCached = 16

// Generator runs a trained model for inference: a context graph per Dims
// (the utterance encoder, the context RNN and, for VHRED, the prior and
// z = μp + σp ⊙ ε) and a one-step decoder graph per number of rows, each
// compiled once and cached, driven by models/decode. It implements
// decode.Model. It is not safe for concurrent use.
type Generator struct {
	ps       *graph.Params
	cfg      Config
	contexts *graph.Cache[Dims, *contextGraph]
	steps    *graph.Cache[int, *stepGraph]
}

// NewGenerator returns a generator over the parameters in ps.
func NewGenerator(ps *graph.Params, c Config) (*Generator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if ps == nil {
		return nil, errors.New("hred: nil params")
	}
	ctx, err := graph.NewCache[Dims, *contextGraph](MaxCached)
	if err != nil {
		return nil, err
	}
	steps, err := graph.NewCache[int, *stepGraph](MaxCached)
	if err != nil {
		return nil, err
	}
	return &Generator{ps: ps, cfg: c, contexts: ctx, steps: steps}, nil
}

// Vocab implements decode.Model.
func (gen *Generator) Vocab() int { return gen.cfg.Vocab }

// Close releases the compiled machines.
func (gen *Generator) Close() error {
	err1 := gen.contexts.Close()
	if err2 := gen.steps.Close(); err1 == nil {
		err1 = err2
	}
	return err1
}

// State is the decoder state of a batch of rows and the condition each
// row's decoder reads. It implements decode.State.
type State struct {
	tensors []rows.Matrix // [state tensor][row][H]
	cond    rows.Matrix   // [row][CondWidth]
}

// Rows implements decode.State.
func (s *State) Rows() int { return len(s.cond) }

// Select implements decode.State.
func (s *State) Select(idx []int) (decode.State, error) {
	out := &State{}
	var err error
	if out.tensors, err = rows.SelectAll(s.tensors, idx); err != nil {
		return nil, err
	}
	if out.cond, err = rows.Select(s.cond, idx); err != nil {
		return nil, err
	}
	return out, nil
}

// Cond returns row r's condition (the context vector, and z for VHRED).
func (s *State) Cond(r int) []float64 { return append([]float64(nil), s.cond[r]...) }

type contextGraph struct {
	m      gorgonia.VM
	in     *contextInputs
	eps    *gorgonia.Node
	condV  gorgonia.Value
	initV  []gorgonia.Value
	latent int
}

func (c *contextGraph) Close() error { return c.m.Close() }

// Encode runs the context encoder over contexts (one per row: its
// utterances, oldest first; a Seq2Seq model reads the last) and returns
// the state that starts the decoder. eps, for VHRED, is ε per row (nil:
// zeros, z the prior's mean).
func (gen *Generator) Encode(contexts [][][]int, eps [][]float64) (*State, error) {
	if len(contexts) == 0 {
		return nil, errors.New("hred: no contexts")
	}
	ex := make([]Example, len(contexts))
	for i, c := range contexts {
		ex[i] = Example{Context: c, Reply: []int{gen.cfg.EOS}}
	}
	d := DimsOf(gen.cfg.Kind, ex, 1)
	cg, err := gen.contexts.Get(d, func() (*contextGraph, error) { return gen.buildContext(d) })
	if err != nil {
		return nil, err
	}
	if err := cg.set(gen.cfg.Kind, ex); err != nil {
		return nil, err
	}
	if cg.eps != nil {
		e := make([]float64, d.B*gen.cfg.Latent)
		for i, r := range eps {
			if i >= d.B || len(r) != gen.cfg.Latent {
				return nil, errors.Errorf("hred: eps row %d of %d values, want %d rows of %d", i, len(r), d.B, gen.cfg.Latent)
			}
			copy(e[i*gen.cfg.Latent:], r)
		}
		if err := graph.Set(cg.eps, e); err != nil {
			return nil, err
		}
	}
	if err := graph.Run(cg.m); err != nil {
		return nil, errors.Wrap(err, "hred: context encoder")
	}
	cg.m.Reset()
	st := &State{}
	if st.tensors, err = rows.FromValues(cg.initV, d.B, gen.cfg.Hidden); err != nil {
		return nil, err
	}
	conds, err := rows.FromValues([]gorgonia.Value{cg.condV}, d.B, gen.cfg.CondWidth())
	if err != nil {
		return nil, err
	}
	st.cond = conds[0]
	return st, nil
}

// set loads the contexts of ex into the graph's inputs.
func (c *contextGraph) set(k Kind, ex []Example) error {
	in := c.in
	NB := in.N * in.B
	tok := make([][]int, in.Tu)
	for s := range tok {
		tok[s] = make([]int, NB)
	}
	um, cm := make([]float64, in.Tu*NB), make([]float64, NB)
	for b, e := range ex {
		ctx := k.context(e)
		if len(ctx) == 0 {
			return errors.Errorf("hred: context %d is empty", b)
		}
		for n, u := range ctx {
			if len(u) == 0 {
				return errors.Errorf("hred: context %d utterance %d is empty", b, n)
			}
			j := n*in.B + b
			cm[j] = 1
			for s, id := range u {
				tok[s][j] = id
				um[s*NB+j] = 1
			}
		}
	}
	if err := in.tokens.Set(tok); err != nil {
		return errors.Wrap(err, "hred: context")
	}
	if err := graph.Set(in.uttMask, um); err != nil {
		return err
	}
	if in.ctxMask != nil {
		return graph.Set(in.ctxMask, cm)
	}
	return nil
}

func (gen *Generator) buildContext(d Dims) (*contextGraph, error) {
	g, cg, err := graph.Build(gen.ps, func(g *graph.Graph) (*contextGraph, error) {
		m, err := bind(g, gen.cfg)
		if err != nil {
			return nil, err
		}
		cg := &contextGraph{}
		in, cond, err := m.encodeContext(d.B, d.N, d.Tu)
		if err != nil {
			return nil, err
		}
		cg.in = in
		if gen.cfg.Kind == VHRED {
			mu, lv, err := m.prior.apply(cond)
			if err != nil {
				return nil, err
			}
			if cg.eps, err = g.Input("eps", d.B, gen.cfg.Latent); err != nil {
				return nil, err
			}
			z, err := m.reparam(mu, lv, cg.eps)
			if err != nil {
				return nil, err
			}
			if cond, err = graph.ConcatCols(cond, z); err != nil {
				return nil, err
			}
		}
		init, err := m.decoderInit(cond)
		if err != nil {
			return nil, err
		}
		gorgonia.Read(cond, &cg.condV)
		cg.initV = make([]gorgonia.Value, len(init))
		for k, n := range init {
			gorgonia.Read(n, &cg.initV[k])
		}
		return cg, nil
	})
	if err != nil {
		return nil, err
	}
	if cg.m, err = graph.NewMachine(g); err != nil {
		return nil, err
	}
	return cg, nil
}

type stepGraph struct {
	m      gorgonia.VM
	ids    *graph.IDs
	state  []*gorgonia.Node
	cond   *gorgonia.Node
	logitV gorgonia.Value
	nextV  []gorgonia.Value
}

func (s *stepGraph) Close() error { return s.m.Close() }

func (gen *Generator) buildStep(n int) (*stepGraph, error) {
	c := gen.cfg
	g, s, err := graph.Build(gen.ps, func(g *graph.Graph) (*stepGraph, error) {
		m, err := bind(g, c)
		if err != nil {
			return nil, err
		}
		s := &stepGraph{}
		if s.ids, err = graph.NewIDs(n, c.Vocab); err != nil {
			return nil, err
		}
		x, err := m.emb.Lookup(s.ids)
		if err != nil {
			return nil, err
		}
		if s.cond, err = g.Input("cond", n, c.CondWidth()); err != nil {
			return nil, err
		}
		in, err := graph.ConcatCols(x, s.cond)
		if err != nil {
			return nil, err
		}
		s.state = make([]*gorgonia.Node, c.numStates())
		for k := range s.state {
			if s.state[k], err = g.Input(fmt.Sprintf("state_%d", k), n, c.Hidden); err != nil {
				return nil, err
			}
		}
		h, next, err := m.dec.Step(in, s.state)
		if err != nil {
			return nil, err
		}
		logits, err := m.fc.apply(h)
		if err != nil {
			return nil, err
		}
		gorgonia.Read(logits, &s.logitV)
		s.nextV = make([]gorgonia.Value, len(next))
		for k, nx := range next {
			gorgonia.Read(nx, &s.nextV[k])
		}
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	if s.m, err = graph.NewMachine(g); err != nil {
		return nil, err
	}
	return s, nil
}

// Step implements decode.Model: it feeds one token per row and returns the
// logits [rows][V] and the next state.
func (gen *Generator) Step(st decode.State, tokens []int) ([][]float64, decode.State, error) {
	s, ok := st.(*State)
	if !ok || s == nil {
		return nil, nil, errors.Errorf("hred: state of type %T, want *hred.State", st)
	}
	n := s.Rows()
	if n == 0 || len(tokens) != n {
		return nil, nil, errors.Errorf("hred: %d tokens for %d rows", len(tokens), n)
	}
	sg, err := gen.steps.Get(n, func() (*stepGraph, error) { return gen.buildStep(n) })
	if err != nil {
		return nil, nil, err
	}
	if len(s.tensors) != len(sg.state) {
		return nil, nil, errors.Errorf("hred: state has %d tensors, the decoder %d", len(s.tensors), len(sg.state))
	}
	if err := sg.ids.Set(tokens); err != nil {
		return nil, nil, err
	}
	for k, t := range s.tensors {
		if err := rows.Set(sg.state[k], t); err != nil {
			return nil, nil, err
		}
	}
	if err := rows.Set(sg.cond, s.cond); err != nil {
		return nil, nil, err
	}
	if err := graph.Run(sg.m); err != nil {
		return nil, nil, errors.Wrap(err, "hred: decoder step")
	}
	sg.m.Reset()
	logits, err := rows.Logits(sg.logitV, n, gen.cfg.Vocab)
	if err != nil {
		return nil, nil, err
	}
	next := &State{cond: s.cond}
	if next.tensors, err = rows.FromValues(sg.nextV, n, gen.cfg.Hidden); err != nil {
		return nil, nil, err
	}
	return logits, next, nil
}

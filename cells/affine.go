package cells

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
)

// Affine is a cell's parameters bound into one graph — PyTorch's
// weight_ih [G·H, I], weight_hh [G·H, H], bias_ih and bias_hh [G·H], and
// the kind's extra parameters — with what every cell built on them
// shares: its sizes, its zero state, the checks of a step's inputs and the
// affine projections x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh. A Spec's New gets
// one from [Bind]; the cells of this package embed it, and so can a cell
// of one's own.
//
// Parameter nodes are used only as inputs of rnnkit's own ops
// (graph.MatMul, graph.AddRow, graph.MulRow), which never write into their
// inputs; see graph.MatMul for why that matters.
type Affine struct {
	g        *graph.Graph
	cfg      Config
	states   []string
	wih, whh *gorgonia.Node   // [G·H, I], [G·H, H]
	bih, bhh *gorgonia.Node   // [G·H]
	extra    []*gorgonia.Node // the kind's Spec.Extra, in order
}

// Bind binds the parameters of a cell of config c into g: they must exist
// in g's Params with the shapes Config.Params gives.
func Bind(g *graph.Graph, c Config) (Affine, error) {
	if err := c.Validate(); err != nil {
		return Affine{}, err
	}
	if g == nil {
		return Affine{}, errors.Wrap(ErrConfig, "nil graph")
	}
	if err := graph.CheckDtype(g.Dtype()); err != nil {
		return Affine{}, err
	}
	s, err := c.spec()
	if err != nil {
		return Affine{}, err
	}
	a := Affine{g: g, cfg: c, states: s.States}
	ps := c.Params()
	nodes := make([]*gorgonia.Node, len(ps))
	for i, p := range ps {
		if nodes[i], err = g.Param(p.Name, p.Shape...); err != nil {
			return Affine{}, errors.Wrapf(err, "cells: %s", c.name())
		}
	}
	a.wih, a.whh, a.bih, a.bhh, a.extra = nodes[0], nodes[1], nodes[2], nodes[3], nodes[4:]
	return a, nil
}

// bindKind is Bind for a constructor of one cell type, which takes a config
// of the kinds it computes only.
func bindKind(g *graph.Graph, c Config, want Kind, alt ...Kind) (Affine, error) {
	ok := c.Kind == want
	for _, k := range alt {
		ok = ok || c.Kind == k
	}
	if !ok {
		return Affine{}, errors.Wrapf(ErrConfig, "config of kind %q for a %s cell", c.Kind, want)
	}
	return Bind(g, c)
}

// Graph returns the graph the parameters are bound into.
func (a Affine) Graph() *graph.Graph { return a.g }

// Config returns the cell's configuration.
func (a Affine) Config() Config { return a.cfg }

// InputSize returns the size of each input vector.
func (a Affine) InputSize() int { return a.cfg.InputSize }

// HiddenSize returns the size of the hidden state.
func (a Affine) HiddenSize() int { return a.cfg.HiddenSize }

// NumStates returns the number of tensors in the cell's state.
func (a Affine) NumStates() int { return len(a.states) }

// Param returns the bound node of the parameter with base name base
// ("weight_ih", …, or one of the kind's Spec.Extra), or nil if the kind has
// none of that name.
func (a Affine) Param(base string) *gorgonia.Node {
	for i, b := range a.cfg.Bases() {
		if b != base {
			continue
		}
		switch i {
		case 0:
			return a.wih
		case 1:
			return a.whh
		case 2:
			return a.bih
		case 3:
			return a.bhh
		}
		if i-4 < len(a.extra) {
			return a.extra[i-4]
		}
	}
	return nil
}

// ZeroState returns a zero state for a batch: one input node per state
// tensor (zeros until set), named after the kind's states ("h0_l0", …).
func (a Affine) ZeroState(batch int) (State, error) {
	if batch <= 0 {
		return nil, errors.Wrapf(ErrConfig, "%s: batch size %d must be greater than zero", a.cfg.name(), batch)
	}
	s := make(State, len(a.states))
	for i, name := range a.states {
		n, err := a.g.Input(a.g.UniqueName(a.cfg.Prefix+name+"0"+a.cfg.Suffix()), batch, a.cfg.HiddenSize)
		if err != nil {
			return nil, err
		}
		s[i] = n
	}
	return s, nil
}

// Check validates a step's input x [B, I] and previous state (the kind's
// number of tensors, each [B, H], of this graph and dtype) and returns the
// batch size B. A wrong shape is a *ShapeError, anything else ErrState.
func (a Affine) Check(x *gorgonia.Node, prev State) (int, error) {
	name := a.cfg.name()
	if x == nil {
		return 0, errors.Wrapf(ErrState, "%s: nil input", name)
	}
	xs := x.Shape()
	if len(xs) != 2 || xs[1] != a.cfg.InputSize {
		return 0, &ShapeError{Cell: name, What: "x", Want: []int{-1, a.cfg.InputSize}, Got: xs.Clone()}
	}
	return xs[0], a.CheckRows(x, xs[0], prev)
}

// CheckRows is Check for an input x of any number of rows with batch
// sequences: a step (rows = batch) or a whole sequence (rows = T·batch),
// as a fused kernel (Spec.Fused) gets it.
func (a Affine) CheckRows(x *gorgonia.Node, batch int, prev State) error {
	name := a.cfg.name()
	if x == nil {
		return errors.Wrapf(ErrState, "%s: nil input", name)
	}
	if xs := x.Shape(); len(xs) != 2 || xs[1] != a.cfg.InputSize {
		return &ShapeError{Cell: name, What: "x", Want: []int{-1, a.cfg.InputSize}, Got: xs.Clone()}
	}
	if x.Dtype() != a.g.Dtype() {
		return errors.Wrapf(ErrState, "%s: x is %v, cell is %v", name, x.Dtype(), a.g.Dtype())
	}
	if x.Graph() != a.g.ExprGraph() {
		return errors.Wrapf(ErrState, "%s: x belongs to another graph", name)
	}
	if len(prev) != len(a.states) {
		return errors.Wrapf(ErrState, "%s: %d state tensors, want %d", name, len(prev), len(a.states))
	}
	for i, s := range prev {
		what := a.states[i]
		if s == nil {
			return errors.Wrapf(ErrState, "%s: nil %s", name, what)
		}
		if ss := s.Shape(); len(ss) != 2 || ss[0] != batch || ss[1] != a.cfg.HiddenSize {
			return &ShapeError{Cell: name, What: what, Want: []int{batch, a.cfg.HiddenSize}, Got: ss.Clone()}
		}
		if s.Graph() != a.g.ExprGraph() {
			return errors.Wrapf(ErrState, "%s: %s belongs to another graph", name, what)
		}
	}
	return nil
}

// Proj returns x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh, [B, G·H].
func (a Affine) Proj(x, h *gorgonia.Node) (*gorgonia.Node, error) {
	gi, gh, err := a.ProjSplit(x, h)
	if err != nil {
		return nil, err
	}
	return gorgonia.Add(gi, gh)
}

// ProjSplit returns x·W_ihᵀ + b_ih and h·W_hhᵀ + b_hh separately, each
// [B, G·H] (the GRU needs both).
func (a Affine) ProjSplit(x, h *gorgonia.Node) (gi, gh *gorgonia.Node, err error) {
	xi, err := graph.MatMul(x, a.wih, false, true)
	if err != nil {
		return nil, nil, err
	}
	if gi, err = graph.AddRow(xi, a.bih); err != nil {
		return nil, nil, err
	}
	hh, err := graph.MatMul(h, a.whh, false, true)
	if err != nil {
		return nil, nil, err
	}
	if gh, err = graph.AddRow(hh, a.bhh); err != nil {
		return nil, nil, err
	}
	return gi, gh, nil
}

// SplitGates splits a [B, G·H] node into its G gate blocks, each [B, H],
// with graph.Cols (whose hash, unlike gorgonia.Slice's, keeps the bounds).
func (a Affine) SplitGates(pre *gorgonia.Node) ([]*gorgonia.Node, error) {
	h := a.cfg.HiddenSize
	out := make([]*gorgonia.Node, a.cfg.Gates())
	for i := range out {
		n, err := graph.Cols(pre, i*h, (i+1)*h)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// Wrap adds the cell's name to an error from building a step.
func (a Affine) Wrap(err error) error {
	return errors.Wrapf(err, "cells: %s step", a.cfg.name())
}

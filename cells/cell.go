package cells

import (
	"fmt"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
)

// State is a cell's recurrent state: one [batch, hidden] node per tensor.
// State[0] is always the hidden state h; an LSTM's state is {h, c}.
type State []*gorgonia.Node

// Cell computes one time step. Step takes the input x [batch, input] and the
// previous state, and returns the output h [batch, hidden] and the next
// state (whose first element is h). ZeroState returns an all-zero state for
// a batch size. A Cell is bound to one graph; build a new one for each graph
// from its [Config] with [New].
type Cell interface {
	Step(x *gorgonia.Node, prev State) (h *gorgonia.Node, next State, err error)
	ZeroState(batch int) (State, error)
}

// Sized is implemented by every cell of this package: its input and hidden
// sizes and how many tensors its state holds.
type Sized interface {
	InputSize() int
	HiddenSize() int
	NumStates() int
}

// Kind names a cell type. The names are those of the fixture cases.
type Kind string

// The cell kinds.
const (
	RNNTanh      Kind = "rnn_tanh"      // Elman RNN, tanh
	RNNReLU      Kind = "rnn_relu"      // Elman RNN, ReLU
	LSTMKind     Kind = "lstm"          // LSTM with forget gate
	PeepholeKind Kind = "peephole_lstm" // LSTM whose gates see the cell state
	GRUKind      Kind = "gru"           // GRU, PyTorch's variant
)

// Kinds lists every cell kind.
var Kinds = []Kind{RNNTanh, RNNReLU, LSTMKind, PeepholeKind, GRUKind}

// Config describes a cell independently of any graph: its kind, sizes and
// the names of its parameters. Parameters are named as in PyTorch:
// Prefix + "weight_ih_l{Layer}" + "_reverse" if Reverse, and so on.
type Config struct {
	Kind       Kind   `json:"kind"`
	InputSize  int    `json:"input_size"`
	HiddenSize int    `json:"hidden_size"`
	Layer      int    `json:"layer"`
	Reverse    bool   `json:"reverse,omitempty"`
	Prefix     string `json:"prefix,omitempty"`
}

// Validate checks the config.
func (c Config) Validate() error {
	switch c.Kind {
	case RNNTanh, RNNReLU, LSTMKind, PeepholeKind, GRUKind:
	default:
		return errors.Wrapf(ErrConfig, "unknown cell kind %q", string(c.Kind))
	}
	if c.InputSize <= 0 {
		return errors.Wrapf(ErrConfig, "%s: input size %d must be greater than zero", c.Kind, c.InputSize)
	}
	if c.HiddenSize <= 0 {
		return errors.Wrapf(ErrConfig, "%s: hidden size %d must be greater than zero", c.Kind, c.HiddenSize)
	}
	if c.Layer < 0 {
		return errors.Wrapf(ErrConfig, "%s: layer %d must not be negative", c.Kind, c.Layer)
	}
	return nil
}

// Gates returns the number of gate blocks stacked in the weight matrices
// (RNN 1, GRU 3, LSTM 4).
func (c Config) Gates() int {
	switch c.Kind {
	case LSTMKind, PeepholeKind:
		return 4
	case GRUKind:
		return 3
	default:
		return 1
	}
}

// NumStates returns how many tensors the cell's state holds (LSTMs 2, others 1).
func (c Config) NumStates() int {
	if c.Kind == LSTMKind || c.Kind == PeepholeKind {
		return 2
	}
	return 1
}

// Suffix returns the layer and direction suffix of parameter names, "_l0"
// or "_l1_reverse".
func (c Config) Suffix() string {
	s := fmt.Sprintf("_l%d", c.Layer)
	if c.Reverse {
		s += "_reverse"
	}
	return s
}

// ParamName returns the full name of the parameter with base name base
// ("weight_ih", "peephole_i", …).
func (c Config) ParamName(base string) string { return c.Prefix + base + c.Suffix() }

// ParamSpec is a parameter's full name and shape.
type ParamSpec struct {
	Name  string
	Shape []int
}

// Params returns the cell's parameters in PyTorch's order: weight_ih
// [G·H, I], weight_hh [G·H, H], bias_ih [G·H], bias_hh [G·H], then for the
// peephole LSTM peephole_i, peephole_f, peephole_o [H].
func (c Config) Params() []ParamSpec {
	gh, h := c.Gates()*c.HiddenSize, c.HiddenSize
	ps := []ParamSpec{
		{c.ParamName("weight_ih"), []int{gh, c.InputSize}},
		{c.ParamName("weight_hh"), []int{gh, h}},
		{c.ParamName("bias_ih"), []int{gh}},
		{c.ParamName("bias_hh"), []int{gh}},
	}
	if c.Kind == PeepholeKind {
		for _, g := range []string{"i", "f", "o"} {
			ps = append(ps, ParamSpec{c.ParamName("peephole_" + g), []int{h}})
		}
	}
	return ps
}

// Init creates the cell's parameters in ps, drawn like PyTorch's from
// U(−1/√H, 1/√H) (peephole weights too), from src.
func (c Config) Init(ps *graph.Params, src graph.Source) error {
	return c.InitWith(ps, src, graph.PyTorchDefault(c.HiddenSize), graph.PyTorchDefault(c.HiddenSize), graph.PyTorchDefault(c.HiddenSize))
}

// InitWith creates the cell's parameters in ps with one initialiser for the
// input weights, one for the recurrent weights (graph.Orthogonal is the
// usual choice) and one for biases and peepholes.
func (c Config) InitWith(ps *graph.Params, src graph.Source, input, recurrent, bias graph.Initializer) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if ps == nil {
		return errors.Wrap(ErrConfig, "nil params")
	}
	root := graph.NewScope(ps)
	for i, p := range c.Params() {
		init := bias
		switch i {
		case 0:
			init = input
		case 1:
			init = recurrent
		}
		if _, err := root.New(p.Name, init, src, p.Shape...); err != nil {
			return errors.Wrapf(err, "cells: %s", c.Kind)
		}
	}
	return nil
}

// New binds a cell of config c into g. The parameters must exist in g's
// Params with the right shapes (create them with Config.Init, or load them).
func New(g *graph.Graph, c Config) (Cell, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	switch c.Kind {
	case RNNTanh, RNNReLU:
		return NewRNN(g, c)
	case LSTMKind:
		return NewLSTM(g, c)
	case PeepholeKind:
		return NewPeephole(g, c)
	default:
		return NewGRU(g, c)
	}
}

// affine holds a cell's bound weights and biases. Parameter nodes are used
// only as inputs of rnnkit's own ops (graph.MatMul, graph.AddRow), which
// never write into their inputs; see graph.MatMul for why that matters.
type affine struct {
	g        *graph.Graph
	cfg      Config
	wih, whh *gorgonia.Node // [G·H, I], [G·H, H]
	bih, bhh *gorgonia.Node // [G·H]
}

func bindAffine(g *graph.Graph, c Config, want Kind, alt ...Kind) (affine, error) {
	ok := c.Kind == want
	for _, k := range alt {
		ok = ok || c.Kind == k
	}
	if !ok {
		return affine{}, errors.Wrapf(ErrConfig, "config of kind %q for a %s cell", c.Kind, want)
	}
	if err := c.Validate(); err != nil {
		return affine{}, err
	}
	if g == nil {
		return affine{}, errors.Wrap(ErrConfig, "nil graph")
	}
	if err := graph.CheckDtype(g.Dtype()); err != nil {
		return affine{}, err
	}
	a := affine{g: g, cfg: c}
	ps := c.Params()
	dst := []**gorgonia.Node{&a.wih, &a.whh, &a.bih, &a.bhh}
	for i, p := range dst {
		n, err := g.Param(ps[i].Name, ps[i].Shape...)
		if err != nil {
			return affine{}, errors.Wrapf(err, "cells: %s", c.name())
		}
		*p = n
	}
	return a, nil
}

func (c Config) name() string { return string(c.Kind) + c.Suffix() }

// InputSize returns the size of each input vector.
func (a affine) InputSize() int { return a.cfg.InputSize }

// HiddenSize returns the size of the hidden state.
func (a affine) HiddenSize() int { return a.cfg.HiddenSize }

// NumStates returns the number of tensors in the cell's state.
func (a affine) NumStates() int { return a.cfg.NumStates() }

// Config returns the cell's configuration.
func (a affine) Config() Config { return a.cfg }

// ZeroState returns a zero state for a batch: input nodes (zeros until set).
func (a affine) ZeroState(batch int) (State, error) {
	if batch <= 0 {
		return nil, errors.Wrapf(ErrConfig, "%s: batch size %d must be greater than zero", a.cfg.name(), batch)
	}
	names := []string{"h0", "c0"}
	s := make(State, a.cfg.NumStates())
	for i := range s {
		n, err := a.g.Input(a.g.UniqueName(a.cfg.Prefix+names[i]+a.cfg.Suffix()), batch, a.cfg.HiddenSize)
		if err != nil {
			return nil, err
		}
		s[i] = n
	}
	return s, nil
}

// check validates x and prev and returns the batch size.
func (a affine) check(x *gorgonia.Node, prev State) (int, error) {
	name := a.cfg.name()
	if x == nil {
		return 0, errors.Wrapf(ErrState, "%s: nil input", name)
	}
	xs := x.Shape()
	if len(xs) != 2 || xs[1] != a.cfg.InputSize {
		return 0, &ShapeError{Cell: name, What: "x", Want: []int{-1, a.cfg.InputSize}, Got: xs.Clone()}
	}
	return a.checkBatch(x, xs[0], prev)
}

// checkBatch is check for an input x of any number of rows with batch
// sequences: a step (rows = batch) or a whole sequence (rows = T·batch).
func (a affine) checkBatch(x *gorgonia.Node, b int, prev State) (int, error) {
	name := a.cfg.name()
	if xs := x.Shape(); len(xs) != 2 || xs[1] != a.cfg.InputSize {
		return 0, &ShapeError{Cell: name, What: "x", Want: []int{-1, a.cfg.InputSize}, Got: xs.Clone()}
	}
	if x.Dtype() != a.g.Dtype() {
		return 0, errors.Wrapf(ErrState, "%s: x is %v, cell is %v", name, x.Dtype(), a.g.Dtype())
	}
	if x.Graph() != a.g.ExprGraph() {
		return 0, errors.Wrapf(ErrState, "%s: x belongs to another graph", name)
	}
	if len(prev) != a.cfg.NumStates() {
		return 0, errors.Wrapf(ErrState, "%s: %d state tensors, want %d", name, len(prev), a.cfg.NumStates())
	}
	for i, s := range prev {
		what := []string{"h", "c"}[i]
		if s == nil {
			return 0, errors.Wrapf(ErrState, "%s: nil %s", name, what)
		}
		if ss := s.Shape(); len(ss) != 2 || ss[0] != b || ss[1] != a.cfg.HiddenSize {
			return 0, &ShapeError{Cell: name, What: what, Want: []int{b, a.cfg.HiddenSize}, Got: ss.Clone()}
		}
		if s.Graph() != a.g.ExprGraph() {
			return 0, errors.Wrapf(ErrState, "%s: %s belongs to another graph", name, what)
		}
	}
	return b, nil
}

// proj returns x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh, [B, G·H].
func (a affine) proj(x, h *gorgonia.Node) (*gorgonia.Node, error) {
	gi, gh, err := a.projSplit(x, h)
	if err != nil {
		return nil, err
	}
	return gorgonia.Add(gi, gh)
}

// projSplit returns x·W_ihᵀ + b_ih and h·W_hhᵀ + b_hh separately (the GRU needs both).
func (a affine) projSplit(x, h *gorgonia.Node) (gi, gh *gorgonia.Node, err error) {
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

// gates splits a [B, G·H] node into G column blocks.
func (a affine) gates(pre *gorgonia.Node) ([]*gorgonia.Node, error) {
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

// wrap adds the cell's name to an error from building a step.
func (a affine) wrap(err error) error {
	return errors.Wrapf(err, "cells: %s step", a.cfg.name())
}

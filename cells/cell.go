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

// Kind names a cell type. The names are those of the fixture cases. The
// kinds are those registered ([Register], [Kinds]); these are built in.
type Kind string

// The built-in cell kinds, each described in its own file (rnn.go, lstm.go,
// peephole.go, gru.go).
const (
	RNNTanh      Kind = "rnn_tanh"      // Elman RNN, tanh
	RNNReLU      Kind = "rnn_relu"      // Elman RNN, ReLU
	LSTMKind     Kind = "lstm"          // LSTM with forget gate
	PeepholeKind Kind = "peephole_lstm" // LSTM whose gates see the cell state
	GRUKind      Kind = "gru"           // GRU, PyTorch's variant
)

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
	if _, err := c.spec(); err != nil {
		return err
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
// (RNN 1, GRU 3, LSTM 4): the kind's Spec.Gates, 0 for an unknown kind.
func (c Config) Gates() int {
	s, _ := Lookup(c.Kind)
	return s.Gates
}

// NumStates returns how many tensors the cell's state holds (LSTMs 2,
// others 1): the length of the kind's Spec.States, 0 for an unknown kind.
func (c Config) NumStates() int {
	s, _ := Lookup(c.Kind)
	return len(s.States)
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

// affineBases are the base names of the four parameters every kind has,
// in PyTorch's order.
var affineBases = [...]string{"weight_ih", "weight_hh", "bias_ih", "bias_hh"}

// Params returns the cell's parameters in PyTorch's order: weight_ih
// [G·H, I], weight_hh [G·H, H], bias_ih [G·H], bias_hh [G·H], then the
// kind's Spec.Extra (for the peephole LSTM peephole_i, peephole_f,
// peephole_o [H]). An unknown kind has none.
func (c Config) Params() []ParamSpec {
	s, ok := Lookup(c.Kind)
	if !ok {
		return nil
	}
	gh, h := s.Gates*c.HiddenSize, c.HiddenSize
	shapes := [][]int{{gh, c.InputSize}, {gh, h}, {gh}, {gh}}
	ps := make([]ParamSpec, 0, len(affineBases)+len(s.Extra))
	for i, base := range affineBases {
		ps = append(ps, ParamSpec{c.ParamName(base), shapes[i]})
	}
	for _, p := range s.Extra {
		ps = append(ps, ParamSpec{c.ParamName(p.Base), p.Shape(c.InputSize, h)})
	}
	return ps
}

// Bases returns the base names of the cell's parameters, in the order of
// Params: "weight_ih", …, then the kind's Spec.Extra.
func (c Config) Bases() []string {
	s, _ := Lookup(c.Kind)
	out := append([]string(nil), affineBases[:]...)
	for _, p := range s.Extra {
		out = append(out, p.Base)
	}
	return out
}

// Init creates the cell's parameters in ps with the kind's initialisers
// (Spec.Init; by default PyTorch's U(−1/√H, 1/√H) for every parameter,
// peephole weights too), drawn from src.
func (c Config) Init(ps *graph.Params, src graph.Source) error {
	s, err := c.spec()
	if err != nil {
		return err
	}
	in := Inits{graph.PyTorchDefault(c.HiddenSize), graph.PyTorchDefault(c.HiddenSize), graph.PyTorchDefault(c.HiddenSize)}
	if s.Init != nil {
		in = s.Init(c.HiddenSize)
	}
	return c.InitWith(ps, src, in.Input, in.Recurrent, in.Bias)
}

// InitWith creates the cell's parameters in ps with one initialiser for the
// input weights, one for the recurrent weights (graph.Orthogonal is the
// usual choice) and one for biases and the kind's extra parameters
// (peepholes).
func (c Config) InitWith(ps *graph.Params, src graph.Source, input, recurrent, bias graph.Initializer) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if ps == nil {
		return errors.Wrap(ErrConfig, "nil params")
	}
	if input == nil || recurrent == nil || bias == nil {
		return errors.Wrapf(ErrConfig, "%s: nil initialiser", c.name())
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

// New binds a cell of config c into g: the kind's parameters (which must
// exist in g's Params with the right shapes; create them with Config.Init,
// or load them) and its step subgraph (Spec.New).
func New(g *graph.Graph, c Config) (Cell, error) {
	s, err := c.spec()
	if err != nil {
		return nil, err
	}
	a, err := Bind(g, c)
	if err != nil {
		return nil, err
	}
	cell, err := s.New(a)
	if err != nil {
		return nil, errors.Wrapf(err, "cells: %s", c.name())
	}
	if cell == nil {
		return nil, errors.Wrapf(ErrSpec, "cells: %s: New returned no cell", c.name())
	}
	return cell, nil
}

func (c Config) name() string { return string(c.Kind) + c.Suffix() }

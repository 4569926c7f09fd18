package cells

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
)

// Stack is a cell made of cells: layer k consumes the output of layer k−1
// at the same time step, as torch.nn.LSTM with num_layers > 1 does. Its
// output is the top layer's output.
//
// Its state is the layers' states concatenated from the top layer down, so
// that State[0] is the top layer's h, as the Cell contract requires; use
// [Stack.Layers] and [Stack.Join] to convert to and from per-layer states in
// layer order (PyTorch's h_n order).
type Stack struct {
	cells   []Cell
	counts  []int
	dropout *graph.Dropout
	g       *graph.Graph
}

// NewStack stacks cells, bottom first. Every cell must implement Sized, and
// each layer's input size must be the hidden size of the layer below.
func NewStack(cells ...Cell) (*Stack, error) {
	if len(cells) == 0 {
		return nil, errors.Wrap(ErrConfig, "stack: no cells")
	}
	s := &Stack{cells: cells, counts: make([]int, len(cells))}
	for i, c := range cells {
		sz, ok := c.(Sized)
		if !ok {
			return nil, errors.Wrapf(ErrConfig, "stack: layer %d (%T) does not report its sizes", i, c)
		}
		s.counts[i] = sz.NumStates()
		if i > 0 {
			below := cells[i-1].(Sized).HiddenSize()
			if sz.InputSize() != below {
				return nil, errors.Wrapf(ErrConfig, "stack: layer %d takes input size %d, layer %d gives %d", i, sz.InputSize(), i-1, below)
			}
		}
	}
	return s, nil
}

// WithDropout applies d to the output of every layer but the top one
// before the next layer reads it, as torch.nn.LSTM's dropout argument does.
// Each step gets its own masks; call d.Resample() before every run.
func (s *Stack) WithDropout(g *graph.Graph, d *graph.Dropout) (*Stack, error) {
	if g == nil || d == nil {
		return nil, errors.Wrap(ErrConfig, "stack: dropout needs a graph and a Dropout")
	}
	out := *s
	out.g, out.dropout = g, d
	return &out, nil
}

// InputSize returns the bottom layer's input size.
func (s *Stack) InputSize() int { return s.cells[0].(Sized).InputSize() }

// HiddenSize returns the top layer's hidden size.
func (s *Stack) HiddenSize() int { return s.cells[len(s.cells)-1].(Sized).HiddenSize() }

// NumStates returns the total number of state tensors of all layers.
func (s *Stack) NumStates() int {
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}

// Depth returns the number of layers.
func (s *Stack) Depth() int { return len(s.cells) }

// ZeroState implements Cell.
func (s *Stack) ZeroState(batch int) (State, error) {
	layers := make([]State, len(s.cells))
	for i, c := range s.cells {
		st, err := c.ZeroState(batch)
		if err != nil {
			return nil, errors.Wrapf(err, "stack: layer %d", i)
		}
		layers[i] = st
	}
	return s.Join(layers)
}

// Layers splits a stack state into per-layer states, bottom layer first.
func (s *Stack) Layers(st State) ([]State, error) {
	if len(st) != s.NumStates() {
		return nil, errors.Wrapf(ErrState, "stack: %d state tensors, want %d", len(st), s.NumStates())
	}
	out := make([]State, len(s.cells))
	pos := 0
	for i := len(s.cells) - 1; i >= 0; i-- {
		out[i] = st[pos : pos+s.counts[i] : pos+s.counts[i]]
		pos += s.counts[i]
	}
	return out, nil
}

// Join is the inverse of Layers.
func (s *Stack) Join(layers []State) (State, error) {
	if len(layers) != len(s.cells) {
		return nil, errors.Wrapf(ErrState, "stack: %d layer states, want %d", len(layers), len(s.cells))
	}
	var st State
	for i := len(layers) - 1; i >= 0; i-- {
		if len(layers[i]) != s.counts[i] {
			return nil, errors.Wrapf(ErrState, "stack: layer %d has %d state tensors, want %d", i, len(layers[i]), s.counts[i])
		}
		st = append(st, layers[i]...)
	}
	return st, nil
}

// Step implements Cell.
func (s *Stack) Step(x *gorgonia.Node, prev State) (*gorgonia.Node, State, error) {
	layers, err := s.Layers(prev)
	if err != nil {
		return nil, nil, err
	}
	next := make([]State, len(layers))
	in := x
	for i, c := range s.cells {
		h, st, err := c.Step(in, layers[i])
		if err != nil {
			return nil, nil, errors.Wrapf(err, "stack: layer %d", i)
		}
		next[i] = st
		in = h
		if s.dropout != nil && i < len(s.cells)-1 {
			if in, err = s.dropout.Apply(s.g, h); err != nil {
				return nil, nil, errors.Wrapf(err, "stack: dropout after layer %d", i)
			}
		}
	}
	st, err := s.Join(next)
	if err != nil {
		return nil, nil, err
	}
	return in, st, nil
}

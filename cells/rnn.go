package cells

import (
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/reference"
	"github.com/rnnkit/rnnkit/recurrent"
)

// rnnTanhSpec and rnnReLUSpec register the Elman cells (registry.go).
func rnnTanhSpec() Spec {
	return rnnSpec(RNNTanh, recurrent.Tanh, "Elman RNN, h' = tanh(W_ih x + b_ih + W_hh h + b_hh)")
}
func rnnReLUSpec() Spec {
	return rnnSpec(RNNReLU, recurrent.ReLU, "Elman RNN, h' = max(0, W_ih x + b_ih + W_hh h + b_hh)")
}

func rnnSpec(k Kind, fused recurrent.Kind, doc string) Spec {
	return Spec{
		Kind: k, Doc: doc, Gates: 1, States: []string{"h"},
		New: func(a Affine) (Cell, error) { return &RNN{a}, nil },
		Fused: func(c Cell) SequenceFunc {
			if r, ok := c.(*RNN); ok {
				return r.fusedAs(fused)
			}
			return nil
		},
		Reference: ReferenceStep(reference.Step(string(k))),
	}
}

// RNN is the Elman recurrent cell, as torch.nn.RNN:
//
//	h_t = φ(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)
//
// with φ = tanh (kind rnn_tanh) or φ = max(0, ·) (kind rnn_relu).
// Parameters: weight_ih_l{k} [H, I], weight_hh_l{k} [H, H], bias_ih_l{k} [H],
// bias_hh_l{k} [H]. Its state is {h}.
type RNN struct{ Affine }

// NewRNN binds an Elman cell of config c (kind rnn_tanh or rnn_relu) into g.
func NewRNN(g *graph.Graph, c Config) (*RNN, error) {
	a, err := bindKind(g, c, RNNTanh, RNNReLU)
	if err != nil {
		return nil, err
	}
	return &RNN{a}, nil
}

// Step implements Cell.
func (r *RNN) Step(x *gorgonia.Node, prev State) (*gorgonia.Node, State, error) {
	if _, err := r.Check(x, prev); err != nil {
		return nil, nil, err
	}
	pre, err := r.Proj(x, prev[0])
	if err != nil {
		return nil, nil, r.Wrap(err)
	}
	var h *gorgonia.Node
	if r.Config().Kind == RNNReLU {
		h, err = gorgonia.Rectify(pre)
	} else {
		h, err = gorgonia.Tanh(pre)
	}
	if err != nil {
		return nil, nil, r.Wrap(err)
	}
	return h, State{h}, nil
}

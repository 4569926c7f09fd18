package cells

import (
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
)

// RNN is the Elman recurrent cell, as torch.nn.RNN:
//
//	h_t = φ(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)
//
// with φ = tanh (kind rnn_tanh) or φ = max(0, ·) (kind rnn_relu).
// Parameters: weight_ih_l{k} [H, I], weight_hh_l{k} [H, H], bias_ih_l{k} [H],
// bias_hh_l{k} [H]. Its state is {h}.
type RNN struct{ affine }

// NewRNN binds an Elman cell of config c (kind rnn_tanh or rnn_relu) into g.
func NewRNN(g *graph.Graph, c Config) (*RNN, error) {
	a, err := bindAffine(g, c, RNNTanh, RNNReLU)
	if err != nil {
		return nil, err
	}
	return &RNN{a}, nil
}

// Step implements Cell.
func (r *RNN) Step(x *gorgonia.Node, prev State) (*gorgonia.Node, State, error) {
	if _, err := r.check(x, prev); err != nil {
		return nil, nil, err
	}
	pre, err := r.proj(x, prev[0])
	if err != nil {
		return nil, nil, r.wrap(err)
	}
	var h *gorgonia.Node
	if r.cfg.Kind == RNNReLU {
		h, err = gorgonia.Rectify(pre)
	} else {
		h, err = gorgonia.Tanh(pre)
	}
	if err != nil {
		return nil, nil, r.wrap(err)
	}
	return h, State{h}, nil
}

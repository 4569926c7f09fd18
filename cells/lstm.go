package cells

import (
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/reference"
	"github.com/rnnkit/rnnkit/recurrent"
)

// lstmSpec registers the LSTM (registry.go).
func lstmSpec() Spec {
	return Spec{
		Kind: LSTMKind, Doc: "LSTM with forget gate (gates i, f, g, o), as torch.nn.LSTM",
		Gates: 4, States: []string{"h", "c"},
		New: func(a Affine) (Cell, error) { return &LSTM{a}, nil },
		Fused: func(c Cell) SequenceFunc {
			if l, ok := c.(*LSTM); ok {
				return l.fusedAs(recurrent.LSTM)
			}
			return nil
		},
		Reference: ReferenceStep(reference.Step(reference.LSTM)),
	}
}

// LSTM is the long short-term memory cell with a forget gate, as
// torch.nn.LSTM (Hochreiter & Schmidhuber 1997; Gers et al. 2000):
//
//	i_t = σ(W_ii x_t + b_ii + W_hi h_{t−1} + b_hi)      input gate
//	f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf)      forget gate
//	g_t = tanh(W_ig x_t + b_ig + W_hg h_{t−1} + b_hg)   candidate
//	o_t = σ(W_io x_t + b_io + W_ho h_{t−1} + b_ho)      output gate
//	c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t                     cell state
//	h_t = o_t ⊙ tanh(c_t)
//
// The cell state c is the constant error carousel: ∂c_t/∂c_{t−1} = f_t, so
// an error flows back through time unchanged while the forget gate is open.
// Parameters: weight_ih_l{k} [4H, I] = [W_ii; W_if; W_ig; W_io],
// weight_hh_l{k} [4H, H], bias_ih_l{k} [4H], bias_hh_l{k} [4H] (gate order
// i, f, g, o). Its state is {h, c}.
type LSTM struct{ Affine }

// NewLSTM binds an LSTM cell of config c (kind lstm) into g.
func NewLSTM(g *graph.Graph, c Config) (*LSTM, error) {
	a, err := bindKind(g, c, LSTMKind)
	if err != nil {
		return nil, err
	}
	return &LSTM{a}, nil
}

// Step implements Cell.
func (l *LSTM) Step(x *gorgonia.Node, prev State) (*gorgonia.Node, State, error) {
	if _, err := l.Check(x, prev); err != nil {
		return nil, nil, err
	}
	h, c, err := l.step(x, prev[0], prev[1])
	if err != nil {
		return nil, nil, l.Wrap(err)
	}
	return h, State{h, c}, nil
}

func (l *LSTM) step(x, hPrev, cPrev *gorgonia.Node) (h, c *gorgonia.Node, err error) {
	pre, err := l.Proj(x, hPrev)
	if err != nil {
		return nil, nil, err
	}
	gs, err := l.SplitGates(pre)
	if err != nil {
		return nil, nil, err
	}
	i, err := graph.Sigmoid(gs[0])
	if err != nil {
		return nil, nil, err
	}
	f, err := graph.Sigmoid(gs[1])
	if err != nil {
		return nil, nil, err
	}
	g, err := gorgonia.Tanh(gs[2])
	if err != nil {
		return nil, nil, err
	}
	o, err := graph.Sigmoid(gs[3])
	if err != nil {
		return nil, nil, err
	}
	if c, err = fma(f, cPrev, i, g); err != nil {
		return nil, nil, err
	}
	tc, err := gorgonia.Tanh(c)
	if err != nil {
		return nil, nil, err
	}
	h, err = gorgonia.HadamardProd(o, tc)
	return h, c, err
}

// fma returns a ⊙ b + c ⊙ d.
func fma(a, b, c, d *gorgonia.Node) (*gorgonia.Node, error) {
	ab, err := gorgonia.HadamardProd(a, b)
	if err != nil {
		return nil, err
	}
	cd, err := gorgonia.HadamardProd(c, d)
	if err != nil {
		return nil, err
	}
	return gorgonia.Add(ab, cd)
}

package cells

import (
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/reference"
	"github.com/rnnkit/rnnkit/recurrent"
)

// gruSpec registers the GRU (registry.go).
func gruSpec() Spec {
	return Spec{
		Kind: GRUKind, Doc: "GRU in PyTorch's variant (gates r, z, n; r applied after W_hn h), as torch.nn.GRU",
		Gates: 3, States: []string{"h"},
		New: func(a Affine) (Cell, error) { return &GRU{a}, nil },
		Fused: func(c Cell) SequenceFunc {
			if u, ok := c.(*GRU); ok {
				return u.fusedAs(recurrent.GRU)
			}
			return nil
		},
		Reference: ReferenceStep(reference.Step(reference.GRU)),
	}
}

// GRU is the gated recurrent unit (Cho et al. 2014) in PyTorch's variant,
// where the reset gate multiplies W_hn h_{t−1} + b_hn after the matmul:
//
//	r_t = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)          reset gate
//	z_t = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)          update gate
//	n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn)) candidate
//	h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
//
// The update gate interpolates between keeping the old state and taking the
// candidate, which gives the GRU the LSTM's additive path through time with
// one state tensor. Parameters: weight_ih_l{k} [3H, I] = [W_ir; W_iz; W_in],
// weight_hh_l{k} [3H, H], bias_ih_l{k} [3H], bias_hh_l{k} [3H] (gate order
// r, z, n). Its state is {h}.
type GRU struct{ Affine }

// NewGRU binds a GRU cell of config c (kind gru) into g.
func NewGRU(g *graph.Graph, c Config) (*GRU, error) {
	a, err := bindKind(g, c, GRUKind)
	if err != nil {
		return nil, err
	}
	return &GRU{a}, nil
}

// Step implements Cell.
func (u *GRU) Step(x *gorgonia.Node, prev State) (*gorgonia.Node, State, error) {
	if _, err := u.Check(x, prev); err != nil {
		return nil, nil, err
	}
	h, err := u.step(x, prev[0])
	if err != nil {
		return nil, nil, u.Wrap(err)
	}
	return h, State{h}, nil
}

func (u *GRU) step(x, hPrev *gorgonia.Node) (*gorgonia.Node, error) {
	gi, gh, err := u.ProjSplit(x, hPrev)
	if err != nil {
		return nil, err
	}
	is, err := u.SplitGates(gi)
	if err != nil {
		return nil, err
	}
	hs, err := u.SplitGates(gh)
	if err != nil {
		return nil, err
	}
	rs, err := gorgonia.Add(is[0], hs[0])
	if err != nil {
		return nil, err
	}
	r, err := graph.Sigmoid(rs)
	if err != nil {
		return nil, err
	}
	zs, err := gorgonia.Add(is[1], hs[1])
	if err != nil {
		return nil, err
	}
	z, err := graph.Sigmoid(zs)
	if err != nil {
		return nil, err
	}
	rn, err := gorgonia.HadamardProd(r, hs[2])
	if err != nil {
		return nil, err
	}
	ns, err := gorgonia.Add(is[2], rn)
	if err != nil {
		return nil, err
	}
	n, err := gorgonia.Tanh(ns)
	if err != nil {
		return nil, err
	}
	// h = (1 − z) ⊙ n + z ⊙ h_prev. No input or parameter node is the first
	// argument of a Gorgonia element-wise op, which may overwrite it.
	omz, err := gorgonia.Sub(u.Graph().Scalar(1), z)
	if err != nil {
		return nil, err
	}
	return fma(omz, n, z, hPrev)
}

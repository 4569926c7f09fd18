package cells

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/reference"
)

// peepholeSpec registers the peephole LSTM (registry.go).
func peepholeSpec() Spec {
	diagonal := func(_, hidden int) []int { return []int{hidden} }
	return Spec{
		Kind: PeepholeKind, Doc: "LSTM whose gates see the cell state: i, f through peephole_i, peephole_f on c, o through peephole_o on c'",
		Gates: 4, States: []string{"h", "c"},
		Extra: []ParamDef{{"peephole_i", diagonal}, {"peephole_f", diagonal}, {"peephole_o", diagonal}},
		New:   func(a Affine) (Cell, error) { return newPeephole(a) },
		Fused: func(c Cell) SequenceFunc {
			if p, ok := c.(*Peephole); ok {
				return p.fused
			}
			return nil
		},
		Reference: ReferenceStep(reference.Step(reference.Peephole)),
	}
}

// Peephole is the LSTM whose gates also see the cell state through
// diagonal "peephole" weights (Gers & Schmidhuber 2000; Graves 2013):
//
//	i_t = σ(W_ii x_t + b_ii + W_hi h_{t−1} + b_hi + p_i ⊙ c_{t−1})
//	f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf + p_f ⊙ c_{t−1})
//	g_t = tanh(W_ig x_t + b_ig + W_hg h_{t−1} + b_hg)
//	c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
//	o_t = σ(W_io x_t + b_io + W_ho h_{t−1} + b_ho + p_o ⊙ c_t)
//	h_t = o_t ⊙ tanh(c_t)
//
// The input and forget gates look at the old cell state, the output gate
// at the new one. Parameters: those of [LSTM] plus peephole_i_l{k},
// peephole_f_l{k}, peephole_o_l{k}, each [H]. Its state is {h, c}.
type Peephole struct {
	Affine
	pi, pf, po *gorgonia.Node // [H]
}

// NewPeephole binds a peephole LSTM cell of config c (kind peephole_lstm) into g.
func NewPeephole(g *graph.Graph, c Config) (*Peephole, error) {
	a, err := bindKind(g, c, PeepholeKind)
	if err != nil {
		return nil, err
	}
	return newPeephole(a)
}

func newPeephole(a Affine) (*Peephole, error) {
	p := &Peephole{Affine: a, pi: a.Param("peephole_i"), pf: a.Param("peephole_f"), po: a.Param("peephole_o")}
	if p.pi == nil || p.pf == nil || p.po == nil {
		return nil, errors.Wrapf(ErrConfig, "cells: %s: the peephole parameters are not bound", a.Config().name())
	}
	return p, nil
}

// Step implements Cell.
func (p *Peephole) Step(x *gorgonia.Node, prev State) (*gorgonia.Node, State, error) {
	if _, err := p.Check(x, prev); err != nil {
		return nil, nil, err
	}
	h, c, err := p.step(x, prev[0], prev[1])
	if err != nil {
		return nil, nil, p.Wrap(err)
	}
	return h, State{h, c}, nil
}

func (p *Peephole) step(x, hPrev, cPrev *gorgonia.Node) (h, c *gorgonia.Node, err error) {
	pre, err := p.Proj(x, hPrev)
	if err != nil {
		return nil, nil, err
	}
	gs, err := p.SplitGates(pre)
	if err != nil {
		return nil, nil, err
	}
	i, err := peep(gs[0], p.pi, cPrev)
	if err != nil {
		return nil, nil, err
	}
	f, err := peep(gs[1], p.pf, cPrev)
	if err != nil {
		return nil, nil, err
	}
	g, err := gorgonia.Tanh(gs[2])
	if err != nil {
		return nil, nil, err
	}
	if c, err = fma(f, cPrev, i, g); err != nil {
		return nil, nil, err
	}
	o, err := peep(gs[3], p.po, c)
	if err != nil {
		return nil, nil, err
	}
	tc, err := gorgonia.Tanh(c)
	if err != nil {
		return nil, nil, err
	}
	h, err = gorgonia.HadamardProd(o, tc)
	return h, c, err
}

// peep returns σ(pre + p ⊙ c) with p an [H] vector applied to every row.
func peep(pre, p, c *gorgonia.Node) (*gorgonia.Node, error) {
	pc, err := graph.MulRow(c, p)
	if err != nil {
		return nil, err
	}
	s, err := gorgonia.Add(pre, pc)
	if err != nil {
		return nil, err
	}
	return graph.Sigmoid(s)
}

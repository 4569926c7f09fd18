package cells

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
)

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
	affine
	pi, pf, po *gorgonia.Node // [H]
}

// NewPeephole binds a peephole LSTM cell of config c (kind peephole_lstm) into g.
func NewPeephole(g *graph.Graph, c Config) (*Peephole, error) {
	a, err := bindAffine(g, c, PeepholeKind)
	if err != nil {
		return nil, err
	}
	p := &Peephole{affine: a}
	specs := c.Params()[4:]
	dst := []**gorgonia.Node{&p.pi, &p.pf, &p.po}
	for i, s := range specs {
		n, err := g.Param(s.Name, s.Shape...)
		if err != nil {
			return nil, errors.Wrapf(err, "cells: %s", c.name())
		}
		*dst[i] = n
	}
	return p, nil
}

// Step implements Cell.
func (p *Peephole) Step(x *gorgonia.Node, prev State) (*gorgonia.Node, State, error) {
	if _, err := p.check(x, prev); err != nil {
		return nil, nil, err
	}
	h, c, err := p.step(x, prev[0], prev[1])
	if err != nil {
		return nil, nil, p.wrap(err)
	}
	return h, State{h, c}, nil
}

func (p *Peephole) step(x, hPrev, cPrev *gorgonia.Node) (h, c *gorgonia.Node, err error) {
	pre, err := p.proj(x, hPrev)
	if err != nil {
		return nil, nil, err
	}
	gs, err := p.gates(pre)
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

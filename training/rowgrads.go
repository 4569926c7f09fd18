package training

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/optim"
)

// RowGrader is a training [Graph] that computes the gradient of some
// parameters itself, as rows ([optim.Rows]): an embedding table of which a
// batch reads a few hundred of tens of thousands of rows. The Trainer
// leaves those parameters out of Gorgonia's differentiation (no dense
// gradient is made, added into the node's dual value, checked and cleared
// at every step) and, after each run, hands the rows to an optimiser that
// is an [optim.RowStepper] (Adagrad), which updates the parameter as its
// Step would with the dense gradient, bit for bit. With another optimiser,
// or with gradient clipping (whose norm is taken over dense gradients), it
// makes the rows dense first, so the result is again the dense one.
type RowGrader interface {
	Graph
	// RowParams names the parameters whose gradients RowGrads returns
	// (none for an evaluation graph).
	RowParams() []string
	// RowGrads returns, after a run of the training graph, the row
	// gradients of RowParams' parameters.
	RowGrads() (map[string]optim.Rows, error)
}

// withoutRows returns params less the nodes of g's row parameters.
func withoutRows(params gorgonia.Nodes, g Graph, pg *graph.Graph) gorgonia.Nodes {
	rg, ok := g.(RowGrader)
	if !ok || len(rg.RowParams()) == 0 {
		return params
	}
	skip := map[*gorgonia.Node]bool{}
	for _, name := range rg.RowParams() {
		if n, ok := pg.ParamNode(name); ok {
			skip[n] = true
		}
	}
	var out gorgonia.Nodes
	for _, n := range params {
		if !skip[n] {
			out = append(out, n)
		}
	}
	return out
}

// stepRows applies the optimiser to the dense gradients grads and the row
// gradients of c's graph, if any (see RowGrader).
func (t *Trainer) stepRows(c *compiled, grads optim.Grads) (norm float64, err error) {
	var rows map[string]optim.Rows
	if rg, ok := c.g.(RowGrader); ok && len(rg.RowParams()) > 0 {
		if rows, err = rg.RowGrads(); err != nil {
			return 0, errors.Wrap(err, "training: row gradients")
		}
	}
	rs, sparse := t.Opt.(optim.RowStepper)
	if len(rows) > 0 && (!sparse || t.Cfg.Clip > 0) {
		for name, r := range rows {
			p, ok := t.Params.Get(name)
			if !ok || len(p.Shape()) != 2 {
				return 0, errors.Errorf("training: row gradient of %q, which is not a matrix parameter", name)
			}
			if grads[name], err = r.Dense(p.Shape()[0], p.Shape()[1]); err != nil {
				return 0, err
			}
		}
		rows = nil
	}
	norm = math.NaN()
	if t.Cfg.Clip > 0 {
		if norm, err = optim.ClipGlobalNorm(grads, t.Cfg.Clip); err != nil {
			return 0, err
		}
	}
	if len(rows) > 0 {
		return norm, rs.StepRows(t.Params, grads, rows)
	}
	return norm, t.Opt.Step(t.Params, grads)
}

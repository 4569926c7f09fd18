package gradcheck

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// Report is the outcome of a check.
type Report struct {
	MaxErr  float64 // max over elements of |analytic − numeric| / max(1, |analytic|, |numeric|)
	Worst   string  // the node and element index where MaxErr occurred
	Checked int     // number of elements compared
}

// Check differentiates the scalar node loss of g with respect to each node
// of wrt symbolically (gorgonia.Grad), then perturbs every element of every
// wrt node's value by ±eps and compares with (L(+eps) − L(−eps)) / 2eps.
// The wrt nodes must be float64 input or parameter nodes of g whose values
// are dense tensors; their values are restored afterwards. Call Check
// before compiling any other machine on g: it adds nodes to the graph. For
// a graph made by graph.Build, call Prepare inside the build function and
// Prepared.Check after it instead, so that the gradient nodes are checked
// for hash collisions too.
func Check(g *graph.Graph, loss *gorgonia.Node, wrt []*gorgonia.Node, eps float64) (Report, error) {
	p, err := Prepare(g, loss, wrt)
	if err != nil {
		return Report{}, err
	}
	return p.Check(g, eps)
}

// Prepared is a loss with its symbolic gradients, ready to be checked.
type Prepared struct {
	loss  gorgonia.Value
	grads []gorgonia.Value
	wrt   []*gorgonia.Node
}

// Prepare adds the symbolic gradient of the scalar node loss with respect
// to wrt to g, and reads of the loss and the gradients. Call it inside the
// build function of graph.Build, and Check on the graph Build returns with
// the Prepared its last build returned.
func Prepare(g *graph.Graph, loss *gorgonia.Node, wrt []*gorgonia.Node) (*Prepared, error) {
	if g == nil || loss == nil {
		return nil, errors.New("gradcheck: nil graph or loss")
	}
	if g.Dtype() != tensor.Float64 {
		return nil, errors.Errorf("gradcheck: graph is %v, want float64", g.Dtype())
	}
	grads, err := gorgonia.Grad(loss, wrt...)
	if err != nil {
		return nil, errors.Wrap(err, "gradcheck: symbolic gradient")
	}
	p := &Prepared{grads: make([]gorgonia.Value, len(grads)), wrt: wrt}
	gorgonia.Read(loss, &p.loss)
	for i, n := range grads {
		gorgonia.Read(n, &p.grads[i])
	}
	return p, nil
}

// Check compiles g, which holds p's nodes, and compares the gradients with
// central differences of step eps (see the package's Check).
func (p *Prepared) Check(g *graph.Graph, eps float64) (Report, error) {
	if eps <= 0 {
		return Report{}, errors.Errorf("gradcheck: eps %v must be positive", eps)
	}
	wrt := p.wrt
	m, err := graph.NewMachine(g)
	if err != nil {
		return Report{}, err
	}
	defer m.Close()
	run := func() (float64, error) {
		m.Reset()
		if err := graph.Run(m); err != nil {
			return 0, err
		}
		v, err := graph.ValueFloat64s(p.loss)
		if err != nil || len(v) != 1 {
			return 0, errors.Errorf("gradcheck: loss is not a scalar (%v)", err)
		}
		return v[0], nil
	}
	if _, err := run(); err != nil {
		return Report{}, err
	}
	analytic := make([][]float64, len(p.grads))
	for i := range p.grads {
		if analytic[i], err = graph.ValueFloat64s(p.grads[i]); err != nil {
			return Report{}, errors.Wrapf(err, "gradcheck: gradient of %s", wrt[i].Name())
		}
	}
	var rep Report
	for i, n := range wrt {
		t, ok := n.Value().(*tensor.Dense)
		if !ok {
			return Report{}, errors.Errorf("gradcheck: %s has no dense value", n.Name())
		}
		data, ok := t.Data().([]float64)
		if !ok {
			return Report{}, errors.Errorf("gradcheck: %s is not float64", n.Name())
		}
		if len(data) != len(analytic[i]) {
			return Report{}, errors.Errorf("gradcheck: %s has %d values, its gradient %d", n.Name(), len(data), len(analytic[i]))
		}
		for j := range data {
			orig := data[j]
			data[j] = orig + eps
			lp, err := run()
			if err != nil {
				data[j] = orig
				return Report{}, err
			}
			data[j] = orig - eps
			lm, err := run()
			data[j] = orig
			if err != nil {
				return Report{}, err
			}
			num := (lp - lm) / (2 * eps)
			a := analytic[i][j]
			e := math.Abs(a-num) / math.Max(1, math.Max(math.Abs(a), math.Abs(num)))
			if math.IsNaN(e) {
				e = math.Inf(1)
			}
			rep.Checked++
			if e > rep.MaxErr || rep.Checked == 1 {
				rep.MaxErr = e
				rep.Worst = fmt.Sprintf("%s[%d] (analytic %.12g, numeric %.12g)", n.Name(), j, a, num)
			}
		}
	}
	return rep, nil
}

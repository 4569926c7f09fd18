package cells_test

import (
	"fmt"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

// A stack with dropout between layers: evaluation mode equals no dropout,
// training mode differs, and gradients through fixed masks are right.
func TestStackDropout(t *testing.T) {
	const T, B, I, H = 3, 2, 3, 4
	ps, _ := graph.NewParams(tensor.Float64)
	src := graph.NewSource(4)
	cfgs := []cells.Config{{Kind: cells.GRUKind, InputSize: I, HiddenSize: H}, {Kind: cells.GRUKind, InputSize: H, HiddenSize: H, Layer: 1}}
	for _, c := range cfgs {
		c.Init(ps, src)
	}
	build := func(d *graph.Dropout) (*graph.Graph, []*gorgonia.Node, *gorgonia.Node) {
		g, _ := graph.New(ps)
		var cs []cells.Cell
		for _, c := range cfgs {
			cell, err := cells.New(g, c)
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, cell)
		}
		st, err := cells.NewStack(cs...)
		if err != nil {
			t.Fatal(err)
		}
		var cell cells.Cell = st
		if d != nil {
			if cell, err = st.WithDropout(g, d); err != nil {
				t.Fatal(err)
			}
		}
		xs := make([]*gorgonia.Node, T)
		for i := range xs {
			xs[i], _ = g.Input(fmt.Sprintf("x_%d", i), B, I)
			v := make([]float64, B*I)
			for j := range v {
				v[j] = float64((i*7+j)%5)/5 - 0.4
			}
			graph.Set(xs[i], v)
		}
		outs, _, err := cells.Unroll(cell, xs, nil)
		if err != nil {
			t.Fatal(err)
		}
		var loss *gorgonia.Node
		for _, o := range outs {
			s := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(o))))
			if loss == nil {
				loss = s
			} else {
				loss = gorgonia.Must(gorgonia.Add(loss, s))
			}
		}
		return g, xs, loss
	}
	value := func(d *graph.Dropout) float64 {
		g, _, loss := build(d)
		var v gorgonia.Value
		gorgonia.Read(loss, &v)
		m, _ := graph.NewMachine(g)
		defer m.Close()
		if err := graph.Run(m); err != nil {
			t.Fatal(err)
		}
		f, _ := graph.ValueFloat64s(v)
		return f[0]
	}
	plain := value(nil)
	eval, _ := graph.NewDropout(0.5, graph.NewSource(1))
	eval.SetTraining(false)
	if got := value(eval); got != plain {
		t.Errorf("evaluation mode: loss %v, without dropout %v", got, plain)
	}
	train, _ := graph.NewDropout(0.5, graph.NewSource(1))
	if got := value(train); got == plain {
		t.Errorf("training mode: loss %v equals the loss without dropout", got)
	}
	d, _ := graph.NewDropout(0.3, graph.NewSource(2))
	g, xs, loss := build(d)
	rep, err := gradcheck.Check(g, loss, append(g.Learnables(), xs...), 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxErr > 1e-7 {
		t.Fatalf("max error %g at %s", rep.MaxErr, rep.Worst)
	}
}

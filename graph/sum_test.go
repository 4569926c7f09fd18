package graph_test

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

// graph.Sum equals gorgonia.Sum, and its gradient agrees with finite
// differences inside a loss (Σx)² + Σ x ⊙ r, whose upstream gradient is not
// constant.
func TestSum(t *testing.T) {
	for _, shape := range [][2]int{{3, 4}, {1, 5}, {1, 1}} {
		ps, err := graph.NewParams(tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		src := graph.NewSource(9)
		n := shape[0] * shape[1]
		xd, rd := make([]float64, n), make([]float64, n)
		for i := range xd {
			xd[i], rd[i] = src.NormFloat64(), src.NormFloat64()
		}
		type built struct {
			x, loss      *gorgonia.Node
			ours, theirs gorgonia.Value
		}
		g, b, err := graph.Build(ps, func(g *graph.Graph) (*built, error) {
			var b built
			x, err := g.Input("x", shape[0], shape[1])
			if err != nil {
				return nil, err
			}
			r, err := g.Input("r", shape[0], shape[1])
			if err != nil {
				return nil, err
			}
			if err := graph.Set(x, xd); err != nil {
				return nil, err
			}
			if err := graph.Set(r, rd); err != nil {
				return nil, err
			}
			ours, err := graph.Sum(x)
			if err != nil {
				return nil, err
			}
			theirs, err := gorgonia.Sum(x)
			if err != nil {
				return nil, err
			}
			sq, err := gorgonia.Mul(ours, ours)
			if err != nil {
				return nil, err
			}
			xr, err := gorgonia.HadamardProd(x, r)
			if err != nil {
				return nil, err
			}
			dot, err := graph.Sum(xr)
			if err != nil {
				return nil, err
			}
			if b.loss, err = gorgonia.Add(sq, dot); err != nil {
				return nil, err
			}
			gorgonia.Read(ours, &b.ours)
			gorgonia.Read(theirs, &b.theirs)
			b.x = x
			return &b, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// gradcheck compiles the graph (after adding the gradient) and runs it.
		rep, err := gradcheck.Check(g, b.loss, []*gorgonia.Node{b.x}, 1e-6)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Checked != n || !(rep.MaxErr <= 1e-7) {
			t.Fatalf("%v: %d elements checked, max relative error %.3g at %s", shape, rep.Checked, rep.MaxErr, rep.Worst)
		}
		ours, err1 := graph.ValueFloat64s(b.ours)
		theirs, err2 := graph.ValueFloat64s(b.theirs)
		if err1 != nil || err2 != nil || len(ours) != 1 || len(theirs) != 1 {
			t.Fatalf("%v: sums %v (%v), %v (%v)", shape, ours, err1, theirs, err2)
		}
		if d := math.Abs(ours[0] - theirs[0]); d > 1e-15*math.Max(1, math.Abs(theirs[0])) {
			t.Fatalf("%v: graph.Sum %v, gorgonia.Sum %v", shape, ours[0], theirs[0])
		}
	}
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	v, err := g.Input("v", 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := graph.Sum(v); err == nil {
		t.Error("Sum of a vector accepted")
	}
}

package optim

import (
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// TestGradsFromAndZeroGrads builds cost = Σ x⊙w⊙w over a parameter w,
// whose gradient is 2·x⊙w, compiles it with BindDualValues, and checks
// that GradsFrom reads the gradient, that Gorgonia accumulates it across
// runs, that ZeroGrads stops that (a second run gives the same gradient,
// not double), that the Grads returned are copies, and that an optimiser
// step on the Params is what the next run of the graph sees.
func TestGradsFromAndZeroGrads(t *testing.T) {
	for _, dt := range dtypes {
		ps := newParams(t, dt, spec{"w", []int{3}, []float64{1, 2, 3}})
		g, err := graph.New(ps)
		if err != nil {
			t.Fatal(err)
		}
		w, err := g.Param("w", 3)
		if err != nil {
			t.Fatal(err)
		}
		x, err := g.Input("x", 3)
		if err != nil {
			t.Fatal(err)
		}
		xw := gorgonia.Must(gorgonia.HadamardProd(x, w))
		cost := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(xw, w))))
		if _, err := gorgonia.Grad(cost, w); err != nil {
			t.Fatal(err)
		}
		nodes := g.Learnables()
		m, err := graph.NewMachine(g, gorgonia.BindDualValues(nodes...))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if err := graph.Set(x, []float64{1, -1, 2}); err != nil {
			t.Fatal(err)
		}
		run := func() Grads {
			t.Helper()
			m.Reset()
			if err := graph.Run(m); err != nil {
				t.Fatal(err)
			}
			gr, err := GradsFrom(nodes)
			if err != nil {
				t.Fatal(err)
			}
			if len(gr) != 1 || gr["w"] == nil {
				t.Fatalf("GradsFrom: %v, want the gradient of w", gr)
			}
			if gr["w"].Dtype() != dt || !sameShape(gr["w"].Shape(), []int{3}) {
				t.Fatalf("gradient is %v %v", gr["w"].Dtype(), gr["w"].Shape())
			}
			return gr
		}
		get := func(gr Grads) []float64 {
			v, err := graph.Float64s(gr["w"])
			if err != nil {
				t.Fatal(err)
			}
			return v
		}

		first := run()
		if got, want := get(first), []float64{2, -4, 12}; !sameBits(got, want) {
			t.Fatalf("%v: gradient %v, want 2·x⊙w = %v", dt, got, want)
		}
		// Without ZeroGrads, Gorgonia adds the next run's gradient.
		if got, want := get(run()), []float64{4, -8, 24}; !sameBits(got, want) {
			t.Fatalf("%v: second run without ZeroGrads: %v, want the accumulated %v "+
				"(if Gorgonia stopped accumulating, ZeroGrads' doc needs updating)", dt, got, want)
		}
		if err := ZeroGrads(nodes); err != nil {
			t.Fatal(err)
		}
		if got := get(first); !sameBits(got, []float64{2, -4, 12}) {
			t.Fatalf("%v: ZeroGrads changed a Grads that GradsFrom returned: %v", dt, got)
		}
		zeroed, err := GradsFrom(nodes)
		if err != nil {
			t.Fatal(err)
		}
		if got := get(zeroed); !sameBits(got, []float64{0, 0, 0}) {
			t.Fatalf("%v: after ZeroGrads the gradient is %v", dt, got)
		}
		if got := get(run()); !sameBits(got, []float64{2, -4, 12}) {
			t.Fatalf("%v: run after ZeroGrads: %v, want %v again", dt, got, []float64{2, -4, 12})
		}
		if err := ZeroGrads(nodes); err != nil {
			t.Fatal(err)
		}

		// An optimiser step updates the Params, and the graph sees it.
		sgd, _ := NewSGD(0.25)
		if err := sgd.Step(ps, first); err != nil {
			t.Fatal(err)
		}
		if got, want := values(t, ps, "w"), []float64{0.5, 3, 0}; !sameBits(got, want) {
			t.Fatalf("%v: w after a step %v, want %v", dt, got, want)
		}
		if got, want := get(run()), []float64{1, -6, 0}; !sameBits(got, want) {
			t.Fatalf("%v: gradient after the step %v, want 2·x⊙w = %v", dt, got, want)
		}
		// The input was not overwritten by the run (GORGONIA trap: in-place ops).
		if xv, _ := graph.ValueFloat64s(x.Value()); !sameBits(xv, []float64{1, -1, 2}) {
			t.Fatalf("%v: the run changed x to %v", dt, xv)
		}
	}
}

func TestGradsFromRejects(t *testing.T) {
	ps := newParams(t, tensor.Float64, spec{"w", []int{2}, []float64{1, 2}}, spec{"v", []int{2}, []float64{1, 2}})
	g, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := g.Param("w", 2)
	v, _ := g.Param("v", 2) // never differentiated
	for name, nodes := range map[string]gorgonia.Nodes{
		"nil node":                  {nil},
		"node without a grad":       {v},
		"a good node and a nil one": {w, nil},
	} {
		if _, err := GradsFrom(nodes); err == nil {
			t.Errorf("GradsFrom(%s) accepted", name)
		}
		if err := ZeroGrads(nodes); err == nil {
			t.Errorf("ZeroGrads(%s) accepted", name)
		}
	}
	if gr, err := GradsFrom(nil); err != nil || len(gr) != 0 {
		t.Errorf("GradsFrom(nil) = %v, %v; want an empty Grads", gr, err)
	}
	if err := ZeroGrads(nil); err != nil {
		t.Errorf("ZeroGrads(nil): %v", err)
	}
}

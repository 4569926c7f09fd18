package graph_test

import (
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// Gorgonia's Reshape returns a view of its input, and an element-wise op
// that consumes it may write its result into that register in place: the
// parameter behind the view is overwritten. This test documents the trap
// (it fails, telling us to revisit, if Gorgonia stops doing it) and checks
// that AddRow, rnnkit's way to add a bias, leaves the parameter alone.
func TestGorgoniaReshapeInPlaceTrap(t *testing.T) {
	build := func(useAddRow bool) (before, after []float64) {
		ps, err := graph.NewParams(tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := ps.New("b", 3)
		c, _ := ps.New("c", 3)
		if err := graph.SetFloat64s(b, []float64{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		if err := graph.SetFloat64s(c, []float64{10, 20, 30}); err != nil {
			t.Fatal(err)
		}
		g, _ := graph.New(ps)
		bn, _ := g.Param("b", 3)
		cn, _ := g.Param("c", 3)
		var out *gorgonia.Node
		if useAddRow {
			x, _ := g.Input("x", 1, 3)
			s, err := graph.AddRow(x, bn)
			if err != nil {
				t.Fatal(err)
			}
			if out, err = graph.AddRow(s, cn); err != nil {
				t.Fatal(err)
			}
		} else {
			br := gorgonia.Must(gorgonia.Reshape(bn, tensor.Shape{1, 3}))
			cr := gorgonia.Must(gorgonia.Reshape(cn, tensor.Shape{1, 3}))
			out = gorgonia.Must(gorgonia.Add(br, cr))
		}
		var v gorgonia.Value
		gorgonia.Read(out, &v)
		before, _ = graph.Float64s(b)
		m, err := graph.NewMachine(g)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if err := graph.Run(m); err != nil {
			t.Fatal(err)
		}
		got, _ := graph.ValueFloat64s(v)
		if got[0] != 11 || got[2] != 33 {
			t.Fatalf("sum %v, want [11 22 33]", got)
		}
		after, _ = graph.Float64s(b)
		return before, after
	}
	before, after := build(false)
	if before[0] == after[0] {
		t.Errorf("Gorgonia no longer overwrites a reshaped parameter in place (b stayed %v): revisit the workaround in graph.MatMul's doc", after)
	}
	before, after = build(true)
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("AddRow changed its parameter: %v → %v", before, after)
		}
	}
}

// Gorgonia merges two input nodes of the same name, type and shape into one
// node; graph.Graph.Input refuses the second name instead.
func TestGorgoniaSameNameInputsMergeTrap(t *testing.T) {
	eg := gorgonia.NewGraph()
	a := gorgonia.NewMatrix(eg, tensor.Float64, gorgonia.WithShape(2, 2), gorgonia.WithName("x"))
	b := gorgonia.NewMatrix(eg, tensor.Float64, gorgonia.WithShape(2, 2), gorgonia.WithName("x"))
	if a != b {
		t.Errorf("Gorgonia no longer merges same-named inputs: Graph.Input's refusal may be relaxed")
	}
	ps, _ := graph.NewParams(tensor.Float64)
	g, _ := graph.New(ps)
	if _, err := g.Input("x", 2, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Input("x", 2, 2); err == nil {
		t.Error("Graph.Input accepted a second input named x")
	}
}

package graph_test

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

func TestDropout(t *testing.T) {
	if _, err := graph.NewDropout(1, graph.NewSource(1)); err == nil {
		t.Error("p = 1 accepted")
	}
	if _, err := graph.NewDropout(-0.1, graph.NewSource(1)); err == nil {
		t.Error("p < 0 accepted")
	}
	if _, err := graph.NewDropout(0.5, nil); err == nil {
		t.Error("no source accepted")
	}
	run := func(p float64, training bool, seed uint64) []float64 {
		ps, _ := graph.NewParams(tensor.Float64)
		g, _ := graph.New(ps)
		x, _ := g.Input("x", 100, 100)
		ones := make([]float64, 10000)
		for i := range ones {
			ones[i] = 1
		}
		graph.Set(x, ones)
		d, _ := graph.NewDropout(p, graph.NewSource(seed))
		d.SetTraining(training)
		y, err := d.Apply(g, x)
		if err != nil {
			t.Fatal(err)
		}
		var v gorgonia.Value
		gorgonia.Read(y, &v)
		m, _ := graph.NewMachine(g)
		defer m.Close()
		if err := graph.Run(m); err != nil {
			t.Fatal(err)
		}
		out, _ := graph.ValueFloat64s(v)
		return out
	}
	y := run(0.3, true, 1)
	zeros, sum := 0, 0.0
	for _, v := range y {
		if v == 0 {
			zeros++
		} else if math.Abs(v-1/0.7) > 1e-15 {
			t.Fatalf("kept value %v, want %v", v, 1/0.7)
		}
		sum += v
	}
	if f := float64(zeros) / 10000; math.Abs(f-0.3) > 0.02 {
		t.Errorf("dropped fraction %v, want about 0.3", f)
	}
	if mean := sum / 10000; math.Abs(mean-1) > 0.03 {
		t.Errorf("mean %v, want about 1", mean)
	}
	again := run(0.3, true, 1)
	for i := range y {
		if y[i] != again[i] {
			t.Fatal("same seed, different masks")
		}
	}
	for _, v := range run(0.3, false, 1) {
		if v != 1 {
			t.Fatal("evaluation mode changed a value")
		}
	}
	for _, v := range run(0, true, 1) {
		if v != 1 {
			t.Fatal("p = 0 changed a value")
		}
	}
}

// The gradient through dropout is the mask (Gorgonia's scales by 1/p).
func TestDropoutGradient(t *testing.T) {
	ps, _ := graph.NewParams(tensor.Float64)
	g, _ := graph.New(ps)
	x, _ := g.Input("x", 3, 4)
	graph.Set(x, []float64{1, -2, 3, 0.5, 0.1, 0.2, -0.3, 4, 1, 1, 1, 1})
	d, _ := graph.NewDropout(0.5, graph.NewSource(3))
	y, err := d.Apply(g, x)
	if err != nil {
		t.Fatal(err)
	}
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(y))))
	rep, err := gradcheck.Check(g, loss, []*gorgonia.Node{x}, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxErr > 1e-8 {
		t.Fatalf("max error %g at %s", rep.MaxErr, rep.Worst)
	}
}

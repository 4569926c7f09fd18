package birnn_test

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
)

// weightedSum returns Σ_t Σ outs[t] ⊙ rs[t].
func weightedSum(t *testing.T, outs, rs []*gorgonia.Node) *gorgonia.Node {
	t.Helper()
	var loss *gorgonia.Node
	for i, o := range outs {
		p, err := gorgonia.HadamardProd(o, rs[i])
		if err != nil {
			t.Fatal(err)
		}
		s, err := gorgonia.Sum(p)
		if err != nil {
			t.Fatal(err)
		}
		if loss == nil {
			loss = s
		} else if loss, err = gorgonia.Add(loss, s); err != nil {
			t.Fatal(err)
		}
	}
	return loss
}

// input creates an input node holding data.
func input(t *testing.T, g *graph.Graph, name string, data []float64, shape ...int) *gorgonia.Node {
	t.Helper()
	n, err := g.Input(name, shape...)
	if err != nil {
		t.Fatal(err)
	}
	if err := graph.Set(n, data); err != nil {
		t.Fatal(err)
	}
	return n
}

// randInput creates an input node of normal random values.
func randInput(t *testing.T, g *graph.Graph, src graph.Source, name string, shape ...int) *gorgonia.Node {
	t.Helper()
	n := 1
	for _, d := range shape {
		n *= d
	}
	return input(t, g, name, normals(src, n), shape...)
}

func normals(src graph.Source, n int) []float64 {
	d := make([]float64, n)
	for i := range d {
		d[i] = src.NormFloat64()
	}
	return d
}

// readAll arranges for each node's value to be read when the machine runs.
func readAll(ns []*gorgonia.Node) []gorgonia.Value {
	vs := make([]gorgonia.Value, len(ns))
	for i, n := range ns {
		gorgonia.Read(n, &vs[i])
	}
	return vs
}

// floats converts read values, failing the test on a value that cannot be read.
func floats(t *testing.T, vs []gorgonia.Value) [][]float64 {
	t.Helper()
	out := make([][]float64, len(vs))
	for i, v := range vs {
		f, err := graph.ValueFloat64s(v)
		if err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		out[i] = f
	}
	return out
}

// run compiles g and runs it `times` times (Reset before each run), calling
// after each run.
func run(t *testing.T, g *graph.Graph, times int, after func(run int)) {
	t.Helper()
	m, err := graph.NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := 0; i < times; i++ {
		m.Reset()
		if err := graph.Run(m); err != nil {
			t.Fatal(err)
		}
		after(i)
	}
}

func maxAbs(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		e := math.Abs(a[i] - b[i])
		if math.IsNaN(e) {
			return math.Inf(1)
		}
		m = math.Max(m, e)
	}
	return m
}

func maxAbs2(a, b [][]float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, maxAbs(a[i], b[i]))
	}
	return m
}

func cat(vs [][]float64) []float64 {
	var out []float64
	for _, v := range vs {
		out = append(out, v...)
	}
	return out
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s_%d", prefix, i)
	}
	return out
}

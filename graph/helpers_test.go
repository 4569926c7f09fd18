package graph

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Helpers shared by the package's tests.

func mustParams(t *testing.T, dt tensor.Dtype) *Params {
	t.Helper()
	p, err := NewParams(dt)
	if err != nil {
		t.Fatalf("NewParams(%v): %v", dt, err)
	}
	return p
}

func mustGraph(t *testing.T, p *Params) *Graph {
	t.Helper()
	g, err := New(p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

// must returns a function that fails the test on an error and otherwise
// returns the node: must(t)(g.Param("w", 2, 3)).
func must(t *testing.T) func(*gorgonia.Node, error) *gorgonia.Node {
	t.Helper()
	return func(n *gorgonia.Node, err error) *gorgonia.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if n == nil {
			t.Fatal("nil node without an error")
		}
		return n
	}
}

// mustMachine compiles g and closes the machine when the test ends.
func mustMachine(t *testing.T, g *Graph, opts ...gorgonia.VMOpt) gorgonia.VM {
	t.Helper()
	m, err := NewMachine(g, opts...)
	if err != nil {
		t.Fatalf("NewMachine: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func mustRun(t *testing.T, m gorgonia.VM) {
	t.Helper()
	if err := Run(m); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func values(t *testing.T, v gorgonia.Value) []float64 {
	t.Helper()
	f, err := ValueFloat64s(v)
	if err != nil {
		t.Fatalf("ValueFloat64s: %v", err)
	}
	return f
}

func tensorValues(t *testing.T, x tensor.Tensor) []float64 {
	t.Helper()
	f, err := Float64s(x)
	if err != nil {
		t.Fatalf("Float64s: %v", err)
	}
	return f
}

// assertClose fails unless got and want have the same length and differ by at
// most tol (absolute) element by element.
func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= tol) {
			t.Fatalf("%s[%d] = %.17g, want %.17g (diff %.3g > %.3g)", what, i, got[i], want[i], d, tol)
		}
	}
}

// seq returns n values a, a+step, ….
func seq(n int, a, step float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = a + float64(i)*step
	}
	return out
}

var floatDtypes = []tensor.Dtype{tensor.Float64, tensor.Float32}

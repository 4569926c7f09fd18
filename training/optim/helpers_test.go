package optim

import (
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// Helpers shared by the package's tests.

// spec is a named parameter or gradient: shape and row-major data.
type spec struct {
	name  string
	shape []int
	data  []float64
}

func newParams(t *testing.T, dt tensor.Dtype, specs ...spec) *graph.Params {
	t.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		if _, err := ps.New(s.name, s.shape...); err != nil {
			t.Fatal(err)
		}
		if err := ps.SetFloat64s(s.name, s.data); err != nil {
			t.Fatal(err)
		}
	}
	return ps
}

func dense(t *testing.T, dt tensor.Dtype, data []float64, shape ...int) *tensor.Dense {
	t.Helper()
	d, err := graph.FromFloat64s(dt, data, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func values(t *testing.T, ps *graph.Params, name string) []float64 {
	t.Helper()
	p, ok := ps.Get(name)
	if !ok {
		t.Fatalf("no parameter %q", name)
	}
	v, err := graph.Float64s(p)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// snapshot copies every parameter's values.
func snapshot(t *testing.T, ps *graph.Params) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for _, n := range ps.Names() {
		out[n] = values(t, ps, n)
	}
	return out
}

// sameBits reports whether two float slices are bit-identical (as float64
// copies of float32 or float64 values, which keeps every bit).
func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// stateBits flattens a state map to name → values, for bit comparisons.
func stateBits(t *testing.T, s map[string]*tensor.Dense) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for k, v := range s {
		f, err := graph.Float64s(v)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[k] = f
	}
	return out
}

func sameState(a, b map[string][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !sameBits(v, w) {
			return false
		}
	}
	return true
}

// cloneState deep-copies a state map.
func cloneState(t *testing.T, s map[string]*tensor.Dense) map[string]*tensor.Dense {
	t.Helper()
	out := map[string]*tensor.Dense{}
	for k, v := range s {
		c, err := cloneDense(v)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[k] = c
	}
	return out
}

// kinds builds each optimiser for the shared tests.
var kinds = []struct {
	name string
	make func() (Optimizer, error)
}{
	{"sgd", func() (Optimizer, error) { return NewSGD(0.1) }},
	{"momentum", func() (Optimizer, error) { return NewMomentum(0.05, 0.9, false) }},
	{"nesterov", func() (Optimizer, error) { return NewMomentum(0.05, 0.9, true) }},
	{"adam", func() (Optimizer, error) { return NewAdam(0.01, 0.9, 0.999, 1e-8) }},
	{"rmsprop", func() (Optimizer, error) { return NewRMSProp(0.01, 0.99, 1e-8) }},
	{"adagrad", func() (Optimizer, error) { return NewAdagrad(0.05, 1e-4, 1e-10) }},
}

func mustOpt(t *testing.T, make func() (Optimizer, error)) Optimizer {
	t.Helper()
	o, err := make()
	if err != nil {
		t.Fatal(err)
	}
	return o
}

var dtypes = []tensor.Dtype{tensor.Float64, tensor.Float32}

func nan() float64 { return math.NaN() }

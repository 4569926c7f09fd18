package optim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// rowCase draws a parameter table [v, e], a dense bias and, per step, a
// few distinct rows with their gradients.
func rowCase(t *testing.T, dt tensor.Dtype, v, e int, seed uint64) (*graph.Params, func() (Grads, Rows)) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	table := make([]float64, v*e)
	for i := range table {
		table[i] = r.NormFloat64()
	}
	table[0], table[1] = 0, math.Copysign(0, -1) // signed zeros are kept as they are
	bias := []float64{0.5, -0.25, 1}
	ps := newParams(t, dt, spec{"bias", []int{3}, bias}, spec{"embedding.weight", []int{v, e}, table})
	return ps, func() (Grads, Rows) {
		var ids []int
		for id := range v {
			if r.IntN(4) == 0 {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			ids = []int{r.IntN(v)}
		}
		vals := make([]float64, len(ids)*e)
		for i := range vals {
			vals[i] = r.NormFloat64() * math.Pow(10, float64(r.IntN(6)-3))
		}
		gb := []float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
		return Grads{"bias": dense(t, dt, gb, 3)}, Rows{IDs: ids, Values: dense(t, dt, vals, len(ids), e)}
	}
}

// StepRows equals Step with the dense gradient, bit for bit, parameters and
// state, over several steps: with and without weight decay, eps 0 (where a
// zero gradient on a zero sum is 0/0 in Step, and so must be in StepRows),
// float32 and float64, widths that are and are not multiples of the AVX2
// kernel's 8, tables large enough to be split between cores.
func TestAdagradStepRowsEqualsDense(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, size := range [][2]int{{3, 5}, {600, 13}, {40, 300}, {9, 8}} {
			for _, h := range []struct{ wd, eps float64 }{{0, 1e-10}, {1e-4, 1e-10}, {0.1, 0}} {
				v, e := size[0], size[1]
				t.Run(fmt.Sprintf("%v/%dx%d/wd%g/eps%g", dt, v, e, h.wd, h.eps), func(t *testing.T) {
					sparse, draw := rowCase(t, dt, v, e, 1)
					dense, _ := rowCase(t, dt, v, e, 1)
					os, _ := NewAdagrad(0.05, h.wd, h.eps)
					od, _ := NewAdagrad(0.05, h.wd, h.eps)
					for step := range 4 {
						g, rows := draw()
						full, err := rows.Dense(v, e)
						if err != nil {
							t.Fatal(err)
						}
						gd := Grads{"bias": g["bias"], "embedding.weight": full}
						if err := od.Step(dense, gd); err != nil {
							t.Fatal(err)
						}
						if err := os.StepRows(sparse, g, map[string]Rows{"embedding.weight": rows}); err != nil {
							t.Fatal(err)
						}
						for _, name := range []string{"bias", "embedding.weight"} {
							equalBits(t, fmt.Sprintf("step %d %s", step+1, name), values(t, sparse, name), values(t, dense, name))
						}
						ss, sd := os.State(), od.State()
						if len(ss) != len(sd) {
							t.Fatalf("step %d: state of %d entries, dense %d", step+1, len(ss), len(sd))
						}
						for k, x := range sd {
							a, _ := graph.Float64s(ss[k])
							b, _ := graph.Float64s(x)
							equalBits(t, fmt.Sprintf("step %d state %s", step+1, k), a, b)
						}
					}
				})
			}
		}
	}
}

func equalBits(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s[%d] = %v (bits %x), dense path %v (bits %x)", what, i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
		}
	}
}

// Bad row gradients are errors that change nothing.
func TestAdagradStepRowsBad(t *testing.T) {
	ps, draw := rowCase(t, tensor.Float32, 6, 4, 2)
	o, _ := NewAdagrad(0.1, 1e-4, 1e-10)
	g, good := draw()
	if err := o.StepRows(ps, g, map[string]Rows{"embedding.weight": good}); err != nil {
		t.Fatal(err)
	}
	before, state := snapshot(t, ps), stateBits(t, o.State())
	rows := func(ids []int, vals []float64, dt tensor.Dtype, n, e int) Rows {
		return Rows{IDs: ids, Values: dense(t, dt, vals, n, e)}
	}
	for _, c := range []struct {
		name string
		g    Grads
		rows map[string]Rows
		want string
	}{
		{"unknown", g, map[string]Rows{"nope": good}, "nope"},
		{"dense too", Grads{"embedding.weight": dense(t, tensor.Float32, make([]float64, 24), 6, 4)}, map[string]Rows{"embedding.weight": good}, "both"},
		{"not a matrix", nil, map[string]Rows{"bias": rows([]int{0}, []float64{1}, tensor.Float32, 1, 1)}, "matrix"},
		{"repeated row", g, map[string]Rows{"embedding.weight": rows([]int{1, 1}, make([]float64, 8), tensor.Float32, 2, 4)}, "distinct"},
		{"descending", g, map[string]Rows{"embedding.weight": rows([]int{2, 1}, make([]float64, 8), tensor.Float32, 2, 4)}, "distinct"},
		{"out of range", g, map[string]Rows{"embedding.weight": rows([]int{6}, make([]float64, 4), tensor.Float32, 1, 4)}, "0..5"},
		{"negative", g, map[string]Rows{"embedding.weight": rows([]int{-1}, make([]float64, 4), tensor.Float32, 1, 4)}, "0..5"},
		{"width", g, map[string]Rows{"embedding.weight": rows([]int{1}, make([]float64, 3), tensor.Float32, 1, 3)}, "shape"},
		{"dtype", g, map[string]Rows{"embedding.weight": rows([]int{1}, make([]float64, 4), tensor.Float64, 1, 4)}, "float64"},
		{"no values", g, map[string]Rows{"embedding.weight": {IDs: []int{1}}}, "no values"},
		{"NaN", g, map[string]Rows{"embedding.weight": rows([]int{1, 3}, []float64{0, 0, 0, 0, 0, math.NaN(), 0, 0}, tensor.Float32, 2, 4)}, "row 3 element 1"},
		{"dense NaN", Grads{"bias": dense(t, tensor.Float32, []float64{0, math.Inf(1), 0}, 3)}, map[string]Rows{"embedding.weight": good}, "bias"},
	} {
		err := o.StepRows(ps, c.g, c.rows)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
		if c.name == "NaN" && !errors.Is(err, ErrNonFinite) {
			t.Errorf("%s: %v is not ErrNonFinite", c.name, err)
		}
		after := snapshot(t, ps)
		for k, v := range before {
			if !sameBits(v, after[k]) {
				t.Errorf("%s: %s changed", c.name, k)
			}
		}
		if !sameState(state, stateBits(t, o.State())) {
			t.Errorf("%s: the optimiser state changed", c.name)
		}
	}
}

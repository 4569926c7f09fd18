package optim

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// roundTripProblem: two parameters and five steps of gradients; "b" has
// no gradient at step 2, so its state lags (a per-parameter step count).
func roundTripProblem(t *testing.T, dt tensor.Dtype) (*graph.Params, []Grads) {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 5))
	data := func(n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = r.NormFloat64()
		}
		return out
	}
	ps := newParams(t, dt, spec{"w", []int{2, 3}, data(6)}, spec{"b", []int{3}, data(3)})
	steps := make([]Grads, 5)
	for i := range steps {
		steps[i] = Grads{"w": dense(t, dt, data(6), 2, 3)}
		if i != 1 {
			steps[i]["b"] = dense(t, dt, data(3), 3)
		}
	}
	return ps, steps
}

// copyParams returns a new Params holding copies of ps's tensors.
func copyParams(t *testing.T, ps *graph.Params) *graph.Params {
	t.Helper()
	out, err := graph.NewParams(ps.Dtype())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ps.Names() {
		p, _ := ps.Get(n)
		c, err := cloneDense(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := out.Add(n, c); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestStateRoundTrip runs 3 steps, saves State, runs 2 more; a fresh
// optimiser that loads the saved state and runs the same 2 steps from the
// saved parameters must end with bit-identical parameters and state. The
// learning rate is changed after step 2 (as a schedule would) and must
// come back with the state.
func TestStateRoundTrip(t *testing.T) {
	for _, k := range kinds {
		for _, dt := range dtypes {
			ps, steps := roundTripProblem(t, dt)
			o := mustOpt(t, k.make)
			var saved map[string]*tensor.Dense
			var savedParams *graph.Params
			for i, g := range steps {
				if i == 2 {
					o.SetLR(o.LR() * 0.5)
				}
				if i == 3 {
					saved = o.State()
					savedParams = copyParams(t, ps)
				}
				if err := o.Step(ps, g); err != nil {
					t.Fatalf("%s %v step %d: %v", k.name, dt, i+1, err)
				}
			}
			savedCopy := stateBits(t, saved)

			fresh := mustOpt(t, k.make)
			if err := fresh.LoadState(saved); err != nil {
				t.Fatalf("%s %v: LoadState: %v", k.name, dt, err)
			}
			if fresh.LR() != o.LR() {
				t.Errorf("%s %v: loaded lr %v, want %v", k.name, dt, fresh.LR(), o.LR())
			}
			for i, g := range steps[3:] {
				if err := fresh.Step(savedParams, g); err != nil {
					t.Fatalf("%s %v resumed step %d: %v", k.name, dt, i+4, err)
				}
			}
			for _, n := range ps.Names() {
				if a, b := values(t, ps, n), values(t, savedParams, n); !sameBits(a, b) {
					t.Errorf("%s %v: %s after a resumed run %v, uninterrupted %v", k.name, dt, n, b, a)
				}
			}
			if !sameState(stateBits(t, o.State()), stateBits(t, fresh.State())) {
				t.Errorf("%s %v: final states differ", k.name, dt)
			}
			// The saved map is the caller's: neither optimiser's later steps changed it.
			if !sameState(savedCopy, stateBits(t, saved)) {
				t.Errorf("%s %v: the map State returned changed with later steps", k.name, dt)
			}
			// The step count lags for "b" (no gradient at step 2).
			if s := o.State(); k.name == "adam" || k.name == "rmsprop" || k.name == "adagrad" {
				w, b := stateBits(t, s)[k.name+".step.w"], stateBits(t, s)[k.name+".step.b"]
				if len(w) != 1 || len(b) != 1 || w[0] != 5 || b[0] != 4 {
					t.Errorf("%s %v: step counts w %v, b %v; want 5 and 4", k.name, dt, w, b)
				}
			}
		}
	}
}

// TestStateNames checks the names State uses.
func TestStateNames(t *testing.T) {
	want := map[string][]string{
		"sgd":      {"sgd.lr"},
		"momentum": {"momentum.lr", "momentum.momentum", "momentum.nesterov", "momentum.momentum_buffer.w", "momentum.momentum_buffer.b"},
		"nesterov": {"momentum.lr", "momentum.momentum", "momentum.nesterov", "momentum.momentum_buffer.w", "momentum.momentum_buffer.b"},
		"adam": {"adam.lr", "adam.beta1", "adam.beta2", "adam.eps", "adam.exp_avg.w", "adam.exp_avg_sq.w", "adam.step.w",
			"adam.exp_avg.b", "adam.exp_avg_sq.b", "adam.step.b"},
		"rmsprop": {"rmsprop.lr", "rmsprop.alpha", "rmsprop.eps", "rmsprop.square_avg.w", "rmsprop.step.w",
			"rmsprop.square_avg.b", "rmsprop.step.b"},
		"adagrad": {"adagrad.lr", "adagrad.weight_decay", "adagrad.eps", "adagrad.sum.w", "adagrad.step.w",
			"adagrad.sum.b", "adagrad.step.b"},
	}
	for _, k := range kinds {
		ps, steps := roundTripProblem(t, tensor.Float32)
		o := mustOpt(t, k.make)
		fresh := o.State()
		for name := range fresh {
			if strings.Count(name, ".") != 1 {
				t.Errorf("%s: a fresh optimiser's state has %q", k.name, name)
			}
		}
		if err := o.Step(ps, steps[0]); err != nil {
			t.Fatal(err)
		}
		s := o.State()
		if len(s) != len(want[k.name]) {
			t.Errorf("%s: state names %v, want %v", k.name, keys(s), want[k.name])
		}
		for _, n := range want[k.name] {
			v, ok := s[n]
			if !ok {
				t.Errorf("%s: no %q in %v", k.name, n, keys(s))
				continue
			}
			slot := strings.Count(n, ".") == 2 && !strings.Contains(n, ".step.")
			switch {
			case slot && (v.Dtype() != tensor.Float32 || v.Shape().TotalSize() == 1):
				t.Errorf("%s: %q is %v %v, want the parameter's float32 shape", k.name, n, v.Dtype(), v.Shape())
			case !slot && (v.Dtype() != tensor.Float64 || !sameShape(v.Shape(), []int{1})):
				t.Errorf("%s: %q is %v %v, want float64 [1]", k.name, n, v.Dtype(), v.Shape())
			}
		}
	}
}

func keys(m map[string]*tensor.Dense) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestLoadStateRejects feeds LoadState broken maps; each must fail with
// ErrState and leave the optimiser's state as it was.
func TestLoadStateRejects(t *testing.T) {
	ps, steps := roundTripProblem(t, tensor.Float64)
	adam, err := NewAdam(0.01, 0.9, 0.999, 1e-8)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range steps[:2] {
		if err := adam.Step(ps, g); err != nil {
			t.Fatal(err)
		}
	}
	good := adam.State()
	edit := func(f func(m map[string]*tensor.Dense)) map[string]*tensor.Dense {
		m := cloneState(t, good)
		f(m)
		return m
	}
	set := func(name string, v *tensor.Dense) func(map[string]*tensor.Dense) {
		return func(m map[string]*tensor.Dense) { m[name] = v }
	}
	del := func(name string) func(map[string]*tensor.Dense) {
		return func(m map[string]*tensor.Dense) { delete(m, name) }
	}
	f64 := func(data []float64, shape ...int) *tensor.Dense { return dense(t, tensor.Float64, data, shape...) }
	sgd, _ := NewSGD(0.1)
	cases := []struct {
		name string
		m    map[string]*tensor.Dense
	}{
		{"nil map", nil},
		{"empty map", map[string]*tensor.Dense{}},
		{"another optimiser's state", sgd.State()},
		{"unknown entry", edit(set("adam.foo.w", f64([]float64{0, 0, 0, 0, 0, 0}, 2, 3)))},
		{"entry of another kind", edit(set("sgd.lr", f64([]float64{0.1}, 1)))},
		{"no parameter name", edit(set("adam.exp_avg.", f64([]float64{0, 0, 0}, 3)))},
		{"missing lr", edit(del("adam.lr"))},
		{"missing beta2", edit(del("adam.beta2"))},
		{"negative lr", edit(set("adam.lr", f64([]float64{-1}, 1)))},
		{"NaN lr", edit(set("adam.lr", f64([]float64{nan()}, 1)))},
		{"other beta1", edit(set("adam.beta1", f64([]float64{0.8}, 1)))},
		{"other eps", edit(set("adam.eps", f64([]float64{1e-6}, 1)))},
		{"scalar of shape [2]", edit(set("adam.lr", f64([]float64{0.1, 0.1}, 2)))},
		{"scalar of shape [1,1]", edit(set("adam.lr", f64([]float64{0.1}, 1, 1)))},
		{"float32 scalar", edit(set("adam.lr", dense(t, tensor.Float32, []float64{0.01}, 1)))},
		{"nil tensor", edit(set("adam.exp_avg.w", nil))},
		{"nil scalar", edit(set("adam.lr", nil))},
		{"missing exp_avg_sq", edit(del("adam.exp_avg_sq.b"))},
		{"missing step", edit(del("adam.step.w"))},
		{"only a step", edit(func(m map[string]*tensor.Dense) {
			m["adam.step.extra"] = f64([]float64{1}, 1)
		})},
		{"step 0", edit(set("adam.step.w", f64([]float64{0}, 1)))},
		{"step 1.5", edit(set("adam.step.w", f64([]float64{1.5}, 1)))},
		{"step NaN", edit(set("adam.step.w", f64([]float64{nan()}, 1)))},
		{"slots of different shapes", edit(set("adam.exp_avg.w", f64([]float64{0, 0, 0, 0, 0, 0}, 3, 2)))},
		{"mixed dtypes", edit(set("adam.exp_avg.w", dense(t, tensor.Float32, []float64{0, 0, 0, 0, 0, 0}, 2, 3)))},
		{"int tensor", edit(set("adam.exp_avg.w", tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Int))))},
		{"NaN in exp_avg", edit(set("adam.exp_avg.w", f64([]float64{0, nan(), 0, 0, 0, 0}, 2, 3)))},
		{"negative exp_avg_sq", edit(set("adam.exp_avg_sq.w", f64([]float64{0, -1e-9, 0, 0, 0, 0}, 2, 3)))},
	}
	before := stateBits(t, adam.State())
	for _, c := range cases {
		err := adam.LoadState(c.m)
		if !errors.Is(err, ErrState) {
			t.Errorf("%s: LoadState: %v, want ErrState", c.name, err)
		}
		if !sameState(before, stateBits(t, adam.State())) {
			t.Fatalf("%s: a failed LoadState changed the state", c.name)
		}
	}
	// The good map still loads, and a state for other shapes loads but
	// fails at the next Step without changing anything.
	if err := adam.LoadState(good); err != nil {
		t.Fatalf("LoadState(good): %v", err)
	}
	other := edit(func(m map[string]*tensor.Dense) {
		m["adam.exp_avg.w"] = f64([]float64{0, 0, 0, 0}, 4)
		m["adam.exp_avg_sq.w"] = f64([]float64{0, 0, 0, 0}, 4)
	})
	if err := adam.LoadState(other); err != nil {
		t.Fatalf("LoadState of a consistent state for another shape: %v", err)
	}
	params, st := snapshot(t, ps), stateBits(t, adam.State())
	if err := adam.Step(ps, steps[2]); !errors.Is(err, ErrState) {
		t.Fatalf("Step with state of another shape: %v, want ErrState", err)
	}
	checkUnchanged(t, "Step with state of another shape", ps, params, adam, st)
	// A float32 state on float64 parameters likewise.
	f32 := map[string]*tensor.Dense{}
	for k, v := range good {
		if v.Dtype() == tensor.Float64 && strings.Count(k, ".") == 2 && !strings.Contains(k, ".step.") {
			d, _ := graph.Float64s(v)
			v = dense(t, tensor.Float32, d, v.Shape()...)
		}
		f32[k] = v
	}
	if err := adam.LoadState(f32); err != nil {
		t.Fatalf("LoadState of a float32 state: %v", err)
	}
	params, st = snapshot(t, ps), stateBits(t, adam.State())
	if err := adam.Step(ps, steps[2]); !errors.Is(err, ErrState) {
		t.Fatalf("Step of float64 params with a float32 state: %v, want ErrState", err)
	}
	checkUnchanged(t, "Step with a float32 state", ps, params, adam, st)
}

// checkUnchanged fails unless ps and o's state are as snapshotted.
func checkUnchanged(t *testing.T, what string, ps *graph.Params, params map[string][]float64, o Optimizer, st map[string][]float64) {
	t.Helper()
	for n, v := range params {
		if !sameBits(v, values(t, ps, n)) {
			t.Errorf("%s changed parameter %s", what, n)
		}
	}
	if !sameState(st, stateBits(t, o.State())) {
		t.Errorf("%s changed the optimiser's state", what)
	}
}

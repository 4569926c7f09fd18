package optim

import (
	"errors"
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

func TestConstructorsReject(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		name string
		make func() (Optimizer, error)
	}{
		{"sgd lr -1", func() (Optimizer, error) { return NewSGD(-1) }},
		{"sgd lr NaN", func() (Optimizer, error) { return NewSGD(nan()) }},
		{"sgd lr +Inf", func() (Optimizer, error) { return NewSGD(inf) }},
		{"momentum lr -0.1", func() (Optimizer, error) { return NewMomentum(-0.1, 0.9, false) }},
		{"momentum -0.5", func() (Optimizer, error) { return NewMomentum(0.1, -0.5, false) }},
		{"momentum NaN", func() (Optimizer, error) { return NewMomentum(0.1, nan(), false) }},
		{"nesterov without momentum", func() (Optimizer, error) { return NewMomentum(0.1, 0, true) }},
		{"adam lr -1e-3", func() (Optimizer, error) { return NewAdam(-1e-3, 0.9, 0.999, 1e-8) }},
		{"adam beta1 -0.1", func() (Optimizer, error) { return NewAdam(1e-3, -0.1, 0.999, 1e-8) }},
		{"adam beta1 1", func() (Optimizer, error) { return NewAdam(1e-3, 1, 0.999, 1e-8) }},
		{"adam beta2 1", func() (Optimizer, error) { return NewAdam(1e-3, 0.9, 1, 1e-8) }},
		{"adam beta2 1.5", func() (Optimizer, error) { return NewAdam(1e-3, 0.9, 1.5, 1e-8) }},
		{"adam beta2 NaN", func() (Optimizer, error) { return NewAdam(1e-3, 0.9, nan(), 1e-8) }},
		{"adam eps -1e-8", func() (Optimizer, error) { return NewAdam(1e-3, 0.9, 0.999, -1e-8) }},
		{"adam eps +Inf", func() (Optimizer, error) { return NewAdam(1e-3, 0.9, 0.999, inf) }},
		{"rmsprop lr -1", func() (Optimizer, error) { return NewRMSProp(-1, 0.99, 1e-8) }},
		{"rmsprop alpha -0.01", func() (Optimizer, error) { return NewRMSProp(0.01, -0.01, 1e-8) }},
		{"rmsprop alpha 1", func() (Optimizer, error) { return NewRMSProp(0.01, 1, 1e-8) }},
		{"rmsprop eps NaN", func() (Optimizer, error) { return NewRMSProp(0.01, 0.99, nan()) }},
		{"adagrad lr -1", func() (Optimizer, error) { return NewAdagrad(-1, 0, 1e-10) }},
		{"adagrad weight decay -1e-4", func() (Optimizer, error) { return NewAdagrad(0.05, -1e-4, 1e-10) }},
		{"adagrad weight decay +Inf", func() (Optimizer, error) { return NewAdagrad(0.05, inf, 1e-10) }},
		{"adagrad eps NaN", func() (Optimizer, error) { return NewAdagrad(0.05, 0, nan()) }},
	}
	for _, c := range cases {
		o, err := c.make()
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err %v, want ErrConfig", c.name, err)
		}
		if o != nil && !isNilOpt(o) {
			t.Errorf("%s: an optimiser came back with the error", c.name)
		}
	}
	// Edge values that PyTorch accepts are accepted.
	for name, make := range map[string]func() (Optimizer, error){
		"sgd lr 0":        func() (Optimizer, error) { return NewSGD(0) },
		"momentum 0":      func() (Optimizer, error) { return NewMomentum(0.1, 0, false) },
		"adam betas 0, 0": func() (Optimizer, error) { return NewAdam(1e-3, 0, 0, 0) },
		"rmsprop alpha 0": func() (Optimizer, error) { return NewRMSProp(0.01, 0, 0) },
		"adagrad eps 0":   func() (Optimizer, error) { return NewAdagrad(0.01, 0, 0) },
	} {
		if _, err := make(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// isNilOpt reports whether an Optimizer interface holds a nil pointer.
func isNilOpt(o Optimizer) bool {
	switch x := o.(type) {
	case *SGD:
		return x == nil
	case *Momentum:
		return x == nil
	case *Adam:
		return x == nil
	case *RMSProp:
		return x == nil
	case *Adagrad:
		return x == nil
	}
	return false
}

// TestStepRejects: every bad step is an error of the documented kind and
// changes neither a parameter nor the optimiser's state, even when the bad
// gradient comes after good ones.
func TestStepRejects(t *testing.T) {
	for _, k := range kinds {
		for _, dt := range dtypes {
			other := tensor.Float32
			if dt == tensor.Float32 {
				other = tensor.Float64
			}
			ps, steps := roundTripProblem(t, dt)
			o := mustOpt(t, k.make)
			if err := o.Step(ps, steps[0]); err != nil { // some state to keep
				t.Fatal(err)
			}
			w := func(data []float64) *tensor.Dense { return dense(t, dt, data, 2, 3) }
			good := []float64{1, 2, 3, 4, 5, 6}
			withNaN := []float64{1, 2, nan(), 4, 5, 6}
			withInf := []float64{1, 2, 3, math.Inf(-1), 5, 6}
			b := dense(t, dt, []float64{1, 2, 3}, 3)
			cases := []struct {
				name  string
				ps    *graph.Params
				g     Grads
				check func(error) bool
			}{
				{"nil params", nil, Grads{"w": w(good)}, func(err error) bool { return err != nil }},
				{"gradient of a missing parameter", ps, Grads{"w": w(good), "nope": b},
					func(err error) bool { return errors.Is(err, graph.ErrNotFound) }},
				{"nil gradient", ps, Grads{"w": w(good), "b": nil}, func(err error) bool { return err != nil }},
				{"gradient of the wrong shape", ps, Grads{"w": w(good), "b": dense(t, dt, []float64{1, 2}, 2)},
					func(err error) bool { var se *graph.ShapeError; return errors.As(err, &se) }},
				{"gradient transposed", ps, Grads{"w": dense(t, dt, good, 3, 2), "b": b},
					func(err error) bool { var se *graph.ShapeError; return errors.As(err, &se) }},
				{"gradient of another dtype", ps, Grads{"b": b, "w": dense(t, other, good, 2, 3)},
					func(err error) bool { return errors.Is(err, graph.ErrDtype) }},
				{"NaN gradient", ps, Grads{"b": b, "w": w(withNaN)},
					func(err error) bool { return errors.Is(err, ErrNonFinite) }},
				{"infinite gradient", ps, Grads{"b": b, "w": w(withInf)},
					func(err error) bool { return errors.Is(err, ErrNonFinite) }},
			}
			for _, c := range cases {
				params, st := snapshot(t, ps), stateBits(t, o.State())
				err := o.Step(c.ps, c.g)
				if !c.check(err) {
					t.Errorf("%s %v, %s: err %v", k.name, dt, c.name, err)
				}
				checkUnchanged(t, k.name+" "+c.name, ps, params, o, st)
			}

			// A learning rate set out of range fails the next Step.
			lr := o.LR()
			for _, bad := range []float64{-0.1, nan(), math.Inf(1)} {
				o.SetLR(bad)
				params, st := snapshot(t, ps), stateBits(t, o.State())
				if err := o.Step(ps, steps[1]); !errors.Is(err, ErrConfig) {
					t.Errorf("%s %v: Step with lr %v: %v, want ErrConfig", k.name, dt, bad, err)
				}
				checkUnchanged(t, k.name+" Step with a bad lr", ps, params, o, st)
			}
			o.SetLR(lr)

			// Parameters without gradients are left alone; so is their state.
			before := snapshot(t, ps)
			st := stateBits(t, o.State())
			if err := o.Step(ps, Grads{"w": w(good)}); err != nil {
				t.Fatalf("%s %v: %v", k.name, dt, err)
			}
			if !sameBits(before["b"], values(t, ps, "b")) {
				t.Errorf("%s %v: b changed without a gradient", k.name, dt)
			}
			if sameBits(before["w"], values(t, ps, "w")) {
				t.Errorf("%s %v: w did not change", k.name, dt)
			}
			after := stateBits(t, o.State())
			for name, v := range st {
				if len(name) > 2 && name[len(name)-2:] == ".b" && !sameBits(v, after[name]) {
					t.Errorf("%s %v: %s changed without a gradient for b", k.name, dt, name)
				}
			}
			// An empty or nil Grads changes nothing.
			before, st = snapshot(t, ps), stateBits(t, o.State())
			for _, g := range []Grads{nil, {}} {
				if err := o.Step(ps, g); err != nil {
					t.Errorf("%s %v: Step with no gradients: %v", k.name, dt, err)
				}
			}
			checkUnchanged(t, k.name+" Step with no gradients", ps, before, o, st)
		}
	}
}

// TestStepNonContiguousGradient: a gradient that is a transposed view
// (it needs an iterator) is read in its logical order.
func TestStepNonContiguousGradient(t *testing.T) {
	ps := newParams(t, tensor.Float64, spec{"w", []int{2, 3}, []float64{0, 0, 0, 0, 0, 0}})
	g := dense(t, tensor.Float64, []float64{1, 4, 2, 5, 3, 6}, 3, 2)
	if err := g.T(); err != nil {
		t.Fatal(err)
	}
	if !g.RequiresIterator() {
		t.Skip("a transposed tensor no longer needs an iterator")
	}
	o, _ := NewSGD(1)
	if err := o.Step(ps, Grads{"w": g}); err != nil {
		t.Fatal(err)
	}
	if got, want := values(t, ps, "w"), []float64{-1, -2, -3, -4, -5, -6}; !sameBits(got, want) {
		t.Fatalf("w = %v, want %v", got, want)
	}
}

func TestClipGlobalNorm(t *testing.T) {
	f64 := func(data ...float64) *tensor.Dense { return dense(t, tensor.Float64, data, len(data)) }
	// ‖[3, 4]‖ = 5 and ‖[12]‖ = 12: the global norm is 13.
	g := Grads{"a": f64(3, 4), "b": f64(12)}
	norm, err := ClipGlobalNorm(g, 6.5)
	if err != nil || norm != 13 {
		t.Fatalf("norm %v, %v; want 13", norm, err)
	}
	thirteen := 13.0 // a variable: Go would compute a constant expression exactly
	c := 6.5 / (thirteen + 1e-6)
	for name, want := range map[string][]float64{"a": {3 * c, 4 * c}, "b": {12 * c}} {
		got, _ := graph.Float64s(g[name])
		if !sameBits(got, want) {
			t.Errorf("clipped %s = %v, want %v", name, got, want)
		}
	}
	// Below the limit nothing changes.
	g = Grads{"a": f64(3, 4)}
	if norm, err := ClipGlobalNorm(g, 10); err != nil || norm != 5 {
		t.Fatalf("norm %v, %v; want 5", norm, err)
	}
	if got, _ := graph.Float64s(g["a"]); !sameBits(got, []float64{3, 4}) {
		t.Errorf("unclipped gradient changed: %v", got)
	}
	// Squares that overflow float64 still give the norm.
	g = Grads{"a": f64(3e200, 4e200), "b": dense(t, tensor.Float32, []float64{0}, 1)}
	norm, err = ClipGlobalNorm(g, 1)
	if err != nil || math.Abs(norm-5e200)/5e200 > 1e-15 {
		t.Fatalf("norm of [3e200, 4e200]: %v, %v", norm, err)
	}
	if got, _ := graph.Float64s(g["a"]); math.Abs(got[0]-0.6) > 1e-15 || math.Abs(got[1]-0.8) > 1e-15 {
		t.Errorf("clipped to %v, want [0.6 0.8]", got)
	}
	// Empty.
	if norm, err := ClipGlobalNorm(Grads{}, 1); err != nil || norm != 0 {
		t.Errorf("empty: %v, %v", norm, err)
	}
	// Non-finite: ErrNonFinite, nothing changed.
	for _, bad := range []float64{nan(), math.Inf(1), math.Inf(-1)} {
		g := Grads{"a": f64(3, 4), "b": f64(1, bad)}
		norm, err := ClipGlobalNorm(g, 1)
		if !errors.Is(err, ErrNonFinite) || finite(norm) {
			t.Errorf("gradient with %v: norm %v, err %v; want a non-finite norm and ErrNonFinite", bad, norm, err)
		}
		if got, _ := graph.Float64s(g["a"]); !sameBits(got, []float64{3, 4}) {
			t.Errorf("gradient with %v: a changed to %v", bad, got)
		}
	}
	// Bad arguments.
	for _, m := range []float64{0, -1, nan()} {
		if _, err := ClipGlobalNorm(Grads{"a": f64(1)}, m); !errors.Is(err, ErrConfig) {
			t.Errorf("max norm %v: %v, want ErrConfig", m, err)
		}
	}
	if _, err := ClipGlobalNorm(Grads{"a": nil}, 1); err == nil {
		t.Error("nil gradient accepted")
	}
	if _, err := ClipGlobalNorm(Grads{"a": tensor.New(tensor.WithShape(2), tensor.Of(tensor.Int))}, 1); err == nil {
		t.Error("int gradient accepted")
	}
}

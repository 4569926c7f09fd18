package graph_test

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

// fusedDropRun builds y = ApplyFused(x) for x [r, c] and returns a function
// running it that gives y and dL/dx for L = Σ y ⊙ c (c fixed weights).
func fusedDropRun(t *testing.T, dt tensor.Dtype, d *graph.Dropout, r, c int) func(eval bool) (y, dx []float64) {
	t.Helper()
	ps, _ := graph.NewParams(dt)
	g, _ := graph.New(ps)
	x, _ := g.Input("x", r, c)
	w, _ := g.Input("w", r, c)
	xv, wv := make([]float64, r*c), make([]float64, r*c)
	for i := range xv {
		xv[i] = 1 + float64(i%7)
		wv[i] = 0.5 + float64(i%3)
	}
	graph.Set(x, xv)
	graph.Set(w, wv)
	y, err := d.ApplyFused(g, x)
	if err != nil {
		t.Fatal(err)
	}
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(y, w))))
	gs, err := gorgonia.Grad(loss, x)
	if err != nil {
		t.Fatal(err)
	}
	var yv, gv gorgonia.Value
	gorgonia.Read(y, &yv)
	gorgonia.Read(gs[0], &gv)
	m, err := graph.NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return func(eval bool) ([]float64, []float64) {
		if err := graph.Run(m); err != nil {
			t.Fatal(err)
		}
		m.Reset()
		yo, _ := graph.ValueFloat64s(yv)
		dx, _ := graph.ValueFloat64s(gv)
		// the definition: y = x ⊙ mask, dx = w ⊙ mask, the mask y/x (all
		// ones in evaluation)
		for i := range yo {
			mask := yo[i] / xv[i]
			if eval && mask != 1 || !eval && mask != 0 && math.Abs(mask-1/(1-d.P())) > 1e-6 {
				t.Fatalf("element %d: mask %v, want 0 or %v", i, mask, 1/(1-d.P()))
			}
			if want := wv[i] * mask; math.Abs(dx[i]-want) > 1e-6*math.Abs(want) {
				t.Fatalf("element %d: dx %v, want w·mask = %v", i, dx[i], want)
			}
		}
		return yo, dx
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The fused dropout is x ⊙ mask with gradient dy ⊙ mask, keeps about
// 1 − p of the elements (over several blocks of draws), repeats its mask
// until Resample, and gives equal masks for equal seeds.
func TestApplyFusedDropout(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		const p, r, c = 0.3, 100, 331 // 33,100 elements: 5 blocks, the last partial
		d, err := graph.NewDropout(p, graph.NewSource(7))
		if err != nil {
			t.Fatal(err)
		}
		run := fusedDropRun(t, dt, d, r, c)
		y1, _ := run(false)
		kept := 0
		for _, v := range y1 {
			if v != 0 {
				kept++
			}
		}
		// binomial: sd = √(n p (1−p)) ≈ 83; allow 5 sd
		if frac := float64(kept) / (r * c); math.Abs(frac-(1-p)) > 5*math.Sqrt(p*(1-p)/(r*c)) {
			t.Errorf("%v: kept fraction %v, want about %v", dt, frac, 1-p)
		}
		if y2, _ := run(false); !equalFloats(y1, y2) {
			t.Errorf("%v: a second run without Resample drew another mask", dt)
		}
		if err := d.Resample(); err != nil {
			t.Fatal(err)
		}
		if y3, _ := run(false); equalFloats(y1, y3) {
			t.Errorf("%v: Resample kept the mask", dt)
		}
		d.Reseed(3)
		d.Resample()
		a, _ := run(false)
		d.Reseed(3)
		d.Resample()
		if b, _ := run(false); !equalFloats(a, b) {
			t.Errorf("%v: equal seeds, different masks", dt)
		}
		d.SetTraining(false)
		d.Resample()
		ye, _ := run(true)
		for i, v := range ye {
			if v != 1+float64(i%7) {
				t.Fatalf("%v: evaluation mode changed element %d to %v", dt, i, v)
			}
		}
	}
}

// Gradients against finite differences: the mask stays fixed between runs.
func TestApplyFusedDropoutGradcheck(t *testing.T) {
	ps, _ := graph.NewParams(tensor.Float64)
	g, _ := graph.New(ps)
	x, _ := g.Input("x", 3, 4)
	graph.Set(x, []float64{-1, -0.8, -0.6, -0.4, -0.2, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.2})
	d, _ := graph.NewDropout(0.5, graph.NewSource(1))
	y, err := d.ApplyFused(g, x)
	if err != nil {
		t.Fatal(err)
	}
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(y))))
	rep, err := gradcheck.Check(g, loss, []*gorgonia.Node{x}, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 12 || rep.MaxErr > 1e-8 {
		t.Fatalf("%d checked, max error %g at %s", rep.Checked, rep.MaxErr, rep.Worst)
	}
}

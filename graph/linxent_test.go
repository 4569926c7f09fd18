package graph_test

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

// linXentCase runs loss = Σ_n c_n·ce_n with ce either LinearCrossEntropy
// or the definition (MatMul, AddRow, CrossEntropy) and returns the losses
// ce and the gradients of x, w and b.
func linXentCase(t *testing.T, dt tensor.Dtype, fused, bias bool, N, E, V int, ids []int, weights, c []float64) (ce []float64, grads [3][]float64) {
	t.Helper()
	ps, _ := graph.NewParams(dt)
	g, _ := graph.New(ps)
	src := graph.NewSource(11)
	fill := func(name string, shape ...int) *gorgonia.Node {
		n, err := g.Input(name, shape...)
		if err != nil {
			t.Fatal(err)
		}
		size := 1
		for _, s := range shape {
			size *= s
		}
		v := make([]float64, size)
		for i := range v {
			v[i] = 2*src.Float64() - 1
		}
		if err := graph.Set(n, v); err != nil {
			t.Fatal(err)
		}
		return n
	}
	x, w := fill("x", N, E), fill("w", V, E)
	wrt := []*gorgonia.Node{x, w}
	var b *gorgonia.Node
	if bias {
		b = fill("b", V)
		wrt = append(wrt, b)
	}
	tg, err := graph.NewTargets(N, V)
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Set(ids, weights); err != nil {
		t.Fatal(err)
	}
	var xent *gorgonia.Node
	if fused {
		if xent, err = graph.LinearCrossEntropy(x, w, b, tg); err != nil {
			t.Fatal(err)
		}
	} else {
		l := gorgonia.Must(graph.MatMul(x, w, false, true))
		if bias {
			l = gorgonia.Must(graph.AddRow(l, b))
		}
		if xent, err = graph.CrossEntropy(l, tg); err != nil {
			t.Fatal(err)
		}
	}
	cn, _ := g.Input("c", N)
	graph.Set(cn, c)
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(xent, cn))))
	gs, err := gorgonia.Grad(loss, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	var ceV gorgonia.Value
	gorgonia.Read(xent, &ceV)
	gv := make([]gorgonia.Value, len(gs))
	for i := range gs {
		gorgonia.Read(gs[i], &gv[i])
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for run := 0; run < 2; run++ { // the second run reuses the op's buffers
		if err := graph.Run(m); err != nil {
			t.Fatal(err)
		}
		m.Reset()
	}
	ce, _ = graph.ValueFloat64s(ceV)
	for i := range gv {
		grads[i], _ = graph.ValueFloat64s(gv[i])
	}
	return ce, grads
}

// The fused op against the op-by-op definition: several row tiles, a
// padded row (weight 0), an upstream gradient that is not all ones.
func TestLinearCrossEntropyMatchesDefinition(t *testing.T) {
	N, E, V := 30, 8, 11000 // tiles of 12 rows: 12, 12, 6
	ids, weights, c := make([]int, N), make([]float64, N), make([]float64, N)
	for i := range ids {
		ids[i] = (i * 7919) % V
		weights[i] = 1 / float64(N)
		c[i] = 1
		if i%5 == 0 {
			c[i] = 0.5 + float64(i)/10
		}
	}
	weights[7] = 0
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, bias := range []bool{true, false} {
			for _, ones := range []bool{true, false} {
				cc := c
				if ones {
					cc = make([]float64, N)
					for i := range cc {
						cc[i] = 1
					}
				}
				ceF, gF := linXentCase(t, dt, true, bias, N, E, V, ids, weights, cc)
				ceD, gD := linXentCase(t, dt, false, bias, N, E, V, ids, weights, cc)
				tol := 1e-12
				if dt == tensor.Float32 {
					tol = 2e-5
				}
				check := func(what string, got, want []float64) {
					t.Helper()
					if len(got) != len(want) || len(got) == 0 {
						t.Fatalf("%v bias=%v ones=%v %s: %d values, want %d", dt, bias, ones, what, len(got), len(want))
					}
					scale := 0.0
					for _, v := range want {
						scale = math.Max(scale, math.Abs(v))
					}
					for i := range want {
						if d := math.Abs(got[i] - want[i]); !(d <= tol*math.Max(scale, 1e-3)) {
							t.Fatalf("%v bias=%v ones=%v %s[%d]: %v, want %v", dt, bias, ones, what, i, got[i], want[i])
						}
					}
				}
				check("loss", ceF, ceD)
				check("dx", gF[0], gD[0])
				check("dW", gF[1], gD[1])
				if bias {
					check("db", gF[2], gD[2])
				}
				if ceF[7] != 0 {
					t.Errorf("a row of weight 0 has loss %v", ceF[7])
				}
			}
		}
	}
}

// Gradients against central finite differences in float64.
func TestLinearCrossEntropyGradcheck(t *testing.T) {
	ps, _ := graph.NewParams(tensor.Float64)
	g, _ := graph.New(ps)
	src := graph.NewSource(5)
	in := func(name string, n int, shape ...int) *gorgonia.Node {
		x, _ := g.Input(name, shape...)
		v := make([]float64, n)
		for i := range v {
			v[i] = 2*src.Float64() - 1
		}
		graph.Set(x, v)
		return x
	}
	x, w, b := in("x", 12, 4, 3), in("w", 15, 5, 3), in("b", 5, 5)
	tg, _ := graph.NewTargets(4, 5)
	tg.Set([]int{2, 4, 1, 0}, []float64{0.25, 1, 0, 0.5})
	ce, err := graph.LinearCrossEntropy(x, w, b, tg)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := g.Input("c", 4)
	graph.Set(c, []float64{1, 2, 3, -1})
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(ce, c))))
	rep, err := gradcheck.Check(g, loss, []*gorgonia.Node{x, w, b}, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 12+15+5 || rep.MaxErr > 1e-8 {
		t.Fatalf("%d checked, max error %g at %s", rep.Checked, rep.MaxErr, rep.Worst)
	}
}

func TestLinearCrossEntropyRefusesBadShapes(t *testing.T) {
	ps, _ := graph.NewParams(tensor.Float64)
	g, _ := graph.New(ps)
	x, _ := g.Input("x", 4, 3)
	w, _ := g.Input("w", 5, 3)
	w2, _ := g.Input("w2", 5, 2)
	b, _ := g.Input("b", 4)
	tg, _ := graph.NewTargets(4, 5)
	if _, err := graph.LinearCrossEntropy(x, w2, nil, tg); err == nil {
		t.Error("weight [5 2] for x [4 3]: no error")
	}
	if _, err := graph.LinearCrossEntropy(x, w, b, tg); err == nil {
		t.Error("bias [4] for 5 classes: no error")
	}
	if _, err := graph.LinearCrossEntropy(x, nil, nil, tg); err == nil {
		t.Error("nil weight: no error")
	}
	tg3, _ := graph.NewTargets(3, 5)
	if _, err := graph.LinearCrossEntropy(x, w, nil, tg3); err == nil {
		t.Error("4 rows for 3 targets: no error")
	}
}

package graph_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

// linearPair builds Linear(x, w, b) and AddRow(MatMul(x, w, false, true), b)
// over the same inputs, with the sum of each weighted by fixed random
// values as the loss, and returns both losses' values and gradients.
func linearPair(t *testing.T, dt tensor.Dtype, m, k, n int, fused bool) (out []float64, grads [][]float64) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(m*100+k), uint64(n)))
	vals := func(c int) []float64 {
		v := make([]float64, c)
		for i := range v {
			v[i] = r.Float64()*2 - 1
		}
		return v
	}
	ps, _ := graph.NewParams(dt)
	g, _ := graph.New(ps)
	x, _ := g.Input("x", m, k)
	w, _ := g.Input("w", n, k)
	b, _ := g.Input("b", n)
	c, _ := g.Input("c", m, n)
	graph.Set(x, vals(m*k))
	graph.Set(w, vals(n*k))
	graph.Set(b, vals(n))
	graph.Set(c, vals(m*n))
	var y *gorgonia.Node
	var err error
	if fused {
		y, err = graph.Linear(x, w, b)
	} else {
		z, e := graph.MatMul(x, w, false, true)
		if e != nil {
			t.Fatal(e)
		}
		y, err = graph.AddRow(z, b)
	}
	if err != nil {
		t.Fatal(err)
	}
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(y, c))))
	gs, err := gorgonia.Grad(loss, x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	var yv gorgonia.Value
	gorgonia.Read(y, &yv)
	gv := make([]gorgonia.Value, len(gs))
	for i := range gs {
		gorgonia.Read(gs[i], &gv[i])
	}
	mc, err := graph.NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	if err := graph.Run(mc); err != nil {
		t.Fatal(err)
	}
	out, _ = graph.ValueFloat64s(yv)
	for _, v := range gv {
		f, _ := graph.ValueFloat64s(v)
		grads = append(grads, f)
	}
	return out, grads
}

func TestLinearMatchesMatMulAddRow(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		tol := 1e-13
		if dt == tensor.Float32 {
			tol = 2e-5
		}
		for _, s := range [][3]int{{1, 1, 1}, {3, 5, 7}, {35, 64, 100}, {70, 130, 1001}} {
			m, k, n := s[0], s[1], s[2]
			y1, g1 := linearPair(t, dt, m, k, n, true)
			y2, g2 := linearPair(t, dt, m, k, n, false)
			for i := range y1 {
				if d := math.Abs(y1[i] - y2[i]); d > tol*math.Sqrt(float64(k)+1) {
					t.Fatalf("%v %v: output %d is %v fused, %v in two ops", dt, s, i, y1[i], y2[i])
				}
			}
			for j, name := range []string{"x", "w", "b"} {
				for i := range g1[j] {
					if d := math.Abs(g1[j][i] - g2[j][i]); d > tol*math.Sqrt(float64(m*n)+1) {
						t.Fatalf("%v %v: gradient of %s [%d] is %v fused, %v in two ops", dt, s, name, i, g1[j][i], g2[j][i])
					}
				}
			}
		}
	}
}

func TestLinearGradients(t *testing.T) {
	ps, _ := graph.NewParams(tensor.Float64)
	g, _ := graph.New(ps)
	x, _ := g.Input("x", 4, 3)
	w, _ := g.Input("w", 5, 3)
	b, _ := g.Input("b", 5)
	graph.Set(x, []float64{0.1, -0.3, 2, 0.7, 1, 0, -0.5, 0.2, 0.9, 1.5, -1, 0.25})
	graph.Set(w, []float64{0.3, -0.1, 0.2, 0.5, 0.4, -0.6, 0.05, 0.7, -0.2, -0.3, 0.1, 0.8, 0.6, -0.4, 0.15})
	graph.Set(b, []float64{0.1, -0.2, 0.3, 0, 0.5})
	y, err := graph.Linear(x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(y))))
	rep, err := gradcheck.Check(g, loss, []*gorgonia.Node{x, w, b}, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxErr > 1e-8 {
		t.Fatalf("max error %g at %s", rep.MaxErr, rep.Worst)
	}
}

func TestLinearRefusesBadShapes(t *testing.T) {
	ps, _ := graph.NewParams(tensor.Float64)
	g, _ := graph.New(ps)
	x, _ := g.Input("x", 4, 3)
	w, _ := g.Input("w", 5, 2)
	b, _ := g.Input("b", 5)
	b4, _ := g.Input("b4", 4)
	if _, err := graph.Linear(x, w, b); err == nil {
		t.Error("x [4, 3] with w [5, 2]: no error")
	}
	w3, _ := g.Input("w3", 5, 3)
	if _, err := graph.Linear(x, w3, b4); err == nil {
		t.Error("w [5, 3] with b [4]: no error")
	}
	if _, err := graph.Linear(nil, w3, b); err == nil {
		t.Error("nil x: no error")
	}
}

package graph_test

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

func TestCrossEntropyValuesAndGradients(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		ps, _ := graph.NewParams(dt)
		g, _ := graph.New(ps)
		x, _ := g.Input("logits", 3, 4)
		logits := []float64{1, 2, 3, 4, -1, 0, 1000, 2, 0.5, 0.5, 0.5, 0.5}
		graph.Set(x, logits)
		tg, err := graph.NewTargets(3, 4)
		if err != nil {
			t.Fatal(err)
		}
		if err := tg.Set([]int{3, 0, 2}, []float64{0.5, 1, 0}); err != nil {
			t.Fatal(err)
		}
		ce, err := graph.CrossEntropy(x, tg)
		if err != nil {
			t.Fatal(err)
		}
		var v gorgonia.Value
		gorgonia.Read(ce, &v)
		m, _ := graph.NewMachine(g)
		if err := graph.Run(m); err != nil {
			t.Fatal(err)
		}
		got, _ := graph.ValueFloat64s(v)
		lse := func(r []float64) float64 {
			mx := math.Inf(-1)
			for _, a := range r {
				mx = math.Max(mx, a)
			}
			s := 0.0
			for _, a := range r {
				s += math.Exp(a - mx)
			}
			return mx + math.Log(s)
		}
		want := []float64{0.5 * (lse(logits[0:4]) - 4), lse(logits[4:8]) - (-1), 0}
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-4
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) || math.IsNaN(got[i]) {
				t.Errorf("%v row %d: %v, want %v", dt, i, got[i], want[i])
			}
		}
		m.Close()
	}
	// Gradients against finite differences (no extreme logits here).
	ps, _ := graph.NewParams(tensor.Float64)
	g, _ := graph.New(ps)
	x, _ := g.Input("logits", 3, 5)
	graph.Set(x, []float64{0.1, -0.3, 2, 0.7, 1, 0, 0, 0, 0, 0, -2, 3, 0.5, 0.2, -1})
	tg, _ := graph.NewTargets(3, 5)
	tg.Set([]int{2, 4, 1}, []float64{0.25, 1, 0})
	ce, _ := graph.CrossEntropy(x, tg)
	loss := gorgonia.Must(gorgonia.Sum(ce))
	rep, err := gradcheck.Check(g, loss, []*gorgonia.Node{x}, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxErr > 1e-8 {
		t.Fatalf("max error %g at %s", rep.MaxErr, rep.Worst)
	}
}

func TestTargetsAndIDsRefuseBadValues(t *testing.T) {
	tg, _ := graph.NewTargets(2, 3)
	for _, c := range []struct {
		ids []int
		w   []float64
	}{{[]int{0, 3}, nil}, {[]int{-1, 0}, nil}, {[]int{0}, nil}, {[]int{0, 1}, []float64{1, -1}}, {[]int{0, 1}, []float64{math.NaN(), 1}}} {
		if err := tg.Set(c.ids, c.w); err == nil {
			t.Errorf("Targets.Set(%v, %v) accepted", c.ids, c.w)
		}
	}
	if _, err := graph.NewTargets(0, 3); err == nil {
		t.Error("NewTargets(0, 3) accepted")
	}
	ids, _ := graph.NewIDs(2, 5)
	for _, bad := range [][]int{{0, 5}, {-1, 0}, {1}} {
		if err := ids.Set(bad); err == nil {
			t.Errorf("IDs.Set(%v) accepted", bad)
		}
	}
	if _, err := graph.NewIDs(2, 0); err == nil {
		t.Error("NewIDs(2, 0) accepted")
	}
}

// Gather's gradient scatters into the table, skipping the padding id; Blend
// and MaskRows differentiate with respect to their tensor inputs.
func TestGatherBlendGradients(t *testing.T) {
	ps, _ := graph.NewParams(tensor.Float64)
	src := graph.NewSource(3)
	table, _ := graph.NewScope(ps).New("table", graph.Uniform{Low: -1, High: 1}, src, 5, 3)
	_ = table
	g, _ := graph.New(ps)
	w, _ := g.Param("table", 5, 3)
	ids, _ := graph.NewIDs(4, 5)
	ids.Set([]int{1, 0, 1, 4})
	rows, err := graph.Gather(w, ids, 0)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := g.Input("other", 4, 3)
	graph.Set(other, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	mask, _ := g.Input("mask", 4)
	graph.Set(mask, []float64{1, 0, 1, 0})
	bl, err := graph.Blend(rows, other, mask)
	if err != nil {
		t.Fatal(err)
	}
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(bl))))
	grads, err := gorgonia.Grad(loss, w)
	if err != nil {
		t.Fatal(err)
	}
	var gv, bv gorgonia.Value
	gorgonia.Read(grads[0], &gv)
	gorgonia.Read(bl, &bv)
	m, _ := graph.NewMachine(g)
	defer m.Close()
	if err := graph.Run(m); err != nil {
		t.Fatal(err)
	}
	tab, _ := graph.Float64s(table)
	b, _ := graph.ValueFloat64s(bv)
	gw, _ := graph.ValueFloat64s(gv)
	// Rows 0 and 2 come from the table (id 1), rows 1 and 3 from other.
	for j := 0; j < 3; j++ {
		if b[j] != tab[3+j] || b[6+j] != tab[3+j] || b[3+j] != float64(4+j) || b[9+j] != float64(10+j) {
			t.Fatalf("blend values %v", b)
		}
		// d/d table[1] = 2·row0 + 2·row2 = 4·table[1]; id 0 is padding (and masked), id 4 masked.
		if math.Abs(gw[3+j]-4*tab[3+j]) > 1e-15 || gw[j] != 0 || gw[12+j] != 0 {
			t.Fatalf("table gradient %v", gw)
		}
	}
}

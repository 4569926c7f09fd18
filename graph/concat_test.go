package graph_test

import (
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

// ConcatCols's gradient at widths where gorgonia.Slice's byte-wide hash
// collides (256 and 512), batch 1 too, against the analytic gradient of
// Σ concat ⊙ R, which is R's halves.
func TestConcatColsGradientAt256(t *testing.T) {
	for _, B := range []int{1, 2} {
		ps, _ := graph.NewParams(tensor.Float64)
		g, _ := graph.New(ps)
		a, _ := g.Input("a", B, 256)
		b, _ := g.Input("b", B, 256)
		r, _ := g.Input("r", B, 512)
		rv := make([]float64, B*512)
		for i := range rv {
			rv[i] = float64(i)
		}
		graph.Set(r, rv)
		c, err := graph.ConcatCols(a, b)
		if err != nil {
			t.Fatal(err)
		}
		loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(c, r))))
		grads, err := gorgonia.Grad(loss, a, b)
		if err != nil {
			t.Fatal(err)
		}
		var ga, gb gorgonia.Value
		gorgonia.Read(grads[0], &ga)
		gorgonia.Read(grads[1], &gb)
		m, _ := graph.NewMachine(g)
		if err := graph.Run(m); err != nil {
			t.Fatal(err)
		}
		da, _ := graph.ValueFloat64s(ga)
		db, _ := graph.ValueFloat64s(gb)
		for row := 0; row < B; row++ {
			for j := 0; j < 256; j++ {
				if da[row*256+j] != rv[row*512+j] || db[row*256+j] != rv[row*512+256+j] {
					t.Fatalf("B=%d: gradient at row %d col %d: %v, %v", B, row, j, da[row*256+j], db[row*256+j])
				}
			}
		}
		m.Close()
	}
}

func TestConcatColsThreeWays(t *testing.T) {
	build := func() (*graph.Graph, []*gorgonia.Node, *gorgonia.Node) {
		ps, _ := graph.NewParams(tensor.Float64)
		g, _ := graph.New(ps)
		var xs []*gorgonia.Node
		for i, w := range []int{1, 3, 2} {
			x, _ := g.Input(string(rune('a'+i)), 2, w)
			v := make([]float64, 2*w)
			for j := range v {
				v[j] = float64(10*i+j) / 100
			}
			graph.Set(x, v)
			xs = append(xs, x)
		}
		c, err := graph.ConcatCols(xs...)
		if err != nil {
			t.Fatal(err)
		}
		return g, xs, c
	}
	g, _, c := build()
	var cv gorgonia.Value
	gorgonia.Read(c, &cv)
	m, _ := graph.NewMachine(g)
	if err := graph.Run(m); err != nil {
		t.Fatal(err)
	}
	got, _ := graph.ValueFloat64s(cv)
	want := []float64{0, 10, 11, 12, 20, 21, 1, 13, 14, 15, 22, 23}
	for i := range want {
		if got[i] != want[i]/100 {
			t.Fatalf("concat = %v, want %v / 100", got, want)
		}
	}

	g, xs, c := build()
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(c))))
	rep, err := gradcheck.Check(g, loss, xs, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxErr > 1e-7 {
		t.Fatalf("max error %g at %s", rep.MaxErr, rep.Worst)
	}
	if _, err := graph.ConcatCols(); err == nil {
		t.Error("ConcatCols() accepted")
	}
	bad, _ := g.Input("bad", 3, 1)
	if _, err := graph.ConcatCols(xs[0], bad); err == nil {
		t.Error("rows 2 and 3 accepted")
	}
}

package embed

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

func TestInitAndLookup(t *testing.T) {
	c := Config{Vocab: 6, Dim: 3, HasPadding: true, PaddingID: 0}
	ps, _ := graph.NewParams(tensor.Float64)
	if err := c.Init(ps, graph.NewSource(1)); err != nil {
		t.Fatal(err)
	}
	w, err := ps.Lookup(DefaultName, 6, 3)
	if err != nil {
		t.Fatal(err)
	}
	tab, _ := graph.Float64s(w)
	for j := 0; j < 3; j++ {
		if tab[j] != 0 {
			t.Fatalf("padding row %v is not zero", tab[:3])
		}
	}
	g, _ := graph.New(ps)
	e, err := New(g, c)
	if err != nil {
		t.Fatal(err)
	}
	tok, xs, err := e.Sequence(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Set([][]int{{1, 2, 0}, {5, 5, 3}}); err != nil {
		t.Fatal(err)
	}
	var v gorgonia.Value
	gorgonia.Read(xs[1], &v)
	m, _ := graph.NewMachine(g)
	defer m.Close()
	if err := graph.Run(m); err != nil {
		t.Fatal(err)
	}
	got, _ := graph.ValueFloat64s(v)
	for r, id := range []int{5, 5, 3} {
		for j := 0; j < 3; j++ {
			if got[r*3+j] != tab[id*3+j] {
				t.Fatalf("row %d = %v, want table row %d", r, got[r*3:r*3+3], id)
			}
		}
	}
}

func TestBadIDsAndConfigs(t *testing.T) {
	for _, c := range []Config{{Vocab: 0, Dim: 2}, {Vocab: 3, Dim: 0}, {Vocab: 3, Dim: 2, HasPadding: true, PaddingID: 3}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	c := Config{Vocab: 4, Dim: 2}
	ps, _ := graph.NewParams(tensor.Float32)
	c.Init(ps, graph.NewSource(1))
	if err := c.Init(ps, graph.NewSource(1)); err == nil {
		t.Error("a second table of the same name accepted")
	}
	g, _ := graph.New(ps)
	e, _ := New(g, c)
	tok, _, err := e.Sequence(2, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][][]int{{{0, 4}, {1, 1}}, {{0, -1}, {1, 1}}, {{0, 1}}, {{0, 1, 2}, {1, 1}}} {
		if err := tok.Set(bad); err == nil {
			t.Errorf("tokens %v accepted", bad)
		}
	}
	if err := tok.SetBatchMajor([][]int{{0, 1}, {1}}); err == nil {
		t.Error("ragged batch accepted")
	}
	if _, _, err := e.Sequence(0, 2); err == nil {
		t.Error("empty sequence accepted")
	}
	if _, err := New(g, Config{Vocab: 5, Dim: 2}); err == nil {
		t.Error("a table of the wrong shape bound")
	}
}

// Tied weights: the same table embeds inputs and projects outputs, and its
// gradient sums both uses; the padding row gets none through the look-up.
func TestTiedGradients(t *testing.T) {
	c := Config{Vocab: 5, Dim: 3, HasPadding: true, PaddingID: 2}
	ps, _ := graph.NewParams(tensor.Float64)
	c.Init(ps, graph.NewSource(2))
	bias, _ := graph.NewScope(ps).New("out.bias", graph.Uniform{Low: -1, High: 1}, graph.NewSource(3), 5)
	_ = bias
	g, _ := graph.New(ps)
	e, _ := New(g, c)
	ids, _ := graph.NewIDs(3, 5)
	ids.Set([]int{1, 4, 1})
	x, err := e.Lookup(ids)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := g.Param("out.bias", 5)
	z, err := e.Logits(x, b)
	if err != nil {
		t.Fatal(err)
	}
	tg, _ := graph.NewTargets(3, 5)
	tg.Set([]int{0, 3, 4}, nil)
	ce, _ := graph.CrossEntropy(z, tg)
	loss := gorgonia.Must(gorgonia.Sum(ce))
	rep, err := gradcheck.Check(g, loss, g.Learnables(), 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxErr > 1e-7 || math.IsNaN(rep.MaxErr) {
		t.Fatalf("max error %g at %s", rep.MaxErr, rep.Worst)
	}
}

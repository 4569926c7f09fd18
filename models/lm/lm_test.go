package lm

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
	"github.com/rnnkit/rnnkit/models/decode"
)

func params(t *testing.T, c Config, dt tensor.Dtype) *graph.Params {
	t.Helper()
	ps, _ := graph.NewParams(dt)
	if err := c.Init(ps, graph.NewSource(1)); err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestGradientsTiedAndStacked(t *testing.T) {
	for _, c := range []Config{
		{Vocab: 5, Embed: 3, Hidden: 3, Cell: cells.GRUKind, Tied: true},
		{Vocab: 4, Embed: 2, Hidden: 3, Cell: cells.LSTMKind, Layers: 2},
	} {
		ps := params(t, c, tensor.Float64)
		m, err := NewTrainGraph(ps, c, 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Set([][]int{{0, 1, 2, 3}, {3, 2, 1, 0}}, []int{3, 2}); err != nil {
			t.Fatal(err)
		}
		rep, err := gradcheck.Check(m.G, m.Loss, m.G.Learnables(), 1e-6)
		if err != nil {
			t.Fatal(err)
		}
		if rep.MaxErr > 1e-7 {
			t.Fatalf("%+v: max error %g at %s", c, rep.MaxErr, rep.Worst)
		}
	}
	if err := (Config{Vocab: 5, Embed: 3, Hidden: 4, Cell: cells.GRUKind, Tied: true}).Validate(); err == nil {
		t.Error("tied weights with embed ≠ hidden accepted")
	}
}

// The model learns a cyclic text and, primed with part of the cycle,
// continues it; the generator's logits equal the training graph's.
func TestLearnsACycle(t *testing.T) {
	c := Config{Vocab: 6, Embed: 8, Hidden: 24, Cell: cells.LSTMKind}
	ps := params(t, c, tensor.Float32)
	const B, T = 8, 12
	m, err := NewTrainGraph(ps, c, B, T)
	if err != nil {
		t.Fatal(err)
	}
	learn := m.G.Learnables()
	if _, err := gorgonia.Grad(m.Loss, learn...); err != nil {
		t.Fatal(err)
	}
	var lv gorgonia.Value
	gorgonia.Read(m.Loss, &lv)
	vm, err := graph.NewMachine(m.G, gorgonia.BindDualValues(learn...))
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	solver := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.03))
	cycle := []int{0, 1, 2, 3, 4, 5, 3, 1}
	src := graph.NewSource(2)
	lengths := make([]int, B)
	for i := range lengths {
		lengths[i] = T
	}
	var first, last float64
	for it := 0; it < 150; it++ {
		seqs := make([][]int, B)
		for b := range seqs {
			off := src.IntN(len(cycle))
			for s := 0; s <= T; s++ {
				seqs[b] = append(seqs[b], cycle[(off+s)%len(cycle)])
			}
		}
		if err := m.Set(seqs, lengths); err != nil {
			t.Fatal(err)
		}
		if err := graph.Run(vm); err != nil {
			t.Fatal(err)
		}
		l, _ := graph.ValueFloat64s(lv)
		if it == 0 {
			first = l[0]
		}
		last = l[0]
		solver.Step(gorgonia.NodesToValueGrads(learn))
		vm.Reset()
	}
	if !(last < first/5) {
		t.Fatalf("loss %v → %v", first, last)
	}
	gen, err := NewGenerator(ps, c)
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	st, last1, err := gen.Prime([][]int{{2, 3, 4}, {3, 1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	// Greedy continuation from the primed state, feeding the prompt's last token as BOS.
	out := make([][]int, 2)
	for r := range out {
		s, err := st.Select([]int{r})
		if err != nil {
			t.Fatal(err)
		}
		res, err := decode.Greedy(gen, s, decode.Options{BOS: last1[r], EOS: 5, MaxLen: 8})
		if err != nil {
			t.Fatal(err)
		}
		out[r] = res[0]
	}
	// After 2 3 4 the cycle goes 5 (EOS here: nothing emitted).
	if len(out[0]) != 0 {
		t.Errorf("after 2 3 4: %v, want EOS first", out[0])
	}
	// After 3 1 0: 1 2 3 4 then 5 (EOS).
	if want := []int{1, 2, 3, 4}; !equal(out[1], want) {
		t.Errorf("after 3 1 0: %v, want %v", out[1], want)
	}
	s1, _ := gen.Start(1)
	a, err := decode.Sample(gen, s1, decode.Options{BOS: 0, EOS: 5, MaxLen: 20}, decode.SampleOptions{Temperature: 1, Source: graph.NewSource(7)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := decode.Sample(gen, s1, decode.Options{BOS: 0, EOS: 5, MaxLen: 20}, decode.SampleOptions{Temperature: 1, Source: graph.NewSource(7)})
	if !equal(a[0], b[0]) {
		t.Errorf("same seed, different samples: %v, %v", a[0], b[0])
	}
	if math.IsNaN(last) {
		t.Fatal("NaN loss")
	}
}

func equal(a, b []int) bool {
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

func TestBadInput(t *testing.T) {
	c := Config{Vocab: 4, Embed: 2, Hidden: 3, Cell: cells.RNNTanh}
	ps := params(t, c, tensor.Float64)
	m, err := NewTrainGraph(ps, c, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		seqs [][]int
		lens []int
	}{{[][]int{{0, 1}}, []int{2}}, {[][]int{{0, 1, 4}}, []int{2}}, {[][]int{{0, 1, 2}}, []int{0}}, {nil, nil}} {
		if err := m.Set(bad.seqs, bad.lens); err == nil {
			t.Errorf("Set(%v, %v) accepted", bad.seqs, bad.lens)
		}
	}
	gen, _ := NewGenerator(ps, c)
	if _, _, err := gen.Prime(nil); err == nil {
		t.Error("empty prompt accepted")
	}
	if _, _, err := gen.Prime([][]int{{1, 2}, {1}}); err == nil {
		t.Error("ragged prompts accepted")
	}
	if _, err := gen.Start(0); err == nil {
		t.Error("Start(0) accepted")
	}
}

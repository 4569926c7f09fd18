package vae

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
)

// The generator, started from Encode's μ and fed a sentence, gives the
// training graph's logits at every position (with ε = 0, z = μ), for an
// LSTM with z at the inputs, a GRU without, and the model without a
// latent.
func TestGeneratorEqualsTrainingGraph(t *testing.T) {
	sent := []int{4, 6, 5}
	for _, c := range []Config{
		{Vocab: 8, Embed: 3, Hidden: 4, Latent: 2, Cell: cells.LSTMKind, ZInput: true},
		{Vocab: 8, Embed: 3, Hidden: 4, Latent: 3, Cell: cells.GRUKind},
		{Vocab: 8, Embed: 3, Hidden: 4, Cell: cells.GRUKind},
	} {
		ps := params(t, c, tensor.Float64, 5)
		type tg struct {
			t      *TrainGraph
			logits gorgonia.Value
		}
		g, x, err := graph.Build(ps, func(g *graph.Graph) (*tg, error) {
			t, err := BuildTrainGraph(g, c, 1, len(sent), Options{})
			if err != nil {
				return nil, err
			}
			x := &tg{t: t}
			gorgonia.Read(t.Logits, &x.logits)
			return x, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := x.t.Set([][]int{sent}, Inputs{Beta: 1}); err != nil {
			t.Fatal(err)
		}
		vm, err := graph.NewMachine(g)
		if err != nil {
			t.Fatal(err)
		}
		if err := graph.Run(vm); err != nil {
			t.Fatal(err)
		}
		want, _ := graph.ValueFloat64s(x.logits)
		vm.Close()
		z := [][]float64{make([]float64, c.Latent)}
		if c.Latent > 0 {
			mu, lv, err := Encode(ps, c, [][]int{sent, {5}})
			if err != nil {
				t.Fatal(err)
			}
			if len(mu) != 2 || len(lv) != 2 {
				t.Fatalf("Encode: %d and %d rows", len(mu), len(lv))
			}
			z = mu[:1]
		}
		gen, err := NewGenerator(ps, c)
		if err != nil {
			t.Fatal(err)
		}
		st, err := gen.Start(z)
		if err != nil {
			t.Fatal(err)
		}
		var s decode.State = st
		for k, tok := range append([]int{BOS}, sent...) {
			var logits [][]float64
			if logits, s, err = gen.Step(s, []int{tok}); err != nil {
				t.Fatal(err)
			}
			for v, got := range logits[0] {
				if w := want[k*c.Vocab+v]; math.Abs(got-w) > 1e-12 {
					t.Fatalf("%+v: position %d, token %d: generator %v, training graph %v", c, k, v, got, w)
				}
			}
		}
		out, err := gen.Decode(append(z, z...), 6, nil)
		if err != nil || len(out) != 2 || len(out[0]) > 6 {
			t.Fatalf("Decode: %v, %v", out, err)
		}
		gen.Close()
	}
}

func TestInterpolateAndAnneal(t *testing.T) {
	zs, err := Interpolate([]float64{0, 2}, []float64{4, -2}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if zs[0][0] != 0 || zs[4][0] != 4 || zs[2][0] != 2 || zs[2][1] != 0 || zs[1][1] != 1 {
		t.Errorf("Interpolate: %v", zs)
	}
	if _, err := Interpolate([]float64{0}, []float64{1}, 1); err == nil {
		t.Error("one step accepted")
	}
	lin := Anneal{Kind: AnnealLinear, Steps: 100}
	if lin.Beta(0) != 0 || lin.Beta(50) != 0.5 || lin.Beta(100) != 1 || lin.Beta(1000) != 1 {
		t.Errorf("linear: %v %v %v", lin.Beta(0), lin.Beta(50), lin.Beta(1000))
	}
	lg := Anneal{Kind: AnnealLogistic, Steps: 100, K: 0.1}
	if lg.Beta(100) != 0.5 || !(lg.Beta(0) < 1e-4) || !(lg.Beta(200) > 1-1e-4) {
		t.Errorf("logistic: %v %v %v", lg.Beta(0), lg.Beta(100), lg.Beta(200))
	}
	for _, a := range []Anneal{{Kind: "cosine"}, {Kind: AnnealLinear}, {Kind: AnnealLogistic, Steps: 5}} {
		if a.Validate() == nil {
			t.Errorf("%+v accepted", a)
		}
	}
	if (Anneal{}).Beta(0) != 1 {
		t.Error("no annealing: β ≠ 1")
	}
	src := graph.NewSource(1)
	s := [][]int{make([]int, 2000)}
	for i := range s[0] {
		s[0][i] = 5
	}
	d := WordDropout(s, 0.25, src)
	n := 0
	for _, w := range d[0] {
		if w == UNK {
			n++
		}
	}
	if n < 430 || n > 570 || s[0][0] != 5 {
		t.Errorf("word dropout 0.25 dropped %d of 2000", n)
	}
}

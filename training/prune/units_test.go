package prune

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/lm"
)

// lmForward runs the language model's training graph forward on seqs and
// returns its logits [T·B, V] and loss.
func lmForward(tb testing.TB, ps *graph.Params, c lm.Config, seqs [][]int, T int) ([]float64, float64) {
	tb.Helper()
	var lv, lossV gorgonia.Value
	g, tg, err := graph.Build(ps, func(g *graph.Graph) (*lm.TrainGraph, error) {
		tg, err := lm.BuildTrainGraph(g, c, len(seqs), T)
		if err != nil {
			return nil, err
		}
		gorgonia.Read(tg.Logits, &lv)
		gorgonia.Read(tg.Loss, &lossV)
		return tg, nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	vm, err := graph.NewMachine(g)
	if err != nil {
		tb.Fatal(err)
	}
	defer vm.Close()
	lengths := make([]int, len(seqs))
	for i := range lengths {
		lengths[i] = T
	}
	if err := tg.Set(seqs, lengths); err != nil {
		tb.Fatal(err)
	}
	if err := graph.Run(vm); err != nil {
		tb.Fatal(err)
	}
	logits, err := graph.ValueFloat64s(lv)
	if err != nil {
		tb.Fatal(err)
	}
	loss, err := graph.ValueFloat64s(lossV)
	if err != nil {
		tb.Fatal(err)
	}
	return logits, loss[0]
}

func randomLM(tb testing.TB, c lm.Config, dt tensor.Dtype) *graph.Params {
	tb.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Init(ps, graph.NewSource(3)); err != nil {
		tb.Fatal(err)
	}
	return ps
}

func tokens(B, T, V int) [][]int {
	src := graph.NewSource(11)
	out := make([][]int, B)
	for b := range out {
		out[b] = make([]int, T+1)
		for t := range out[b] {
			out[b][t] = src.IntN(V)
		}
	}
	return out
}

// clone returns a copy of ps.
func clone(tb testing.TB, ps *graph.Params) *graph.Params {
	tb.Helper()
	out, _ := graph.NewParams(ps.Dtype())
	for _, n := range ps.Names() {
		t, _ := ps.Get(n)
		v, _ := graph.Float64s(t)
		x, err := graph.FromFloat64s(ps.Dtype(), v, t.Shape()...)
		if err != nil {
			tb.Fatal(err)
		}
		if err := out.Add(n, x); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// For every cell kind, the shrunk model computes what the full model with
// the dropped units' rows zeroed computes (float64, to rounding: the
// matrix products sum the same non-zero terms in another grouping), and
// that differs from the unpruned model.
func TestShrinkEqualsMaskedModel(t *testing.T) {
	const B, T = 3, 5
	for _, kind := range cells.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			c := lm.Config{Vocab: 9, Embed: 5, Hidden: 10, Cell: kind, Layers: 2}
			ps := randomLM(t, c, tensor.Float64)
			layers, err := Units(ps, c, 0.6)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range layers {
				if len(l.Kept) != 4 {
					t.Fatalf("%v", l)
				}
			}
			small, sc, err := Shrink(ps, c, layers)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Hidden != 4 {
				t.Fatalf("shrunk hidden %d", sc.Hidden)
			}
			masked := clone(t, ps)
			m, err := UnitMasks(c, layers)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Apply(masked); err != nil {
				t.Fatal(err)
			}
			seqs := tokens(B, T, c.Vocab)
			full, fullLoss := lmForward(t, ps, c, seqs, T)
			want, wantLoss := lmForward(t, masked, c, seqs, T)
			got, gotLoss := lmForward(t, small, sc, seqs, T)
			worst, moved := 0.0, 0.0
			for i := range want {
				worst = math.Max(worst, math.Abs(got[i]-want[i]))
				moved = math.Max(moved, math.Abs(full[i]-want[i]))
			}
			if worst > 1e-13 || math.Abs(gotLoss-wantLoss) > 1e-13 {
				t.Errorf("shrunk vs masked: largest logit difference %g, losses %v and %v", worst, gotLoss, wantLoss)
			}
			if moved < 1e-3 || fullLoss == wantLoss {
				t.Errorf("masking changed the logits by only %g: the comparison proves nothing", moved)
			}
			t.Logf("largest logit difference shrunk vs masked %g (unpruned vs masked %g)", worst, moved)
		})
	}
}

func TestUnitsBadInput(t *testing.T) {
	c := lm.Config{Vocab: 9, Embed: 6, Hidden: 6, Cell: cells.LSTMKind, Tied: true}
	ps := randomLM(t, c, tensor.Float64)
	if _, err := Units(ps, c, 0.5); err == nil {
		t.Error("tied weights pruned")
	}
	c.Tied = false
	if _, err := Units(ps, c, 1); err == nil {
		t.Error("sparsity 1 accepted")
	}
	if _, err := Units(ps, c, 0.5); err == nil {
		t.Error("a model without fc.weight accepted")
	}
}

// BenchmarkLMForward compares the forward pass of a dense LSTM language
// model with its 80% structured-pruned version (tokens/s).
func BenchmarkLMForward(b *testing.B) {
	const B, T = 32, 35
	c := lm.Config{Vocab: 2000, Embed: 128, Hidden: 256, Cell: cells.LSTMKind, Layers: 2}
	ps := randomLM(b, c, tensor.Float32)
	layers, err := Units(ps, c, 0.8)
	if err != nil {
		b.Fatal(err)
	}
	small, sc, err := Shrink(ps, c, layers)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []struct {
		name string
		ps   *graph.Params
		c    lm.Config
	}{{"dense", ps, c}, {"units80", small, sc}} {
		b.Run(fmt.Sprintf("%s/H%d", m.name, m.c.Hidden), func(b *testing.B) {
			benchForward(b, m.ps, m.c, B, T)
		})
	}
}

// benchForward times the forward pass of one compiled training graph of
// B×T tokens, reporting tokens/s.
func benchForward(b *testing.B, ps *graph.Params, c lm.Config, B, T int) {
	g, tg, err := graph.Build(ps, func(g *graph.Graph) (*lm.TrainGraph, error) { return lm.BuildTrainGraph(g, c, B, T) })
	if err != nil {
		b.Fatal(err)
	}
	vm, err := graph.NewMachine(g)
	if err != nil {
		b.Fatal(err)
	}
	defer vm.Close()
	seqs := tokens(B, T, c.Vocab)
	lengths := make([]int, B)
	for i := range lengths {
		lengths[i] = T
	}
	b.ResetTimer()
	for range b.N {
		if err := tg.Set(seqs, lengths); err != nil {
			b.Fatal(err)
		}
		if err := graph.Run(vm); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
	b.ReportMetric(float64(B*T*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

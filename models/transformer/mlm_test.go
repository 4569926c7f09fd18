package transformer

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

func smallMLM() MLMConfig {
	return MLMConfig{Vocab: 9, Layers: 2, MaxLen: 16, Layer: LayerConfig{Embed: 4, Heads: 2, FF: 6, Activation: GELU, NormFirst: true}}
}

func mlmParams(t *testing.T, cfg MLMConfig) *graph.Params {
	t.Helper()
	ps, _ := graph.NewParams(tensor.Float64)
	specs := cfg.Params()
	for i := range specs {
		specs[i].Init = graph.Uniform{Low: -0.8, High: 0.8}
	}
	if err := Init(ps, specs, graph.NewSource(8)); err != nil {
		t.Fatal(err)
	}
	return ps
}

// The graph's logits over a padded batch equal the plain-Go encoder's over
// each sequence alone, and its gradient passes finite differences.
func TestMLMGraphAndEncoder(t *testing.T) {
	cfg := smallMLM()
	ps := mlmParams(t, cfg)
	B, T := 2, 5
	ids := []int{4, 5, 6, 7, 8, 5, 4, 3, 0, 0}
	lengths := []int{5, 3}
	labels := append([]int(nil), ids...)
	masked := []bool{false, true, false, false, true, true, false, false, false, false}
	var logits gorgonia.Value
	build := func(g *graph.Graph) (*MLMGraph, error) {
		n, _ := NewNet(g, nil, true)
		m, err := BuildMLM(n, cfg, B, T)
		if err != nil {
			return nil, err
		}
		return m, m.Set(ids, lengths, labels, masked)
	}
	fg, _, err := graph.Build(ps, func(g *graph.Graph) (*MLMGraph, error) {
		m, err := build(g)
		if err == nil {
			gorgonia.Read(m.Logits, &logits)
		}
		return m, err
	})
	if err != nil {
		t.Fatal(err)
	}
	fm, err := graph.NewMachine(fg)
	if err != nil {
		t.Fatal(err)
	}
	defer fm.Close()
	if err := graph.Run(fm); err != nil {
		t.Fatal(err)
	}
	g, p, err := graph.Build(ps, func(g *graph.Graph) (*gradcheck.Prepared, error) {
		m, err := build(g)
		if err != nil {
			return nil, err
		}
		return gradcheck.Prepare(g, m.Loss, g.Learnables())
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Check(g, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gradcheck: %d elements, max error %.3g at %s", rep.Checked, rep.MaxErr, rep.Worst)
	if rep.MaxErr > 1e-6 {
		t.Errorf("gradcheck: %.3g at %s", rep.MaxErr, rep.Worst)
	}
	flat, _ := graph.ValueFloat64s(logits)
	enc, err := NewMLMEncoder(ps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for b := 0; b < B; b++ {
		got, err := enc.MLMLogits(ids[b*T : b*T+lengths[b]])
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			worst = math.Max(worst, maxDiff(got[i], flat[(b*T+i)*cfg.Vocab:(b*T+i+1)*cfg.Vocab]))
		}
	}
	t.Logf("graph vs plain Go: %.3g", worst)
	if worst > 1e-12 {
		t.Errorf("graph and plain-Go logits differ by %.3g", worst)
	}
}

// BERT's masking draws 15% of the real tokens, of which 80% become the
// mask, 10% a random token and 10% stay; padding is never chosen; the
// same seed gives the same draws.
func TestBERTMasking(t *testing.T) {
	m := BERT(4, 5, 100)
	T, B := 50, 200
	ids := make([]int, B*T)
	lengths := make([]int, B)
	for b := range lengths {
		lengths[b] = 10 + b%40
		for i := 0; i < lengths[b]; i++ {
			ids[b*T+i] = 5 + (b*7+i)%95
		}
	}
	in, labels, masked, err := m.Apply(ids, lengths, T, graph.NewSource(1))
	if err != nil {
		t.Fatal(err)
	}
	real, chosen, asMask, asRandom, kept := 0, 0, 0, 0, 0
	for b := range lengths {
		real += lengths[b]
		for i := 0; i < T; i++ {
			k := b*T + i
			if labels[k] != ids[k] {
				t.Fatal("labels are not the original ids")
			}
			if !masked[k] {
				if in[k] != ids[k] {
					t.Fatalf("position %d changed without being chosen", k)
				}
				continue
			}
			if i >= lengths[b] {
				t.Fatalf("padding position %d chosen", k)
			}
			chosen++
			switch {
			case in[k] == 4:
				asMask++
			case in[k] == ids[k]:
				kept++
			default:
				asRandom++
			}
		}
	}
	rate := float64(chosen) / float64(real)
	fm, fr, fk := float64(asMask)/float64(chosen), float64(asRandom)/float64(chosen), float64(kept)/float64(chosen)
	t.Logf("%d of %d chosen (%.3f): mask %.3f, random %.3f, kept %.3f", chosen, real, rate, fm, fr, fk)
	if math.Abs(rate-0.15) > 0.015 || math.Abs(fm-0.8) > 0.03 || math.Abs(fr-0.1) > 0.025 || math.Abs(fk-0.1) > 0.025 {
		t.Errorf("rates %.3f, mask %.3f, random %.3f, kept %.3f; want 0.15, 0.8, 0.1, 0.1", rate, fm, fr, fk)
	}
	in2, _, _, _ := m.Apply(ids, lengths, T, graph.NewSource(1))
	if maxDiffInts(in, in2) {
		t.Error("the same seed gave other draws")
	}
	if _, _, _, err := m.Apply(ids[:10], lengths, T, graph.NewSource(1)); err == nil {
		t.Error("ids of the wrong length: no error")
	}
}

func maxDiffInts(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return true
		}
	}
	return len(a) != len(b)
}

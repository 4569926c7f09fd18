package training

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/rnnkit/rnnkit/models/transformer"
	"github.com/rnnkit/rnnkit/training/data"
)

func smallMLM(dropout float64) func(t *testing.T) *Trainer {
	var lines []string
	for i := 0; i < 40; i++ {
		lines = append(lines, []string{"the cat sat on the mat", "the dog sat on the rug", "a cat ate the fish", "the dog ate the bone"}[i%4])
	}
	words := data.NewWordVocab(lines, 1)
	vocab, _ := data.NewVocab(append(words.Tokens(), MaskToken))
	cfg := MLMConfig{Model: transformer.MLMConfig{Layers: 1, MaxLen: 8,
		Layer: transformer.LayerConfig{Embed: 8, Heads: 2, FF: 16, Activation: transformer.GELU, NormFirst: true, Dropout: dropout}},
		Batch: 8, BucketWidth: 2, Xavier: true}
	return func(t *testing.T) *Trainer {
		t.Helper()
		m := must(NewMLM(cfg, vocab, Chunks(vocab, lines[:32], 8)))(t)
		return newTrainer(t, Config{Epochs: 2, LR: 0.01, Clip: 1, Seed: 7, Optimizer: "adam"}, m, must(m.Sequences(lines[32:]))(t))
	}
}

// The masked language model trains (test loss falls), reports its
// metrics, fills a [MASK] with probabilities that sum to at most 1, refuses
// a text without one, and resumes bit for bit.
func TestMLMTrainsFillsResumes(t *testing.T) {
	tr := smallMLM(0)(t)
	ctx := context.Background()
	m0, err := tr.Evaluate(ctx, tr.Test)
	if err != nil {
		t.Fatal(err)
	}
	var st EpochStats
	for i := 0; i < 4; i++ {
		if st, err = tr.RunEpoch(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	acc, ppl := st.Test[MetricMaskedAccuracy], st.Test[MetricMaskedPerplexity]
	if !(st.TestLoss() < m0[MetricLoss]) || !(acc >= 0 && acc <= 1) || math.Abs(ppl-math.Exp(st.TestLoss())) > 1e-9 {
		t.Fatalf("test loss %v → %v, metrics %v", m0[MetricLoss], st.TestLoss(), st.Test)
	}
	m := tr.Model.(*MLM)
	f, err := m.Fill("the [MASK] sat on [MASK] mat", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != 2 || len(f[0]) != 3 {
		t.Fatalf("fill: %v", f)
	}
	sum := 0.0
	for _, c := range f[0] {
		sum += c.Prob
		if c.Word == MaskToken || c.Word == data.UNKToken {
			t.Errorf("filler %q", c.Word)
		}
	}
	if !(sum > 0 && sum <= 1) || f[0][0].Prob < f[0][1].Prob {
		t.Errorf("fillers %v", f[0])
	}
	if _, err := m.Fill("the cat sat", 3); !errors.Is(err, ErrNoMask) {
		t.Errorf("no [MASK]: %v", err)
	}
	if testing.Short() {
		return
	}
	checkResume(t, smallMLM(0.2), 2)
}

// Fill never panics on any text: an answer per [MASK], or ErrNoMask, or
// ErrTooLong for a text beyond the positional table.
func FuzzFill(f *testing.F) {
	for _, s := range []string{"the [MASK] sat", "[MASK]", "no mask here", "", "[MASK] [MASK] [MASK] [MASK] [MASK] [MASK] [MASK] [MASK] [MASK]",
		"the\t[MASK]\n\xff cat", "[MASK]x [mask] <unk> <pad>"} {
		f.Add(s)
	}
	var lines []string
	for i := 0; i < 8; i++ {
		lines = append(lines, "the cat sat on the mat")
	}
	words := data.NewWordVocab(lines, 1)
	vocab, _ := data.NewVocab(append(words.Tokens(), MaskToken))
	cfg := MLMConfig{Model: transformer.MLMConfig{Layers: 1, MaxLen: 8, Layer: transformer.LayerConfig{Embed: 4, Heads: 2, FF: 4}}, Batch: 4, BucketWidth: 1}
	m, err := NewMLM(cfg, vocab, Chunks(vocab, lines, 8))
	if err != nil {
		f.Fatal(err)
	}
	tr, err := New(Config{Epochs: 1, LR: 0.01, Seed: 1, Optimizer: "adam"}, m, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer tr.Close()
	f.Fuzz(func(t *testing.T, s string) {
		out, err := m.Fill(s, 2)
		switch {
		case errors.Is(err, ErrNoMask), errors.Is(err, transformer.ErrTooLong):
		case err != nil:
			t.Fatalf("%q: %v", s, err)
		case len(out) == 0:
			t.Fatalf("%q: no fillers", s)
		}
	})
}

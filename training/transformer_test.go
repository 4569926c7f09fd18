package training

import (
	"context"
	"math"
	"testing"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/transformer"
	"github.com/rnnkit/rnnkit/training/data"
)

func smallTransformer(dropout float64) func(t *testing.T) *Trainer {
	pairs := data.Addition(120, graph.NewSource(5))
	train, test := data.Split(pairs, 0.8)
	var texts []string
	for _, p := range pairs {
		texts = append(texts, p.Question, p.Answer)
	}
	vocab := data.NewCharVocab(texts)
	cfg := TransformerConfig{
		Model: transformer.Config{EncoderLayers: 1, DecoderLayers: 1, MaxLen: 32,
			Layer: transformer.LayerConfig{Embed: 8, Heads: 2, FF: 16, NormFirst: true, Dropout: dropout}},
		Batch: 16, ReverseSource: true, BucketWidth: 2, Xavier: true,
	}
	return func(t *testing.T) *Trainer {
		t.Helper()
		m := must(NewTransformer(cfg, vocab, train))(t)
		return newTrainer(t, Config{Epochs: 2, LR: 0.01, Clip: 1, Seed: 7, Optimizer: "adam"}, m, must(m.Pairs(test))(t))
	}
}

// The Transformer family trains (the test loss falls), reports the
// Seq2Seq metrics, answers questions, and resumes bit for bit (dropout
// masks included).
func TestTransformerTrainsAndResumes(t *testing.T) {
	tr := smallTransformer(0)(t)
	ctx := context.Background()
	m0, err := tr.Evaluate(ctx, tr.Test)
	if err != nil {
		t.Fatal(err)
	}
	var st EpochStats
	for i := 0; i < 3; i++ {
		if st, err = tr.RunEpoch(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if !(st.TestLoss() < m0[MetricLoss]) || math.IsNaN(st.Test[MetricExactMatch]) || math.IsNaN(st.Test[MetricTokenAccuracy]) {
		t.Fatalf("test loss %v → %v, metrics %v", m0[MetricLoss], st.TestLoss(), st.Test)
	}
	m := tr.Model.(*Transformer)
	if _, err := m.Translate("12+34"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.TranslateWith("12+34", decode.Options{}, nil, 3); err != nil {
		t.Fatal(err)
	}
	w, src, out, err := m.Attention(data.Pair{Question: "12+34", Answer: "46"})
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 1 || len(w[0]) != 2 || len(w[0][0]) != len(out) || len(src) != 5 {
		t.Fatalf("attention of %d layers, %d heads, %d outputs for %d (%q → %q)", len(w), len(w[0]), len(w[0][0]), len(out), src, out)
	}
	for _, row := range w[0][1] {
		sum := 0.0
		for _, v := range row {
			sum += v
		}
		if len(row) != len(src) || math.Abs(sum-1) > 1e-12 {
			t.Errorf("attention row %v: %d weights summing to %v", row, len(row), sum)
		}
	}
	if testing.Short() {
		return
	}
	checkResume(t, smallTransformer(0.2), 3)
}

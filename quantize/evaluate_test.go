package quantize

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
)

// LM.Loss walks the windows as training's LM.Evaluate does (the state
// carried from one window to the next): with float32 weights it gives the
// trainer's loss, to float32 rounding.
func TestLossMatchesTrainingEvaluate(t *testing.T) {
	text := strings.Repeat("the quick brown fox jumps over the lazy dog. ", 12)
	vocab := data.NewCharVocab([]string{text})
	cfg := training.LMConfig{Model: lm.Config{Embed: 6, Hidden: 10, Cell: cells.LSTMKind, Layers: 2}, Batch: 3, Steps: 7}
	m, err := training.NewLM(cfg, vocab, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := training.New(training.Config{Epochs: 1, LR: 1e-3, Seed: 2, Dtype: "float32"}, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ts, err := m.Text(vocab.EncodeChars(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.Chunks()) < 3 {
		t.Fatalf("%d windows: the test needs several to carry the state", len(ts.Chunks()))
	}
	want, err := tr.Evaluate(context.Background(), ts)
	if err != nil {
		t.Fatal(err)
	}
	f, err := KeepFloat(&checkpoint.Checkpoint{Params: tr.Params})
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewLM(f, m.Cfg.Model)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Loss(ts.Chunks())
	if err != nil {
		t.Fatal(err)
	}
	if w := want[training.MetricLoss]; math.Abs(got-w) > 1e-5*w {
		t.Errorf("engine loss %v, the trainer's %v", got, w)
	}
}

package training

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
)

func smallLM(t *testing.T) (*LM, LMConfig, *data.Vocab, []int, []int) {
	t.Helper()
	text := strings.Repeat("the cat sat on the mat. the dog sat on the log. ", 20)
	v := data.NewCharVocab([]string{text})
	ids := v.EncodeChars(text)
	cut := len(ids) * 9 / 10
	cfg := LMConfig{Model: lm.Config{Embed: 8, Hidden: 24, Cell: cells.GRUKind, Layers: 2, Dropout: 0.1, Seed: 2},
		Batch: 4, Steps: 10, Epochs: 2, LR: 0.01, Clip: 1, Seed: 3}
	tr, err := NewLM(cfg, v, ids[:cut], ids[cut:])
	if err != nil {
		t.Fatal(err)
	}
	return tr, tr.Cfg, v, ids[:cut], ids[cut:]
}

func TestLMLearnsAndResumesExactly(t *testing.T) {
	ctx := context.Background()
	a, cfg, v, train, test := smallLM(t)
	defer a.Close()
	before, err := a.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	for a.Epoch < 2 {
		if _, _, err := a.TrainEpoch(ctx, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	after, err := a.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	if !(after < before*0.8) {
		t.Fatalf("test loss %v → %v", before, after)
	}
	want := paramsOf(t, a.Params)

	b, _, _, _, _ := smallLM(t)
	if _, _, err := b.TrainEpoch(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, done, err := b.TrainEpoch(ctx, nil, func() bool { return b.StepInEpoch == 5 }); err != nil || done {
		t.Fatalf("stop: %v %v", done, err)
	}
	ck, err := b.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lm.safetensors")
	if err := checkpoint.Save(path, ck); err != nil {
		t.Fatal(err)
	}
	b.Close()
	loaded, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewLM(cfg, v, train, test)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Restore(loaded); err != nil {
		t.Fatal(err)
	}
	for c.Epoch < 2 {
		if _, _, err := c.TrainEpoch(ctx, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	got := paramsOf(t, c.Params)
	for i := range want {
		for j := range want[i] {
			if math.Float64bits(got[i][j]) != math.Float64bits(want[i][j]) {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", c.Params.Names()[i], j, got[i][j], want[i][j])
			}
		}
	}
	s1, err := c.Sample("the ", 20, &decode.SampleOptions{Temperature: 0.8, Source: graph.NewSource(4)})
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := c.Sample("the ", 20, &decode.SampleOptions{Temperature: 0.8, Source: graph.NewSource(4)})
	if s1 != s2 || len([]rune(s1)) != 20 {
		t.Fatalf("samples %q and %q", s1, s2)
	}
	if _, err := c.Sample("", 5, nil); err == nil {
		t.Error("empty prime accepted")
	}
}

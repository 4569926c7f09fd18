package training

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/seq2seq"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
)

func smallRun(t *testing.T, dropout float64) (*Seq2Seq, Seq2SeqConfig, *data.Vocab, []data.Pair, []data.Pair) {
	t.Helper()
	pairs := data.Addition(120, graph.NewSource(5))
	train, test := data.Split(pairs, 0.8)
	var texts []string
	for _, p := range pairs {
		texts = append(texts, p.Question, p.Answer)
	}
	v := data.NewCharVocab(texts)
	cfg := Seq2SeqConfig{
		Model: seq2seq.Config{Embed: 8, Hidden: 16, Cell: cells.LSTMKind, Layers: 2, Decoder: seq2seq.Attention, Dropout: dropout, Seed: 3},
		Batch: 16, Epochs: 2, LR: 0.01, Clip: 1, Seed: 7, ReverseSource: true, BucketWidth: 2,
	}
	tr, err := NewSeq2Seq(cfg, v, train, test)
	if err != nil {
		t.Fatal(err)
	}
	return tr, tr.Cfg, v, train, test
}

func paramsOf(t *testing.T, ps *graph.Params) [][]float64 {
	var out [][]float64
	for _, n := range ps.Names() {
		x, _ := ps.Get(n)
		f, err := graph.Float64s(x)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// A run stopped mid-epoch, checkpointed, and resumed in a new trainer ends
// with bit-identical parameters to a run never stopped.
func TestResumeIsBitIdentical(t *testing.T) {
	ctx := context.Background()
	a, _, _, _, _ := smallRun(t, 0.2)
	defer a.Close()
	for a.Epoch < 2 {
		if _, _, err := a.TrainEpoch(ctx, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	want := paramsOf(t, a.Params)

	b, cfg, v, train, test := smallRun(t, 0.2)
	if _, _, err := b.TrainEpoch(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	stopAt := 3
	if _, done, err := b.TrainEpoch(ctx, nil, func() bool { return b.StepInEpoch == stopAt }); err != nil || done {
		t.Fatalf("stop mid-epoch: done=%v, %v", done, err)
	}
	ck, err := b.Checkpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	if err := checkpoint.Save(path, ck); err != nil {
		t.Fatal(err)
	}
	b.Close()

	loaded, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewSeq2Seq(cfg, v, train, test)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Restore(loaded); err != nil {
		t.Fatal(err)
	}
	if c.Epoch != 1 || c.StepInEpoch != stopAt {
		t.Fatalf("restored at epoch %d step %d", c.Epoch, c.StepInEpoch)
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
				t.Fatalf("parameter %s[%d]: resumed %v, uninterrupted %v", c.Params.Names()[i], j, got[i][j], want[i][j])
			}
		}
	}
	if c.Step != a.Step {
		t.Fatalf("steps %d vs %d", c.Step, a.Step)
	}
}

func TestRestoreRefusesAnotherConfig(t *testing.T) {
	a, _, v, train, test := smallRun(t, 0)
	defer a.Close()
	ck, err := a.Checkpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := a.Cfg
	cfg.Model.Hidden = 12
	b, err := NewSeq2Seq(cfg, v, train, test)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Restore(ck); err == nil {
		t.Error("a checkpoint of another config restored")
	}
}

// Training lowers the loss and evaluation runs on the test set.
func TestEpochLowersLoss(t *testing.T) {
	tr, _, _, _, _ := smallRun(t, 0)
	defer tr.Close()
	ctx := context.Background()
	l0, _, _, _, err := tr.Evaluate(tr.TestSet())
	if err != nil {
		t.Fatal(err)
	}
	var st EpochStats
	graphs := 0
	for i := 0; i < 3; i++ {
		if st, err = tr.RunEpoch(ctx, nil); err != nil {
			t.Fatal(err)
		}
		graphs += st.GraphsCompiled
		if st.GraphsCompiled > 0 && !(st.CompileSeconds > 0 && st.CompileSeconds < st.EpochSeconds) {
			t.Errorf("epoch %d: %d graphs compiled in %v s of %v", st.Epoch, st.GraphsCompiled, st.CompileSeconds, st.EpochSeconds)
		}
	}
	if !(st.TestLoss < l0) || math.IsNaN(st.TestExactMatch) {
		t.Fatalf("test loss %v → %v, exact %v", l0, st.TestLoss, st.TestExactMatch)
	}
	// Every graph compiled is recorded once: one per training and evaluation
	// batch shape (the evaluation before the first epoch compiled some too).
	if n, _ := tr.CompileSeconds(); graphs == 0 || n < graphs || n != len(tr.Compiled) {
		t.Errorf("%d graphs recorded, %d reported by the epochs", n, graphs)
	}
	shapes := map[CompileStat]bool{}
	for _, c := range tr.Compiled {
		c.Seconds = 0
		if shapes[c] {
			t.Errorf("shape %+v compiled twice", c)
		}
		shapes[c] = true
	}
}

// An epoch stopped and resumed from a checkpoint reports the same mean
// training loss as the same epoch run without a stop (the checkpoint keeps
// the running loss), even when the stop comes after its last batch.
func TestResumedEpochLoss(t *testing.T) {
	whole, _, _, _, _ := smallRun(t, 0)
	defer whole.Close()
	want, done, err := whole.TrainEpoch(context.Background(), nil, nil)
	if err != nil || !done {
		t.Fatal(done, err)
	}
	for _, at := range []int{2, whole.Step} { // mid-epoch, and after the epoch's last batch
		a, cfg, v, train, test := smallRun(t, 0)
		var ck *checkpoint.Checkpoint
		var ckErr error
		stop := func() bool { // as rnnkit train's -checkpoint-every does
			if a.StepInEpoch == at {
				ck, ckErr = a.Checkpoint(nil)
				return true
			}
			return false
		}
		if _, _, err := a.TrainEpoch(context.Background(), nil, stop); err != nil || ckErr != nil || ck == nil {
			t.Fatal(err, ckErr)
		}
		a.Close()
		b, err := NewSeq2Seq(cfg, v, train, test)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Restore(ck); err != nil {
			t.Fatal(err)
		}
		got, done, err := b.TrainEpoch(context.Background(), nil, nil)
		b.Close()
		if err != nil || !done || got != want {
			t.Errorf("stopped after batch %d: epoch loss %v (done %v, %v), want %v", at, got, done, err, want)
		}
	}
}

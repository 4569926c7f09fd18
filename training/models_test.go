package training

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/models/seq2seq"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
)

// s2sSetup is everything that defines the small Seq2Seq run the tests
// train.
type s2sSetup struct {
	cfg         Config
	model       Seq2SeqConfig
	vocab       *data.Vocab
	train, test []data.Pair
}

func smallSetup(dropout float64) s2sSetup {
	pairs := data.Addition(120, graph.NewSource(5))
	train, test := data.Split(pairs, 0.8)
	var texts []string
	for _, p := range pairs {
		texts = append(texts, p.Question, p.Answer)
	}
	return s2sSetup{
		cfg: Config{Epochs: 2, LR: 0.01, Clip: 1, Seed: 7},
		model: Seq2SeqConfig{
			Model: seq2seq.Config{Embed: 8, Hidden: 16, Cell: cells.LSTMKind, Layers: 2, Decoder: seq2seq.Attention, Dropout: dropout, Seed: 3},
			Batch: 16, ReverseSource: true, BucketWidth: 2,
		},
		vocab: data.NewCharVocab(texts), train: train, test: test,
	}
}

// new returns a Trainer of the setup (closed when the test ends).
func (s s2sSetup) new(t *testing.T) *Trainer {
	t.Helper()
	m := must(NewSeq2Seq(s.model, s.vocab, s.train))(t)
	return newTrainer(t, s.cfg, m, must(m.Pairs(s.test))(t))
}

// s2s returns the trainer's Seq2Seq model.
func s2s(tr *Trainer) *Seq2Seq { return tr.Model.(*Seq2Seq) }

func smallRun(t *testing.T, dropout float64) (*Trainer, s2sSetup) {
	t.Helper()
	s := smallSetup(dropout)
	return s.new(t), s
}

// A run stopped mid-epoch, checkpointed, and resumed in a new trainer ends
// with bit-identical parameters to a run never stopped.
func TestResumeIsBitIdentical(t *testing.T) {
	setup := smallSetup(0.2)
	checkResume(t, setup.new, 3)
}

func TestRestoreRefusesAnotherConfig(t *testing.T) {
	a, setup := smallRun(t, 0)
	ck, err := a.Checkpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	setup.model.Model.Hidden = 12
	if err := setup.new(t).Restore(ck); err == nil || !strings.Contains(err.Error(), "another config") {
		t.Errorf("a checkpoint of another model config restored: %v", err)
	}
	setup.model.Model.Hidden = 16
	setup.cfg.Optimizer = "sgd"
	if err := setup.new(t).Restore(ck); err == nil || !strings.Contains(err.Error(), "another config") {
		t.Errorf("a checkpoint of another trainer config restored: %v", err)
	}
}

// Training lowers the loss and evaluation runs on the test set.
func TestEpochLowersLoss(t *testing.T) {
	tr, _ := smallRun(t, 0)
	ctx := context.Background()
	m0, err := tr.Evaluate(ctx, tr.Test)
	if err != nil {
		t.Fatal(err)
	}
	l0 := m0[MetricLoss]
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
	if !(st.TestLoss() < l0) || math.IsNaN(st.Test[MetricExactMatch]) || math.IsNaN(st.Test[MetricTokenAccuracy]) {
		t.Fatalf("test loss %v → %v, metrics %v", l0, st.TestLoss(), st.Test)
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
	whole, setup := smallRun(t, 0)
	want, done, err := whole.TrainEpoch(context.Background(), nil, nil)
	if err != nil || !done {
		t.Fatal(done, err)
	}
	for _, at := range []int{2, whole.Step} { // mid-epoch, and after the epoch's last batch
		a := setup.new(t)
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
		b := setup.new(t)
		if err := b.Restore(ck); err != nil {
			t.Fatal(err)
		}
		got, done, err := b.TrainEpoch(context.Background(), nil, nil)
		if err != nil || !done || got != want {
			t.Errorf("stopped after batch %d: epoch loss %v (done %v, %v), want %v", at, got, done, err, want)
		}
	}
}

// lmSetup is everything that defines a small language-model run.
type lmSetup struct {
	cfg         Config
	model       LMConfig
	vocab       *data.Vocab
	train, test []int
}

// new returns a Trainer of the setup (closed when the test ends).
func (s lmSetup) new(t *testing.T) *Trainer {
	t.Helper()
	m := must(NewLM(s.model, s.vocab, s.train))(t)
	var test Dataset
	if len(s.test) > 0 {
		test = must(m.Text(s.test))(t)
	}
	return newTrainer(t, s.cfg, m, test)
}

func lmOf(tr *Trainer) *LM { return tr.Model.(*LM) }

func smallLM(t *testing.T) (*Trainer, lmSetup) {
	t.Helper()
	text := strings.Repeat("the cat sat on the mat. the dog sat on the log. ", 20)
	v := data.NewCharVocab([]string{text})
	ids := v.EncodeChars(text)
	cut := len(ids) * 9 / 10
	s := lmSetup{
		cfg:   Config{Epochs: 2, LR: 0.01, Clip: 1, Seed: 3},
		model: LMConfig{Model: lm.Config{Embed: 8, Hidden: 24, Cell: cells.GRUKind, Layers: 2, Dropout: 0.1, Seed: 2}, Batch: 4, Steps: 10},
		vocab: v, train: ids[:cut], test: ids[cut:],
	}
	return s.new(t), s
}

func TestLMLearnsAndResumesExactly(t *testing.T) {
	ctx := context.Background()
	a, setup := smallLM(t)
	m0, err := a.Evaluate(ctx, a.Test)
	if err != nil {
		t.Fatal(err)
	}
	before := m0[MetricLoss]
	trainTo(t, a, 2)
	m1, err := a.Evaluate(ctx, a.Test)
	if err != nil {
		t.Fatal(err)
	}
	if after := m1[MetricLoss]; !(after < before*0.8) || m1[MetricPerplexity] != math.Exp(after) {
		t.Fatalf("test loss %v → %v, metrics %v", before, after, m1)
	}
	_, c := checkResume(t, setup.new, 5)
	s1, err := lmOf(c).Sample("the ", 20, &decode.SampleOptions{Temperature: 0.8, Source: graph.NewSource(4)})
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := lmOf(c).Sample("the ", 20, &decode.SampleOptions{Temperature: 0.8, Source: graph.NewSource(4)})
	if s1 != s2 || len([]rune(s1)) != 20 {
		t.Fatalf("samples %q and %q", s1, s2)
	}
	if _, err := lmOf(c).Sample("", 5, nil); err == nil {
		t.Error("empty prime accepted")
	}
}

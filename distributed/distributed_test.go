package distributed_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/distributed"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/models/seq2seq"
	"github.com/rnnkit/rnnkit/models/tree"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
)

// newTrainer makes a trainer of one of the two splittable families, in
// float64 and without dropout (dropout masks are drawn per part, so a
// split run with dropout is not the single run's).
type newTrainer func(t *testing.T) *training.Trainer

func lmTrainer(cell cells.Kind) newTrainer {
	return func(t *testing.T) *training.Trainer {
		t.Helper()
		text := strings.Repeat("the cat sat on the mat. the dog sat on the log. ", 12)
		v := data.NewCharVocab([]string{text})
		ids := v.EncodeChars(text)
		cut := len(ids) * 9 / 10
		m, err := training.NewLM(training.LMConfig{Model: lm.Config{Embed: 6, Hidden: 10, Cell: cell, Layers: 2, Seed: 2}, Batch: 5, Steps: 6}, v, ids[:cut])
		if err != nil {
			t.Fatal(err)
		}
		test, err := m.Text(ids[cut:])
		if err != nil {
			t.Fatal(err)
		}
		return build(t, training.Config{Epochs: 1, LR: 0.01, Clip: 1, Seed: 3, Dtype: "float64"}, m, test)
	}
}

func s2sTrainer(t *testing.T) *training.Trainer {
	t.Helper()
	pairs := data.Addition(90, graph.NewSource(5))
	train, test := data.Split(pairs, 0.8)
	var texts []string
	for _, p := range pairs {
		texts = append(texts, p.Question, p.Answer)
	}
	m, err := training.NewSeq2Seq(training.Seq2SeqConfig{
		Model: seq2seq.Config{Embed: 6, Hidden: 8, Cell: cells.LSTMKind, Decoder: seq2seq.Attention, Seed: 3},
		Batch: 7, ReverseSource: true, BucketWidth: 2,
	}, data.NewCharVocab(texts), train)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := m.Pairs(test)
	if err != nil {
		t.Fatal(err)
	}
	return build(t, training.Config{Epochs: 1, LR: 0.01, Clip: 1, Seed: 7, Dtype: "float64", Optimizer: "adam"}, m, ps)
}

// synthTrees returns n random binary trees of 1 to 7 words, every node
// labelled by the sum of its words' polarities.
func synthTrees(seed uint64, n int) []*tree.Node {
	words := []string{"good", "great", "bad", "awful", "film", "the", "plot", "is", "not"}
	polarity := []int{1, 2, -1, -2, 0, 0, 0, 0, 0}
	r := rand.New(rand.NewPCG(seed, 1))
	var grow func(n int) (*tree.Node, int)
	grow = func(n int) (*tree.Node, int) {
		if n == 1 {
			i := r.IntN(len(words))
			return tree.Leaf(2+polarity[i], words[i]), polarity[i]
		}
		k := 1 + r.IntN(n-1)
		l, pl := grow(k)
		rt, pr := grow(n - k)
		p := max(-2, min(2, pl+pr))
		return tree.Join(2+p, l, rt), p
	}
	out := make([]*tree.Node, n)
	for i := range out {
		out[i], _ = grow(1 + r.IntN(7))
	}
	return out
}

func treeTrainer(net string) newTrainer {
	return func(t *testing.T) *training.Trainer {
		t.Helper()
		train, test := synthTrees(1, 80), synthTrees(2, 20)
		v, err := training.TreeVocab(train)
		if err != nil {
			t.Fatal(err)
		}
		m, err := training.NewTree(training.TreeConfig{Net: net, Embed: 8, Hidden: 8, Classes: 5, Batch: 7, Pad: 8, EvalBatch: 16}, v, train)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := m.Trees(test)
		if err != nil {
			t.Fatal(err)
		}
		return build(t, training.Config{Epochs: 1, Optimizer: "adagrad", LR: 0.1, WeightDecay: 1e-4, Seed: 5, Dtype: "float64"}, m, ts)
	}
}

func build(t *testing.T, cfg training.Config, m training.Model, test training.Dataset) *training.Trainer {
	t.Helper()
	tr, err := training.New(cfg, m, test)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// trainSteps trains tr until it has taken steps steps (within its first
// epoch) and returns the losses of the steps.
func trainSteps(tr *training.Trainer, steps int) ([]float64, error) {
	var losses []float64
	_, _, err := tr.TrainEpoch(context.Background(), func(s training.StepStats) { losses = append(losses, s.Loss) },
		func() bool { return tr.Step >= steps })
	if err == nil && tr.Step != steps {
		err = errors.Errorf("trained %d steps, want %d (an epoch too short)", tr.Step, steps)
	}
	return losses, err
}

// inGroup runs body for each rank of an in-process group of n, each in
// its own goroutine with its own Trainer (Attached), and returns the
// trainers and the errors.
func inGroup(t *testing.T, n int, newTr newTrainer, body func(k int, tr *training.Trainer) error) ([]*training.Trainer, []error) {
	t.Helper()
	comms, err := distributed.NewLocal(n, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	trs := make([]*training.Trainer, n)
	for k := range trs {
		trs[k] = newTr(t)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for k := range trs {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			if errs[k] = distributed.Attach(trs[k], comms[k]); errs[k] == nil {
				errs[k] = body(k, trs[k])
			}
		}(k)
	}
	wg.Wait()
	return trs, errs
}

func noErrors(t *testing.T, errs []error) {
	t.Helper()
	for k, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", k, err)
		}
	}
}

func flat(t *testing.T, ps *graph.Params) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for _, name := range ps.Names() {
		p, _ := ps.Get(name)
		v, err := graph.Float64s(p)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = v
	}
	return out
}

// maxRelDiff returns the largest, over the tensors, of max|a−b| / max|a|.
func maxRelDiff(t *testing.T, a, b *graph.Params) float64 {
	t.Helper()
	fa, fb := flat(t, a), flat(t, b)
	worst := 0.0
	for name, x := range fa {
		y := fb[name]
		if len(y) != len(x) {
			t.Fatalf("%s: %d values against %d", name, len(y), len(x))
		}
		d, s := 0.0, 0.0
		for i := range x {
			d, s = math.Max(d, math.Abs(x[i]-y[i])), math.Max(s, math.Abs(x[i]))
		}
		if s > 0 {
			d /= s
		}
		worst = math.Max(worst, d)
	}
	return worst
}

func sameBits(t *testing.T, what string, a, b *graph.Params) {
	t.Helper()
	fa, fb := flat(t, a), flat(t, b)
	for name, x := range fa {
		for i, v := range x {
			if math.Float64bits(v) != math.Float64bits(fb[name][i]) {
				t.Fatalf("%s: %s[%d] %v against %v", what, name, i, fb[name][i], v)
			}
		}
	}
}

const steps = 10

var families = []struct {
	name  string
	newTr newTrainer
}{
	{"lm-gru", lmTrainer(cells.GRUKind)},
	{"lm-lstm", lmTrainer(cells.LSTMKind)},
	{"seq2seq", s2sTrainer},
	{"tree-rnn", treeTrainer(training.TreeNetRNN)},
	{"tree-binary-lstm", treeTrainer(training.TreeNetLSTM)},
	{"tree-childsum-lstm", treeTrainer(training.TreeNetChildSum)},
	{"tree-bilstm", treeTrainer(training.TreeNetBiLSTM)},
}

// Two (and three) ranks take the steps one process takes on the same
// global batches, and two runs of a group are bit for bit equal.
func TestGroupEqualsSingleProcess(t *testing.T) {
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			alone := f.newTr(t)
			want, err := trainSteps(alone, steps)
			if err != nil {
				t.Fatal(err)
			}
			var first []*training.Trainer
			for _, n := range []int{2, 2, 3} {
				got := make([][]float64, n)
				trs, errs := inGroup(t, n, f.newTr, func(k int, tr *training.Trainer) (err error) {
					got[k], err = trainSteps(tr, steps)
					return err
				})
				noErrors(t, errs)
				for k := range trs {
					if d := maxRelDiff(t, alone.Params, trs[k].Params); !(d <= 1e-12) {
						t.Errorf("%d ranks, rank %d: parameters after %d steps differ from one process's by %.3g relative", n, k, steps, d)
					}
					for i := range want {
						if d := math.Abs(got[k][i]-want[i]) / math.Abs(want[i]); !(d <= 1e-12) {
							t.Errorf("%d ranks, rank %d, step %d: loss %v, one process %v (%.3g relative)", n, k, i+1, got[k][i], want[i], d)
						}
					}
					if k > 0 {
						sameBits(t, "rank 0 against rank k", trs[0].Params, trs[k].Params)
					}
				}
				if first == nil {
					first = trs
				} else if n == 2 {
					for k := range trs {
						sameBits(t, "two runs of a group", first[k].Params, trs[k].Params)
					}
				}
				t.Logf("%d ranks: largest relative difference from one process %.3g", n, maxRelDiff(t, alone.Params, trs[0].Params))
			}
		})
	}
}

// A group stopped after 4 steps, checkpointed (rank 0's file, the carried
// state gathered from all ranks) and resumed by a new group ends as one
// never stopped, bit for bit.
func TestGroupResumesExactly(t *testing.T) {
	for _, f := range families[1:] {
		t.Run(f.name, func(t *testing.T) {
			whole, errs := inGroup(t, 2, f.newTr, func(k int, tr *training.Trainer) error {
				_, err := trainSteps(tr, steps)
				return err
			})
			noErrors(t, errs)
			path := filepath.Join(t.TempDir(), "ckpt.safetensors")
			_, errs = inGroup(t, 2, f.newTr, func(k int, tr *training.Trainer) error {
				if _, err := trainSteps(tr, 4); err != nil {
					return err
				}
				c, err := tr.Checkpoint(nil)
				if err != nil || k != 0 {
					return err
				}
				return checkpoint.Save(path, c)
			})
			noErrors(t, errs)
			c, err := checkpoint.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			resumed, errs := inGroup(t, 2, func(t *testing.T) *training.Trainer {
				tr := f.newTr(t)
				if err := tr.Restore(c); err != nil {
					t.Fatal(err)
				}
				return tr
			}, func(k int, tr *training.Trainer) error {
				_, err := trainSteps(tr, steps)
				return err
			})
			noErrors(t, errs)
			for k := range resumed {
				sameBits(t, "resumed against whole", whole[k].Params, resumed[k].Params)
			}
		})
	}
}

// In a group, Run's files are rank 0's alone, and they are those of a
// process training alone (up to the timings).
func TestGroupRunWritesOnRankZero(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	_, errs := inGroup(t, 2, lmTrainer(cells.GRUKind), func(k int, tr *training.Trainer) error {
		return tr.Run(context.Background(), training.RunOptions{Dir: dirs[k], CheckpointEvery: 5})
	})
	noErrors(t, errs)
	for k, dir := range dirs {
		files, _ := os.ReadDir(dir)
		var names []string
		for _, f := range files {
			names = append(names, f.Name())
		}
		switch {
		case k == 0 && (!contains(names, training.MetricsName) || !contains(names, "best.safetensors") || len(names) < 4):
			t.Errorf("rank 0 wrote %v, want metrics, checkpoints and the best", names)
		case k > 0 && len(names) > 0:
			t.Errorf("rank %d wrote %v, want nothing", k, names)
		}
	}
	// The checkpoint rank 0 wrote restores into a trainer of its own.
	c, path, err := (&checkpoint.Manager{Dir: dirs[0]}).Latest()
	if err != nil {
		t.Fatal(err)
	}
	if err := lmTrainer(cells.GRUKind)(t).Restore(c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// A rank that stops taking part makes the others fail with an error that
// says so, once the collective's timeout passes, instead of waiting
// forever.
func TestGroupRankGoneTimesOut(t *testing.T) {
	comms, err := distributed.NewLocal(2, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	trs := []*training.Trainer{lmTrainer(cells.GRUKind)(t), lmTrainer(cells.GRUKind)(t)}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for k := range trs {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			if errs[k] = distributed.Attach(trs[k], comms[k]); errs[k] != nil {
				return
			}
			n := steps
			if k == 1 {
				n = 3 // then it is gone
			}
			_, errs[k] = trainSteps(trs[k], n)
		}(k)
	}
	wg.Wait()
	if errs[1] != nil {
		t.Fatalf("rank 1: %v", errs[1])
	}
	if !errors.Is(errs[0], distributed.ErrAborted) || !strings.Contains(errs[0].Error(), "waited more than") {
		t.Fatalf("rank 0: %v, want a timeout", errs[0])
	}
	if trs[0].Step != 3 {
		t.Errorf("rank 0 stopped at step %d, want 3", trs[0].Step)
	}
}

// Attach refuses ranks that stand at different positions, on every rank.
func TestAttachRefusesDifferentPositions(t *testing.T) {
	comms, _ := distributed.NewLocal(2, time.Minute)
	trs := []*training.Trainer{lmTrainer(cells.GRUKind)(t), lmTrainer(cells.GRUKind)(t)}
	if _, err := trainSteps(trs[1], 2); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for k := range trs {
		wg.Add(1)
		go func(k int) { defer wg.Done(); errs[k] = distributed.Attach(trs[k], comms[k]) }(k)
	}
	wg.Wait()
	if errs[0] == nil || errs[1] == nil || !strings.Contains(errs[1].Error(), "stands at epoch") {
		t.Fatalf("errors %v, %v; want both to refuse", errs[0], errs[1])
	}
}

// A cancelled context on one rank stops every rank after the same step;
// rank 0 saves the checkpoint of that step, from which the run resumes.
func TestGroupInterruptStopsTogether(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	trs, errs := inGroup(t, 2, lmTrainer(cells.GRUKind), func(k int, tr *training.Trainer) error {
		c := context.Background()
		if k == 1 {
			c = ctx
		}
		return tr.Run(c, training.RunOptions{Dir: dir, OnStep: func(s training.StepStats) {
			if k == 1 && tr.Step == 3 {
				cancel()
			}
		}})
	})
	for k, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "interrupted at epoch 1, batch 3 (step 3)") {
			t.Errorf("rank %d: %v, want an interruption at step 3", k, err)
		}
		if trs[k].Step != 3 {
			t.Errorf("rank %d stopped at step %d", k, trs[k].Step)
		}
	}
	c, _, err := (&checkpoint.Manager{Dir: dir}).Latest()
	if err != nil || c.Meta.Step != 3 {
		t.Fatalf("newest checkpoint: %v (step %v), want step 3", err, c)
	}
}

// unsplittable hides its model's Shard: a family that cannot split its
// batches.
type unsplittable struct{ training.Model }

// A model that does not split its batches is refused by a group of two,
// on both ranks, and accepted by a group of one.
func TestAttachRefusesUnsplittableModel(t *testing.T) {
	for _, n := range []int{1, 2} {
		comms, _ := distributed.NewLocal(n, time.Minute)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for k := range n {
			tr := lmTrainer(cells.GRUKind)(t)
			u := build(t, tr.Cfg, unsplittable{tr.Model}, nil)
			wg.Add(1)
			go func(k int) { defer wg.Done(); errs[k] = distributed.Attach(u, comms[k]) }(k)
		}
		wg.Wait()
		for k, err := range errs {
			if n == 1 && err != nil {
				t.Errorf("alone: %v", err)
			}
			if n == 2 && (err == nil || !strings.Contains(err.Error(), "cannot be trained data-parallel")) {
				t.Errorf("rank %d of 2: %v, want a refusal", k, err)
			}
		}
	}
}

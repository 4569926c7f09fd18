package training

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/models/seq2seq"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
)

// snapshot is a trainer's parameters and optimiser state, bit for bit.
type snapshot struct {
	params map[string][]uint64
	state  map[string][]uint64
}

func bitsOf(t *testing.T, x *tensor.Dense) []uint64 {
	t.Helper()
	v, err := graph.Float64s(x)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]uint64, len(v))
	for i, f := range v {
		out[i] = math.Float64bits(f)
	}
	return out
}

func takeSnapshot(t *testing.T, ps *graph.Params, state map[string]*tensor.Dense) snapshot {
	t.Helper()
	s := snapshot{params: map[string][]uint64{}, state: map[string][]uint64{}}
	for _, n := range ps.Names() {
		x, _ := ps.Get(n)
		s.params[n] = bitsOf(t, x)
	}
	for k, x := range state {
		s.state[k] = bitsOf(t, x)
	}
	return s
}

// diff returns the first difference between two snapshots, "" if none.
func (s snapshot) diff(o snapshot) string {
	for _, m := range []struct {
		what string
		a, b map[string][]uint64
	}{{"parameter", s.params, o.params}, {"optimiser state", s.state, o.state}} {
		if len(m.a) != len(m.b) {
			return fmt.Sprintf("%d vs %d %s tensors", len(m.a), len(m.b), m.what)
		}
		keys := make([]string, 0, len(m.a))
		for k := range m.a {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			x, y := m.a[k], m.b[k]
			if len(x) != len(y) {
				return fmt.Sprintf("%s %s: %d vs %d values", m.what, k, len(x), len(y))
			}
			for i := range x {
				if x[i] != y[i] {
					return fmt.Sprintf("%s %s[%d]: %v vs %v", m.what, k, i, math.Float64frombits(x[i]), math.Float64frombits(y[i]))
				}
			}
		}
	}
	return ""
}

func (tr *Trainer) snap(t *testing.T) snapshot { return takeSnapshot(t, tr.Params, tr.Opt.State()) }

func stopAfter(tr *Trainer, step int) func() bool { return func() bool { return tr.Step >= step } }

// A NaN loss stops training with ErrNonFinite naming the epoch and batch;
// the parameters, the optimiser state and the position are those before the
// batch, the checkpoint on disk is the last good one, and the run, once the
// fault is gone, goes on to end bit-identical to a run that never met it.
func TestNonFiniteStopsAndKeepsTheLastGoodCheckpoint(t *testing.T) {
	ctx := context.Background()
	clean, setup := smallRun(t, 0.2)
	trainTo(t, clean, 2)

	tr := setup.new(t)
	mgr := &checkpoint.Manager{Dir: t.TempDir(), KeepLast: 3}
	if _, _, err := tr.TrainEpoch(ctx, nil, stopAfter(tr, 3)); err != nil {
		t.Fatal(err)
	}
	ck, err := tr.Checkpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Save(ck); err != nil {
		t.Fatal(err)
	}
	good := tr.snap(t)
	tr.fault = func(step int) bool { return step == 3 }
	_, _, err = tr.TrainEpoch(ctx, nil, nil)
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("TrainEpoch with a NaN loss: %v, want ErrNonFinite", err)
	}
	for _, want := range []string{"epoch 1, batch 4 of", "step 4", "loss NaN", "not applied"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if d := good.diff(tr.snap(t)); d != "" {
		t.Fatalf("the failed step changed the run: %s", d)
	}
	if tr.Step != 3 || tr.StepInEpoch != 3 || tr.Skipped != 0 {
		t.Fatalf("position after the failed step: step %d, batch %d, skipped %d", tr.Step, tr.StepInEpoch, tr.Skipped)
	}
	onDisk, path, err := mgr.Latest()
	if err != nil || onDisk.Meta.Step != 3 {
		t.Fatalf("newest checkpoint %s: step %v, %v", path, onDisk, err)
	}
	if d := good.diff(takeSnapshot(t, onDisk.Params, onDisk.State)); d != "" {
		t.Fatalf("the checkpoint on disk is not the last good state: %s", d)
	}
	tr.fault = nil
	trainTo(t, tr, 2)
	if d := clean.snap(t).diff(tr.snap(t)); d != "" || tr.Step != clean.Step {
		t.Fatalf("after the fault was gone the run differs from a clean one (step %d vs %d): %s", tr.Step, clean.Step, d)
	}
}

// With SkipNonFinite a batch with a NaN loss is skipped: it changes no
// parameter and no optimiser state, is counted in Skipped (which a
// checkpoint keeps), and training goes on.
func TestSkipNonFinite(t *testing.T) {
	ctx := context.Background()
	tr, setup := smallRun(t, 0)
	tr.Cfg.SkipNonFinite = true
	bad := map[int]bool{1: true, 4: true}
	tr.fault = func(step int) bool { return bad[step] }
	prev := tr.snap(t)
	var stats []StepStats
	loss, done, err := tr.TrainEpoch(ctx, func(s StepStats) {
		now := tr.snap(t)
		if s.Skipped {
			if d := prev.diff(now); d != "" {
				t.Errorf("skipped batch %d changed the run: %s", s.Step, d)
			}
			if !math.IsNaN(s.Loss) {
				t.Errorf("skipped batch %d reports loss %v", s.Step, s.Loss)
			}
		} else if prev.diff(now) == "" {
			t.Errorf("batch %d changed nothing", s.Step)
		}
		prev = now
		stats = append(stats, s)
	}, nil)
	if err != nil || !done {
		t.Fatalf("epoch: done %v, %v", done, err)
	}
	if math.IsNaN(loss) {
		t.Error("the epoch's mean loss counts the skipped batches")
	}
	for i, s := range stats {
		if s.Skipped != bad[i] {
			t.Errorf("batch %d: Skipped = %v", i+1, s.Skipped)
		}
	}
	if tr.Skipped != 2 || tr.Step != len(stats) {
		t.Fatalf("Skipped %d, Step %d after %d batches", tr.Skipped, tr.Step, len(stats))
	}
	ck, err := tr.Checkpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	// A checkpoint written with SkipNonFinite resumes in a run without it.
	setup.cfg.SkipNonFinite = false
	again := setup.new(t)
	if err := again.Restore(ck); err != nil {
		t.Fatal(err)
	}
	if again.Skipped != 2 {
		t.Fatalf("restored Skipped = %d, want 2", again.Skipped)
	}
}

// A parameter set to NaN from outside: training refuses to start, nothing
// changes, and no checkpoint of such parameters can be made.
func TestPoisonedParameters(t *testing.T) {
	tr, _ := smallRun(t, 0)
	name := tr.Params.Names()[0]
	x, _ := tr.Params.Get(name)
	v, _ := graph.Float64s(x)
	v[0] = math.NaN()
	if err := graph.SetFloat64s(x, v); err != nil {
		t.Fatal(err)
	}
	before := tr.snap(t)
	_, _, err := tr.TrainEpoch(context.Background(), nil, nil)
	if !errors.Is(err, ErrNonFinite) || !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), name) {
		t.Fatalf("poisoned parameters: %v, want ErrNonFinite and ErrDamaged naming %s", err, name)
	}
	if d := before.diff(tr.snap(t)); d != "" || tr.Step != 0 {
		t.Fatalf("step %d; changed: %s", tr.Step, d)
	}
	if _, err := tr.Checkpoint(nil); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), name) {
		t.Fatalf("Checkpoint of NaN parameters: %v, want ErrDamaged naming %s", err, name)
	}
}

// A learning rate so high that an update overflows: training stops with
// ErrNonFinite even with SkipNonFinite (the update cannot be undone), and the
// run refuses to checkpoint or train on.
func TestOverflowingUpdateDamagesTheRun(t *testing.T) {
	pairs := data.Addition(64, graph.NewSource(5))
	var texts []string
	for _, p := range pairs {
		texts = append(texts, p.Question, p.Answer)
	}
	v := data.NewCharVocab(texts)
	s := s2sSetup{
		cfg: Config{Epochs: 1, Optimizer: "sgd", LR: 1e39, Seed: 1, // beyond float32: the first update overflows
			Dtype: "float32", SkipNonFinite: true},
		model: Seq2SeqConfig{Model: smallModel(), Batch: 16, BucketWidth: 2},
		vocab: v, train: pairs,
	}
	tr := s.new(t)
	_, _, err := tr.TrainEpoch(context.Background(), nil, nil)
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "became") {
		t.Fatalf("overflowing update: %v", err)
	}
	if _, err := tr.Checkpoint(nil); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Checkpoint after an overflow: %v, want ErrDamaged", err)
	}
	if _, _, err := tr.TrainEpoch(context.Background(), nil, nil); !errors.Is(err, ErrDamaged) {
		t.Fatalf("TrainEpoch after an overflow: %v, want ErrDamaged", err)
	}
}

func smallModel() seq2seq.Config {
	return seq2seq.Config{Embed: 4, Hidden: 8, Cell: cells.LSTMKind}
}

func tinyLM(t *testing.T) (*Trainer, lmSetup) {
	t.Helper()
	text := strings.Repeat("to be or not to be, that is the question. ", 12)
	v := data.NewCharVocab([]string{text})
	s := lmSetup{
		cfg:   Config{Epochs: 2, LR: 0.01, Clip: 1, Seed: 3},
		model: LMConfig{Model: lm.Config{Embed: 4, Hidden: 8, Cell: cells.LSTMKind, Layers: 2}, Batch: 4, Steps: 8},
		vocab: v, train: v.EncodeChars(text),
	}
	return s.new(t), s
}

// The language model's trainer: a NaN loss stops it with the parameters,
// optimiser state and carried state unchanged; with SkipNonFinite the
// window is skipped.
func TestLMNonFinite(t *testing.T) {
	ctx := context.Background()
	tr, setup := tinyLM(t)
	if _, _, err := tr.TrainEpoch(ctx, nil, func() bool { return tr.Step >= 2 }); err != nil {
		t.Fatal(err)
	}
	good := takeSnapshot(t, tr.Params, tr.Opt.State())
	carry := fmt.Sprint(lmOf(tr).carry)
	tr.fault = func(step int) bool { return step == 2 }
	_, _, err := tr.TrainEpoch(ctx, nil, nil)
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "batch 3 of") {
		t.Fatalf("NaN loss: %v", err)
	}
	if d := good.diff(takeSnapshot(t, tr.Params, tr.Opt.State())); d != "" || tr.Step != 2 || fmt.Sprint(lmOf(tr).carry) != carry {
		t.Fatalf("the failed window changed the run (step %d, carry kept %v): %s", tr.Step, fmt.Sprint(lmOf(tr).carry) == carry, d)
	}
	tr.Cfg.SkipNonFinite = true
	if _, done, err := tr.TrainEpoch(ctx, nil, nil); err != nil || !done {
		t.Fatalf("skipping: done %v, %v", done, err)
	}
	if tr.Skipped != 1 {
		t.Fatalf("Skipped = %d, want 1", tr.Skipped)
	}
	ck, err := tr.Checkpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	again := setup.new(t)
	if err := again.Restore(ck); err != nil || again.Skipped != 1 {
		t.Fatalf("restore: Skipped %d, %v", again.Skipped, err)
	}
}

// Restore refuses damaged or foreign checkpoints with an error that says
// what is wrong, and changes nothing then.
func TestRestoreRefusesBadCheckpoints(t *testing.T) {
	ctx := context.Background()
	src, setup := smallRun(t, 0)
	if _, _, err := src.TrainEpoch(ctx, nil, stopAfter(src, 2)); err != nil {
		t.Fatal(err)
	}
	fresh := func() *Trainer { return setup.new(t) }
	good, err := src.Checkpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		edit  func(*checkpoint.Checkpoint)
		wants string
	}{
		{"negative step_in_epoch", func(c *checkpoint.Checkpoint) { c.Meta.Extra["step_in_epoch"] = "-1" }, "step_in_epoch"},
		{"step_in_epoch not a number", func(c *checkpoint.Checkpoint) { c.Meta.Extra["step_in_epoch"] = "2x" }, "step_in_epoch"},
		{"skipped not a count", func(c *checkpoint.Checkpoint) { c.Meta.Extra["skipped"] = "-4" }, "skipped"},
		{"NaN epoch loss", func(c *checkpoint.Checkpoint) { c.Meta.Extra["epoch_loss_sum"] = "NaN" }, "epoch loss"},
		{"epoch loss without its count", func(c *checkpoint.Checkpoint) { delete(c.Meta.Extra, "epoch_loss_batches") }, "epoch loss"},
		{"NaN parameter", func(c *checkpoint.Checkpoint) {
			ps, _ := graph.NewParams(c.Params.Dtype())
			for i, n := range c.Params.Names() {
				x, _ := c.Params.Get(n)
				f, _ := graph.Float64s(x)
				if i == 1 {
					f[2] = math.Inf(1)
				}
				y, _ := graph.FromFloat64s(c.Params.Dtype(), f, x.Shape()...)
				ps.Add(n, y)
			}
			c.Params = ps
		}, "element 2 is +Inf"},
		{"another config", func(c *checkpoint.Checkpoint) {
			c.Meta.Model = []byte(strings.Replace(string(c.Meta.Model), `"hidden":16`, `"hidden":17`, 1))
		}, "another config"},
		{"missing optimiser state", func(c *checkpoint.Checkpoint) { c.State = nil }, "optimiser state"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ck, _ := src.Checkpoint(nil)
			ck.Meta.Extra = map[string]string{}
			for k, x := range good.Meta.Extra {
				ck.Meta.Extra[k] = x
			}
			c.edit(ck)
			tr := fresh()
			before := tr.snap(t)
			err := tr.Restore(ck)
			if err == nil || !strings.Contains(err.Error(), c.wants) {
				t.Fatalf("Restore: %v, want an error saying %q", err, c.wants)
			}
			if d := before.diff(tr.snap(t)); d != "" || tr.Step != 0 {
				t.Fatalf("a refused Restore changed the run: %s", d)
			}
		})
	}
}

// The language model's Restore refuses carried-state entries that do not
// fit (one of them, "carry.-1", used to panic).
func TestLMRestoreRefusesBadCarry(t *testing.T) {
	tr, setup := tinyLM(t)
	if _, _, err := tr.TrainEpoch(context.Background(), nil, func() bool { return tr.Step >= 2 }); err != nil {
		t.Fatal(err)
	}
	good, err := tr.Checkpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	row := good.State["carry.0"]
	short, _ := graph.FromFloat64s(row.Dtype(), []float64{1, 2}, 2)
	f, _ := graph.Float64s(row)
	f[0] = math.NaN()
	nan, _ := graph.FromFloat64s(row.Dtype(), f, len(f))
	for key, x := range map[string]*tensor.Dense{"carry.-1": row, "carry.99": row, "carry.x": row, "carry.1": short, "carry.0": nan} {
		ck, _ := tr.Checkpoint(nil)
		ck.State[key] = x
		again := setup.new(t)
		before := takeSnapshot(t, again.Params, again.Opt.State())
		if err := again.Restore(ck); err == nil || !strings.Contains(err.Error(), "carry.") {
			t.Errorf("state %s: Restore: %v, want an error naming it", key, err)
		}
		if d := before.diff(takeSnapshot(t, again.Params, again.Opt.State())); d != "" || lmOf(again).carry != nil {
			t.Errorf("state %s: a refused Restore changed the run: %s", key, d)
		}
	}
}

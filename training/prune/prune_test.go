package prune

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
)

func params(t *testing.T, dt tensor.Dtype, vals map[string][]float64, shapes map[string][]int, order ...string) *graph.Params {
	t.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range order {
		x, err := graph.FromFloat64s(dt, vals[n], shapes[n]...)
		if err != nil {
			t.Fatal(err)
		}
		if err := ps.Add(n, x); err != nil {
			t.Fatal(err)
		}
	}
	return ps
}

func values(t *testing.T, ps *graph.Params, n string) []float64 {
	t.Helper()
	x, _ := ps.Get(n)
	v, err := graph.Float64s(x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// A small hand-worked case: per tensor each matrix loses its smallest
// half, globally the smallest half of all weights goes; the bias and the
// embedding are not touched.
func TestMagnitudeByHand(t *testing.T) {
	vals := map[string][]float64{
		"a.weight":         {0.5, -0.1, 0.3, -0.7},
		"b.weight":         {2, -3, 0.2, 1},
		"b.bias":           {0.01, 0.02},
		"embedding.weight": {0.001, 1, 2, 3},
	}
	shapes := map[string][]int{"a.weight": {2, 2}, "b.weight": {2, 2}, "b.bias": {2}, "embedding.weight": {2, 2}}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, c := range []struct {
			global bool
			want   map[string][]float64
		}{
			{false, map[string][]float64{"a.weight": {0.5, 0, 0, -0.7}, "b.weight": {2, -3, 0, 0}}},
			{true, map[string][]float64{"a.weight": {0, 0, 0, -0.7}, "b.weight": {2, -3, 0, 1}}},
		} {
			ps := params(t, dt, vals, shapes, "embedding.weight", "a.weight", "b.weight", "b.bias")
			m, err := Magnitude(ps, 0.5, Options{Global: c.global})
			if err != nil {
				t.Fatal(err)
			}
			if len(m) != 2 {
				t.Fatalf("masks for %v, want a.weight and b.weight", m.names())
			}
			if err := m.Apply(ps); err != nil {
				t.Fatal(err)
			}
			for n, w := range c.want {
				if got := values(t, ps, n); !equal(got, rounded(dt, w)) {
					t.Errorf("global %v: %s = %v, want %v", c.global, n, got, w)
				}
			}
			for _, n := range []string{"b.bias", "embedding.weight"} {
				if got := values(t, ps, n); !equal(got, rounded(dt, vals[n])) {
					t.Errorf("%s changed: %v", n, got)
				}
			}
			rep, total, err := Report(ps, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep) != 2 || total.Size != 8 || total.Zeros != 4 {
				t.Errorf("report %v, total %+v", rep, total)
			}
		}
	}
}

// rounded returns v as dt holds it.
func rounded(dt tensor.Dtype, v []float64) []float64 {
	if dt != tensor.Float32 {
		return v
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(float32(x))
	}
	return out
}

func TestMagnitudeBadInput(t *testing.T) {
	ps := params(t, tensor.Float64, map[string][]float64{"b": {1, 2}}, map[string][]int{"b": {2}}, "b")
	for _, s := range []float64{-0.1, 1, 1.5, math.NaN()} {
		if _, err := Magnitude(ps, s, Options{}); err == nil || !strings.Contains(err.Error(), "[0, 1)") {
			t.Errorf("sparsity %v: %v", s, err)
		}
	}
	if _, err := Magnitude(ps, 0.5, Options{}); err == nil || !strings.Contains(err.Error(), "no parameter to prune") {
		t.Errorf("no weights: %v", err)
	}
	if err := (Masks{"nope": {true}}).Apply(ps); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown mask: %v", err)
	}
	if err := (Masks{"b": {true}}).Apply(ps); err == nil || !strings.Contains(err.Error(), "holds 1 values") {
		t.Errorf("short mask: %v", err)
	}
}

// The cubic schedule at its ends and in between, against the formula.
func TestScheduleAt(t *testing.T) {
	s := Schedule{Final: 0.8, Start: 10, End: 50, Every: 10}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := map[int]float64{10: 0, 20: 0.8 - 0.8*0.421875, 30: 0.8 - 0.8*0.125, 40: 0.8 - 0.8*0.015625, 50: 0.8}
	for step := 0; step <= 60; step++ {
		got, ok := s.At(step)
		w, prune := want[step]
		if ok != prune || (ok && math.Abs(got-w) > 1e-15) {
			t.Errorf("step %d: %v %v, want %v %v", step, got, ok, w, prune)
		}
	}
	for _, bad := range []Schedule{
		{Final: 1, End: 10, Every: 1}, {Final: -0.5, End: 10, Every: 1}, {Final: 0.5, Every: 0}, {Final: 0.5, End: 0, Every: 1},
		{Final: 0.5, Start: 10, End: 5, Every: 1}, {Final: 0.5, End: 10, Every: 3}, {Final: 0.5, Start: -1, End: 9, Every: 1},
		{Final: 0.5, Initial: 0.6, End: 10, Every: 1},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}

// tinyLM returns a Trainer of a small character LSTM language model that
// prunes by sched (none when nil).
func tinyLM(t *testing.T, sched *Schedule) *training.Trainer {
	t.Helper()
	text := strings.Repeat("the quick brown fox jumps over the lazy dog. ", 12)
	v := data.NewCharVocab([]string{text})
	m, err := training.NewLM(training.LMConfig{Model: lm.Config{Embed: 6, Hidden: 10, Cell: cells.LSTMKind, Layers: 2}, Batch: 4, Steps: 8}, v, v.EncodeChars(text))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := training.New(training.Config{Epochs: 3, Optimizer: "adam", LR: 0.01, Clip: 5, Seed: 7, Dtype: "float64"}, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	if sched != nil {
		g, err := NewGradual(*sched, nil)
		if err != nil {
			t.Fatal(err)
		}
		tr.Hook = g
	}
	return tr
}

func trainTo(t *testing.T, tr *training.Trainer, epochs int) {
	t.Helper()
	for tr.Epoch < epochs {
		if _, _, err := tr.TrainEpoch(context.Background(), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
}

func saveLoad(t *testing.T, tr *training.Trainer) *checkpoint.Checkpoint {
	t.Helper()
	ck, err := tr.Checkpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	if err := checkpoint.Save(path, ck); err != nil {
		t.Fatal(err)
	}
	loaded, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return loaded
}

// Gradual pruning reaches its sparsity in every selected tensor, pruned
// weights stay zero through later steps, and a run stopped between two
// pruning steps (masks in force) and resumed from its checkpoint file ends
// bit for bit as the uninterrupted one.
func TestGradualResumesBitForBit(t *testing.T) {
	sched := Schedule{Final: 0.75, Start: 2, End: 14, Every: 4}
	whole := tinyLM(t, &sched)
	trainTo(t, whole, 3)
	perEpoch := whole.Step / 3
	if whole.Step <= sched.End {
		t.Fatalf("only %d steps: the test wants steps after the last pruning step %d", whole.Step, sched.End)
	}
	rep, _, err := Report(whole.Params, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep {
		if want := int(math.Round(0.75 * float64(r.Size))); r.Zeros < want {
			t.Errorf("%s: %d zeros, want at least %d", r.Name, r.Zeros, want)
		}
	}
	for n, m := range whole.Hook.(*Gradual).Masks() {
		v := values(t, whole.Params, n)
		for i, keep := range m {
			if !keep && v[i] != 0 {
				t.Fatalf("%s[%d] pruned but %v", n, i, v[i])
			}
		}
	}

	stopAt := 11 // masks exist (pruned at 2, 6, 10), next pruning at 14
	b := tinyLM(t, &sched)
	for b.Step < stopAt {
		if _, _, err := b.TrainEpoch(context.Background(), nil, func() bool { return b.Step == stopAt }); err != nil {
			t.Fatal(err)
		}
	}
	if stopAt%perEpoch == 0 {
		t.Fatalf("stop at %d falls on an epoch end (%d steps per epoch)", stopAt, perEpoch)
	}
	loaded := saveLoad(t, b)
	if loaded.Meta.Extra[training.HookKey] == "" {
		t.Fatal("the checkpoint keeps no pruning schedule")
	}

	resumed := tinyLM(t, &sched)
	if err := resumed.Restore(loaded); err != nil {
		t.Fatal(err)
	}
	trainTo(t, resumed, 3)
	for _, n := range whole.Params.Names() {
		if !equal(values(t, whole.Params, n), values(t, resumed.Params, n)) {
			t.Fatalf("%s differs between the resumed and the uninterrupted run", n)
		}
	}

	// Without the hook a resume is refused; another schedule too; Open
	// (to evaluate) reads it.
	if err := tinyLM(t, nil).Restore(loaded); err == nil || !strings.Contains(err.Error(), "-prune") {
		t.Errorf("resume without the hook: %v", err)
	}
	other := sched
	other.Final = 0.5
	if err := tinyLM(t, &other).Restore(loaded); err == nil || !strings.Contains(err.Error(), "pruning schedule") {
		t.Errorf("resume with another schedule: %v", err)
	}
	op, err := training.Open(loaded)
	if err != nil {
		t.Fatal(err)
	}
	op.Close()
}

// A run without pruning differs from one with it (the test above can
// fail): the hook really acts.
func TestGradualChangesTraining(t *testing.T) {
	a, b := tinyLM(t, nil), tinyLM(t, &Schedule{Final: 0.5, Start: 1, End: 1, Every: 1})
	trainTo(t, a, 1)
	trainTo(t, b, 1)
	_, ta, _ := Report(a.Params, nil)
	_, tb, _ := Report(b.Params, nil)
	if ta.Zeros != 0 || tb.Sparsity() < 0.5 {
		t.Errorf("unpruned %d zeros, pruned sparsity %v", ta.Zeros, tb.Sparsity())
	}
}

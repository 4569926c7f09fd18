package training

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

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

// trainTo trains tr until it has done epochs epochs.
func trainTo(t *testing.T, tr *Trainer, epochs int) {
	t.Helper()
	for tr.Epoch < epochs {
		if _, _, err := tr.TrainEpoch(context.Background(), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// saveLoad writes tr's checkpoint to a file and loads it back.
func saveLoad(t *testing.T, tr *Trainer) *checkpoint.Checkpoint {
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

// sameParams fails unless a and b hold the same parameters, bit for bit.
func sameParams(t *testing.T, a, b *Trainer) {
	t.Helper()
	want, got := paramsOf(t, a.Params), paramsOf(t, b.Params)
	for i := range want {
		for j := range want[i] {
			if math.Float64bits(got[i][j]) != math.Float64bits(want[i][j]) {
				t.Fatalf("parameter %s[%d]: resumed %v, uninterrupted %v", b.Params.Names()[i], j, got[i][j], want[i][j])
			}
		}
	}
	if a.Step != b.Step {
		t.Fatalf("steps %d vs %d", b.Step, a.Step)
	}
}

// checkResume trains a run of newRun for two epochs, and another that
// stops at batch stopAt of its second epoch, saves a checkpoint, and
// continues in a third trainer from the checkpoint loaded back: that one
// must end with the first one's parameters, bit for bit. It returns the
// uninterrupted and the resumed run.
func checkResume(t *testing.T, newRun func(*testing.T) *Trainer, stopAt int) (whole, resumed *Trainer) {
	t.Helper()
	whole = newRun(t)
	trainTo(t, whole, 2)
	b := newRun(t)
	trainTo(t, b, 1)
	if _, done, err := b.TrainEpoch(context.Background(), nil, func() bool { return b.StepInEpoch == stopAt }); err != nil || done {
		t.Fatalf("stop mid-epoch: done=%v, %v", done, err)
	}
	loaded := saveLoad(t, b)
	b.Close()
	resumed = newRun(t)
	if err := resumed.Restore(loaded); err != nil {
		t.Fatal(err)
	}
	if resumed.Epoch != 1 || resumed.StepInEpoch != stopAt {
		t.Fatalf("restored at epoch %d step %d", resumed.Epoch, resumed.StepInEpoch)
	}
	trainTo(t, resumed, 2)
	sameParams(t, whole, resumed)
	return whole, resumed
}

// must returns v through a function that fails the test on err:
// must(f())(t).
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// newTrainer returns a Trainer of m, closed when the test ends.
func newTrainer(t *testing.T, cfg Config, m Model, test Dataset) *Trainer {
	t.Helper()
	tr := must(New(cfg, m, test))(t)
	t.Cleanup(func() { tr.Close() })
	return tr
}

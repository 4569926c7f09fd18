package training

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/optim"
)

// metricsLines returns the epochs of a run directory's metrics.jsonl.
func metricsLines(t *testing.T, dir string) []EpochStats {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, MetricsName))
	if err != nil {
		t.Fatal(err)
	}
	var out []EpochStats
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var st EpochStats
		if err := json.Unmarshal([]byte(line), &st); err != nil {
			t.Fatalf("metrics.jsonl line %q: %v", line, err)
		}
		out = append(out, st)
	}
	return out
}

// Run writes a line of metrics per epoch, step and best checkpoints and the
// loss plot; a run resumed from the checkpoint of its first epoch cuts
// metrics.jsonl back to that epoch and ends bit-identical; the schedules
// apply to a language model as to any model.
func TestRunWritesResumesAndSchedules(t *testing.T) {
	whole, setup := smallLM(t)
	whole.Schedule = Schedule{Step: &optim.StepLR{StepSize: 1, Gamma: 0.5}}
	dir := t.TempDir()
	opts := RunOptions{Dir: dir}
	if err := whole.Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	lines := metricsLines(t, dir)
	if len(lines) != 2 || lines[1].Epoch != 2 || math.IsNaN(lines[1].Test[MetricBitsPerChar]) || lines[1].Steps == 0 {
		t.Fatalf("metrics.jsonl: %+v", lines)
	}
	for _, f := range []string{checkpoint.BestName, LossPlotName, checkpoint.StepName(whole.Step)} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if lr := whole.Opt.LR(); lr != setup.cfg.LR/4 {
		t.Errorf("after two epochs of halving the learning rate is %g, want %g", lr, setup.cfg.LR/4)
	}
	// Resume from the end of the first epoch: the second epoch's line is
	// written again, not twice.
	first, err := checkpoint.Load(filepath.Join(dir, checkpoint.StepName(whole.Step/2)))
	if err != nil {
		t.Fatal(err)
	}
	resumed := setup.new(t)
	if err := resumed.Restore(first); err != nil {
		t.Fatal(err)
	}
	if resumed.Schedule.Step == nil || resumed.Epoch != 1 {
		t.Fatalf("restored the schedule %+v at epoch %d", resumed.Schedule, resumed.Epoch)
	}
	if err := resumed.Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if again := metricsLines(t, dir); len(again) != 2 || again[0].TrainLoss != lines[0].TrainLoss || again[1].TrainLoss != lines[1].TrainLoss {
		t.Fatalf("metrics.jsonl after the resume: %+v, before %+v", again, lines)
	}
	sameParams(t, whole, resumed)
}

// A cancelled run stops after the current step, saves a checkpoint of it
// and says so; resumed from it, the run ends bit-identical.
func TestRunInterruptedSavesAndResumes(t *testing.T) {
	whole, setup := smallRun(t, 0.2)
	trainTo(t, whole, 2)

	tr := setup.new(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := RunOptions{Dir: dir, OnStep: func(s StepStats) {
		if tr.Epoch == 1 && s.Step == 2 {
			cancel()
		}
	}}
	err := tr.Run(ctx, opts)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted at epoch 2, batch 2") {
		t.Fatalf("cancelled run: %v", err)
	}
	resumed := setup.new(t)
	path, err := resumed.Resume(opts)
	if err != nil || filepath.Base(path) != checkpoint.StepName(tr.Step) {
		t.Fatalf("resume: %s, %v", path, err)
	}
	if resumed.Epoch != 1 || resumed.StepInEpoch != 2 {
		t.Fatalf("resumed at epoch %d, batch %d", resumed.Epoch+1, resumed.StepInEpoch)
	}
	if err := resumed.Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	sameParams(t, whole, resumed)
	if lines := metricsLines(t, dir); len(lines) != 2 {
		t.Fatalf("%d lines in metrics.jsonl, want 2", len(lines))
	}
}

// An epoch's line of metrics.jsonl: fixed field order, the test metrics
// as fields of their own, NaN as null, and read back.
func TestEpochStatsJSON(t *testing.T) {
	st := EpochStats{Epoch: 3, TrainLoss: 1.5, Test: Metrics{MetricLoss: 1.25, MetricExactMatch: math.NaN()}, EpochSeconds: 2, Steps: 7}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"epoch":3,"train_loss":1.5,"test_exact_match":null,"test_loss":1.25,"epoch_seconds":2,"steps":7,"graphs_compiled":0,"compile_seconds":0}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var back EpochStats
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Epoch != 3 || back.TestLoss() != 1.25 || !math.IsNaN(back.Test[MetricExactMatch]) || back.Steps != 7 {
		t.Fatalf("read back %+v", back)
	}
	if err := json.Unmarshal([]byte(`{"epoch":"x"}`), &back); err == nil {
		t.Error("a line with a bad epoch was read")
	}
}

// Open rebuilds any registered kind from its checkpoint, which then
// evaluates as the trainer that wrote it; a checkpoint of another kind,
// an unknown kind and a kind registered twice are errors.
func TestOpenAndKinds(t *testing.T) {
	ctx := context.Background()
	lmRun, setup := tinyLM(t)
	trainTo(t, lmRun, 1)
	opened, err := Open(saveLoad(t, lmRun))
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	if _, ok := opened.Model.(*LM); !ok || opened.Step != lmRun.Step {
		t.Fatalf("opened a %T at step %d", opened.Model, opened.Step)
	}
	text := must(lmOf(lmRun).Text(setup.train))(t)
	want := must(lmRun.Evaluate(ctx, text))(t)
	got := must(opened.Evaluate(ctx, text))(t)
	if got[MetricLoss] != want[MetricLoss] {
		t.Errorf("opened model's loss %v, the trainer's %v", got[MetricLoss], want[MetricLoss])
	}
	s2sRun, _ := smallRun(t, 0)
	if err := s2sRun.Restore(saveLoad(t, lmRun)); err == nil || !strings.Contains(err.Error(), `holds a "lm" model`) {
		t.Errorf("a language model's checkpoint restored into a Seq2Seq run: %v", err)
	}
	ck := saveLoad(t, lmRun)
	ck.Meta.Extra[KindKey] = "no-such-kind"
	if _, err := Open(ck); err == nil || !strings.Contains(err.Error(), `unknown model kind "no-such-kind"`) {
		t.Errorf("Open of an unknown kind: %v", err)
	}
	if err := Register(LMKind, func(_, _ json.RawMessage) (Model, error) { return nil, nil }); err == nil {
		t.Error("a kind registered twice")
	}
	if got := Kinds(); !slices.IsSorted(got) || !slices.Contains(got, LMKind) || !slices.Contains(got, Seq2SeqKind) || !slices.Contains(got, TreeKind) {
		t.Errorf("Kinds() = %v", got)
	}
}

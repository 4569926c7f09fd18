package main

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
	"github.com/rnnkit/rnnkit/training/preset"
)

// A tiny training run writes everything a run must, resumes, and its
// checkpoint evaluates and translates.
func TestTrainEvalTranslate(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	args := []string{"train", "-preset", "date-attention", "-examples", "300", "-epochs", "1", "-hidden", "16",
		"-embed", "8", "-batch", "32", "-out", out, "-log-every", "1000"}
	so, se, code := runCmd(t, args...)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, so, se)
	}
	for _, f := range []string{"config.json", "metrics.jsonl", "loss.png", "best.safetensors", "attention-1.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(out, "ckpt-*.safetensors")); len(m) != 1 {
		t.Errorf("step checkpoints %v, want one", m)
	}
	var cfg map[string]any
	b, _ := os.ReadFile(filepath.Join(out, "config.json"))
	if err := json.Unmarshal(b, &cfg); err != nil || cfg["git_revision"] == nil || cfg["go_version"] == nil {
		t.Errorf("config.json: %v %v", err, cfg)
	}
	m, _ := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	var st map[string]float64
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(m))), &st); err != nil {
		t.Fatalf("metrics.jsonl %q: %v", m, err)
	}
	for _, k := range []string{"epoch", "train_loss", "test_loss", "test_exact_match", "epoch_seconds"} {
		if _, ok := st[k]; !ok {
			t.Errorf("metrics.jsonl lacks %s", k)
		}
	}
	// Resume for a second epoch.
	args[6] = "2"
	so, se, code = runCmd(t, append(args, "-resume")...)
	if code != 0 || !strings.Contains(so, "resumed from") {
		t.Fatalf("resume: exit %d\n%s%s", code, so, se)
	}
	m, _ = os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	if n := len(strings.Split(strings.TrimSpace(string(m)), "\n")); n != 2 {
		t.Errorf("%d epochs in metrics.jsonl after resuming, want 2", n)
	}

	// eval on a file in the book's format.
	pairs := data.Dates(20, graph.NewSource(99))
	pf := filepath.Join(dir, "dates.txt")
	f, _ := os.Create(pf)
	w := bufio.NewWriter(f)
	if err := data.WritePairs(w, pairs, 0, 0); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	f.Close()
	ck := filepath.Join(out, "best.safetensors")
	so, se, code = runCmd(t, "eval", "-checkpoint", ck, "-data", pf)
	if code != 0 || !strings.Contains(so, "20 examples: loss") || !strings.Contains(so, "exact match") {
		t.Fatalf("eval: exit %d\n%s%s", code, so, se)
	}
	checkEvalJSON(t, ck, pf, "seq2seq", "date-attention", 20, "loss", "exact_match", "token_accuracy")
	// translate from standard input, greedy and beam.
	for _, extra := range [][]string{nil, {"-beam", "3"}, {"-temperature", "0.5", "-topk", "5"}} {
		stdin = strings.NewReader("september 27, 1994\n27 Sep 94\n")
		so, se, code = runCmd(t, append([]string{"translate", "-checkpoint", ck}, extra...)...)
		if code != 0 || strings.Count(so, "\n") != 2 {
			t.Fatalf("translate %v: exit %d\n%q%s", extra, code, so, se)
		}
	}
	stdin = os.Stdin
}

func TestTrainUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"train"},
		{"train", "-preset", "nope"},
		{"train", "-preset", "addition", "-epochs", "0"},
		{"train", "-preset", "addition", "-cell", "cnn"},
		{"train", "-preset", "addition", "-lr", "-1"},
		{"train", "-preset", "addition", "extra"},
		{"eval", "-checkpoint", "x"},
		{"translate", "-beam", "-1"},
	} {
		if _, _, code := runCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("no separator here\n"), 0o644)
	if _, se, code := runCmd(t, "train", "-preset", "addition", "-data", bad, "-out", filepath.Join(dir, "r")); code != 1 ||
		!strings.Contains(se, bad) || !strings.Contains(se, "line 1") {
		t.Errorf("bad data file: exit %d, want 1 and a message naming the file and line 1 (%s)", code, se)
	}
	if _, _, code := runCmd(t, "translate", "-checkpoint", filepath.Join(dir, "missing.safetensors")); code != 1 {
		t.Errorf("missing checkpoint: exit %d, want 1", code)
	}
}

func TestTrainCharLMAndSample(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.txt")
	os.WriteFile(corpus, []byte(strings.Repeat("to be or not to be, that is the question. ", 40)), 0o644)
	out := filepath.Join(dir, "lm")
	so, se, code := runCmd(t, "train", "-preset", "charlm", "-data", corpus, "-epochs", "1", "-hidden", "16", "-embed", "8",
		"-batch", "4", "-out", out, "-log-every", "1000")
	if code != 0 || !strings.Contains(so, "bits/char") {
		t.Fatalf("train charlm: exit %d\n%s%s", code, so, se)
	}
	m, _ := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	if !strings.Contains(string(m), "test_perplexity") {
		t.Errorf("metrics.jsonl: %s", m)
	}
	checkEvalJSON(t, filepath.Join(out, "best.safetensors"), corpus, "lm", "charlm", -1, "loss", "perplexity", "bits_per_char")
	so, se, code = runCmd(t, "sample", "-checkpoint", filepath.Join(out, "best.safetensors"), "-prime", "to ", "-length", "30")
	if code != 0 || len([]rune(strings.TrimSpace(so))) < 4 {
		t.Fatalf("sample: exit %d\n%q%s", code, so, se)
	}
	if _, _, code := runCmd(t, "train", "-preset", "charlm"); code != 2 {
		t.Errorf("charlm without -data: exit %d, want 2", code)
	}
	if _, _, code := runCmd(t, "sample", "-checkpoint", filepath.Join(out, "best.safetensors"), "-length", "0"); code != 2 {
		t.Errorf("-length 0: exit %d, want 2", code)
	}
}

func TestTrainSchedules(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	so, se, code := runCmd(t, "train", "-preset", "addition", "-examples", "200", "-epochs", "3", "-hidden", "8", "-embed", "4",
		"-batch", "32", "-out", out, "-lr-step", "1", "-lr-gamma", "0.5", "-plateau", "1", "-early-stop", "5", "-log-every", "1000")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, so, se)
	}
	c, _, err := (&checkpoint.Manager{Dir: out, KeepLast: 10}).Latest()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Meta.Extra["schedule"], `"step"`) {
		t.Fatalf("no schedule state in the checkpoint: %v", c.Meta.Extra)
	}
	lr := c.State["adam.lr"]
	if lr == nil {
		t.Fatalf("no learning rate in the optimiser state: %v", c.State)
	}
	v, _ := graph.Float64s(lr)
	if v[0] > 1e-3/8+1e-12 {
		t.Errorf("after 3 epochs of halving the learning rate is %g, want ≤ %g", v[0], 1e-3/8)
	}
	if _, _, code := runCmd(t, "train", "-preset", "addition", "-lr-step", "1", "-lr-gamma", "0"); code != 2 {
		t.Errorf("-lr-gamma 0: exit %d, want 2", code)
	}
}

func TestDemoRuns(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo")
	so, se, code := runCmd(t, "demo", "-examples", "200", "-epochs", "1", "-out", out)
	if code != 0 || !strings.Contains(so, "test exact match") || !strings.Contains(so, "sample translations") {
		t.Fatalf("demo: exit %d\n%s%s", code, so, se)
	}
}

// checkEvalJSON runs eval -json and checks that it prints exactly one JSON
// object with the model, the preset, the number of examples (any when
// examples < 0) and the metrics named.
func checkEvalJSON(t *testing.T, ckpt, dataPath, model, preset string, examples int, metrics ...string) {
	t.Helper()
	so, se, code := runCmd(t, "eval", "-checkpoint", ckpt, "-data", dataPath, "-json")
	if code != 0 || strings.Count(strings.TrimSpace(so), "\n") != 0 {
		t.Fatalf("eval -json: exit %d, want one line\n%s%s", code, so, se)
	}
	var res struct {
		Model, Preset string
		Examples      int
		Metrics       map[string]float64
	}
	dec := json.NewDecoder(strings.NewReader(so))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil || dec.More() {
		t.Fatalf("eval -json printed %q: %v", so, err)
	}
	if res.Model != model || res.Preset != preset || examples >= 0 && res.Examples != examples || res.Examples < 1 || len(res.Metrics) != len(metrics) {
		t.Fatalf("eval -json: %+v", res)
	}
	for _, m := range metrics {
		if _, ok := res.Metrics[m]; !ok {
			t.Errorf("eval -json lacks the metric %s: %s", m, so)
		}
	}
}

// train -list prints every preset with its model family and a line about
// it.
func TestTrainList(t *testing.T) {
	so, se, code := runCmd(t, "train", "-list")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, se)
	}
	for _, e := range preset.All() {
		if !strings.Contains(so, e.Name+" ") || !strings.Contains(so, e.About) {
			t.Errorf("train -list lacks %s (%s):\n%s", e.Name, e.About, so)
		}
	}
	if n := strings.Count(strings.TrimSpace(so), "\n") + 1; n != len(preset.All()) || n < 5 {
		t.Errorf("train -list printed %d lines for %d presets", n, len(preset.All()))
	}
}

// Every preset checks its flags before any work: a bad value or a flag
// it has not is exit status 2, and -out is not even created.
func TestEveryPresetValidatesFirst(t *testing.T) {
	for _, name := range preset.Names() {
		for _, bad := range [][]string{{"-hidden", "0"}, {"-lr", "Inf"}, {"-nosuch", "1"}, {"-log-every", "0"}} {
			out := filepath.Join(t.TempDir(), "run")
			_, se, code := runCmd(t, append([]string{"train", "-preset", name, "-data", "corpus.txt", "-out", out}, bad...)...)
			if code != 2 || !strings.Contains(se, bad[0]) {
				t.Errorf("%s %v: exit %d, want 2 naming the flag\n%s", name, bad, code, se)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s %v: created -out", name, bad)
			}
		}
	}
}

// The schedules and early stopping apply to the language model as to any
// model (they used to be ignored), and a resume cuts metrics.jsonl back to
// the checkpoint's epoch.
func TestCharLMSchedulesAndResume(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.txt")
	os.WriteFile(corpus, []byte(strings.Repeat("to be or not to be, that is the question. ", 40)), 0o644)
	out := filepath.Join(dir, "lm")
	args := tinyLMArgs(out, corpus, "-epochs", "2", "-keep", "5", "-lr-step", "1", "-lr-gamma", "0.5", "-early-stop", "9")
	if so, se, code := runCmd(t, args...); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, so, se)
	}
	c, path, err := (&checkpoint.Manager{Dir: out}).Latest()
	if err != nil {
		t.Fatal(err)
	}
	lr, _ := graph.Float64s(c.State["adam.lr"])
	if len(lr) != 1 || math.Abs(lr[0]-2e-3/4) > 1e-12 || !strings.Contains(c.Meta.Extra["schedule"], `"early"`) {
		t.Fatalf("after 2 epochs: learning rate %v, schedule %s", lr, c.Meta.Extra["schedule"])
	}
	// Lose the newest checkpoint: the resumed run goes back to epoch 1 and
	// writes epoch 2's line again, in its place.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	so, se, code := runCmd(t, append(args, "-resume")...)
	if code != 0 || !strings.Contains(so, "epoch 1, step") {
		t.Fatalf("resume: exit %d\n%s%s", code, so, se)
	}
	m, _ := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	if lines := strings.Split(strings.TrimSpace(string(m)), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], `{"epoch":2,`) {
		t.Fatalf("metrics.jsonl after the resume:\n%s", m)
	}
}

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/data"
	"github.com/rnnkit/rnnkit/training/preset"
)

// torchEnv returns the environment to run Debian's PyTorch in, or skips
// the test saying why it cannot run.
func torchEnv(t *testing.T) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not running PyTorch")
	}
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s: %v", python, err)
	}
	env := append(os.Environ(), "OMP_WAIT_POLICY=PASSIVE", "OMP_NUM_THREADS=1")
	probe := exec.Command(python, "-c", "import torch")
	probe.Env = env
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("%s cannot import torch (CI installs python3-torch): %v\n%s", python, err, out)
	}
	return env
}

// writePairs writes pairs as question_answer lines.
func writePairs(t *testing.T, path string, pairs []data.Pair) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := data.WritePairs(f, pairs, 0, 0); err != nil {
		t.Fatal(err)
	}
}

// A date model trained in PyTorch (benchmarks/torch_models.py's Seq2Seq,
// on the date-attention preset's vocabulary), imported with rnnkit import
// and evaluated with rnnkit eval, gives the exact match PyTorch reports,
// and the same answer to every test question.
func TestImportPyTorchDateModel(t *testing.T) {
	env := torchEnv(t)
	dir := t.TempDir()
	p, _, _ := preset.Lookup("date-attention")
	vocab, err := p.New().(preset.Importer).Vocab()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(vocab.Tokens())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vocab.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	train, test := data.Split(data.Dates(2000, graph.NewSource(5)), 0.9)
	writePairs(t, filepath.Join(dir, "train.txt"), train)
	writePairs(t, filepath.Join(dir, "test.txt"), test)
	cmd := exec.Command("/usr/bin/python3", filepath.Join("testdata", "import", "date.py"), dir)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("date.py: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	var want struct {
		ExactMatch  float64  `json:"exact_match"`
		Predictions []string `json:"predictions"`
	}
	b, err = os.ReadFile(filepath.Join(dir, "date.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}

	ckpt := filepath.Join(dir, "date.safetensors")
	so, se, code := runCmd(t, "import", "-torch", filepath.Join(dir, "date.pt"), "-preset", "date-attention", "-hidden", "64", "-embed", "16", "-out", ckpt)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, so, se)
	}
	so, se, code = runCmd(t, "eval", "-checkpoint", ckpt, "-data", filepath.Join(dir, "test.txt"), "-json")
	if code != 0 {
		t.Fatalf("eval: exit %d\n%s%s", code, so, se)
	}
	var res evalResult
	if err := json.Unmarshal([]byte(so), &res); err != nil {
		t.Fatal(err)
	}
	got := res.Metrics[training.MetricExactMatch]
	t.Logf("rnnkit eval: exact match %.4f on %d examples; PyTorch %.4f", got, res.Examples, want.ExactMatch)
	if got != want.ExactMatch || res.Examples != len(test) {
		t.Errorf("rnnkit eval: exact match %v on %d examples, PyTorch reports %v on %d", got, res.Examples, want.ExactMatch, len(test))
	}
	tr, m, err := openModel[*training.Seq2Seq]("test", ckpt, "a Seq2Seq model")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	differ := 0
	for i, q := range test {
		ans, err := m.TranslateWith(q.Question, decode.Options{MaxLen: len(q.Answer) + 1}, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if ans[0] != want.Predictions[i] {
			if differ++; differ <= 5 {
				t.Errorf("%q: rnnkit answers %q, PyTorch %q", q.Question, ans[0], want.Predictions[i])
			}
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d answers differ", differ, len(test))
	}
}

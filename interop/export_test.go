package interop_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/interop"
	"github.com/rnnkit/rnnkit/interop/torch"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/training"
)

// The export script as a command: it writes the module's state_dict
// (which imports back into the same model, every value bit for bit, the
// tied output weight included) and the vocabulary; a checkpoint whose
// checksum fails is refused with a message saying so.
func TestExportScriptCommand(t *testing.T) {
	env := pythonEnv(t)
	dir := t.TempDir()
	c := rtCase{Name: "tied", Family: "lm", Dtype: "float32",
		Config: lm.Config{Vocab: 11, Embed: 6, Hidden: 6, Cell: cells.GRUKind, Layers: 2, Tied: true}, Inputs: lmInputs}
	ckpt := filepath.Join(dir, "lm.safetensors")
	ps, err := trainCase(c, ckpt)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join("..", "scripts", "rnnkit_to_torch.py")
	pt, vocab := filepath.Join(dir, "lm.pt"), filepath.Join(dir, "vocab.json")
	t.Log(runPython(t, env, script, ckpt, "--out", pt, "--vocab", vocab))

	sd, err := torch.Load(pt)
	if err != nil {
		t.Fatal(err)
	}
	m, err := newModel(c, false)
	if err != nil {
		t.Fatal(err)
	}
	tr, ms, err := interop.Import(trainCfg(c), m, sd, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if len(ms) != ps.Len() || len(sd.Tensors) != ps.Len()+1 {
		t.Errorf("%d tensors in the file, %d loaded, for %d parameters and a tied copy", len(sd.Tensors), len(ms), ps.Len())
	}
	for _, n := range ps.Names() {
		a, _ := ps.Get(n)
		b, _ := tr.Params.Get(n)
		va, _ := graph.Float64s(a)
		vb, _ := graph.Float64s(b)
		if !reflect.DeepEqual(va, vb) {
			t.Errorf("%s differs after export and import", n)
		}
	}
	b, err := os.ReadFile(vocab)
	if err != nil {
		t.Fatal(err)
	}
	var toks []string
	if err := json.Unmarshal(b, &toks); err != nil || !reflect.DeepEqual(toks, m.(*training.LM).Vocab.Tokens()) {
		t.Errorf("vocabulary %q (%v), want %q", toks, err, m.(*training.LM).Vocab.Tokens())
	}

	raw, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script, bad)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "checksum mismatch") {
		t.Errorf("a damaged checkpoint: %v\n%s", err, out)
	}
}

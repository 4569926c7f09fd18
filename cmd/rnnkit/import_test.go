package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/interop/torch"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// importData is a file of testdata/import (written by its make.py).
func importData(name string) string { return filepath.Join("testdata", "import", name) }

// importBase is an import that works: the addition preset at -hidden 4
// -embed 4 from s2s.pt (modules named emb, enc, dec, fc).
func importBase(out string, extra ...string) []string {
	return append([]string{"import", "-torch", importData("s2s.pt"), "-preset", "addition", "-hidden", "4", "-embed", "4",
		"-vocab", importData("vocab.json"), "-out", out}, extra...)
}

// The rows of import's flags at boundary values (TestCLIBoundaries).
func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		common := []flagSpec{
			{"epochs", "int", "22222", ""}, {"lr-step", "int", "02222", ""}, {"plateau", "int", "02222", ""}, {"early-stop", "int", "02222", ""},
			{"lr", "float", "220222", ""}, {"clip", "float", "020222", ""}, {"lr-gamma", "float", "222222", ""}, {"plateau-factor", "float", "222222", ""},
			{"seed", "uint", "02022", ""}, {"optimizer", "string", "22", ""}, {"dtype", "string", "22", ""}, {"skip-nonfinite", "bool", "22", ""},
			{"batch", "int", "22222", ""}, {"hidden", "int", "22222", ""}, {"embed", "int", "22222", ""}, {"layers", "int", "22222", ""},
			{"cell", "string", "22", ""},
		}
		return []cliCommand{{name: "import", base: importBase("{row}/m.safetensors"),
			flags: append(common,
				flagSpec{"torch", "in", "211", ""}, flagSpec{"preset", "string", "22", ""}, flagSpec{"config", "in", "211", ""},
				flagSpec{"vocab", "in", "211", ""}, flagSpec{"out", "outfile", "2111", ""}, flagSpec{"overwrite", "bool", "22", ""},
				flagSpec{"prefix", "string", "22", ""}, flagSpec{"decoder", "string", "22", ""}, flagSpec{"score", "string", "22", ""},
				flagSpec{"reverse", "bool", "22", ""}, flagSpec{"examples", "int", "22222", ""}),
			rows: []cliRow{
				{flag: "torch", value: importData("truncated.pt"), code: 1, want: "-torch"},
				{flag: "torch", value: importData("corrupt.pt"), code: 1, want: "checksum error"},
				{flag: "torch", value: importData("hostile.pt"), code: 1, want: "posix.system"},
				{flag: "torch", value: importData("int.pt"), code: 1, want: "dtype mismatch for fc.bias"},
				{flag: "torch", value: importData("lm.pt"), code: 1, want: `Unexpected key(s) in state_dict: "encoder.weight"`},
				{flag: "torch", value: importData("vocab.json"), code: 1, want: "-torch"},
				{flag: "hidden", value: "5", code: 1, want: "size mismatch for enc.weight_ih_l0: copying a param with shape [16, 4] from checkpoint, the shape in current model is [20, 4]"},
				{flag: "vocab", value: importData("lm_vocab.json"), code: 1, want: "size mismatch for emb.weight"},
				{flag: "vocab", value: "(absent)", code: 0},
				{flag: "vocab", value: importData("s2s.pt"), code: 1, want: "-vocab"},
				{flag: "config", value: importData("vocab.json"), code: 1, want: "-config"},
				{flag: "preset", value: "charlm", code: 1, want: "Missing key(s)"},
				{flag: "decoder", value: "attention", code: 1, want: "size mismatch for fc.weight"},
				{flag: "prefix", value: "emb.=nothing.", code: 1, want: `Unexpected key(s) in state_dict: "emb.weight"`},
				{flag: "prefix", value: "module.=", code: 0},
				{flag: "out", value: "{file}", code: 1, want: "-overwrite"},
				{flag: "overwrite", value: "=true", code: 0},
				{flag: "cell", value: "gru", code: 1, want: "size mismatch for enc.weight_ih_l0"},
			}}}
	})
}

// An imported PyTorch model is an ordinary checkpoint: its parameters are
// the file's tensors under rnnkit's names, it records kind and preset, and
// eval and translate read it.
func TestImportThenUse(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.safetensors")
	so, se, code := runCmd(t, importBase(out)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, so, se)
	}
	if !strings.Contains(so, "11 tensors (11 float32)") {
		t.Errorf("stdout %q does not count 11 float32 tensors", so)
	}
	c, err := checkpoint.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if c.Meta.Extra[training.KindKey] != training.Seq2SeqKind || c.Meta.Extra[training.PresetKey] != "addition" {
		t.Errorf("extra %v: want kind seq2seq, preset addition", c.Meta.Extra)
	}
	sd, err := torch.Load(importData("s2s.pt"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{"emb.": "embedding.", "enc.": "encoder.", "dec.": "decoder.", "fc.": "fc."}
	for _, tt := range sd.Tensors {
		name := tt.Name
		for old, repl := range names {
			if strings.HasPrefix(name, old) {
				name = repl + strings.TrimPrefix(name, old)
			}
		}
		p, err := c.Params.Lookup(name, tt.Shape...)
		if err != nil {
			t.Fatalf("%s: %v", tt.Name, err)
		}
		got := p.Data().([]float32)
		for i, v := range tt.Data {
			if float64(got[i]) != v {
				t.Fatalf("%s[%d] = %v, the file holds %v", name, i, got[i], v)
			}
		}
	}
	pairs := filepath.Join(dir, "pairs.txt")
	if err := os.WriteFile(pairs, []byte("1+2_3\n40+5_45\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	so, se, code = runCmd(t, "eval", "-checkpoint", out, "-data", pairs, "-json")
	if code != 0 {
		t.Fatalf("eval: exit %d\n%s%s", code, so, se)
	}
	var res evalResult
	if err := json.Unmarshal([]byte(so), &res); err != nil || res.Preset != "addition" || res.Examples != 2 {
		t.Errorf("eval -json %q: %v", so, err)
	}
	stdin = strings.NewReader("1+2\n")
	defer func() { stdin = os.Stdin }()
	if so, se, code = runCmd(t, "translate", "-checkpoint", out); code != 0 || strings.Count(so, "\n") != 1 {
		t.Errorf("translate: exit %d, stdout %q\n%s", code, so, se)
	}
}

// A language model in the names of PyTorch's word_language_model example
// (encoder, rnn, decoder) imports with a vocabulary in the checkpoints'
// JSON form, in float64, and sample reads it.
func TestImportLanguageModel(t *testing.T) {
	out := filepath.Join(t.TempDir(), "lm.safetensors")
	so, se, code := runCmd(t, "import", "-torch", importData("lm.pt"), "-preset", "charlm", "-hidden", "4", "-embed", "4",
		"-vocab", importData("lm_vocab.json"), "-dtype", "float64", "-out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, so, se)
	}
	if so, se, code = runCmd(t, "sample", "-checkpoint", out, "-prime", "to be", "-length", "5"); code != 0 || !strings.HasPrefix(so, "to be") {
		t.Errorf("sample: exit %d, stdout %q\n%s", code, so, se)
	}
}

// -config sets the model's settings; a flag given wins over it; a field
// -config does not name keeps the preset's value; an unknown field is a
// usage error naming it.
func TestImportConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(`{"model": {"hidden": 4, "embed": 9}, "batch": 16}`), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"import", "-torch", importData("s2s.pt"), "-preset", "addition", "-config", cfg, "-vocab", importData("vocab.json")}
	out := filepath.Join(dir, "a.safetensors")
	if so, se, code := runCmd(t, append(args, "-embed", "4", "-out", out)...); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, so, se)
	}
	c, err := checkpoint.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	var rc struct {
		Model training.Seq2SeqConfig `json:"model"`
	}
	if err := json.Unmarshal(c.Meta.Model, &rc); err != nil {
		t.Fatal(err)
	}
	if m := rc.Model; m.Model.Hidden != 4 || m.Model.Embed != 4 || m.Batch != 16 || m.BucketWidth != 4 {
		t.Errorf("config %+v: want hidden 4 (-config), embed 4 (flag), batch 16 (-config), bucket width 4 (preset)", m)
	}
	out2 := filepath.Join(dir, "b.safetensors")
	so, se, code := runCmd(t, append(args, "-out", out2)...)
	if code != 1 || !strings.Contains(se, "size mismatch for emb.weight: copying a param with shape [15, 4] from checkpoint, the shape in current model is [15, 9]") {
		t.Errorf("embed 9 from -config: exit %d\n%s%s", code, so, se)
	}
	if err := os.WriteFile(cfg, []byte(`{"model": {"hidden": 4, "hiden": 4}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if so, se, code := runCmd(t, append(args, "-out", out2)...); code != 1 || !strings.Contains(se, `unknown field "hiden"`) {
		t.Errorf("unknown field: exit %d\n%s%s", code, so, se)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Errorf("a failed import wrote %s", out2)
	}
}

// Damaged, hostile and mismatched PyTorch files: exit status 1, a message
// that names the problem (the key and both shapes for a mismatch), no
// panic, and nothing written — not even over an existing -out.
func TestImportBadInput(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"truncated", []string{"-torch", importData("truncated.pt")}, "torch: malformed or unsupported file"},
		{"corrupt", []string{"-torch", importData("corrupt.pt")}, `record "s2s/data/0": zip: checksum error`},
		{"unknown global", []string{"-torch", importData("hostile.pt")}, "posix.system"},
		{"not a .pt", []string{"-torch", importData("vocab.json")}, "-torch"},
		{"non-float tensor", []string{"-torch", importData("int.pt")},
			"dtype mismatch for fc.bias: copying a param of dtype int64 with shape [15] from checkpoint, the param in current model is float32 with shape [15]."},
		{"another architecture", []string{"-torch", importData("lm.pt")},
			`Missing key(s) in state_dict: "embedding.weight", "encoder.weight_ih_l0"`},
		{"shape mismatch", []string{"-hidden", "5"},
			"size mismatch for enc.weight_hh_l0: copying a param with shape [16, 4] from checkpoint, the shape in current model is [20, 5]."},
		{"vocabulary size", []string{"-vocab", importData("lm_vocab.json")},
			"size mismatch for emb.weight: copying a param with shape [15, 4] from checkpoint, the shape in current model is [12, 4]."},
	} {
		dir := t.TempDir()
		out := filepath.Join(dir, "m.safetensors")
		so, se, code := runCmd(t, importBase(out, c.args...)...)
		noCrash(t, c.name, se)
		if code != 1 || !strings.Contains(se, c.want) {
			t.Errorf("%s: exit %d, want 1 with %q\n%s%s", c.name, code, c.want, so, se)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s: wrote %s", c.name, ents[0].Name())
		}
		if err := os.WriteFile(out, []byte("kept"), 0o644); err != nil {
			t.Fatal(err)
		}
		runCmd(t, importBase(out, append(c.args, "-overwrite")...)...)
		if b, _ := os.ReadFile(out); string(b) != "kept" {
			t.Errorf("%s: a failed import with -overwrite replaced -out", c.name)
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// wordLines is a small text of lines for the wordlm preset.
var wordLines = strings.Repeat("the cat sat on the mat .\nthe dog sat on the log .\n\n", 40)

// The wordlm preset's rows of the CLI table (its text made next to the
// table's fixture directory), and its flags beside charlm's.
func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		dir := filepath.Join(filepath.Dir(fx.dir), "wordlm-fixtures")
		text := filepath.Join(dir, "lines.txt")
		if err := os.MkdirAll(dir, 0o755); err == nil {
			err = os.WriteFile(text, []byte(wordLines), 0o644)
		}
		tiny := []string{"-epochs", "1", "-hidden", "4", "-embed", "4", "-layers", "1", "-log-every", "1000", "-out", "{out}"}
		return []cliCommand{
			{name: "train wordlm", base: append([]string{"train", "-preset", "wordlm", "-data", text, "-batch", "2", "-bptt", "8"}, tiny...),
				flags: append(append([]flagSpec(nil), trainCommon...), flagSpec{"bptt", "int", "22222", ""}, flagSpec{"dropout", "float", "a22222", ""},
					flagSpec{"max-vocab", "int", "a2222", ""}, flagSpec{"min-count", "int", "22222", ""}, flagSpec{"data", "in", "211", ""}),
				rows: []cliRow{
					{flag: "data", value: "(absent)", code: 2, want: "the wordlm preset needs -data"},
					{flag: "data", value: fx.corpus, code: 1, want: "corpus.txt: training: test corpus"},
					{flag: "data", value: fx.dir + "/afile.txt", code: 1, want: "afile.txt: training: training corpus"},
					{flag: "dropout", value: "1", code: 2, want: "-dropout 1: want a probability"},
					{flag: "max-vocab", value: "3", code: 0},
				}},
			{name: "train charlm -dropout", base: append([]string{"train", "-preset", "charlm", "-data", fx.corpus, "-batch", "2", "-bptt", "8"}, tiny...),
				rows: []cliRow{
					{flag: "dropout", value: "0.3", code: 0},
					{flag: "dropout", value: "-0.1", code: 2, want: "-dropout -0.1: want a probability"},
					{flag: "max-vocab", value: "3", code: 2, want: "-max-vocab does not apply to the charlm preset"},
				}},
		}
	})
}

// A word model end to end: train, sample words after a prime (the words
// follow it after a space, line ends as line breaks), eval -json.
func TestWordLMCommand(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "lines.txt")
	if err := os.WriteFile(text, []byte(wordLines), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	if so, se, code := runCmd(t, "train", "-preset", "wordlm", "-data", text, "-epochs", "3", "-hidden", "16", "-embed", "8",
		"-batch", "2", "-bptt", "8", "-log-every", "1000", "-out", out); code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, so, se)
	} else if !strings.Contains(so, "bits/word") || !strings.Contains(so, "sample (temperature 0.8) after \"the cat sat\"") {
		t.Errorf("train's report:\n%s", so)
	}
	ck := filepath.Join(out, checkpoint.BestName)
	so, se, code := runCmd(t, "sample", "-checkpoint", ck, "-prime", "the dog", "-length", "12", "-temperature", "0")
	if code != 0 {
		t.Fatalf("sample: exit %d\n%s", code, se)
	}
	first, _, _ := strings.Cut(so, "\n")
	if !strings.HasPrefix(first, "the dog ") || len(strings.Fields(so)) < 4 {
		t.Errorf("sample: %q", so)
	}
	so, se, code = runCmd(t, "eval", "-checkpoint", ck, "-data", text, "-json")
	if code != 0 || !strings.Contains(so, `"preset":"wordlm"`) || !strings.Contains(so, `"perplexity"`) {
		t.Errorf("eval: exit %d %s%s", code, so, se)
	}
}

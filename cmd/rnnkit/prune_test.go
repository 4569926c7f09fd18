package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		tiny := []string{"-epochs", "1", "-hidden", "4", "-embed", "4", "-log-every", "1000", "-out", "{out}"}
		return []cliCommand{
			{name: "prune", base: []string{"prune", "-checkpoint", fx.lm, "-out", "{row}/p.safetensors", "-sparsity", "0.5"},
				flags: []flagSpec{{"checkpoint", "in", "211", ""}, {"out", "outfile", "2111", ""}, {"sparsity", "float", "022222", ""},
					{"global", "bool", "22", ""}, {"data", "in", "211", ""}, {"structured", "bool", "22", ""}},
				rows: []cliRow{
					{flag: "data", value: fx.corpus, code: 0},
					{flag: "out", value: fx.lm, code: 2, want: "must not be the -checkpoint"},
					{flag: "sparsity", value: "1", code: 2, want: "[0, 1)"},
					{flag: "structured", value: "=true", code: 0},
				}},
			{name: "train charlm -prune", base: append([]string{"train", "-preset", "charlm", "-data", fx.corpus, "-batch", "2", "-bptt", "8", "-prune", "0.5"}, tiny...),
				flags: []flagSpec{{"prune", "float", "222222", ""}, {"prune-start", "int", "a2222", ""}, {"prune-end", "int", "22222", ""},
					{"prune-every", "int", "22222", ""}, {"prune-global", "bool", "22", ""}},
				rows: []cliRow{
					{flag: "prune", value: "1", code: 2, want: "(0, 1)"},
					{flag: "prune-end", value: "9", code: 2, want: "multiple of -prune-every"},
					{flag: "prune-start", value: "5", code: 2, want: "applies only with -prune", args: []string{"prune"}},
				}},
		}
	})
}

// rnnkit prune prints each matrix's sparsity and the metrics before and
// after, and its checkpoint evaluates with eval as it is.
func TestPruneCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small model")
	}
	dir := t.TempDir()
	corpus := filepath.Join(dir, "c.txt")
	if err := os.WriteFile(corpus, []byte(strings.Repeat("to be or not to be. ", 60)), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if so, se, code := runCmd(t, "train", "-preset", "charlm", "-data", corpus, "-epochs", "2", "-hidden", "8", "-embed", "4",
		"-batch", "2", "-bptt", "8", "-prune", "0.6", "-prune-every", "2", "-log-every", "1000", "-out", run); code != 0 || !strings.Contains(so, "zero ( 60.") {
		t.Fatalf("train -prune (want the weights 60%% sparse): exit %d\n%s%s", code, so, se)
	}
	if so, se, code := runCmd(t, tinyArgs(filepath.Join(dir, "s2s"))...); code != 0 {
		t.Fatalf("train addition: exit %d\n%s%s", code, so, se)
	}
	out := filepath.Join(dir, "p.safetensors")
	so, se, code := runCmd(t, "prune", "-checkpoint", filepath.Join(run, "best.safetensors"), "-sparsity", "0.8", "-data", corpus, "-out", out)
	if code != 0 {
		t.Fatalf("prune: exit %d\n%s%s", code, so, se)
	}
	for _, want := range []string{"rnn.weight_hh_l0", "( 80.0%)", "perplexity       before", "wrote"} {
		if !strings.Contains(so, want) {
			t.Errorf("prune output lacks %q:\n%s", want, so)
		}
	}
	if so, se, code := runCmd(t, "eval", "-checkpoint", out, "-data", corpus); code != 0 || !strings.Contains(so, "perplexity") {
		t.Fatalf("eval of the pruned checkpoint: exit %d\n%s%s", code, so, se)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-global"}, 2, "-global applies to magnitude pruning"},
		{[]string{"-checkpoint", filepath.Join(dir, "s2s", "best.safetensors")}, 1, "takes a language model"},
	} {
		args := append([]string{"prune", "-structured", "-checkpoint", filepath.Join(run, "best.safetensors"), "-out", filepath.Join(dir, "bad.safetensors")}, c.args...)
		if so, se, code := runCmd(t, args...); code != c.code || !strings.Contains(se, c.want) {
			t.Errorf("%v: exit %d, want %d and %q\n%s%s", args, code, c.code, c.want, so, se)
		}
		if _, err := os.Stat(filepath.Join(dir, "bad.safetensors")); err == nil {
			t.Errorf("%v failed and wrote its -out", args)
		}
	}
	small := filepath.Join(dir, "s.safetensors")
	so, se, code = runCmd(t, "prune", "-structured", "-checkpoint", filepath.Join(run, "best.safetensors"), "-sparsity", "0.5", "-data", corpus, "-out", small)
	if code != 0 || !strings.Contains(so, "layer 0: 4 of 8 hidden units kept") {
		t.Fatalf("prune -structured: exit %d\n%s%s", code, so, se)
	}
	afterLine := regexp.MustCompile(`perplexity +before [0-9.]+, after ([0-9.]+)`).FindStringSubmatch(so)
	if afterLine == nil {
		t.Fatalf("no perplexity line:\n%s", so)
	}
	if so, se, code := runCmd(t, "eval", "-checkpoint", small, "-data", corpus); code != 0 || !strings.Contains(so, "perplexity "+afterLine[1]) {
		t.Fatalf("eval of the shrunk checkpoint (want perplexity %s): exit %d\n%s%s", afterLine[1], code, so, se)
	}
}

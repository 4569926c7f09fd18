package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// sentenceFiles are the sentence family's test files: sentences, and
// checkpoints of a tiny sentence-vae and sentence-lm.
type sentenceFiles struct {
	data, valid, empty, vae, lm string
}

// tinySentences is a small grammar's sentences, one a line.
func tinySentences(n int) string {
	adj, noun, verb := []string{"red", "big", "old"}, []string{"cat", "dog", "bird"}, []string{"runs", "sleeps"}
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "the %s %s %s\n", adj[i%3], noun[(i/3)%3], verb[(i/9)%2])
	}
	return b.String()
}

// sentenceTrainArgs is a sentence run of a second on data.
func sentenceTrainArgs(preset, data, out string) []string {
	return []string{"train", "-preset", preset, "-data", data, "-epochs", "1", "-hidden", "4", "-embed", "4", "-batch", "8",
		"-iw-samples", "2", "-log-every", "1000", "-out", out}
}

// makeSentenceFiles writes the family's data into dir and trains the two
// checkpoints there.
func makeSentenceFiles(dir string) (sentenceFiles, error) {
	sf := sentenceFiles{data: filepath.Join(dir, "sents.txt"), valid: filepath.Join(dir, "valid.txt"), empty: filepath.Join(dir, "blank.txt")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sf, err
	}
	for path, text := range map[string]string{sf.data: tinySentences(60), sf.valid: tinySentences(9), sf.empty: "\n  \n"} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return sf, err
		}
	}
	for _, c := range []struct {
		preset string
		path   *string
	}{{"sentence-vae", &sf.vae}, {"sentence-lm", &sf.lm}} {
		out := filepath.Join(dir, c.preset)
		if err := run(context.Background(), sentenceTrainArgs(c.preset, sf.data, out), io.Discard, io.Discard); err != nil {
			return sf, err
		}
		*c.path = filepath.Join(out, checkpoint.BestName)
	}
	return sf, nil
}

// The sentence family's rows of the CLI table (files made beside the
// table's fixture directory, as the tree family's are).
func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		sf, err := makeSentenceFiles(filepath.Join(filepath.Dir(fx.dir), "sentence-fixtures"))
		if err != nil {
			return []cliCommand{{name: fmt.Sprintf("sentence fixtures: %v", err), base: []string{"sentence-fixtures"}, rows: []cliRow{{flag: "x", value: "y"}}}}
		}
		train := sentenceTrainArgs("sentence-vae", sf.data, "{out}")
		return []cliCommand{
			{name: "train sentence-vae", base: train,
				flags: []flagSpec{{"latent", "int", "22222", ""}, {"word-dropout", "float", "a22222", ""}, {"free-bits", "float", "a22222", ""},
					{"anneal-steps", "int", "a2222", ""}, {"anneal-k", "float", "22a222", ""}, {"iw-samples", "int", "22222", ""},
					{"max-len", "int", "22222", ""}, {"vocab-size", "int", "22222", ""}, {"pad", "int", "22222", ""},
					{"anneal", "string", "22", ""}, {"valid", "in", "222", ""}, {"data", "in", "211", ""}},
				rows: []cliRow{
					{flag: "data", value: "(absent)", code: 2, want: "need -data FILE"},
					{flag: "data", value: sf.empty, code: 1, want: "holds no sentence"},
					{flag: "max-len", value: "2", code: 1, want: "of at most 2 words (-max-len)"},
					{flag: "valid", value: sf.valid, code: 0, heavy: true},
					{flag: "anneal", value: "none", code: 0, heavy: true},
					{flag: "bptt", value: "8", code: 2, want: "-bptt does not apply to the sentence-vae preset"},
				}},
			{name: "train sentence-lm", base: sentenceTrainArgs("sentence-lm", sf.data, "{out}"),
				rows: []cliRow{{flag: "latent", value: "4", code: 2, want: "-latent does not apply to the sentence-lm preset"}}},
			{name: "eval sentence", base: []string{"eval", "-checkpoint", sf.vae, "-data", sf.valid},
				rows: []cliRow{
					{flag: "data", value: sf.empty, code: 1, want: "holds no sentence"},
					{flag: "json", value: "=true", code: 0},
				}},
			{name: "sample sentence-vae", base: []string{"sample", "-checkpoint", sf.vae, "-n", "2", "-maxlen", "6"},
				flags: []flagSpec{{"checkpoint", "in", "211", ""}, {"n", "int", "22222", ""}, {"maxlen", "int", "22222", ""},
					{"temperature", "float", "020222", ""}, {"seed", "uint", "02022", ""}, {"no-unk", "bool", "22", ""}},
				rows: []cliRow{
					{flag: "reconstruct", value: "the red cat runs", code: 0, args: []string{"n"}},
					{flag: "reconstruct", value: " ", code: 2, want: "-reconstruct has no words", args: []string{"n"}},
					{flag: "reconstruct", value: "the red cat", code: 2, want: "-n applies only"},
					{flag: "interpolate", value: "=true", code: 2, want: "takes two sentences", args: []string{"n"}},
					{flag: "steps", value: "3", code: 2, want: "-steps applies only with -interpolate"},
					{flag: "checkpoint", value: fx.s2s, code: 1, want: "not a sentence model"},
					{flag: "checkpoint", value: sf.lm, code: 0},
				}},
			{name: "sample interpolate", base: []string{"sample", "-checkpoint", sf.vae, "-interpolate", "the red cat runs", "the old bird sleeps", "-steps", "3"},
				flags: []flagSpec{{"steps", "int", "22222", ""}},
				rows: []cliRow{
					{flag: "checkpoint", value: sf.lm, code: 1, want: "no latent code"},
					{flag: "reconstruct", value: "the cat", code: 2, want: "exclude each other"},
				}},
		}
	})
}

// The sentence commands end to end on the tiny checkpoints: prior samples
// (the same for the same seed), a reconstruction, an interpolation of
// -steps lines (flags after the sentences too), eval -json with the
// family's metrics; a language model's checkpoint still samples text.
func TestSampleSentences(t *testing.T) {
	sf, err := makeSentenceFiles(filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	lines := func(args ...string) []string {
		t.Helper()
		so, se, code := runCmd(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, se)
		}
		return strings.Split(strings.TrimRight(so, "\n"), "\n")
	}
	a := lines("sample", "-checkpoint", sf.vae, "-n", "4", "-seed", "7", "-temperature", "1")
	b := lines("sample", "-checkpoint", sf.vae, "-n", "4", "-seed", "7", "-temperature", "1")
	if len(a) != 4 || strings.Join(a, "|") != strings.Join(b, "|") {
		t.Errorf("samples %q then %q", a, b)
	}
	if r := lines("sample", "-checkpoint", sf.vae, "-reconstruct", "the red cat runs"); len(r) != 1 {
		t.Errorf("reconstruction %q", r)
	}
	if p := lines("sample", "-checkpoint", sf.vae, "-interpolate", "the red cat runs", "the old bird sleeps", "-steps", "4", "-maxlen", "8"); len(p) != 4 {
		t.Errorf("interpolation %q", p)
	}
	if l := lines("sample", "-checkpoint", sf.lm, "-n", "3"); len(l) != 3 {
		t.Errorf("sentence-lm samples %q", l)
	}
	js := lines("eval", "-checkpoint", sf.vae, "-data", sf.valid, "-json")
	for _, k := range []string{`"model":"vae"`, `"preset":"sentence-vae"`, `"nll_per_sentence"`, `"iw_nll_per_sentence"`, `"kl_per_sentence"`, `"perplexity"`, `"active_units"`} {
		if !strings.Contains(js[0], k) {
			t.Errorf("eval -json lacks %s: %s", k, js[0])
		}
	}
	dir := t.TempDir()
	corpus := filepath.Join(dir, "c.txt")
	if err := os.WriteFile(corpus, []byte(strings.Repeat("to be or not to be. ", 40)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, se, code := runCmd(t, tinyLMArgs(filepath.Join(dir, "lm"), corpus)...); code != 0 {
		t.Fatal(se)
	}
	if out := lines("sample", "-checkpoint", filepath.Join(dir, "lm", checkpoint.BestName), "-length", "5"); len(out) != 1 {
		t.Errorf("charlm sample %q", out)
	}
}

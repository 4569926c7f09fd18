package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/models/word2vec"
)

// w2vData is the directory of the word2vec commands' test files.
var w2vData = filepath.Join("..", "..", "testdata", "word2vec")

func w2vFile(name string) string { return filepath.Join(w2vData, name) }

func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		return []cliCommand{{
			name: "word2vec",
			base: []string{"word2vec", "-train", fx.corpus, "-output", "{row}/v.txt", "-size", "8", "-iter", "1", "-threads", "1"},
			flags: []flagSpec{
				{"train", "in", "211", ""}, {"output", "outfile", "2111", ""},
				{"cbow", "int", "02222", ""}, {"size", "int", "22222", ""}, {"window", "int", "22222", ""},
				{"negative", "int", "22222", ""}, {"hs", "int", "02222", ""}, {"iter", "int", "22222", ""},
				{"min-count", "int", "22222", ""}, {"threads", "int", "22222", ""}, {"binary", "int", "02222", ""},
				{"sample", "float", "022222", ""}, {"alpha", "float", "022222", ""}, {"seed", "uint", "02022", ""},
			},
			rows: []cliRow{
				{flag: "train", value: w2vFile("empty.txt"), code: 1, want: "empty corpus"},
				{flag: "train", value: w2vFile("not-utf8.txt"), code: 1, want: "not valid UTF-8"},
				{flag: "min-count", value: "1000", code: 1, want: "no word occurs min-count times"},
				{flag: "hs", value: "1", code: 0},
			},
		}}
	})
}

// word2vec writes the C tool's formats (or safetensors by extension) and a
// run record, prints the C tool's summary lines, and with -threads 1 and a
// seed writes the same bytes twice.
func TestWord2vecCommand(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.txt")
	var b strings.Builder
	for i := range 400 {
		b.WriteString([]string{"the cat sat on the mat\n", "a dog ran in the park\n"}[i%2])
	}
	if err := os.WriteFile(corpus, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, out := range []string{"a.bin", "b.bin", "c.txt", "d.safetensors"} {
		bin := "0"
		if strings.HasSuffix(out, ".bin") {
			bin = "1"
		}
		path := filepath.Join(dir, out)
		so, se, code := runCmd(t, "word2vec", "-train", corpus, "-output", path, "-cbow", "0", "-size", "10",
			"-threads", "1", "-seed", "7", "-binary", bin)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", out, code, so, se)
		}
		if !strings.Contains(so, "Vocab size: 11\nWords in train file: 2800\n") || !strings.Contains(so, "Trained 14000 words") {
			t.Errorf("%s: stdout %q", out, so)
		}
		if !strings.Contains(se, "Alpha: ") || !strings.Contains(se, "Words/sec") {
			t.Errorf("%s: no progress line in %q", out, se)
		}
		v, format, err := word2vec.ReadVectorsFile(path)
		if err != nil || format != word2vec.FormatOf(path) || v.Len() != 11 || v.Dim != 10 {
			t.Errorf("%s: %v, %v", out, err, format)
		}
		var rec w2vRecord
		if b, err := os.ReadFile(path + ".json"); err != nil || json.Unmarshal(b, &rec) != nil || rec.Config.Seed != 7 || rec.Summary.Words != 14000 {
			t.Errorf("%s.json: %v %+v", out, err, rec)
		}
		files[out], _ = os.ReadFile(path)
	}
	if string(files["a.bin"]) != string(files["b.bin"]) {
		t.Error("-threads 1 -seed 7 twice: the files differ")
	}
}

package word2vec

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gensimScript loads rnnkit's vectors (text and binary) with gensim and
// reports them, trains gensim on the same corpus and saves its vectors in
// both formats, and evaluates the word pairs with gensim, all as JSON.
const gensimScript = `
import json, sys
from gensim.models import KeyedVectors, Word2Vec
from gensim.models.word2vec import LineSentence
d = sys.argv[1]
out = {"version": __import__("gensim").__version__}
for name, binary in (("rnnkit.txt", False), ("rnnkit.bin", True)):
    kv = KeyedVectors.load_word2vec_format(d + "/" + name, binary=binary)
    out[name] = {"words": list(kv.index_to_key), "first": kv[kv.index_to_key[1]].tolist()}
pearson, spearman, oov = kv.evaluate_word_pairs(d + "/pairs.txt", restrict_vocab=300000, case_insensitive=True)
out["spearman"] = float(spearman[0])
m = Word2Vec(LineSentence(d + "/corpus.txt"), vector_size=8, window=3, min_count=1, workers=1, seed=1, epochs=1)
m.wv.save_word2vec_format(d + "/gensim.txt", binary=False)
m.wv.save_word2vec_format(d + "/gensim.bin", binary=True)
out["gensim"] = {"words": list(m.wv.index_to_key), "vectors": [m.wv[w].tolist() for w in m.wv.index_to_key]}
json.dump(out, open(d + "/out.json", "w"))
`

// rnnkit's vectors load in gensim (text and binary, the same words and
// values) and gensim's load in rnnkit (text and binary); gensim's Spearman
// ρ of the same vectors and pairs equals rnnkit's. Skipped, saying why,
// where /usr/bin/python3 has no gensim (Debian: apt-get install
// python3-gensim).
func TestGensimInterop(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import gensim").Run(); err != nil {
		t.Skipf("no gensim for %s (%v): apt-get install python3-gensim", python, err)
	}
	dir := t.TempDir()
	text := topicCorpus(6)
	m, _ := trainText(t, text, smallConfig(false, false))
	v := m.Vectors()
	pairs := "a1\ta2\t9\na1\tb3\t1\nb2\tb5\t8\na4\tb4\t2\nA7\ta9\t7\nb1\tzzz\t5\n"
	for name, content := range map[string]string{"corpus.txt": text, "pairs.txt": pairs, "script.py": gensimScript} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, f := range map[string]Format{"rnnkit.txt": Text, "rnnkit.bin": Binary} {
		if err := v.WriteFile(filepath.Join(dir, name), f); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(python, filepath.Join(dir, "script.py"), dir).CombinedOutput(); err != nil {
		t.Fatalf("gensim: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Version  string
		Text     gensimLoaded `json:"rnnkit.txt"`
		Bin      gensimLoaded `json:"rnnkit.bin"`
		Spearman float64
		Gensim   struct {
			Words   []string
			Vectors [][]float64
		}
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	t.Logf("gensim %s", out.Version)
	for name, got := range map[string]gensimLoaded{"text": out.Text, "binary": out.Bin} {
		if strings.Join(got.Words, " ") != strings.Join(v.Words, " ") {
			t.Errorf("gensim read rnnkit's %s vectors' words as %q", name, got.Words)
		}
		for j, x := range got.First {
			if math.Abs(x-float64(v.Row(1)[j])) > 1e-6 {
				t.Errorf("gensim read rnnkit's %s vector 1 as %v, want %v", name, got.First, v.Row(1))
				break
			}
		}
	}
	sim, err := Similarity(v, strings.NewReader(pairs))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(sim.Spearman-out.Spearman) > 1e-9 || sim.Skipped != 1 {
		t.Errorf("Spearman: rnnkit %v (%d skipped), gensim %v", sim.Spearman, sim.Skipped, out.Spearman)
	}
	for _, name := range []string{"gensim.txt", "gensim.bin"} {
		g, format, err := ReadVectorsFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("rnnkit reading %s: %v", name, err)
		}
		if want := map[string]Format{"gensim.txt": Text, "gensim.bin": Binary}[name]; format != want {
			t.Errorf("%s read as %v", name, format)
		}
		if strings.Join(g.Words, " ") != strings.Join(out.Gensim.Words, " ") || g.Dim != 8 {
			t.Fatalf("%s: %d words of size %d, want gensim's %d of size 8", name, g.Len(), g.Dim, len(out.Gensim.Words))
		}
		for i, row := range out.Gensim.Vectors {
			for j, x := range row {
				if math.Abs(x-float64(g.Row(i)[j])) > 1e-6*(1+math.Abs(x)) {
					t.Fatalf("%s: %s[%d] = %v, gensim has %v", name, g.Words[i], j, g.Row(i)[j], x)
				}
			}
		}
	}
}

type gensimLoaded struct {
	Words []string
	First []float64
}

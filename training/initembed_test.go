package training

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/embed"
	"github.com/rnnkit/rnnkit/models/word2vec"
)

// InitEmbedding copies the vector of every vocabulary token the file has
// (as written, or case-folded) into its row of embedding.weight, leaves
// the other rows and every other parameter as initialised, and refuses
// vectors of another width without changing anything.
func TestInitEmbedding(t *testing.T) {
	tr, _ := smallLM(t) // a character language model: its tokens are characters
	toks := tr.Model.Describe().Vocab.Tokens()
	before := paramsOf(t, tr.Params)
	names := tr.Params.Names()
	E := 8
	// Vectors for two tokens of the vocabulary (one given in upper case)
	// and one word it lacks.
	var words []string
	var known []string
	for _, tok := range toks {
		if len(tok) == 1 && tok[0] >= 'a' && tok[0] <= 'z' && len(known) < 2 {
			known = append(known, tok)
		}
	}
	if len(known) < 2 {
		t.Fatalf("the test's vocabulary %q has fewer than two lower-case letters", toks)
	}
	words = []string{known[0], strings.ToUpper(known[1]), "notaword"}
	data := make([]float32, len(words)*E)
	for i := range data {
		data[i] = float32(i) / 4
	}
	vecs, err := word2vec.NewVectors(words, E, data)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "vec.txt")
	if err := vecs.WriteFile(path, word2vec.Text); err != nil {
		t.Fatal(err)
	}

	narrow := filepath.Join(t.TempDir(), "narrow.txt")
	v3, _ := word2vec.NewVectors([]string{known[0]}, 3, []float32{1, 2, 3})
	if err := v3.WriteFile(narrow, word2vec.Text); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tr.InitEmbedding(narrow); err == nil || !strings.Contains(err.Error(), "3 values") {
		t.Fatalf("vectors of 3 values into an embedding of %d: error %v", E, err)
	}
	if _, _, err := tr.InitEmbedding(filepath.Join(t.TempDir(), "missing.txt")); err == nil {
		t.Fatal("a missing file: no error")
	}
	for i, p := range paramsOf(t, tr.Params) {
		for j := range p {
			if p[j] != before[i][j] {
				t.Fatalf("%s changed by a failed InitEmbedding", names[i])
			}
		}
	}

	n, v, err := tr.InitEmbedding(path)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || v != len(toks) {
		t.Fatalf("copied %d of %d rows, want 2 of %d", n, v, len(toks))
	}
	w, _ := tr.Params.Get(embed.DefaultName)
	got, err := graph.Float64s(w)
	if err != nil {
		t.Fatal(err)
	}
	row := map[string]int{known[0]: 0, known[1]: 1}
	after := paramsOf(t, tr.Params)
	for i, name := range names {
		if name != embed.DefaultName {
			for j := range after[i] {
				if after[i][j] != before[i][j] {
					t.Fatalf("%s changed", name)
				}
			}
			continue
		}
		for id, tok := range toks {
			for j := 0; j < E; j++ {
				want := before[i][id*E+j]
				if r, ok := row[tok]; ok {
					want = float64(data[r*E+j])
				}
				if got[id*E+j] != want {
					t.Fatalf("row %d (%q) element %d = %v, want %v", id, tok, j, got[id*E+j], want)
				}
			}
		}
	}
}

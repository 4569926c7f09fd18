package word2vec

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// analogyVectors places words so that b − a + c lands on known answers:
// king − man + woman = queen, paris − france + italy = rome.
func analogyVectors(t *testing.T) *Vectors {
	t.Helper()
	rows := map[string][]float32{
		"man": {1, 0, 0, 0}, "woman": {1, 1, 0, 0}, "king": {1, 0, 1, 0}, "queen": {1, 1, 1, 0},
		"france": {0, 0, 0, 1}, "italy": {0, 1, 0, 1}, "paris": {0, 0, 1, 1}, "rome": {0, 1, 1, 1},
		"walk": {0.1, 0, 0.2, 0}, "walked": {0.1, 0.3, 0.2, 0.05},
	}
	words := []string{"</s>", "man", "woman", "king", "queen", "france", "italy", "paris", "rome", "walk", "walked"}
	var data []float32
	for _, w := range words[1:] {
		data = append(data, rows[w]...)
	}
	v, err := NewVectors(words, 4, append([]float32{0.01, 0.01, 0.01, 0.01}, data...))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const questions = `: capital-common-countries
France Paris Italy Rome
France Paris Italy Atlantis
: family
man king woman queen
man woman king queen
: s3
: s4
: s5
: gram1
walk walked walk walked
man king woman rome
`

// Analogy answers with compute-accuracy's rules: case-insensitive words,
// the three question words excluded, unknown words skipped and counted,
// the first five sections semantic, the restricted vocabulary.
func TestAnalogy(t *testing.T) {
	v := analogyVectors(t)
	res, err := Analogy(v, strings.NewReader(questions), 0)
	if err != nil {
		t.Fatal(err)
	}
	// Seen: 2 capitals questions minus Atlantis = 1, 2 family, 2 gram1.
	// Correct: rome, queen, queen; gram1's first excludes walk and walked
	// (all three words are walk/walked), the second's answer is queen.
	if res.Seen != 5 || res.Total != 6 || res.Correct != 3 {
		t.Errorf("seen %d total %d correct %d, want 5, 6, 3", res.Seen, res.Total, res.Correct)
	}
	if res.SemanticSeen != 3 || res.SemanticCorrect != 3 || res.SyntacticSeen != 2 || res.SyntacticCorrect != 0 {
		t.Errorf("semantic %d/%d, syntactic %d/%d", res.SemanticCorrect, res.SemanticSeen, res.SyntacticCorrect, res.SyntacticSeen)
	}
	if len(res.Sections) != 6 || res.Sections[0].Name != "capital-common-countries" || !res.Sections[4].Semantic || res.Sections[5].Semantic {
		t.Errorf("sections %+v", res.Sections)
	}
	if math.Abs(res.Accuracy-0.6) > 1e-12 || res.Semantic != 1 || res.Syntactic != 0 {
		t.Errorf("accuracy %v, semantic %v, syntactic %v", res.Accuracy, res.Semantic, res.Syntactic)
	}
	// Restricted to the first 5 words (</s> man woman king queen), only
	// the family questions are seen.
	res, err = Analogy(v, strings.NewReader(questions), 5)
	if err != nil {
		t.Fatal(err)
	}
	if res.Seen != 2 || res.Correct != 2 || res.Restrict != 5 {
		t.Errorf("restrict 5: seen %d correct %d restrict %d", res.Seen, res.Correct, res.Restrict)
	}
	for name, bad := range map[string]string{"three words": "a b c\n", "five words": ": s\na b c d e\n"} {
		if _, err := Analogy(v, strings.NewReader(bad), 0); !errors.Is(err, ErrEval) || !strings.Contains(err.Error(), "line") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Analogy(v, strings.NewReader(questions), -1); err == nil {
		t.Error("restrict −1: no error")
	}
}

// Similarity's Spearman ρ uses mean ranks for ties (as scipy's spearmanr)
// and skips and counts pairs with unknown words.
func TestSimilarity(t *testing.T) {
	v := analogyVectors(t)
	pairs := "# comment\nking\tqueen\t9\nman\twoman\t8\nking\tparis\t2\nman\tatlantis\t5\n\nFrance Italy 2\n"
	res, err := Similarity(v, strings.NewReader(pairs))
	if err != nil {
		t.Fatal(err)
	}
	if res.Pairs != 5 || res.Used != 4 || res.Skipped != 1 {
		t.Errorf("pairs %d used %d skipped %d", res.Pairs, res.Used, res.Skipped)
	}
	// Cosines: king·queen = 2/√6 = .816, man·woman = 1/√2 = .707,
	// king·paris = 1/2, france·italy = 1/√2 = .707.
	// Human ranks: 4, 3, 1.5, 1.5; model ranks: 4, 2.5, 1, 2.5.
	want := pearson([]float64{4, 3, 1.5, 1.5}, []float64{4, 2.5, 1, 2.5})
	if math.Abs(res.Spearman-want) > 1e-12 {
		t.Errorf("Spearman %v, want %v", res.Spearman, want)
	}
	if got := ranks([]float64{3, 1, 3, 2, 3}); !equalF(got, []float64{4, 1, 4, 2, 4}) {
		t.Errorf("ranks %v", got)
	}
	for name, bad := range map[string]string{
		"two fields": "a b\n", "bad score": "king queen x\n", "one pair": "king queen 1\n", "constant": "king queen 1\nman woman 1\n",
	} {
		if _, err := Similarity(v, strings.NewReader(bad)); !errors.Is(err, ErrEval) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func equalF(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Neighbors gives the nearest words by cosine, the query left out (king
// = (1,0,1,0): walk ∝ (1,0,2,0) at 0.949, then queen at 0.816).
func TestNeighbors(t *testing.T) {
	v := analogyVectors(t)
	nb, err := v.Neighbors("KING", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(nb) != 3 || nb[0].Word != "walk" || nb[1].Word != "queen" || nb[0].Similarity < nb[1].Similarity || nb[1].Similarity < nb[2].Similarity {
		t.Errorf("neighbours %+v", nb)
	}
	if _, err := v.Neighbors("atlantis", 3); !errors.Is(err, ErrUnknownWord) {
		t.Errorf("unknown word: %v", err)
	}
	if _, err := v.Neighbors("king", 0); err == nil {
		t.Error("k = 0: no error")
	}
}

// The shared evaluation sets parse (where the data is on this machine).
func TestEvalDataParses(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "wordeval")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no evaluation data at %s: %v", dir, err)
	}
	v := analogyVectors(t)
	f, err := os.Open(filepath.Join(dir, "questions-words.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Analogy(v, f, 0)
	if err != nil || res.Total != 19544 || len(res.Sections) != 14 {
		t.Errorf("questions-words.txt: %v, %d questions in %d sections, want 19544 in 14", err, res.Total, len(res.Sections))
	}
	for name, n := range map[string]int{"simlex999.txt": 999, "wordsim353.tsv": 353} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		res, _ := Similarity(v, f)
		f.Close()
		if res == nil || res.Pairs != n {
			t.Errorf("%s: %+v, want %d pairs", name, res, n)
		}
	}
}

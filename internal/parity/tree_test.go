package parity

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/internal/fixture"
)

func readTreeFixture(t *testing.T) *fixture.File {
	t.Helper()
	f, err := fixture.Read(filepath.Join("..", "..", "testdata", "fixtures", "tree_rnn.json"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The vocabulary may also be an object word → id.
func TestTreeVocabObject(t *testing.T) {
	f := readTreeFixture(t)
	var words []string
	if err := json.Unmarshal(f.Vocab, &words); err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for i, w := range words {
		m[w] = i
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	f.Vocab = b
	res, err := Run(f)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pass(Tolerance) {
		t.Errorf("errors %.3g / %.3g", res.OutErr, res.GradErr)
	}
}

// A tree fixture that contradicts itself is an error naming what, not a
// panic or a silent pass.
func TestInconsistentTreeFixture(t *testing.T) {
	for name, mutate := range map[string]func(f *fixture.File){
		"B":             func(f *fixture.File) { f.Dims["B"] = 2 },
		"N":             func(f *fixture.File) { f.Dims["N"] = 18 },
		"H":             func(f *fixture.File) { f.Dims["H"] = 5 },
		"roots":         func(f *fixture.File) { f.Roots[0] = 5 },
		"labels":        func(f *fixture.File) { f.Trees[1] = "(3 very)" },
		"unbalanced":    func(f *fixture.File) { f.Trees[1] = "(2 very" },
		"unknown word":  func(f *fixture.File) { f.Trees[1] = "(2 splendid)" },
		"not binary":    func(f *fixture.File) { f.Trees[1] = "(2 (2 very) (2 very) (2 very))" },
		"vocab":         func(f *fixture.File) { f.Vocab = json.RawMessage(`{"a": 3}`) },
		"no vocab":      func(f *fixture.File) { f.Vocab = nil },
		"extra param":   func(f *fixture.File) { f.Params["U_f.bias"] = f.Params["W.bias"] },
		"missing param": func(f *fixture.File) { delete(f.Params, "W.bias") },
	} {
		f := readTreeFixture(t)
		mutate(f)
		if _, err := Run(f); err == nil {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

package lm_test

import (
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/lm"
)

func initParams(t *testing.T, c lm.Config) *graph.Params {
	t.Helper()
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Init(ps, graph.NewSource(1)); err != nil {
		t.Fatal(err)
	}
	return ps
}

// B = 0, T = 0, token ids out of range and parameters of another model are
// errors, never panics.
func TestBadSizesAndParams(t *testing.T) {
	c := lm.Config{Vocab: 5, Embed: 2, Hidden: 3, Cell: cells.LSTMKind, Layers: 2}
	ps := initParams(t, c)
	for _, s := range [][2]int{{0, 2}, {2, 0}, {-1, 2}, {2, -1}} {
		if _, err := lm.NewTrainGraph(ps, c, s[0], s[1]); err == nil {
			t.Errorf("NewTrainGraph(B=%d, T=%d) accepted", s[0], s[1])
		}
	}
	other := c
	other.Hidden = 4
	if _, err := lm.NewTrainGraph(initParams(t, other), c, 1, 2); err == nil || !strings.Contains(err.Error(), "weight") {
		t.Errorf("NewTrainGraph on another model's parameters: %v, want an error naming a weight", err)
	}
	gen, err := lm.NewGenerator(ps, c)
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	// Prime runs every token but the last, which it returns for the first
	// Step; that Step checks it.
	if _, _, err := gen.Prime([][]int{{5, 1}}); err == nil {
		t.Error("token 5 of a vocabulary of 5 accepted")
	}
	st, last, err := gen.Prime([][]int{{1, -1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gen.Step(st, last); err == nil {
		t.Error("token -1 accepted")
	}
	if _, _, err := gen.Prime([][]int{{}}); err == nil {
		t.Error("an empty prompt accepted")
	}
}

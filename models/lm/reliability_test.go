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
	// Prime checks every token, the last one (which it returns for the first
	// Step) included, and every prompt's length, before it runs anything.
	for _, bad := range [][][]int{{{5, 1}}, {{1, -1}}, {{-2}}, {{1}, {7}}, {{1, 2}, {3}}, {{}}} {
		if _, _, err := gen.Prime(bad); err == nil {
			t.Errorf("prompts %v accepted", bad)
		}
	}
	if _, last, err := gen.Prime([][]int{{1, 2}, {3, 4}}); err != nil || len(last) != 2 || last[0] != 2 || last[1] != 4 {
		t.Errorf("good prompts: last %v, %v", last, err)
	}
}

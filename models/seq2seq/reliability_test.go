package seq2seq_test

import (
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/seq2seq"
)

func initParams(t *testing.T, c seq2seq.Config, dt tensor.Dtype) *graph.Params {
	t.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Init(ps, graph.NewSource(1)); err != nil {
		t.Fatal(err)
	}
	return ps
}

// Sizes of zero or below (T = 0, B = 0) and parameters of another model are
// errors at the constructors, never panics, and the errors say which.
func TestBadSizesAndParams(t *testing.T) {
	c := seq2seq.Config{Vocab: 6, Embed: 3, Hidden: 4, Cell: cells.LSTMKind, Decoder: seq2seq.Attention}
	ps := initParams(t, c, tensor.Float64)
	for _, s := range [][3]int{{0, 2, 2}, {2, 0, 2}, {2, 2, 0}, {-1, 2, 2}, {2, -3, 2}} {
		if _, err := seq2seq.NewTrainGraph(ps, c, s[0], s[1], s[2]); err == nil {
			t.Errorf("NewTrainGraph(B=%d, Ts=%d, Tt=%d) accepted", s[0], s[1], s[2])
		}
	}
	for _, bad := range []seq2seq.Config{
		{Vocab: 0, Embed: 3, Hidden: 4, Cell: cells.LSTMKind},
		{Vocab: 6, Embed: 0, Hidden: 4, Cell: cells.LSTMKind},
		{Vocab: 6, Embed: 3, Hidden: -4, Cell: cells.LSTMKind},
		{Vocab: 6, Embed: 3, Hidden: 4, Cell: "transformer"},
		{Vocab: 6, Embed: 3, Hidden: 4, Cell: cells.LSTMKind, Decoder: "telepathic"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
		if _, err := seq2seq.NewTrainGraph(ps, bad, 1, 2, 2); err == nil {
			t.Errorf("NewTrainGraph with config %+v accepted", bad)
		}
	}
	// Parameters initialised for another model: hidden size 5, not 4.
	other := c
	other.Hidden = 5
	wrong := initParams(t, other, tensor.Float64)
	if _, err := seq2seq.NewTrainGraph(wrong, c, 1, 2, 2); err == nil || !strings.Contains(err.Error(), "weight") {
		t.Errorf("NewTrainGraph on another model's parameters: %v, want an error naming a weight", err)
	}
	gen, err := seq2seq.NewGenerator(wrong, c)
	if err == nil {
		defer gen.Close()
		if _, err := gen.Encode([][]int{{1, 2}}); err == nil {
			t.Error("a Generator over another model's parameters encoded")
		}
	}
	if _, err := seq2seq.NewGenerator(nil, c); err == nil {
		t.Error("NewGenerator(nil params) accepted")
	}
	// The same model in float32 parameters builds (the dtype is the
	// Params'), and a missing parameter is named.
	if _, err := seq2seq.NewTrainGraph(initParams(t, c, tensor.Float32), c, 1, 2, 2); err != nil {
		t.Errorf("float32: %v", err)
	}
	empty, _ := graph.NewParams(tensor.Float64)
	if _, err := seq2seq.NewTrainGraph(empty, c, 1, 2, 2); err == nil {
		t.Error("NewTrainGraph on empty parameters accepted")
	}
}

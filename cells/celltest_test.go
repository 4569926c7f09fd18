package cells_test

import (
	"testing"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/cells/celltest"
	"github.com/rnnkit/rnnkit/graph"
)

// Every registered kind passes the conformance suite: the built-in ones,
// and those the package's tests register (sum_rnn, sumrnn_test.go).
func TestConformance(t *testing.T) {
	for _, k := range cells.Kinds() {
		t.Run(string(k), func(t *testing.T) { celltest.Run(t, celltest.ForKind(k)) })
	}
}

// A two-layer stack of an LSTM under a GRU is a cell too.
func TestStackConformance(t *testing.T) {
	lower := func(in, h int) cells.Config {
		return cells.Config{Kind: cells.LSTMKind, InputSize: in, HiddenSize: h + 1}
	}
	upper := func(h int) cells.Config {
		return cells.Config{Kind: cells.GRUKind, InputSize: h + 1, HiddenSize: h, Layer: 1}
	}
	celltest.Run(t, celltest.Subject{
		Name: "stack(lstm,gru)",
		Init: func(ps *graph.Params, in, h int, src graph.Source) error {
			if err := lower(in, h).Init(ps, src); err != nil {
				return err
			}
			return upper(h).Init(ps, src)
		},
		Bind: func(g *graph.Graph, in, h int) (cells.Cell, error) {
			a, err := cells.New(g, lower(in, h))
			if err != nil {
				return nil, err
			}
			b, err := cells.New(g, upper(h))
			if err != nil {
				return nil, err
			}
			return cells.NewStack(a, b)
		},
	})
}

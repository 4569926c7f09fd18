package birnn_test

import (
	"fmt"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
	"github.com/rnnkit/rnnkit/models/birnn"
)

// Every merge mode differentiates correctly over a padded batch, with
// respect to the parameters, the inputs and both initial states, for an
// LSTM forward and a GRU backward cell (of a different hidden size where
// the mode allows it). The loss weighs the outputs and squares the final
// states of both directions.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	const T, B, I, H = 3, 3, 2, 3
	masks := [][]float64{{1, 1, 1}, {1, 1, 0}, {1, 0, 0}} // lengths 3, 2, 1
	for _, merge := range []birnn.Merge{birnn.Concat, birnn.Sum, birnn.Mul, birnn.Average} {
		t.Run(merge.String(), func(t *testing.T) {
			hb := H
			if merge == birnn.Concat {
				hb = 2
			}
			ps, err := graph.NewParams(tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			src := graph.NewSource(23)
			fc := cells.Config{Kind: cells.LSTMKind, InputSize: I, HiddenSize: H}
			bc := cells.Config{Kind: cells.GRUKind, InputSize: I, HiddenSize: hb, Reverse: true}
			for _, c := range []cells.Config{fc, bc} {
				if err := c.Init(ps, src); err != nil {
					t.Fatal(err)
				}
			}
			g, err := graph.New(ps)
			if err != nil {
				t.Fatal(err)
			}
			f, err := cells.New(g, fc)
			if err != nil {
				t.Fatal(err)
			}
			b, err := cells.New(g, bc)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := birnn.New(f, b, merge)
			if err != nil {
				t.Fatal(err)
			}
			var xs, ms, rs []*gorgonia.Node
			for s := 0; s < T; s++ {
				xs = append(xs, randInput(t, g, src, fmt.Sprintf("x_%d", s), B, I))
				ms = append(ms, input(t, g, fmt.Sprintf("m_%d", s), masks[s], B))
				rs = append(rs, randInput(t, g, src, fmt.Sprintf("r_%d", s), B, enc.OutputSize()))
			}
			s0f := cells.State{randInput(t, g, src, "h0f", B, H), randInput(t, g, src, "c0f", B, H)}
			s0b := cells.State{randInput(t, g, src, "h0b", B, hb)}
			outs, ff, bf, err := enc.Encode(xs, ms, s0f, s0b)
			if err != nil {
				t.Fatal(err)
			}
			loss := weightedSum(t, outs, rs)
			for _, n := range append(append(cells.State{}, ff...), bf...) {
				sq := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(n))))
				loss = gorgonia.Must(gorgonia.Add(loss, sq))
			}
			wrt := append(g.Learnables(), xs...)
			wrt = append(wrt, s0f...)
			wrt = append(wrt, s0b...)
			rep, err := gradcheck.Check(g, loss, wrt, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d elements, max relative error %.3g at %s", rep.Checked, rep.MaxErr, rep.Worst)
			if rep.MaxErr > 1e-7 {
				t.Fatalf("max relative error %.3g > 1e-7 at %s", rep.MaxErr, rep.Worst)
			}
		})
	}
}

package tree

import (
	"math/rand/v2"
	"sort"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

// Every model's symbolic gradient (the per-node graph through
// gorgonia.Grad) matches central finite differences on every parameter
// element, float64, on one leaf, degenerate chains, random trees (n-ary
// for the child-sum Tree-LSTM) and a batch of several trees. The check runs
// inside graph.Build, so it runs on the graph Build accepts.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	for _, k := range []Kind{RNN, BinaryLSTM, ChildSumLSTM} {
		c := testConfig(k)
		r := rand.New(rand.NewPCG(uint64(k), 5))
		cases := shapes(r, k == ChildSumLSTM, c.Classes)
		names := make([]string, 0, len(cases))
		for name := range cases {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			t.Run(k.String()+"/"+name, func(t *testing.T) {
				b := testBatch(t, cases[name]...)
				ps := testParams(t, c, tensor.Float64, 7)
				_, rep, err := graph.Build(ps, func(g *graph.Graph) (gradcheck.Report, error) {
					tg, err := BuildTrainGraph(g, c, b)
					if err != nil {
						return gradcheck.Report{}, err
					}
					return gradcheck.Check(g, tg.Loss, g.Learnables(), 1e-6)
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%d elements, max error %.3g at %s", rep.Checked, rep.MaxErr, rep.Worst)
				if rep.Checked == 0 || rep.MaxErr > 1e-6 {
					t.Errorf("max error %.3g at %s (%d checked)", rep.MaxErr, rep.Worst, rep.Checked)
				}
			})
		}
	}
}

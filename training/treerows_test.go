package training

import (
	"context"
	"fmt"
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/optim"
)

// denseOnly hides an optimiser's StepRows: the Trainer then makes the row
// gradients dense.
type denseOnly struct{ optim.Optimizer }

// A tree network's embedding gradient given as rows (RowGrader, Adagrad's
// StepRows) trains bit for bit as Gorgonia's dense gradient of the table
// did: parameters and optimiser state after an epoch, with weight decay (so
// every row changes at every step), in float32 and float64, with clipping,
// and through an optimiser without StepRows (the rows made dense).
func TestTreeRowGradsEqualDense(t *testing.T) {
	for _, net := range []string{TreeNetLSTM, TreeNetRNN, TreeNetChildSum} {
		for _, dt := range []string{"float32", "float64"} {
			for _, clip := range []float64{0, 0.5} {
				t.Run(fmt.Sprintf("%s/%s/clip%g", net, dt, clip), func(t *testing.T) {
					s := smallTreeSetup(net)
					s.cfg.Dtype, s.cfg.Clip = dt, clip
					s.model.Embed, s.model.Hidden = 13, 13
					run := func(dense, hide bool) *Trainer {
						v := must(TreeVocab(s.train))(t)
						m := must(NewTree(s.model, v, s.train))(t)
						m.denseEmbedding = dense
						tr := newTrainer(t, s.cfg, m, nil)
						if hide {
							tr.Opt = denseOnly{tr.Opt}
						}
						if _, _, err := tr.TrainEpoch(context.Background(), nil, nil); err != nil {
							t.Fatal(err)
						}
						return tr
					}
					want := run(true, false)
					for _, c := range []struct {
						name string
						tr   *Trainer
					}{{"rows", run(false, false)}, {"rows made dense", run(false, true)}} {
						if c.tr.Step != want.Step || c.tr.Step < 5 {
							t.Fatalf("%s: %d steps, dense %d", c.name, c.tr.Step, want.Step)
						}
						for _, name := range want.Params.Names() {
							a, _ := c.tr.Params.Get(name)
							b, _ := want.Params.Get(name)
							equalTensorBits(t, c.name+" "+name, a, b)
						}
						ws, gs := want.Opt.State(), c.tr.Opt.State()
						if len(ws) != len(gs) {
							t.Fatalf("%s: %d state entries, dense %d", c.name, len(gs), len(ws))
						}
						for k, w := range ws {
							if gs[k] == nil {
								t.Fatalf("%s: no state %s", c.name, k)
							}
							equalTensorBits(t, c.name+" state "+k, gs[k], w)
						}
					}
				})
			}
		}
	}
}

func equalTensorBits(t *testing.T, what string, got, want tensor.Tensor) {
	t.Helper()
	a, err := graph.Float64s(got)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := graph.Float64s(want)
	if len(a) != len(b) {
		t.Fatalf("%s: %d values, want %d", what, len(a), len(b))
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("%s[%d] = %v, the dense gradient's %v", what, i, a[i], b[i])
		}
	}
}

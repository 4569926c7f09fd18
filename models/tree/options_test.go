package tree

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

// ceRows returns each row's cross-entropy −log softmax(logits)[label].
func ceRows(logits []float64, labels []int, classes int) []float64 {
	out := make([]float64, len(labels))
	for i, y := range labels {
		row := logits[i*classes : (i+1)*classes]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(v - m)
		}
		out[i] = m + math.Log(s) - row[y]
	}
	return out
}

// With loss weights and dropout before the classifier, the level-batched
// graph's loss is Σ w_i·CE_i of its logits and its gradients match finite
// differences (the masks stay fixed between runs); dropout changes the
// logits.
func TestLevelDropoutAndWeights(t *testing.T) {
	for _, k := range []Kind{RNN, BinaryLSTM, ChildSumLSTM} {
		t.Run(k.String(), func(t *testing.T) {
			c := testConfig(k)
			r := rand.New(rand.NewPCG(uint64(k), 17))
			b := testBatch(t, randomTree(r, 5, k == ChildSumLSTM, c.Classes), Leaf(2, "bad"), chain(4, true, c.Classes))
			w := make([]float64, b.Len())
			for i := range w {
				if i%4 != 1 { // every fourth node weighs 0, as padding does
					w[i] = r.Float64()
				}
			}
			ps := testParams(t, c, tensor.Float64, 3)
			type out struct {
				tg           *TrainGraph
				rep          gradcheck.Report
				loss, logits gorgonia.Value
			}
			run := func(o Options) out {
				g, res, err := graph.Build(ps, func(g *graph.Graph) (*out, error) {
					tg, err := BuildLevelGraphWith(g, c, b, o)
					if err != nil {
						return nil, err
					}
					if err := tg.SetWeighted(b, w); err != nil {
						return nil, err
					}
					res := &out{tg: tg}
					gorgonia.Read(tg.Loss, &res.loss)
					gorgonia.Read(tg.Logits, &res.logits)
					if res.rep, err = gradcheck.Check(g, tg.Loss, g.Learnables(), 1e-6); err != nil {
						return nil, err
					}
					return res, nil
				})
				if err != nil {
					t.Fatal(err)
				}
				m, err := graph.NewMachine(g)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				if err := graph.Run(m); err != nil {
					t.Fatal(err)
				}
				return *res
			}
			plain := run(Options{})
			drop := run(Options{Dropout: 0.5, Seed: 9})
			if plain.tg.Dropout != nil || drop.tg.Dropout == nil || drop.tg.Dropout.P() != 0.5 {
				t.Fatalf("dropout %v without, %v with", plain.tg.Dropout, drop.tg.Dropout)
			}
			for name, o := range map[string]out{"no dropout": plain, "dropout": drop} {
				if o.rep.Checked == 0 || o.rep.MaxErr > 1e-6 {
					t.Errorf("%s: gradient max error %.3g at %s (%d checked)", name, o.rep.MaxErr, o.rep.Worst, o.rep.Checked)
				}
				logits, _ := graph.ValueFloat64s(o.logits)
				loss, _ := graph.ValueFloat64s(o.loss)
				want := 0.0
				for i, ce := range ceRows(logits, b.Labels, c.Classes) {
					want += w[i] * ce
				}
				if math.Abs(loss[0]-want) > 1e-12 {
					t.Errorf("%s: loss %v, Σ w·CE of its logits %v", name, loss[0], want)
				}
			}
			a, _ := graph.ValueFloat64s(plain.logits)
			d, _ := graph.ValueFloat64s(drop.logits)
			if maxDiff(a, d) == 0 {
				t.Error("dropout 0.5 left every logit as it was")
			}
		})
	}
}

// Options and weights out of range are errors.
func TestOptionsRefused(t *testing.T) {
	c := testConfig(BinaryLSTM)
	b := testBatch(t, chain(3, true, c.Classes))
	ps := testParams(t, c, tensor.Float64, 1)
	for _, p := range []float64{-0.1, 1, math.NaN()} {
		_, _, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) {
			return BuildLevelGraphWith(g, c, b, Options{Dropout: p})
		})
		if !errors.Is(err, ErrConfig) {
			t.Errorf("dropout %v: %v, want ErrConfig", p, err)
		}
	}
	_, tg, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) {
		return BuildLevelGraphWith(g, c, b, Options{})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.SetWeighted(b, []float64{1, 1}); !errors.Is(err, ErrBatch) {
		t.Errorf("2 weights for %d nodes: %v", b.Len(), err)
	}
	if err := tg.SetWeighted(b, []float64{1, 1, 1, 1, -1}); err == nil {
		t.Error("a negative weight accepted")
	}
}

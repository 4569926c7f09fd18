package benchmarks

import (
	"fmt"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
)

// shape is one benchmark size.
type shape struct {
	name       string
	B, T, I, H int
}

var shapes = []shape{
	{"S1", 32, 35, 128, 256},
	{"S2", 64, 35, 256, 512},
	{"S3", 1, 35, 32, 32},
}

// layer builds into g a one-layer (optionally bidirectional) recurrent
// layer of kind k over T inputs drawn from seed 1, and returns its
// outputs: one node for the whole sequence from cells.Sequence (the fused
// kernel where the kind has one), or one node per step from the
// step-by-step subgraph (cells.Unroll) if stepwise.
func layer(g *graph.Graph, cfgs []cells.Config, stepwise bool, s shape) ([]*gorgonia.Node, error) {
	src := graph.NewSource(1)
	steps, rows := 1, s.T*s.B
	if stepwise {
		steps, rows = s.T, s.B
	}
	xs := make([]*gorgonia.Node, steps)
	data := make([]float64, rows*s.I)
	var err error
	for t := range xs {
		if xs[t], err = g.Input(fmt.Sprintf("x_%d", t), rows, s.I); err != nil {
			return nil, err
		}
		for i := range data {
			data[i] = src.NormFloat64()
		}
		if err := graph.Set(xs[t], data); err != nil {
			return nil, err
		}
	}
	var outs []*gorgonia.Node
	for d, cfg := range cfgs {
		c, err := cells.New(g, cfg)
		if err != nil {
			return nil, err
		}
		var o []*gorgonia.Node
		if stepwise {
			unroll := cells.Unroll
			if d == 1 {
				unroll = cells.UnrollReverse
			}
			o, _, err = unroll(c, xs, nil)
		} else {
			var y *gorgonia.Node
			// x is data, as in PyTorch's benchmark (requires_grad=False): no ∂x.
			y, _, err = cells.Sequence(c, xs[0], s.B, nil, cells.SeqOptions{Reverse: d == 1, NoInputGrad: true})
			o = []*gorgonia.Node{y}
		}
		if err != nil {
			return nil, err
		}
		if outs == nil {
			outs = o
			continue
		}
		for t := range outs {
			if outs[t], err = graph.ConcatCols(outs[t], o[t]); err != nil {
				return nil, err
			}
		}
	}
	return outs, nil
}

// build returns the compiled machine of one (model, mode, shape): the
// layer, and in train mode the gradient of the sum of its outputs, built
// by graph.Build.
func build(b testing.TB, k cells.Kind, bidirectional, stepwise, train bool, s shape) gorgonia.VM {
	b.Helper()
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		b.Fatal(err)
	}
	src := graph.NewSource(1)
	dirs := 1
	if bidirectional {
		dirs = 2
	}
	cfgs := make([]cells.Config, dirs)
	for d := range cfgs {
		cfgs[d] = cells.Config{Kind: k, InputSize: s.I, HiddenSize: s.H, Reverse: d == 1}
		if err := cfgs[d].Init(ps, src); err != nil {
			b.Fatal(err)
		}
	}
	g, _, err := graph.Build(ps, func(g *graph.Graph) (struct{}, error) {
		outs, err := layer(g, cfgs, stepwise, s)
		if err != nil || !train {
			return struct{}{}, err
		}
		var loss *gorgonia.Node
		for _, o := range outs {
			sum, err := graph.Sum(o)
			if err != nil {
				return struct{}{}, err
			}
			if loss == nil {
				loss = sum
			} else if loss, err = gorgonia.Add(loss, sum); err != nil {
				return struct{}{}, err
			}
		}
		_, err = gorgonia.Grad(loss, g.Learnables()...)
		return struct{}{}, err
	})
	if err != nil {
		b.Fatal(err)
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// run benchmarks one (model, mode, shape).
func run(b *testing.B, k cells.Kind, bidirectional, stepwise, train bool, s shape) {
	timeSteps(b, build(b, k, bidirectional, stepwise, train, s), s.B*s.T)
}

func bench(b *testing.B, k cells.Kind, bidirectional, stepwise bool) {
	for _, mode := range []string{"forward", "train"} {
		for _, s := range shapes {
			b.Run(mode+"/"+s.name, func(b *testing.B) { run(b, k, bidirectional, stepwise, mode == "train", s) })
		}
	}
}

// The layers as rnnkit runs them: the fused kernel of cells.Sequence.
func BenchmarkRNN(b *testing.B)    { bench(b, cells.RNNTanh, false, false) }
func BenchmarkLSTM(b *testing.B)   { bench(b, cells.LSTMKind, false, false) }
func BenchmarkGRU(b *testing.B)    { bench(b, cells.GRUKind, false, false) }
func BenchmarkBiLSTM(b *testing.B) { bench(b, cells.LSTMKind, true, false) }

// BenchmarkLSTMStepwise is the LSTM built step by step (cells.Unroll), the
// expression subgraph that defines the cell: what the fused kernel saves.
func BenchmarkLSTMStepwise(b *testing.B) { bench(b, cells.LSTMKind, false, true) }

// BenchmarkCells runs every registered cell kind (cells.Kinds) as
// cells.Sequence runs it — its fused kernel if it has one, its step-by-step
// subgraph otherwise — with sub-benchmarks KIND/forward/S1 … and
// KIND/train/S1 …: a kind registered anywhere in the program is measured
// with no edit here.
func BenchmarkCells(b *testing.B) {
	for _, k := range cells.Kinds() {
		b.Run(string(k), func(b *testing.B) { bench(b, k, false, false) })
	}
}

// Every registered kind, and a bidirectional LSTM, runs at the small shape
// S3 (batch 1, which once exposed a Gorgonia op handing on a [1, n]
// gradient as [n]), fused and step by step, forward and in training.
func TestModelsRun(t *testing.T) {
	type model struct {
		k     cells.Kind
		bidir bool
	}
	var models []model
	for _, k := range cells.Kinds() {
		models = append(models, model{k, false})
	}
	for _, c := range append(models, model{cells.LSTMKind, true}) {
		for _, train := range []bool{false, true} {
			for _, stepwise := range []bool{false, true} {
				m := build(t, c.k, c.bidir, stepwise, train, shapes[2])
				err := graph.Run(m)
				m.Close()
				if err != nil {
					t.Errorf("%s bidirectional=%v stepwise=%v train=%v: %v", c.k, c.bidir, stepwise, train, err)
				}
			}
		}
	}
}

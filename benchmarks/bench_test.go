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

// layer builds a one-layer (optionally bidirectional) recurrent layer of
// kind k over T inputs, and returns its graph and its outputs: one node
// for the whole sequence from the fused kernel (cells.Sequence), or one
// node per step from the step-by-step subgraph (cells.Unroll) if stepwise.
func layer(b testing.TB, k cells.Kind, bidirectional, stepwise bool, s shape) (*graph.Graph, []*gorgonia.Node) {
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
	g, err := graph.New(ps)
	if err != nil {
		b.Fatal(err)
	}
	steps, rows := 1, s.T*s.B
	if stepwise {
		steps, rows = s.T, s.B
	}
	xs := make([]*gorgonia.Node, steps)
	data := make([]float64, rows*s.I)
	for t := range xs {
		if xs[t], err = g.Input(fmt.Sprintf("x_%d", t), rows, s.I); err != nil {
			b.Fatal(err)
		}
		for i := range data {
			data[i] = src.NormFloat64()
		}
		if err := graph.Set(xs[t], data); err != nil {
			b.Fatal(err)
		}
	}
	var outs []*gorgonia.Node
	for d, cfg := range cfgs {
		c, err := cells.New(g, cfg)
		if err != nil {
			b.Fatal(err)
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
			b.Fatal(err)
		}
		if outs == nil {
			outs = o
			continue
		}
		for t := range outs {
			if outs[t], err = graph.ConcatCols(outs[t], o[t]); err != nil {
				b.Fatal(err)
			}
		}
	}
	return g, outs
}

// build returns the compiled machine of one (model, mode, shape).
func build(b testing.TB, k cells.Kind, bidirectional, stepwise, train bool, s shape) gorgonia.VM {
	b.Helper()
	g, outs := layer(b, k, bidirectional, stepwise, s)
	if train {
		var loss *gorgonia.Node
		for _, o := range outs {
			sum, err := graph.Sum(o)
			if err != nil {
				b.Fatal(err)
			}
			if loss == nil {
				loss = sum
			} else if loss, err = gorgonia.Add(loss, sum); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := gorgonia.Grad(loss, g.Learnables()...); err != nil {
			b.Fatal(err)
		}
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

// Every benchmarked model runs at the small shape S3 (batch 1, which once
// exposed a Gorgonia op handing on a [1, n] gradient as [n]).
func TestModelsRun(t *testing.T) {
	for _, c := range []struct {
		k     cells.Kind
		bidir bool
	}{{cells.RNNTanh, false}, {cells.LSTMKind, false}, {cells.GRUKind, false}, {cells.LSTMKind, true}} {
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

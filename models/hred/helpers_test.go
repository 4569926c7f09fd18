package hred

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
)

// testConfig is a small model of kind k.
func testConfig(k Kind, cell cells.Kind) Config {
	return Config{Kind: k, Vocab: 11, Embed: 3, Hidden: 4, Context: 5, Latent: 2, Cell: cell, BOS: 1, EOS: 2, UNK: 3}
}

// testParams returns c's parameters drawn from seed.
func testParams(t *testing.T, c Config, dt tensor.Dtype, seed uint64) *graph.Params {
	t.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Init(ps, graph.NewSource(seed)); err != nil {
		t.Fatal(err)
	}
	return ps
}

// randomExamples returns n examples of 1 to maxTurns utterances of 1 to
// maxLen tokens, replies of 1 to maxLen tokens, ids in 3..vocab−1.
func randomExamples(r *rand.Rand, n, maxTurns, maxLen, vocab int) []Example {
	seq := func() []int {
		s := make([]int, 1+r.IntN(maxLen))
		for i := range s {
			s[i] = 3 + r.IntN(vocab-3)
		}
		return s
	}
	out := make([]Example, n)
	for i := range out {
		for k := 1 + r.IntN(maxTurns); k > 0; k-- {
			out[i].Context = append(out[i].Context, seq())
		}
		out[i].Reply = seq()
	}
	return out
}

// forward is one forward run of the training graph of d over examples:
// the loss, the NLL summed over tokens and the KL summed over examples.
type forward struct{ loss, nll, kl float64 }

// runForward builds the training graph of d, sets examples with opt (and
// ε to eps when not nil) and runs it forward.
func runForward(t *testing.T, ps *graph.Params, c Config, d Dims, ex []Example, opt SetOptions, eps []float64) forward {
	t.Helper()
	type reads struct {
		tg            *TrainGraph
		loss, nll, kl gorgonia.Value
	}
	g, r, err := graph.Build(ps, func(g *graph.Graph) (*reads, error) {
		tg, err := BuildTrainGraph(g, c, d)
		if err != nil {
			return nil, err
		}
		r := &reads{tg: tg}
		gorgonia.Read(tg.Loss, &r.loss)
		gorgonia.Read(tg.NLL, &r.nll)
		if tg.KL != nil {
			gorgonia.Read(tg.KL, &r.kl)
		}
		return r, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := r.tg.Set(ex, opt)
	if err != nil {
		t.Fatal(err)
	}
	if eps != nil {
		if err := graph.Set(r.tg.Eps, eps); err != nil {
			t.Fatal(err)
		}
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		t.Fatal(err)
	}
	scalar := func(v gorgonia.Value) float64 {
		if v == nil {
			return 0
		}
		f, err := graph.ValueFloat64s(v)
		if err != nil {
			t.Fatal(err)
		}
		return f[0]
	}
	return forward{loss: scalar(r.loss), nll: scalar(r.nll) * float64(tokens), kl: scalar(r.kl)}
}

package vae

import (
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
)

// benchSink keeps the last loss alive.
var benchSink []float64

// benchStep times forward and backward of the loss graph (no optimiser)
// for B sentences of T words at the sentence-vae preset's sizes.
func benchStep(b *testing.B, c Config, B, T int) {
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Init(ps, graph.NewSource(1)); err != nil {
		b.Fatal(err)
	}
	var lv gorgonia.Value
	g, m, err := graph.Build(ps, func(g *graph.Graph) (*TrainGraph, error) {
		m, err := BuildTrainGraph(g, c, B, T, Options{FreeBits: 0.1})
		if err != nil {
			return nil, err
		}
		if _, err := gorgonia.Grad(m.Loss, g.Learnables()...); err != nil {
			return nil, err
		}
		gorgonia.Read(m.Loss, &lv)
		return m, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	vm, err := graph.NewMachine(g, gorgonia.BindDualValues(g.Learnables()...))
	if err != nil {
		b.Fatal(err)
	}
	defer vm.Close()
	src := graph.NewSource(2)
	sents := make([][]int, B)
	for i := range sents {
		sents[i] = make([]int, T)
		for j := range sents[i] {
			sents[i][j] = 4 + src.IntN(c.Vocab-4)
		}
	}
	in := Inputs{Eps: normals(B, c.Latent, 3), Beta: 1, DecoderInput: WordDropout(sents, 0.4, src)}
	b.ResetTimer()
	for range b.N {
		if err := m.Set(sents, in); err != nil {
			b.Fatal(err)
		}
		if err := graph.Run(vm); err != nil {
			b.Fatal(err)
		}
		vm.Reset()
	}
	benchSink, _ = graph.ValueFloat64s(lv)
	b.ReportMetric(float64(B*b.N)/b.Elapsed().Seconds(), "sentences/s")
	b.ReportMetric(float64(B*(T+1)*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// The sentence-vae preset's sizes: vocabulary 2,000, 64-d words, GRU 128,
// z 16, batches of 32 sentences of 12 words.
func BenchmarkTrainStepPreset(b *testing.B) {
	benchStep(b, Config{Vocab: 2000, Embed: 64, Hidden: 128, Latent: 16, Cell: cells.GRUKind}, 32, 12)
}

// The same decoder without z (sentence-lm).
func BenchmarkTrainStepLM(b *testing.B) {
	benchStep(b, Config{Vocab: 2000, Embed: 64, Hidden: 128, Cell: cells.GRUKind}, 32, 12)
}

package benchmarks

import (
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/lm"
	"github.com/rnnkit/rnnkit/models/seq2seq"
)

// The model training steps at S1: batch 32, 35 steps (source and target),
// embedding 128, LSTM 256, vocabulary 10,000, float32. A step is the
// forward pass, the backward pass and nothing else (the optimiser's update
// is the same for every model and not counted); tokens/s counts target
// tokens. Random weights and tokens: speed does not depend on training.
const modelVocab = 10000

var (
	modelS1    = shapes[0]
	seq2seqS1  = seq2seq.Config{Vocab: modelVocab, Embed: modelS1.I, Hidden: modelS1.H, Cell: cells.LSTMKind, Decoder: seq2seq.Attention, Score: seq2seq.Dot}
	lmS1       = lm.Config{Vocab: modelVocab, Embed: modelS1.I, Hidden: modelS1.H, Cell: cells.LSTMKind}
	modelTrain = func(g *graph.Graph, loss *gorgonia.Node) error {
		_, err := gorgonia.Grad(loss, g.Learnables()...)
		return err
	}
)

// randomTokens returns B sequences of n tokens in [4, vocab).
func randomTokens(src graph.Source, B, n int) [][]int {
	out := make([][]int, B)
	for i := range out {
		out[i] = make([]int, n)
		for j := range out[i] {
			out[i][j] = 4 + src.IntN(modelVocab-4)
		}
	}
	return out
}

// timeSteps runs the machine b.N times after a warm-up run, closes it, and
// reports tokens/s for tokens per run.
func timeSteps(b *testing.B, m gorgonia.VM, tokens int) {
	defer m.Close()
	if err := graph.Run(m); err != nil { // warm-up
		b.Fatal(err)
	}
	m.Reset()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := graph.Run(m); err != nil {
			b.Fatal(err)
		}
		m.Reset()
	}
	b.StopTimer()
	b.ReportMetric(float64(tokens*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkSeq2Seq is a training step of an attention Seq2Seq (LSTM
// encoder and decoder, dot attention, teacher forcing) at S1.
func BenchmarkSeq2Seq(b *testing.B) {
	b.Run("train/S1", func(b *testing.B) {
		s := modelS1
		ps, _ := graph.NewParams(tensor.Float32)
		src := graph.NewSource(1)
		if err := seq2seqS1.Init(ps, src); err != nil {
			b.Fatal(err)
		}
		tg, err := seq2seq.NewTrainGraph(ps, seq2seqS1, s.B, s.T, s.T)
		if err != nil {
			b.Fatal(err)
		}
		lens := make([]int, s.B)
		for i := range lens {
			lens[i] = s.T
		}
		batch := seq2seq.Batch{Src: randomTokens(src, s.B, s.T), SrcLen: lens,
			TgtIn: randomTokens(src, s.B, s.T), TgtOut: randomTokens(src, s.B, s.T), TgtLen: lens}
		if err := tg.Set(batch); err != nil {
			b.Fatal(err)
		}
		if err := modelTrain(tg.G, tg.Loss); err != nil {
			b.Fatal(err)
		}
		m, err := graph.NewMachine(tg.G)
		if err != nil {
			b.Fatal(err)
		}
		timeSteps(b, m, s.B*s.T)
	})
}

// BenchmarkLM is a training step of a word-level LSTM language model
// (one window of truncated BPTT) at S1.
func BenchmarkLM(b *testing.B) {
	b.Run("train/S1", func(b *testing.B) {
		s := modelS1
		ps, _ := graph.NewParams(tensor.Float32)
		src := graph.NewSource(1)
		if err := lmS1.Init(ps, src); err != nil {
			b.Fatal(err)
		}
		tg, err := lm.NewTrainGraph(ps, lmS1, s.B, s.T)
		if err != nil {
			b.Fatal(err)
		}
		lens := make([]int, s.B)
		for i := range lens {
			lens[i] = s.T
		}
		if err := tg.Set(randomTokens(src, s.B, s.T+1), lens); err != nil {
			b.Fatal(err)
		}
		if err := modelTrain(tg.G, tg.Loss); err != nil {
			b.Fatal(err)
		}
		m, err := graph.NewMachine(tg.G)
		if err != nil {
			b.Fatal(err)
		}
		timeSteps(b, m, s.B*s.T)
	})
}

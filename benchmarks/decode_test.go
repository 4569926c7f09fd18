package benchmarks

import (
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/seq2seq"
)

// A small attention model the size of the date-format task: vocabulary 60,
// embedding 16, LSTM 128, dot attention; 128 sources of 20 tokens, answers
// of up to 11 tokens. Random weights: speed does not depend on training.
var decodeModel = seq2seq.Config{Vocab: 60, Embed: 16, Hidden: 128, Cell: cells.LSTMKind,
	Decoder: seq2seq.Attention, Score: seq2seq.Dot}

const decodeBatch, decodeSrcLen = 128, 20

func decodeSetup(b *testing.B) (*seq2seq.Generator, [][]int) {
	b.Helper()
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		b.Fatal(err)
	}
	src := graph.NewSource(1)
	if err := decodeModel.Init(ps, src); err != nil {
		b.Fatal(err)
	}
	gen, err := seq2seq.NewGenerator(ps, decodeModel)
	if err != nil {
		b.Fatal(err)
	}
	srcs := make([][]int, decodeBatch)
	for i := range srcs {
		srcs[i] = make([]int, decodeSrcLen)
		for j := range srcs[i] {
			srcs[i][j] = 2 + src.IntN(decodeModel.Vocab-2)
		}
	}
	return gen, srcs
}

// BenchmarkDecode reports sequences/s for greedy and beam-5 decoding,
// encoder included, each op decoding the whole batch.
func BenchmarkDecode(b *testing.B) {
	opt := decode.Options{BOS: 0, EOS: 1, MaxLen: 11}
	for _, c := range []struct {
		name string
		run  func(*seq2seq.Generator, decode.State) error
	}{
		{"greedy", func(g *seq2seq.Generator, s decode.State) error {
			_, err := decode.Greedy(g, s, opt)
			return err
		}},
		{"beam5", func(g *seq2seq.Generator, s decode.State) error {
			_, err := decode.Beam(g, s, opt, decode.BeamOptions{Width: 5})
			return err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			gen, srcs := decodeSetup(b)
			defer gen.Close()
			run := func() {
				s, err := gen.Encode(srcs)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.run(gen, s); err != nil {
					b.Fatal(err)
				}
			}
			run() // compile the graphs outside the timed loop
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				run()
			}
			b.ReportMetric(float64(decodeBatch*b.N)/b.Elapsed().Seconds(), "seqs/s")
		})
	}
}

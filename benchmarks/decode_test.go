package benchmarks

import (
	"encoding/json"
	"os"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/cputime"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/seq2seq"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// A small attention model the size of the date-format task (the
// date-attention preset): vocabulary 60, embedding 16, LSTM 128, dot
// attention; 128 sources of 20 tokens, answers of 11 tokens. Random weights:
// speed does not depend on training, but the number of steps does, so the
// output bias of EOS is set to -1e4 and every row runs all MaxLen steps (a
// date answer is 10 characters and EOS). benchmarks/torch_decode.py runs the
// same model, weights and sources in PyTorch (TestDecodeExport writes them).
var decodeModel = seq2seq.Config{Vocab: 60, Embed: 16, Hidden: 128, Cell: cells.LSTMKind,
	Decoder: seq2seq.Attention, Score: seq2seq.Dot}

const decodeBatch, decodeSrcLen = 128, 20

// decodeOpt are the decoding settings: BOS 0, EOS 1, 11 steps.
var decodeOpt = decode.Options{BOS: 0, EOS: 1, MaxLen: 11}

func decodeSetup(b testing.TB) (*seq2seq.Generator, [][]int, *graph.Params) {
	b.Helper()
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		b.Fatal(err)
	}
	src := graph.NewSource(1)
	if err := decodeModel.Init(ps, src); err != nil {
		b.Fatal(err)
	}
	bias, ok := ps.Get("fc.bias")
	if !ok {
		b.Fatal("no fc.bias parameter")
	}
	bias.Float32s()[decodeOpt.EOS] = -1e4
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
	return gen, srcs, ps
}

// BenchmarkDecode reports sequences/s for greedy and beam-5 decoding,
// encoder included, each op decoding the whole batch, in wall time and per
// CPU-second of the process (which a loaded machine disturbs less).
func BenchmarkDecode(b *testing.B) {
	opt := decodeOpt
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
			gen, srcs, _ := decodeSetup(b)
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
			cpu0 := cputime.Seconds()
			for i := 0; i < b.N; i++ {
				run()
			}
			cpu := cputime.Seconds() - cpu0
			b.ReportMetric(float64(decodeBatch*b.N)/b.Elapsed().Seconds(), "seqs/s")
			if cpu0 >= 0 && cpu > 0 {
				b.ReportMetric(float64(decodeBatch*b.N)/cpu, "seqs/cpu-s")
			}
		})
	}
}

// TestDecodeExport writes BenchmarkDecode's model, sources and rnnkit's
// greedy and beam-5 answers to the checkpoint named by
// RNNKIT_DECODE_EXPORT (the sources and answers as JSON under the metadata
// keys x.sources, x.greedy and x.beam5), for benchmarks/torch_decode.py to
// decode the same batch with the same weights and compare the answers.
func TestDecodeExport(t *testing.T) {
	path := os.Getenv("RNNKIT_DECODE_EXPORT")
	if path == "" {
		t.Skip("set RNNKIT_DECODE_EXPORT to a file name to write the decoding benchmark's model")
	}
	gen, srcs, ps := decodeSetup(t)
	defer gen.Close()
	s, err := gen.Encode(srcs)
	if err != nil {
		t.Fatal(err)
	}
	greedy, err := decode.Greedy(gen, s, decodeOpt)
	if err != nil {
		t.Fatal(err)
	}
	hyps, err := decode.Beam(gen, s, decodeOpt, decode.BeamOptions{Width: 5})
	if err != nil {
		t.Fatal(err)
	}
	best := make([][]int, len(hyps))
	for i, h := range hyps {
		best[i] = h[0].Tokens
	}
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	c := &checkpoint.Checkpoint{Params: ps, Meta: checkpoint.Meta{
		Model: json.RawMessage(js(decodeModel)),
		Extra: map[string]string{"kind": "seq2seq", "sources": js(srcs), "greedy": js(greedy), "beam5": js(best),
			"bos": js(decodeOpt.BOS), "eos": js(decodeOpt.EOS), "max_len": js(decodeOpt.MaxLen)},
	}}
	if err := checkpoint.Save(path, c); err != nil {
		t.Fatal(err)
	}
}

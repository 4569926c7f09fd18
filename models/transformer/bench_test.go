package transformer

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/cputime"
	"github.com/rnnkit/rnnkit/models/decode"
)

// benchStep times forward + backward of the Seq2Seq graph (no optimiser)
// at B sequences of Ts source and Tt target tokens, float32, and reports
// target tokens per second. Every step draws new dropout masks, as a
// training step does.
func benchStep(b *testing.B, B, Ts, Tt, E, heads, F, L, V int, fused bool) {
	cfg := Config{Vocab: V, EncoderLayers: L, DecoderLayers: L, MaxLen: 512,
		Layer: LayerConfig{Embed: E, Heads: heads, FF: F, NormFirst: true, Dropout: 0.1}}
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		b.Fatal(err)
	}
	if err := Init(ps, XavierMatrices(cfg.Params()), graph.NewSource(1)); err != nil {
		b.Fatal(err)
	}
	src := graph.NewSource(2)
	ids := func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = src.IntN(V)
		}
		return out
	}
	var drop *graph.Dropout
	g, s, err := graph.Build(ps, func(g *graph.Graph) (*Seq2SeqGraph, error) {
		var err error
		drop, err = graph.OptionalDropout(0.1, 3)
		if err != nil {
			return nil, err
		}
		n, err := NewNet(g, drop, fused)
		if err != nil {
			return nil, err
		}
		s, err := BuildSeq2Seq(n, cfg, B, Ts, Tt)
		if err != nil {
			return nil, err
		}
		if _, err := gorgonia.Grad(s.Loss, g.Learnables()...); err != nil {
			return nil, err
		}
		return s, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Set(ids(B*Ts), nil, ids(B*Tt), ids(B*Tt), nil); err != nil {
		b.Fatal(err)
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	// one step before the timing: the first run touches every buffer
	if err := graph.Run(m); err != nil {
		b.Fatal(err)
	}
	m.Reset()
	b.ResetTimer()
	cpu0 := cputime.Seconds()
	for i := 0; i < b.N; i++ {
		if err := drop.Resample(); err != nil {
			b.Fatal(err)
		}
		if err := graph.Run(m); err != nil {
			b.Fatal(err)
		}
		m.Reset()
	}
	b.ReportMetric(float64(b.N*B*Tt)/b.Elapsed().Seconds(), "tokens/s")
	reportCPU(b, cpu0, b.N*B*Tt)
}

// The date task's shape (batch 128, about 12 source and 11 target
// characters) at the preset's size.
func BenchmarkDateStep(b *testing.B) {
	for _, fused := range []bool{true} {
		b.Run(fmt.Sprintf("fused=%v", fused), func(b *testing.B) { benchStep(b, 128, 12, 12, 64, 4, 256, 2, 64, fused) })
	}
}

// S1-like: batch 32, 35 tokens, E 256, 4 heads, feed-forward 1024, 2 + 2
// layers, vocabulary 10,000.
func BenchmarkS1Step(b *testing.B) { benchStep(b, 32, 35, 35, 256, 4, 1024, 2, 10000, true) }

// benchGreedy times the cached greedy decoding of B sources of Ts tokens
// for steps tokens (no EOS), target tokens per second.
func benchGreedy(b *testing.B, B, Ts, steps, E, heads, F, L, V int) {
	cfg := Config{Vocab: V, EncoderLayers: L, DecoderLayers: L, MaxLen: 512,
		Layer: LayerConfig{Embed: E, Heads: heads, FF: F, NormFirst: true}}
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		b.Fatal(err)
	}
	if err := Init(ps, XavierMatrices(cfg.Params()), graph.NewSource(1)); err != nil {
		b.Fatal(err)
	}
	gen, err := NewGenerator(ps, cfg)
	if err != nil {
		b.Fatal(err)
	}
	src := graph.NewSource(2)
	srcs := make([][]int, B)
	for i := range srcs {
		for t := 0; t < Ts; t++ {
			srcs[i] = append(srcs[i], src.IntN(V))
		}
	}
	b.ResetTimer()
	cpu0 := cputime.Seconds()
	for i := 0; i < b.N; i++ {
		s0, err := gen.Encode(srcs)
		if err != nil {
			b.Fatal(err)
		}
		// EOS = V: never emitted, so every row runs all steps.
		if _, err := decode.Greedy(eosFree{gen}, s0, decode.Options{BOS: 0, EOS: V, MaxLen: steps}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*B*steps)/b.Elapsed().Seconds(), "tokens/s")
	reportCPU(b, cpu0, b.N*B*steps)
}

// reportCPU reports tokens per CPU-second of this process since cpu0: on a
// shared machine, steadier than the wall-clock rate.
func reportCPU(b *testing.B, cpu0 float64, tokens int) {
	if cpu0 < 0 {
		return
	}
	if d := cputime.Seconds() - cpu0; d > 0 {
		b.ReportMetric(float64(tokens)/d, "tokens/CPU-s")
	}
}

// eosFree is a Generator with one more token (never chosen) for an EOS
// that never comes.
type eosFree struct{ *Generator }

func (e eosFree) Vocab() int { return e.Generator.Vocab() + 1 }
func (e eosFree) Step(s decode.State, toks []int) ([][]float64, decode.State, error) {
	l, next, err := e.Generator.Step(s, toks)
	for i := range l {
		l[i] = append(l[i][:len(l[i]):len(l[i])], math.Inf(-1)) // a copy: l[i] views a shared buffer
	}
	return l, next, err
}

// Greedy decoding at the S1-like size, 35 source and 35 generated tokens.
func BenchmarkGreedy(b *testing.B) {
	b.Run("B1", func(b *testing.B) { benchGreedy(b, 1, 35, 35, 256, 4, 1024, 2, 10000) })
	b.Run("B32", func(b *testing.B) { benchGreedy(b, 32, 35, 35, 256, 4, 1024, 2, 10000) })
}

// Greedy decoding at the date preset's size: 128 sources of 12 tokens, 11
// generated.
func BenchmarkGreedyDate(b *testing.B) { benchGreedy(b, 128, 12, 11, 64, 4, 256, 2, 64) }

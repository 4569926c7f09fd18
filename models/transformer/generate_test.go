package transformer

import (
	"fmt"
	"testing"

	"gorgonia.org/gorgonia"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
)

// graphLogits runs the Seq2Seq graph (the whole prefix, no cache) over
// padded sources and the given decoder inputs, and returns the logits per
// row and position.
func graphLogits(t *testing.T, ps *graph.Params, cfg Config, src [][]int, decIn [][]int, fused bool) [][][]float64 {
	t.Helper()
	B, Ts, Tt := len(src), 0, len(decIn[0])
	var srcLen []int
	for _, s := range src {
		Ts = max(Ts, len(s))
		srcLen = append(srcLen, len(s))
	}
	flatSrc, flatIn := make([]int, B*Ts), make([]int, B*Tt)
	for b := range src {
		copy(flatSrc[b*Ts:], src[b])
		copy(flatIn[b*Tt:], decIn[b])
	}
	var logits gorgonia.Value
	g, _, err := graph.Build(ps, func(g *graph.Graph) (*Seq2SeqGraph, error) {
		n, err := NewNet(g, nil, fused)
		if err != nil {
			return nil, err
		}
		n.Logits = true
		s, err := BuildSeq2Seq(n, cfg, B, Ts, Tt)
		if err != nil {
			return nil, err
		}
		if err := s.Set(flatSrc, srcLen, flatIn, flatIn, nil); err != nil {
			return nil, err
		}
		gorgonia.Read(s.Logits, &logits)
		return s, nil
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
	flat, err := graph.ValueFloat64s(logits)
	if err != nil {
		t.Fatal(err)
	}
	V := cfg.Vocab
	out := make([][][]float64, B)
	for b := range out {
		for i := 0; i < Tt; i++ {
			out[b] = append(out[b], flat[(b*Tt+i)*V:(b*Tt+i+1)*V])
		}
	}
	return out
}

// The cached step's logits at every position equal the graph's, which
// runs the whole prefix again (post- and pre-norm, sources of different
// lengths, several decoder layers).
func TestCachedLogitsEqualUncached(t *testing.T) {
	for _, normFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("prenorm%v", normFirst), func(t *testing.T) {
			cfg := smallConfig(GELU, normFirst, 0)
			ps := newParams(t, cfg, 21)
			gen, err := NewGenerator(ps, cfg)
			if err != nil {
				t.Fatal(err)
			}
			src := [][]int{{1, 2, 3, 4}, {5, 1}, {2}}
			state, err := gen.Encode(src)
			if err != nil {
				t.Fatal(err)
			}
			const T = 6
			// Feed tokens step by step (a fixed pattern), keeping each step's logits.
			decIn := make([][]int, len(src))
			cached := make([][][]float64, len(src))
			var s decode.State = state
			for step := 0; step < T; step++ {
				toks := make([]int, len(src))
				for b := range toks {
					toks[b] = (step*3 + b) % cfg.Vocab
					decIn[b] = append(decIn[b], toks[b])
				}
				var l [][]float64
				if l, s, err = gen.Step(s, toks); err != nil {
					t.Fatal(err)
				}
				for b := range l {
					cached[b] = append(cached[b], append([]float64(nil), l[b]...))
				}
			}
			for _, fused := range []bool{false, true} {
				full := graphLogits(t, ps, cfg, src, decIn, fused)
				worst := 0.0
				for b := range full {
					for i := range full[b] {
						worst = max(worst, maxDiff(full[b][i], cached[b][i]))
					}
				}
				t.Logf("fused graph=%v: max |cached − uncached| = %.3g", fused, worst)
				if worst > 1e-12 {
					t.Errorf("fused graph=%v: cached logits differ from the uncached graph's by %.3g", fused, worst)
				}
			}
		})
	}
}

// Greedy, sampling and beam search all run on the cached decoder; beam of
// width 1 gives greedy's sequences.
func TestGeneratorDecoders(t *testing.T) {
	cfg := smallConfig(ReLU, false, 0)
	ps := newParams(t, cfg, 4)
	gen, err := NewGenerator(ps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	src := [][]int{{1, 2, 3}, {4, 5}}
	opt := decode.Options{BOS: 0, EOS: 5, MaxLen: 7}
	s0, err := gen.Encode(src)
	if err != nil {
		t.Fatal(err)
	}
	greedy, err := decode.Greedy(gen, s0, opt)
	if err != nil {
		t.Fatal(err)
	}
	s0, _ = gen.Encode(src)
	hyps, err := decode.Beam(gen, s0, opt, decode.BeamOptions{Width: 1})
	if err != nil {
		t.Fatal(err)
	}
	for b := range greedy {
		if fmt.Sprint(greedy[b]) != fmt.Sprint(hyps[b][0].Tokens) {
			t.Errorf("source %d: greedy %v, beam(1) %v", b, greedy[b], hyps[b][0].Tokens)
		}
	}
	s0, _ = gen.Encode(src)
	if _, err := decode.Beam(gen, s0, opt, decode.BeamOptions{Width: 3, NBest: 2}); err != nil {
		t.Fatal(err)
	}
	s0, _ = gen.Encode(src)
	if _, err := decode.Sample(gen, s0, opt, decode.SampleOptions{Temperature: 0.8, TopK: 3, Source: graph.NewSource(1)}); err != nil {
		t.Fatal(err)
	}
	t.Logf("greedy %v", greedy)
	// A sequence past the positional table is an error, not a panic.
	s0, _ = gen.Encode(src)
	if _, err := decode.Greedy(gen, s0, decode.Options{BOS: 0, EOS: 5, MaxLen: cfg.MaxLen + 2}); err == nil {
		t.Error("decoding past the positional table: no error")
	}
}

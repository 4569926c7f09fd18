package seq2seq

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
)

// fusedTol bounds |fused − graph| (relative above 1, see maxDiff) for logits, states and attention weights
// after a few steps (at most 1.2e-7 seen here): both compute in float32 and differ only in rounding
// (the graph's dot scores and weighted sums accumulate in float64, its σ
// goes through float64 math.Exp; the fused step uses float32 vmath
// kernels and float32 accumulation).
const fusedTol = 1e-5

// fusedConfigs are the models the fused step covers, with their sizes.
func fusedConfigs() []Config {
	return []Config{
		{Vocab: 60, Embed: 16, Hidden: 128, Cell: cells.LSTMKind, Decoder: Attention, Score: Dot},
		{Vocab: 11, Embed: 4, Hidden: 24, Cell: cells.LSTMKind, Decoder: Attention, Score: General},
		{Vocab: 11, Embed: 4, Hidden: 24, Cell: cells.LSTMKind, Layers: 2, Decoder: Attention, Score: Dot},
		{Vocab: 11, Embed: 4, Hidden: 24, Cell: cells.LSTMKind, Layers: 2, Decoder: Attention, Score: General, Bidirectional: true},
		{Vocab: 11, Embed: 4, Hidden: 24, Cell: cells.LSTMKind, Layers: 3, Score: General}, // a score without attention: ignored
		{Vocab: 11, Embed: 4, Hidden: 24, Cell: cells.LSTMKind, Bidirectional: true},
	}
}

// fusedPair returns a generator on the fused path and one on the graph
// path over the same float32 parameters, and sources of several lengths.
func fusedPair(t *testing.T, c Config, seed uint64) (fused, ref *Generator, srcs [][]int) {
	t.Helper()
	ps := newParams(t, c, tensor.Float32, seed)
	var err error
	if fused, err = NewGenerator(ps, c); err != nil {
		t.Fatal(err)
	}
	if ref, err = NewGenerator(ps, c); err != nil {
		t.Fatal(err)
	}
	ref.graphOnly = true
	if !fused.fusable() || ref.fusable() {
		t.Fatalf("fusable: %v and %v", fused.fusable(), ref.fusable())
	}
	src := graph.NewSource(seed + 1)
	for i := 0; i < 7; i++ {
		srcs = append(srcs, randomTokens(src, 3+src.IntN(9), c.Vocab))
	}
	return fused, ref, srcs
}

// maxDiff returns the largest difference |a − b| / max(1, |b|): absolute
// for values up to 1, relative above (the benchmark model's EOS logit is
// about −10⁴, where a float32 ulp is 10⁻³).
func maxDiff(t *testing.T, what string, a, b [][]float64) float64 {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d rows vs %d", what, len(a), len(b))
	}
	d := 0.0
	for r := range a {
		if len(a[r]) != len(b[r]) {
			t.Fatalf("%s: row %d has %d values vs %d", what, r, len(a[r]), len(b[r]))
		}
		for j := range a[r] {
			d = math.Max(d, math.Abs(a[r][j]-b[r][j])/math.Max(1, math.Abs(b[r][j])))
		}
	}
	return d
}

// checkStates compares a fused state with a graph-path one: every state
// tensor, the memory and mask each row sees, the attention weights.
func checkStates(t *testing.T, step int, fs, gs *State) {
	t.Helper()
	if fs.fused == nil || gs.fused != nil {
		t.Fatalf("step %d: fused state %v, graph state %v", step, fs.fused != nil, gs.fused != nil)
	}
	rs := fs.fused.toRows()
	if len(rs.tensors) != len(gs.tensors) || len(rs.memory) != len(gs.memory) {
		t.Fatalf("step %d: %d tensors, %d memory steps vs %d, %d", step, len(rs.tensors), len(rs.memory), len(gs.tensors), len(gs.memory))
	}
	for k := range rs.tensors {
		if d := maxDiff(t, "state", rs.tensors[k], gs.tensors[k]); d > fusedTol {
			t.Errorf("step %d: state tensor %d differs by %g", step, k, d)
		}
	}
	for j := range rs.memory {
		if d := maxDiff(t, "memory", rs.memory[j], gs.memory[j]); d > fusedTol {
			t.Errorf("step %d: memory step %d differs by %g", step, j, d)
		}
	}
	if !reflect.DeepEqual(rs.mask, gs.mask) {
		t.Errorf("step %d: masks differ", step)
	}
	if d := maxDiff(t, "attention", fs.Attention, gs.Attention); d > fusedTol {
		t.Errorf("step %d: attention weights differ by %g", step, d)
	}
}

// The fused step computes the graph step's function: logits, states and
// attention weights agree to float32 rounding over several steps and beam
// reorderings (each path fed the same tokens and selections), and greedy,
// beam-5 and sampled answers are equal.
func TestFusedStepMatchesGraph(t *testing.T) {
	for i, c := range fusedConfigs() {
		t.Run(fmt.Sprintf("%s/H%d/L%d", name(c), c.Hidden, c.layers()), func(t *testing.T) {
			fused, ref, srcs := fusedPair(t, c, uint64(10+i))
			defer fused.Close()
			defer ref.Close()
			f0, err := fused.Encode(srcs)
			if err != nil {
				t.Fatal(err)
			}
			g0, err := ref.Encode(srcs)
			if err != nil {
				t.Fatal(err)
			}
			checkStates(t, -1, f0, g0)
			// Reorder as beam search does (rows repeat), then step.
			sel := make([]int, 3*len(srcs))
			for r := range sel {
				sel[r] = (r * 5) % len(srcs)
			}
			var fs, gs decode.State = f0, g0
			tok := make([]int, len(sel))
			for step := 0; step < 6; step++ {
				if fs, err = fs.Select(sel); err != nil {
					t.Fatal(err)
				}
				if gs, err = gs.Select(sel); err != nil {
					t.Fatal(err)
				}
				fl, fn, err := fused.Step(fs, tok)
				if err != nil {
					t.Fatal(err)
				}
				gl, gn, err := ref.Step(gs, tok)
				if err != nil {
					t.Fatal(err)
				}
				if d := maxDiff(t, "logits", fl, gl); d > fusedTol {
					t.Errorf("step %d: logits differ by %g", step, d)
				}
				checkStates(t, step, fn.(*State), gn.(*State))
				fs, gs = fn, gn
				for r := range tok {
					tok[r] = (r + step*3) % c.Vocab
					sel[r] = (sel[r] + r + step) % len(sel)
				}
			}
			opt := decode.Options{BOS: 0, EOS: 1, MaxLen: 9}
			fg, err := decode.Greedy(fused, f0, opt)
			if err != nil {
				t.Fatal(err)
			}
			gg, err := decode.Greedy(ref, g0, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fg, gg) {
				t.Errorf("greedy answers differ:\n%v\n%v", fg, gg)
			}
			bo := decode.BeamOptions{Width: 5, NBest: 3}
			fb, err := decode.Beam(fused, f0, opt, bo)
			if err != nil {
				t.Fatal(err)
			}
			gb, err := decode.Beam(ref, g0, opt, bo)
			if err != nil {
				t.Fatal(err)
			}
			for b := range fb {
				if len(fb[b]) != len(gb[b]) {
					t.Fatalf("source %d: %d hypotheses vs %d", b, len(fb[b]), len(gb[b]))
				}
				for k := range fb[b] {
					if !reflect.DeepEqual(fb[b][k].Tokens, gb[b][k].Tokens) || math.Abs(fb[b][k].LogProb-gb[b][k].LogProb) > 1e-4 {
						t.Errorf("source %d hypothesis %d: %v (%v) vs %v (%v)", b, k, fb[b][k].Tokens, fb[b][k].LogProb, gb[b][k].Tokens, gb[b][k].LogProb)
					}
				}
			}
			so := func() decode.SampleOptions { return decode.SampleOptions{Temperature: 0.8, Source: graph.NewSource(5)} }
			fsm, err := decode.Sample(fused, f0, opt, so())
			if err != nil {
				t.Fatal(err)
			}
			gsm, err := decode.Sample(ref, g0, opt, so())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fsm, gsm) {
				t.Errorf("sampled answers differ:\n%v\n%v", fsm, gsm)
			}
		})
	}
}

// A fused state given to a generator on the graph path is converted, not
// refused, and gives the graph path's logits (to float32 rounding: the
// fused encoder's state and memory are the graph encoder's to rounding).
func TestFusedStateOnGraphPath(t *testing.T) {
	c := fusedConfigs()[1]
	fused, ref, srcs := fusedPair(t, c, 3)
	defer fused.Close()
	defer ref.Close()
	f0, err := fused.Encode(srcs)
	if err != nil {
		t.Fatal(err)
	}
	g0, err := ref.Encode(srcs)
	if err != nil {
		t.Fatal(err)
	}
	tok := make([]int, len(srcs))
	a, _, err := ref.Step(f0, tok)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := ref.Step(g0, tok)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(t, "logits", a, b); d > fusedTol {
		t.Errorf("logits differ by %g", d)
	}
}

// Bad input on the fused path: errors, no panics.
func TestFusedBadInput(t *testing.T) {
	c := fusedConfigs()[1]
	fused, ref, srcs := fusedPair(t, c, 4)
	defer fused.Close()
	defer ref.Close()
	s, err := fused.Encode(srcs)
	if err != nil {
		t.Fatal(err)
	}
	n := len(srcs)
	for _, tok := range [][]int{make([]int, n-1), append(make([]int, n-1), c.Vocab), append(make([]int, n-1), -1)} {
		if _, _, err := fused.Step(s, tok); err == nil {
			t.Errorf("tokens %v accepted", tok)
		}
	}
	for _, sel := range [][]int{{-1}, {n}} {
		if _, err := s.Select(sel); err == nil {
			t.Errorf("select %v accepted", sel)
		}
	}
	if s.Rows() != n {
		t.Errorf("Rows %d, want %d", s.Rows(), n)
	}
	for _, src := range [][][]int{{{2, c.Vocab}}, {{-1}}, {{2}, {}}, nil} {
		if _, err := fused.Encode(src); err == nil {
			t.Errorf("sources %v accepted", src)
		}
	}
}

// Float64 parameters, GRU cells, peeky and additive decoders stay on the
// graph path.
func TestFusableModels(t *testing.T) {
	for _, tc := range []struct {
		c  Config
		dt tensor.Dtype
		ok bool
	}{
		{Config{Vocab: 5, Embed: 2, Hidden: 3, Cell: cells.LSTMKind, Decoder: Attention}, tensor.Float32, true},
		{Config{Vocab: 5, Embed: 2, Hidden: 3, Cell: cells.LSTMKind, Decoder: Attention}, tensor.Float64, false},
		{Config{Vocab: 5, Embed: 2, Hidden: 3, Cell: cells.GRUKind, Decoder: Attention}, tensor.Float32, false},
		{Config{Vocab: 5, Embed: 2, Hidden: 3, Cell: cells.LSTMKind, Decoder: Peeky}, tensor.Float32, false},
		{Config{Vocab: 5, Embed: 2, Hidden: 3, Cell: cells.LSTMKind, Decoder: Attention, Score: Additive}, tensor.Float32, false},
	} {
		ps := newParams(t, tc.c, tc.dt, 1)
		gen, err := NewGenerator(ps, tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if gen.fusable() != tc.ok {
			t.Errorf("%+v %v: fusable %v, want %v", tc.c, tc.dt, gen.fusable(), tc.ok)
		}
		s, err := gen.Encode([][]int{{2, 3}})
		if err != nil {
			t.Fatal(err)
		}
		if (s.fused != nil) != tc.ok {
			t.Errorf("%+v %v: fused state %v", tc.c, tc.dt, s.fused != nil)
		}
		gen.Close()
	}
}

// The decoding benchmark's model and batch (benchmarks/decode_test.go:
// 128 sources of 20 tokens, EOS's bias −10⁴, 11 steps; 640 rows in beam
// search, stepped in several chunks): the fused path's greedy and beam-5
// answers equal the graph path's, and so do the logits of the first steps.
func TestFusedDecodeBenchmarkModel(t *testing.T) {
	c := fusedConfigs()[0]
	ps, err := graph.NewParams(tensor.Float32)
	if err != nil {
		t.Fatal(err)
	}
	src := graph.NewSource(1) // the draws of the benchmark's decodeSetup
	if err := c.Init(ps, src); err != nil {
		t.Fatal(err)
	}
	bias, _ := ps.Get("fc.bias")
	bias.Float32s()[1] = -1e4
	srcs := make([][]int, 128)
	for i := range srcs {
		srcs[i] = make([]int, 20)
		for j := range srcs[i] {
			srcs[i][j] = 2 + src.IntN(c.Vocab-2)
		}
	}
	fused, err := NewGenerator(ps, c)
	if err != nil {
		t.Fatal(err)
	}
	defer fused.Close()
	ref, err := NewGenerator(ps, c)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	ref.graphOnly = true
	f0, err := fused.Encode(srcs)
	if err != nil {
		t.Fatal(err)
	}
	g0, err := ref.Encode(srcs)
	if err != nil {
		t.Fatal(err)
	}
	opt := decode.Options{BOS: 0, EOS: 1, MaxLen: 11}
	fg, err := decode.Greedy(fused, f0, opt)
	if err != nil {
		t.Fatal(err)
	}
	gg, err := decode.Greedy(ref, g0, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fg, gg) {
		t.Errorf("greedy answers differ")
	}
	for _, a := range fg {
		if len(a) != 11 {
			t.Fatalf("an answer of %d tokens, want 11 (EOS is never chosen)", len(a))
		}
	}
	fb, err := decode.Beam(fused, f0, opt, decode.BeamOptions{Width: 5})
	if err != nil {
		t.Fatal(err)
	}
	gb, err := decode.Beam(ref, g0, opt, decode.BeamOptions{Width: 5})
	if err != nil {
		t.Fatal(err)
	}
	for b := range fb {
		if !reflect.DeepEqual(fb[b][0].Tokens, gb[b][0].Tokens) {
			t.Errorf("source %d: beam-5 answers differ: %v vs %v", b, fb[b][0].Tokens, gb[b][0].Tokens)
		}
	}
	// Three steps of 640 rows (14 chunks), rows reordered in between.
	sel := make([]int, 640)
	for r := range sel {
		sel[r] = (r * 7) % 128
	}
	fs, _ := f0.Select(sel)
	gs, _ := g0.Select(sel)
	tok := make([]int, 640)
	for step := 0; step < 3; step++ {
		fl, fn, err := fused.Step(fs, tok)
		if err != nil {
			t.Fatal(err)
		}
		gl, gn, err := ref.Step(gs, tok)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(t, "logits", fl, gl); d > fusedTol {
			t.Errorf("step %d: logits differ by %g", step, d)
		}
		checkStates(t, step, fn.(*State), gn.(*State))
		for r := range tok {
			tok[r] = (r*3 + step) % c.Vocab
			sel[r] = (r*11 + step) % 640
		}
		if fs, err = fn.Select(sel); err != nil {
			t.Fatal(err)
		}
		if gs, err = gn.Select(sel); err != nil {
			t.Fatal(err)
		}
	}
}

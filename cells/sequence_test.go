package cells_test

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
)

// seqCase is one random sequence problem: sizes, options and data.
type seqCase struct {
	kind       cells.Kind
	T, B, I, H int
	reverse    bool
	mask       []float64 // [T·B] or nil
	x, r       []float64 // input [T·B, I], output weights [T·B, H]
	s0, rs     [][]float64
}

func newSeqCase(kind cells.Kind, src graph.Source, T, B, I, H int, reverse, masked bool) seqCase {
	c := seqCase{kind: kind, T: T, B: B, I: I, H: H, reverse: reverse}
	norm := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = src.NormFloat64()
		}
		return v
	}
	c.x, c.r = norm(T*B*I), norm(T*B*H)
	for range (cells.Config{Kind: kind}).NumStates() {
		c.s0 = append(c.s0, norm(B*H))
		c.rs = append(c.rs, norm(B*H))
	}
	if masked {
		c.mask = make([]float64, T*B)
		for i := range c.mask {
			if src.Float64() < 0.7 {
				c.mask[i] = 1
			}
		}
	}
	return c
}

// seqResult is what a run returns: outputs, final states and the gradients
// of loss = Σ out ⊙ R + Σ_k s_k ⊙ R_k with respect to the parameters, x
// and the initial state.
type seqResult struct {
	out   []float64
	final [][]float64
	grads [][]float64
	names []string
}

// runSeq runs c through cells.Sequence, fused or step by step.
func runSeq(t *testing.T, c seqCase, ps *graph.Params, stepwise bool) seqResult {
	t.Helper()
	g, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	cell, err := cells.New(g, cells.Config{Kind: c.kind, InputSize: c.I, HiddenSize: c.H})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := g.Input("x", c.T*c.B, c.I)
	r, _ := g.Input("r", c.T*c.B, c.H)
	must(t, graph.Set(x, c.x))
	must(t, graph.Set(r, c.r))
	var s0 cells.State
	for k := range c.s0 {
		n, _ := g.Input(fmt.Sprintf("s0_%d", k), c.B, c.H)
		must(t, graph.Set(n, c.s0[k]))
		s0 = append(s0, n)
	}
	opt := cells.SeqOptions{Reverse: c.reverse, Stepwise: stepwise}
	if c.mask != nil {
		opt.Mask, _ = g.Input("mask", c.T*c.B)
		must(t, graph.Set(opt.Mask, c.mask))
	}
	out, fin, err := cells.Sequence(cell, x, c.B, s0, opt)
	if err != nil {
		t.Fatal(err)
	}
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(out, r))))
	for k, s := range fin {
		rk, _ := g.Input(fmt.Sprintf("r_%d", k), c.B, c.H)
		must(t, graph.Set(rk, c.rs[k]))
		loss = gorgonia.Must(gorgonia.Add(loss, gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(s, rk))))))
	}
	wrt := append(append(g.Learnables(), x), s0...)
	gs, err := gorgonia.Grad(loss, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	var ov gorgonia.Value
	gorgonia.Read(out, &ov)
	fv := make([]gorgonia.Value, len(fin))
	for k := range fin {
		gorgonia.Read(fin[k], &fv[k])
	}
	gv := make([]gorgonia.Value, len(gs))
	for i := range gs {
		gorgonia.Read(gs[i], &gv[i])
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var res seqResult
	for run := 0; run < 2; run++ { // a second run must give the same (reused buffers)
		m.Reset()
		if err := graph.Run(m); err != nil {
			t.Fatal(err)
		}
		var cur seqResult
		cur.out, _ = graph.ValueFloat64s(ov)
		for _, v := range fv {
			f, _ := graph.ValueFloat64s(v)
			cur.final = append(cur.final, f)
		}
		for i, v := range gv {
			f, _ := graph.ValueFloat64s(v)
			cur.grads = append(cur.grads, f)
			cur.names = append(cur.names, wrt[i].Name())
		}
		if run == 1 {
			if d, where := res.diff(cur, 0); d != 0 {
				t.Fatalf("second run differs from the first by %g at %s", d, where)
			}
		}
		res = cur
	}
	return res
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// diff returns the largest relative difference max|a−b|/max(1,|a|) between
// two results, and where it is.
func (a seqResult) diff(b seqResult, _ float64) (float64, string) {
	worst, where := 0.0, ""
	cmp := func(name string, x, y []float64) {
		if len(x) != len(y) {
			worst, where = math.Inf(1), name+": lengths differ"
			return
		}
		for i := range x {
			d := math.Abs(x[i]-y[i]) / math.Max(1, math.Abs(x[i]))
			if d > worst || math.IsNaN(d) {
				worst, where = d, fmt.Sprintf("%s[%d] (%g vs %g)", name, i, x[i], y[i])
			}
		}
	}
	cmp("out", a.out, b.out)
	for k := range a.final {
		cmp(fmt.Sprintf("final state %d", k), a.final[k], b.final[k])
	}
	for i := range a.grads {
		cmp("∂"+a.names[i], a.grads[i], b.grads[i])
	}
	return worst, where
}

// The fused kernel computes what the step-by-step subgraph computes —
// outputs, final states and every gradient — on random shapes, both
// directions, with and without padding, in float64 and float32.
func TestSequenceFusedEqualsStepwise(t *testing.T) {
	src := graph.NewSource(2026)
	for _, kind := range cells.Kinds() {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			for trial := 0; trial < 4; trial++ {
				T, B := 1+src.IntN(6), 1+src.IntN(5)
				I, H := 1+src.IntN(9), 1+src.IntN(9)
				reverse, masked := trial%2 == 1, trial >= 2
				name := fmt.Sprintf("%s/%v/T%dB%dI%dH%d/reverse=%v/masked=%v", kind, dt, T, B, I, H, reverse, masked)
				t.Run(name, func(t *testing.T) {
					ps, _ := graph.NewParams(dt)
					must(t, (cells.Config{Kind: kind, InputSize: I, HiddenSize: H}).Init(ps, src))
					c := newSeqCase(kind, src, T, B, I, H, reverse, masked)
					fused := runSeq(t, c, ps, false)
					step := runSeq(t, c, ps, true)
					tol := 1e-13
					if dt == tensor.Float32 {
						tol = 2e-5
					}
					if d, where := fused.diff(step, tol); d > tol {
						t.Fatalf("fused and step-by-step differ by %.3g (tolerance %g) at %s", d, tol, where)
					}
				})
			}
		}
	}
}

// The fused kernel's gradients against finite differences: the
// conformance suite's SequenceGradientsMatchFiniteDifferences, run for
// every registered kind by TestConformance.

// Sequence refuses inputs it cannot run.
func TestSequenceBadInput(t *testing.T) {
	ps, _ := graph.NewParams(tensor.Float64)
	cfg := cells.Config{Kind: cells.LSTMKind, InputSize: 3, HiddenSize: 4}
	must(t, cfg.Init(ps, graph.NewSource(1)))
	g, _ := graph.New(ps)
	cell, err := cells.New(g, cfg)
	must(t, err)
	x, _ := g.Input("x", 6, 3)
	bad, _ := g.Input("bad", 6, 5)
	odd, _ := g.Input("odd", 5, 3)
	mask, _ := g.Input("m", 5)
	h, _ := g.Input("h", 3, 4)
	cases := map[string]func() error{
		"nil cell":        func() error { _, _, err := cells.Sequence(nil, x, 2, nil, cells.SeqOptions{}); return err },
		"nil input":       func() error { _, _, err := cells.Sequence(cell, nil, 2, nil, cells.SeqOptions{}); return err },
		"zero batch":      func() error { _, _, err := cells.Sequence(cell, x, 0, nil, cells.SeqOptions{}); return err },
		"rows not steps":  func() error { _, _, err := cells.Sequence(cell, odd, 2, nil, cells.SeqOptions{}); return err },
		"wrong width":     func() error { _, _, err := cells.Sequence(cell, bad, 2, nil, cells.SeqOptions{}); return err },
		"wrong mask":      func() error { _, _, err := cells.Sequence(cell, x, 2, nil, cells.SeqOptions{Mask: mask}); return err },
		"state too short": func() error { _, _, err := cells.Sequence(cell, x, 2, cells.State{h}, cells.SeqOptions{}); return err },
		"state batch": func() error {
			_, _, err := cells.Sequence(cell, x, 2, cells.State{h, h}, cells.SeqOptions{})
			return err
		},
	}
	for name, f := range cases {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// With NoInputGrad the fused kernel gives the same outputs and parameter
// gradients, and refuses a gradient with respect to x (a kind without a
// fused kernel ignores NoInputGrad).
func TestSequenceNoInputGrad(t *testing.T) {
	src := graph.NewSource(3)
	for _, kind := range cells.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			const T, B, I, H = 3, 2, 4, 5
			cfg := cells.Config{Kind: kind, InputSize: I, HiddenSize: H}
			ps, _ := graph.NewParams(tensor.Float64)
			must(t, cfg.Init(ps, src))
			c := newSeqCase(kind, src, T, B, I, H, false, true)
			run := func(noGrad bool) ([]float64, [][]float64) {
				g, _ := graph.New(ps)
				cell, err := cells.New(g, cfg)
				must(t, err)
				x, _ := g.Input("x", T*B, I)
				must(t, graph.Set(x, c.x))
				mask, _ := g.Input("mask", T*B)
				must(t, graph.Set(mask, c.mask))
				out, _, err := cells.Sequence(cell, x, B, nil, cells.SeqOptions{Mask: mask, NoInputGrad: noGrad})
				must(t, err)
				loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(out))))
				if spec, _ := cells.Lookup(kind); noGrad && spec.Fused != nil {
					g2, _ := graph.New(ps)
					cell2, _ := cells.New(g2, cfg)
					x2, _ := g2.Input("x", T*B, I)
					out2, _, err := cells.Sequence(cell2, x2, B, nil, cells.SeqOptions{NoInputGrad: true})
					must(t, err)
					if _, err := gorgonia.Grad(gorgonia.Must(gorgonia.Sum(out2)), x2); err == nil {
						t.Error("a gradient with respect to x was built with NoInputGrad")
					}
				}
				gs, err := gorgonia.Grad(loss, g.Learnables()...)
				must(t, err)
				var ov gorgonia.Value
				gorgonia.Read(out, &ov)
				gv := make([]gorgonia.Value, len(gs))
				for i := range gs {
					gorgonia.Read(gs[i], &gv[i])
				}
				m, err := graph.NewMachine(g)
				must(t, err)
				defer m.Close()
				must(t, graph.Run(m))
				o, _ := graph.ValueFloat64s(ov)
				var grads [][]float64
				for _, v := range gv {
					f, _ := graph.ValueFloat64s(v)
					grads = append(grads, f)
				}
				return o, grads
			}
			o1, g1 := run(false)
			o2, g2 := run(true)
			if fmt.Sprint(o1) != fmt.Sprint(o2) || fmt.Sprint(g1) != fmt.Sprint(g2) {
				t.Fatal("NoInputGrad changed the outputs or the parameter gradients")
			}
		})
	}
}

// A stack runs layer by layer through the fused kernel and gives what the
// step-by-step stack gives: outputs, every layer's final state and every
// gradient.
func TestSequenceStackFusedEqualsStepwise(t *testing.T) {
	src := graph.NewSource(17)
	for _, kind := range []cells.Kind{cells.LSTMKind, cells.GRUKind, cells.PeepholeKind} {
		for _, reverse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reverse=%v", kind, reverse), func(t *testing.T) {
				const T, B, I, H = 4, 3, 5, 6
				cfgs := []cells.Config{{Kind: kind, InputSize: I, HiddenSize: H}, {Kind: kind, InputSize: H, HiddenSize: H, Layer: 1}}
				ps, _ := graph.NewParams(tensor.Float64)
				for _, c := range cfgs {
					must(t, c.Init(ps, src))
				}
				c := newSeqCase(kind, src, T, B, I, H, reverse, true)
				run := func(stepwise bool) seqResult {
					g, _ := graph.New(ps)
					var layers []cells.Cell
					for _, cfg := range cfgs {
						l, err := cells.New(g, cfg)
						must(t, err)
						layers = append(layers, l)
					}
					st, err := cells.NewStack(layers...)
					must(t, err)
					x, _ := g.Input("x", T*B, I)
					must(t, graph.Set(x, c.x))
					mask, _ := g.Input("mask", T*B)
					must(t, graph.Set(mask, c.mask))
					out, fin, err := cells.Sequence(st, x, B, nil, cells.SeqOptions{Reverse: reverse, Mask: mask, Stepwise: stepwise})
					must(t, err)
					loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(out))))
					for _, s := range fin {
						loss = gorgonia.Must(gorgonia.Add(loss, gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Square(s))))))
					}
					wrt := append(g.Learnables(), x)
					gs, err := gorgonia.Grad(loss, wrt...)
					must(t, err)
					var ov gorgonia.Value
					gorgonia.Read(out, &ov)
					fv := make([]gorgonia.Value, len(fin))
					for k := range fin {
						gorgonia.Read(fin[k], &fv[k])
					}
					gv := make([]gorgonia.Value, len(gs))
					for i := range gs {
						gorgonia.Read(gs[i], &gv[i])
					}
					m, err := graph.NewMachine(g)
					must(t, err)
					defer m.Close()
					must(t, graph.Run(m))
					var r seqResult
					r.out, _ = graph.ValueFloat64s(ov)
					for _, v := range fv {
						f, _ := graph.ValueFloat64s(v)
						r.final = append(r.final, f)
					}
					for i, v := range gv {
						f, _ := graph.ValueFloat64s(v)
						r.grads = append(r.grads, f)
						r.names = append(r.names, wrt[i].Name())
					}
					return r
				}
				fused, step := run(false), run(true)
				if len(fused.final) != 2*(cfgs[0].NumStates()) || len(fused.grads) < 9 {
					t.Fatalf("%d final states, %d gradients", len(fused.final), len(fused.grads))
				}
				if d, where := fused.diff(step, 0); d > 1e-13 {
					t.Fatalf("fused and step-by-step stacks differ by %.3g at %s", d, where)
				}
			})
		}
	}
}

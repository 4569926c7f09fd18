package celltest

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

// StateShapes checks that every step keeps the state's shapes, that the
// output is [B, H] and equal to State[0], and that ZeroState is zeros.
func StateShapes(t *testing.T, s Subject) {
	const in, h, T, B = 3, 5, 4, 2
	ps, src := params(t, s, tensor.Float64, in, h, 1)
	d := newData(src, T, B, in, widths(t, s, ps, in, h), false)
	g, zeros := build(t, s, ps, in, h, func(g *graph.Graph, c cells.Cell) ([]gorgonia.Value, error) {
		xs, s0, err := d.steps(g)
		if err != nil {
			return nil, err
		}
		prev := s0
		for i, x := range xs {
			out, next, err := c.Step(x, prev)
			if err != nil {
				return nil, fmt.Errorf("step %d: %w", i, err)
			}
			if got := out.Shape(); len(got) != 2 || got[0] != B || got[1] <= 0 {
				return nil, fmt.Errorf("step %d: output shape %v, want [%d, H]", i, got, B)
			}
			if len(next) != len(prev) {
				return nil, fmt.Errorf("step %d: state has %d tensors, had %d", i, len(next), len(prev))
			}
			if next[0] != out {
				return nil, fmt.Errorf("step %d: State[0] is not the output", i)
			}
			for k := range next {
				if !next[k].Shape().Eq(prev[k].Shape()) {
					return nil, fmt.Errorf("step %d: state %d has shape %v, was %v", i, k, next[k].Shape(), prev[k].Shape())
				}
			}
			prev = next
		}
		z, err := c.ZeroState(B)
		if err != nil {
			return nil, err
		}
		if len(z) != len(s0) {
			return nil, fmt.Errorf("ZeroState has %d tensors, a step's state %d", len(z), len(s0))
		}
		return reads(z...), nil
	})
	for k, v := range run(t, g, zeros) {
		for _, x := range v {
			if x != 0 {
				t.Fatalf("ZeroState tensor %d holds %v", k, x)
			}
		}
	}
}

// UnrollEqualsStepLoop checks Unroll against an explicit loop of Step in a
// second graph over the same parameters and inputs: the values must be
// bit-identical.
func UnrollEqualsStepLoop(t *testing.T, s Subject) {
	const in, h, T, B = 3, 4, 5, 2
	ps, src := params(t, s, tensor.Float64, in, h, 2)
	d := newData(src, T, B, in, widths(t, s, ps, in, h), false)
	g, vals := build(t, s, ps, in, h, func(g *graph.Graph, c cells.Cell) ([]gorgonia.Value, error) {
		xs, s0, err := d.steps(g)
		if err != nil {
			return nil, err
		}
		outs, final, err := cells.Unroll(c, xs, s0)
		if err != nil {
			return nil, err
		}
		return reads(append(outs, final...)...), nil
	})
	got := run(t, g, vals)
	g, vals = build(t, s, ps, in, h, func(g *graph.Graph, c cells.Cell) ([]gorgonia.Value, error) {
		xs, prev, err := d.steps(g)
		if err != nil {
			return nil, err
		}
		var outs []*gorgonia.Node
		for _, x := range xs {
			o, next, err := c.Step(x, prev)
			if err != nil {
				return nil, err
			}
			outs, prev = append(outs, o), next
		}
		return reads(append(outs, prev...)...), nil
	})
	if d := maxDiff(got, run(t, g, vals)); d != 0 {
		t.Fatalf("Unroll differs from a loop of Step by %g", d)
	}
}

// ReverseEqualsReversedUnroll checks that UnrollReverse over xs equals
// Unroll over xs reversed, with outputs re-aligned to original time.
func ReverseEqualsReversedUnroll(t *testing.T, s Subject) {
	const in, h, T, B = 3, 4, 4, 2
	ps, src := params(t, s, tensor.Float64, in, h, 3)
	d := newData(src, T, B, in, widths(t, s, ps, in, h), false)
	g, vals := build(t, s, ps, in, h, func(g *graph.Graph, c cells.Cell) ([]gorgonia.Value, error) {
		xs, s0, err := d.steps(g)
		if err != nil {
			return nil, err
		}
		rev, rfinal, err := cells.UnrollReverse(c, xs, s0)
		if err != nil {
			return nil, err
		}
		flipped := make([]*gorgonia.Node, T)
		for i := range xs {
			flipped[i] = xs[T-1-i]
		}
		fwd, ffinal, err := cells.Unroll(c, flipped, s0)
		if err != nil {
			return nil, err
		}
		realigned := make([]*gorgonia.Node, T)
		for i := range fwd {
			realigned[T-1-i] = fwd[i]
		}
		nodes := append(append(append(append([]*gorgonia.Node{}, rev...), rfinal...), realigned...), ffinal...)
		return reads(nodes...), nil
	})
	v := run(t, g, vals)
	n := len(v) / 2
	if d := maxDiff(v[:n], v[n:]); d != 0 {
		t.Fatalf("UnrollReverse differs from a reversed Unroll by %g", d)
	}
}

// gradients checks float64 gradients of the data's loss with respect to
// every parameter, input and initial state against central differences;
// forward builds the outputs (one node per step or one for all) and the
// final state from the inputs (steps or a sequence, as it adds them).
func gradients(t *testing.T, s Subject, ps *graph.Params, in, h int, d *data,
	forward func(g *graph.Graph, c cells.Cell) (outs []*gorgonia.Node, final cells.State, wrt []*gorgonia.Node, err error)) {
	t.Helper()
	g, p := build(t, s, ps, in, h, func(g *graph.Graph, c cells.Cell) (*gradcheck.Prepared, error) {
		outs, final, inputs, err := forward(g, c)
		if err != nil {
			return nil, err
		}
		loss, err := d.loss(g, outs, final)
		if err != nil {
			return nil, err
		}
		return gradcheck.Prepare(g, loss, append(g.Learnables(), inputs...))
	})
	rep, err := p.Check(g, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked == 0 {
		t.Fatal("no gradient element checked")
	}
	if !(rep.MaxErr <= 1e-7) {
		t.Fatalf("gradient differs from finite differences: %.3g at %s", rep.MaxErr, rep.Worst)
	}
	t.Logf("%d elements, max relative error %.3g", rep.Checked, rep.MaxErr)
}

// GradientsMatchFiniteDifferences checks float64 gradients of
// loss = Σ_t Σ h_t ⊙ R_t + Σ final ⊙ R_s through Unroll with respect to
// every parameter, input and initial state against central differences.
func GradientsMatchFiniteDifferences(t *testing.T, s Subject) {
	const in, h, T, B = 3, 4, 3, 2
	ps, src := params(t, s, tensor.Float64, in, h, 4)
	d := newData(src, T, B, in, widths(t, s, ps, in, h), false)
	gradients(t, s, ps, in, h, d, func(g *graph.Graph, c cells.Cell) ([]*gorgonia.Node, cells.State, []*gorgonia.Node, error) {
		xs, s0, err := d.steps(g)
		if err != nil {
			return nil, nil, nil, err
		}
		outs, final, err := cells.Unroll(c, xs, s0)
		return outs, final, append(xs, s0...), err
	})
}

// seqRun builds the cell over the whole sequence with cells.Sequence (the
// fused kernel where the cell's kind has one, unless stepwise) and returns
// the outputs, final state and gradients of the data's loss with respect to
// every parameter, the input and the initial state, by name.
func seqRun(t *testing.T, s Subject, ps *graph.Params, in, h int, d *data, reverse, stepwise bool) (vals [][]float64, names []string) {
	t.Helper()
	type built struct {
		vals  []gorgonia.Value
		names []string
	}
	g, b := build(t, s, ps, in, h, func(g *graph.Graph, c cells.Cell) (*built, error) {
		x, s0, mask, err := d.sequence(g)
		if err != nil {
			return nil, err
		}
		out, final, err := cells.Sequence(c, x, d.B, s0, cells.SeqOptions{Reverse: reverse, Mask: mask, Stepwise: stepwise})
		if err != nil {
			return nil, err
		}
		loss, err := d.loss(g, []*gorgonia.Node{out}, final)
		if err != nil {
			return nil, err
		}
		wrt := append(append(g.Learnables(), x), s0...)
		grads, err := gorgonia.Grad(loss, wrt...)
		if err != nil {
			return nil, err
		}
		b := &built{names: []string{"output"}}
		for k := range final {
			b.names = append(b.names, fmt.Sprintf("final state %d", k))
		}
		for _, n := range wrt {
			b.names = append(b.names, "∂"+n.Name())
		}
		b.vals = reads(append(append([]*gorgonia.Node{out}, final...), grads...)...)
		return b, nil
	})
	return run(t, g, b.vals), b.names
}

// SequenceEqualsStepwise checks that cells.Sequence — the fused kernel of
// the cell's kind if it has one, the step-by-step subgraph otherwise —
// gives what its step-by-step subgraph (SeqOptions.Stepwise) gives:
// outputs, final state and every gradient, both directions, with and
// without padding, to 1e-12 in float64.
func SequenceEqualsStepwise(t *testing.T, s Subject) {
	const in, h, T, B = 3, 4, 4, 3
	for _, c := range []struct{ reverse, masked bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		t.Run(fmt.Sprintf("reverse=%v/masked=%v", c.reverse, c.masked), func(t *testing.T) {
			ps, src := params(t, s, tensor.Float64, in, h, 11)
			d := newData(src, T, B, in, widths(t, s, ps, in, h), c.masked)
			got, names := seqRun(t, s, ps, in, h, d, c.reverse, false)
			want, _ := seqRun(t, s, ps, in, h, d, c.reverse, true)
			for i := range want {
				if e := maxDiff(got[i:i+1], want[i:i+1]); e > 1e-12 {
					t.Fatalf("Sequence and its step-by-step subgraph differ by %.3g in %s", e, names[i])
				}
			}
		})
	}
}

// SequenceGradientsMatchFiniteDifferences checks the gradients of
// cells.Sequence (the fused kernel where the kind has one) with respect to
// every parameter, the input and the initial state against central
// differences, over a padded batch in both directions.
func SequenceGradientsMatchFiniteDifferences(t *testing.T, s Subject) {
	const in, h, T, B = 3, 4, 3, 2
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			ps, src := params(t, s, tensor.Float64, in, h, 12)
			d := newData(src, T, B, in, widths(t, s, ps, in, h), true)
			gradients(t, s, ps, in, h, d, func(g *graph.Graph, c cells.Cell) ([]*gorgonia.Node, cells.State, []*gorgonia.Node, error) {
				x, s0, mask, err := d.sequence(g)
				if err != nil {
					return nil, nil, nil, err
				}
				out, final, err := cells.Sequence(c, x, d.B, s0, cells.SeqOptions{Reverse: reverse, Mask: mask})
				return []*gorgonia.Node{out}, final, append([]*gorgonia.Node{x}, s0...), err
			})
		})
	}
}

// MatchesReference checks Unroll and Sequence against the subject's
// plain-Go Reference step, looped over the sequence, to 1e-12 in float64.
func MatchesReference(t *testing.T, s Subject) {
	const in, h, T, B = 3, 5, 4, 3
	if s.Reference == nil {
		t.Skip("the subject has no reference step")
	}
	ps, src := params(t, s, tensor.Float64, in, h, 13)
	d := newData(src, T, B, in, widths(t, s, ps, in, h), false)
	var want [][]float64 // every step's h, then the final state
	state := d.s0
	var seqOut []float64
	for step, x := range d.xs {
		next, err := s.Reference(ps, in, h, B, x, state)
		if err != nil {
			t.Fatalf("reference, step %d: %v", step, err)
		}
		if len(next) != len(state) {
			t.Fatalf("reference, step %d: %d state tensors, want %d", step, len(next), len(state))
		}
		want, state = append(want, next[0]), next
		seqOut = append(seqOut, next[0]...)
	}
	want = append(want, state...)
	g, vals := build(t, s, ps, in, h, func(g *graph.Graph, c cells.Cell) ([]gorgonia.Value, error) {
		xs, s0, err := d.steps(g)
		if err != nil {
			return nil, err
		}
		outs, final, err := cells.Unroll(c, xs, s0)
		if err != nil {
			return nil, err
		}
		return reads(append(outs, final...)...), nil
	})
	if e := maxDiff(run(t, g, vals), want); e > 1e-12 {
		t.Fatalf("Unroll differs from the reference by %.3g", e)
	}
	g, vals = build(t, s, ps, in, h, func(g *graph.Graph, c cells.Cell) ([]gorgonia.Value, error) {
		x, s0, _, err := d.sequence(g)
		if err != nil {
			return nil, err
		}
		out, final, err := cells.Sequence(c, x, B, s0, cells.SeqOptions{})
		if err != nil {
			return nil, err
		}
		return reads(append([]*gorgonia.Node{out}, final...)...), nil
	})
	if e := maxDiff(run(t, g, vals), append([][]float64{seqOut}, state...)); e > 1e-12 {
		t.Fatalf("Sequence differs from the reference by %.3g", e)
	}
}

// EdgeSizes checks that T = 1, B = 1 and a hidden size of 1 build, through
// Unroll and Sequence, and give finite values of the right sizes.
func EdgeSizes(t *testing.T, s Subject) {
	for _, c := range []struct{ in, h, T, B int }{{3, 4, 1, 2}, {3, 4, 3, 1}, {1, 1, 1, 1}, {2, 1, 2, 3}} {
		t.Run(fmt.Sprintf("I%d_H%d_T%d_B%d", c.in, c.h, c.T, c.B), func(t *testing.T) {
			ps, src := params(t, s, tensor.Float64, c.in, c.h, 5)
			d := newData(src, c.T, c.B, c.in, widths(t, s, ps, c.in, c.h), false)
			var sizes []int
			g, vals := build(t, s, ps, c.in, c.h, func(g *graph.Graph, cell cells.Cell) ([]gorgonia.Value, error) {
				xs, s0, err := d.steps(g)
				if err != nil {
					return nil, err
				}
				outs, final, err := cells.Unroll(cell, xs, s0)
				if err != nil {
					return nil, err
				}
				x, s1, _, err := d.sequence(g)
				if err != nil {
					return nil, err
				}
				y, yfinal, err := cells.Sequence(cell, x, c.B, s1, cells.SeqOptions{})
				if err != nil {
					return nil, err
				}
				nodes := append(append(append(outs, final...), y), yfinal...)
				sizes = sizes[:0]
				for _, n := range nodes {
					if n.Shape()[0]%c.B != 0 {
						return nil, fmt.Errorf("%v has shape %v for batch %d", n, n.Shape(), c.B)
					}
					sizes = append(sizes, n.Shape().TotalSize())
				}
				return reads(nodes...), nil
			})
			for i, v := range run(t, g, vals) {
				if len(v) != sizes[i] {
					t.Fatalf("value %d has %d elements, want %d", i, len(v), sizes[i])
				}
				for _, x := range v {
					if math.IsNaN(x) || math.IsInf(x, 0) {
						t.Fatalf("value %d is not finite: %v", i, v)
					}
				}
			}
		})
	}
}

// Float32MatchesFloat64 runs the same parameters and inputs in both
// dtypes, through Unroll and Sequence.
func Float32MatchesFloat64(t *testing.T, s Subject) {
	const in, h, T, B = 4, 6, 6, 3
	var results [2][][]float64
	for k, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		ps, src := params(t, s, dt, in, h, 6) // same seed: same draws, rounded for float32
		d := newData(src, T, B, in, widths(t, s, ps, in, h), false)
		g, vals := build(t, s, ps, in, h, func(g *graph.Graph, c cells.Cell) ([]gorgonia.Value, error) {
			xs, s0, err := d.steps(g)
			if err != nil {
				return nil, err
			}
			outs, final, err := cells.Unroll(c, xs, s0)
			if err != nil {
				return nil, err
			}
			x, s1, _, err := d.sequence(g)
			if err != nil {
				return nil, err
			}
			y, yfinal, err := cells.Sequence(c, x, B, s1, cells.SeqOptions{})
			if err != nil {
				return nil, err
			}
			return reads(append(append(append(outs, final...), y), yfinal...)...), nil
		})
		results[k] = run(t, g, vals)
	}
	if d := maxDiff(results[1], results[0]); d > 1e-5 {
		t.Fatalf("float32 differs from float64 by %g", d)
	}
}

// BadInput checks that wrong shapes, state lengths and empty sequences are
// errors, not panics, for Step, Unroll and Sequence. Nothing is compiled.
func BadInput(t *testing.T, s Subject) {
	const in, h, B = 3, 4, 2
	ps, _ := params(t, s, tensor.Float64, in, h, 7)
	g, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	cell, err := s.Bind(g, in, h)
	if err != nil {
		t.Fatal(err)
	}
	node := func(name string, shape ...int) *gorgonia.Node {
		t.Helper()
		n, err := g.Input(name, shape...)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	good := node("x", B, in)
	s0, err := cell.ZeroState(B)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cell.ZeroState(0); err == nil {
		t.Error("ZeroState(0) gave no error")
	}
	step := func(x *gorgonia.Node, st cells.State) error { _, _, err := cell.Step(x, st); return err }
	for what, err := range map[string]error{
		"an input of the wrong width":                 step(node("x_wrong_width", B, in+1), s0),
		"an input whose batch differs from the state": step(node("x_wrong_batch", B+1, in), s0),
		"a vector input":                              step(node("x_vector", in), s0),
		"a state with a tensor missing":               step(good, s0[:len(s0)-1]),
		"a state with an extra tensor":                step(good, append(append(cells.State{}, s0...), s0[0])),
		"a nil input":                                 step(nil, s0),
	} {
		if err == nil {
			t.Errorf("Step accepted %s", what)
		}
	}
	if _, _, err := cells.Unroll(cell, nil, s0); err == nil {
		t.Error("Unroll accepted an empty sequence")
	}
	if _, _, err := cells.UnrollReverse(cell, []*gorgonia.Node{}, s0); err == nil {
		t.Error("UnrollReverse accepted an empty sequence")
	}
	seq := func(x *gorgonia.Node, st cells.State) error {
		_, _, err := cells.Sequence(cell, x, B, st, cells.SeqOptions{})
		return err
	}
	for what, err := range map[string]error{
		"an input of the wrong width":   seq(node("xs_wrong_width", 3*B, in+1), s0),
		"a state with a tensor missing": seq(node("xs", 3*B, in), s0[:len(s0)-1]),
		"rows that are not whole steps": seq(node("xs_odd", 3*B+1, in), s0),
	} {
		if err == nil {
			t.Errorf("Sequence accepted %s", what)
		}
	}
	// An input from another graph.
	other, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.Input("x", B, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := step(foreign, s0); err == nil {
		t.Error("Step accepted an input from another graph")
	}
}

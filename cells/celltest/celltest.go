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

// Subject describes the cell under test.
type Subject struct {
	// Name labels sub-tests.
	Name string
	// Init creates the cell's parameters for the given sizes in ps.
	Init func(ps *graph.Params, input, hidden int, src graph.Source) error
	// Bind builds the cell into g (whose Params Init has filled).
	Bind func(g *graph.Graph, input, hidden int) (cells.Cell, error)
}

// ForConfig returns the Subject for a single cell of kind k.
func ForConfig(k cells.Kind) Subject {
	cfg := func(in, h int) cells.Config { return cells.Config{Kind: k, InputSize: in, HiddenSize: h} }
	return Subject{
		Name: string(k),
		Init: func(ps *graph.Params, in, h int, src graph.Source) error { return cfg(in, h).Init(ps, src) },
		Bind: func(g *graph.Graph, in, h int) (cells.Cell, error) { return cells.New(g, cfg(in, h)) },
	}
}

// Run runs the whole suite on s.
func Run(t *testing.T, s Subject) {
	t.Helper()
	t.Run("StateShapes", func(t *testing.T) { StateShapes(t, s) })
	t.Run("UnrollEqualsStepLoop", func(t *testing.T) { UnrollEqualsStepLoop(t, s) })
	t.Run("ReverseEqualsReversedUnroll", func(t *testing.T) { ReverseEqualsReversedUnroll(t, s) })
	t.Run("GradientsMatchFiniteDifferences", func(t *testing.T) { GradientsMatchFiniteDifferences(t, s) })
	t.Run("EdgeSizes", func(t *testing.T) { EdgeSizes(t, s) })
	t.Run("Float32MatchesFloat64", func(t *testing.T) { Float32MatchesFloat64(t, s) })
	t.Run("BadInput", func(t *testing.T) { BadInput(t, s) })
}

// setup is a graph over freshly initialised parameters.
type setup struct {
	g      *graph.Graph
	cell   cells.Cell
	in, h  int
	src    graph.Source
	inputs []*gorgonia.Node
}

func newSetup(t *testing.T, s Subject, dt tensor.Dtype, in, h int, seed uint64) *setup {
	t.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	src := graph.NewSource(seed)
	if err := s.Init(ps, in, h, src); err != nil {
		t.Fatalf("%s: init: %v", s.Name, err)
	}
	return bindSetup(t, s, ps, in, h, src)
}

func bindSetup(t *testing.T, s Subject, ps *graph.Params, in, h int, src graph.Source) *setup {
	t.Helper()
	g, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Bind(g, in, h)
	if err != nil {
		t.Fatalf("%s: bind: %v", s.Name, err)
	}
	return &setup{g: g, cell: c, in: in, h: h, src: src}
}

// input makes an input node filled with values drawn from N(0, 1).
func (st *setup) input(t *testing.T, name string, shape ...int) *gorgonia.Node {
	t.Helper()
	n, err := st.g.Input(name, shape...)
	if err != nil {
		t.Fatal(err)
	}
	size := 1
	for _, d := range shape {
		size *= d
	}
	data := make([]float64, size)
	for i := range data {
		data[i] = st.src.NormFloat64()
	}
	if err := graph.Set(n, data); err != nil {
		t.Fatal(err)
	}
	st.inputs = append(st.inputs, n)
	return n
}

// sequence makes T inputs [B, in] and a random initial state.
func (st *setup) sequence(t *testing.T, T, B int) ([]*gorgonia.Node, cells.State) {
	t.Helper()
	xs := make([]*gorgonia.Node, T)
	for i := range xs {
		xs[i] = st.input(t, fmt.Sprintf("x_%d", i), B, st.in)
	}
	zero, err := st.cell.ZeroState(B)
	if err != nil {
		t.Fatal(err)
	}
	s0 := make(cells.State, len(zero))
	for i := range s0 {
		s0[i] = st.input(t, fmt.Sprintf("s0_%d", i), B, zero[i].Shape()[1])
	}
	return xs, s0
}

// run compiles and runs the graph once and returns the values of nodes.
func run(t *testing.T, g *graph.Graph, nodes []*gorgonia.Node) [][]float64 {
	t.Helper()
	vals := make([]gorgonia.Value, len(nodes))
	for i, n := range nodes {
		gorgonia.Read(n, &vals[i])
	}
	m, err := graph.NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(vals))
	for i, v := range vals {
		if out[i], err = graph.ValueFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func maxDiff(a, b [][]float64) float64 {
	m := 0.0
	for i := range a {
		for j := range a[i] {
			d := math.Abs(a[i][j] - b[i][j])
			if math.IsNaN(d) {
				return math.Inf(1)
			}
			m = math.Max(m, d)
		}
	}
	return m
}

// StateShapes checks that every step keeps the state's shapes, that the
// output is [B, H] and equal to State[0].
func StateShapes(t *testing.T, s Subject) {
	const in, h, T, B = 3, 5, 4, 2
	st := newSetup(t, s, tensor.Float64, in, h, 1)
	xs, s0 := st.sequence(t, T, B)
	prev := s0
	for i, x := range xs {
		out, next, err := st.cell.Step(x, prev)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := out.Shape(); len(got) != 2 || got[0] != B {
			t.Fatalf("step %d: output shape %v, want [%d, H]", i, got, B)
		}
		if len(next) != len(prev) {
			t.Fatalf("step %d: state has %d tensors, had %d", i, len(next), len(prev))
		}
		if next[0] != out {
			t.Fatalf("step %d: State[0] is not the output", i)
		}
		for k := range next {
			if !next[k].Shape().Eq(prev[k].Shape()) {
				t.Fatalf("step %d: state %d has shape %v, was %v", i, k, next[k].Shape(), prev[k].Shape())
			}
		}
		prev = next
	}
	if got := prev[0].Shape(); got[1] <= 0 {
		t.Fatalf("hidden size %v", got)
	}
	z, err := st.cell.ZeroState(B)
	if err != nil {
		t.Fatal(err)
	}
	vals := run(t, st.g, z)
	for k, v := range vals {
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
	a := newSetup(t, s, tensor.Float64, in, h, 2)
	xs, s0 := a.sequence(t, T, B)
	outs, final, err := cells.Unroll(a.cell, xs, s0)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, a.g, append(append([]*gorgonia.Node{}, outs...), final...))

	// Same parameters, same input values, a hand-written loop.
	b := bindSetup(t, s, a.g.Params(), in, h, nil)
	var loopXs []*gorgonia.Node
	var loopS cells.State
	for i, n := range a.inputs {
		c, err := b.g.Input(n.Name(), n.Shape()...)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := graph.ValueFloat64s(n.Value())
		if err := graph.Set(c, v); err != nil {
			t.Fatal(err)
		}
		if i < T {
			loopXs = append(loopXs, c)
		} else {
			loopS = append(loopS, c)
		}
	}
	var loopOuts []*gorgonia.Node
	prev := loopS
	for _, x := range loopXs {
		o, next, err := b.cell.Step(x, prev)
		if err != nil {
			t.Fatal(err)
		}
		loopOuts = append(loopOuts, o)
		prev = next
	}
	want := run(t, b.g, append(loopOuts, prev...))
	if d := maxDiff(got, want); d != 0 {
		t.Fatalf("Unroll differs from a loop of Step by %g", d)
	}
}

// ReverseEqualsReversedUnroll checks that UnrollReverse over xs equals
// Unroll over xs reversed, with outputs re-aligned to original time.
func ReverseEqualsReversedUnroll(t *testing.T, s Subject) {
	const in, h, T, B = 3, 4, 4, 2
	st := newSetup(t, s, tensor.Float64, in, h, 3)
	xs, s0 := st.sequence(t, T, B)
	rev, rfinal, err := cells.UnrollReverse(st.cell, xs, s0)
	if err != nil {
		t.Fatal(err)
	}
	flipped := make([]*gorgonia.Node, T)
	for i := range xs {
		flipped[i] = xs[T-1-i]
	}
	fwd, ffinal, err := cells.Unroll(st.cell, flipped, s0)
	if err != nil {
		t.Fatal(err)
	}
	realigned := make([]*gorgonia.Node, T)
	for i := range fwd {
		realigned[T-1-i] = fwd[i]
	}
	vals := run(t, st.g, append(append(append(append([]*gorgonia.Node{}, rev...), rfinal...), realigned...), ffinal...))
	n := len(vals) / 2
	if d := maxDiff(vals[:n], vals[n:]); d != 0 {
		t.Fatalf("UnrollReverse differs from a reversed Unroll by %g", d)
	}
}

// GradientsMatchFiniteDifferences checks float64 gradients of
// loss = Σ_t Σ h_t ⊙ R_t + Σ final ⊙ R_s with respect to every parameter,
// input and initial state against central differences.
func GradientsMatchFiniteDifferences(t *testing.T, s Subject) {
	const in, h, T, B = 3, 4, 3, 2
	st := newSetup(t, s, tensor.Float64, in, h, 4)
	xs, s0 := st.sequence(t, T, B)
	outs, final, err := cells.Unroll(st.cell, xs, s0)
	if err != nil {
		t.Fatal(err)
	}
	var loss *gorgonia.Node
	for i, o := range append(append([]*gorgonia.Node{}, outs...), final...) {
		r := st.input(t, fmt.Sprintf("R_%d", i), o.Shape()...)
		p := gorgonia.Must(gorgonia.HadamardProd(o, r))
		sum := gorgonia.Must(gorgonia.Sum(p))
		if loss == nil {
			loss = sum
		} else {
			loss = gorgonia.Must(gorgonia.Add(loss, sum))
		}
	}
	wrt := append(st.g.Learnables(), xs...)
	wrt = append(wrt, s0...)
	rep, err := gradcheck.Check(st.g, loss, wrt, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked == 0 {
		t.Fatal("no gradient element checked")
	}
	if rep.MaxErr > 1e-7 {
		t.Fatalf("gradient differs from finite differences: %.3g at %s", rep.MaxErr, rep.Worst)
	}
	t.Logf("%d elements, max relative error %.3g", rep.Checked, rep.MaxErr)
}

// EdgeSizes checks that T = 1, B = 1 and a hidden size of 1 build and give
// finite values.
func EdgeSizes(t *testing.T, s Subject) {
	for _, c := range []struct{ in, h, T, B int }{{3, 4, 1, 2}, {3, 4, 3, 1}, {1, 1, 1, 1}, {2, 1, 2, 3}} {
		t.Run(fmt.Sprintf("I%d_H%d_T%d_B%d", c.in, c.h, c.T, c.B), func(t *testing.T) {
			st := newSetup(t, s, tensor.Float64, c.in, c.h, 5)
			xs, s0 := st.sequence(t, c.T, c.B)
			outs, final, err := cells.Unroll(st.cell, xs, s0)
			if err != nil {
				t.Fatal(err)
			}
			nodes := append(outs, final...)
			vals := run(t, st.g, nodes)
			for i, v := range vals {
				if len(v) != nodes[i].Shape().TotalSize() || nodes[i].Shape()[0] != c.B {
					t.Fatalf("value %d has %d elements for shape %v, batch %d", i, len(v), nodes[i].Shape(), c.B)
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

// Float32MatchesFloat64 runs the same parameters and inputs in both dtypes.
func Float32MatchesFloat64(t *testing.T, s Subject) {
	const in, h, T, B = 4, 6, 6, 3
	var results [2][][]float64
	for k, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		st := newSetup(t, s, dt, in, h, 6) // same seed: same draws, rounded for float32
		xs, s0 := st.sequence(t, T, B)
		outs, final, err := cells.Unroll(st.cell, xs, s0)
		if err != nil {
			t.Fatal(err)
		}
		results[k] = run(t, st.g, append(outs, final...))
	}
	if d := maxDiff(results[0], results[1]); d > 1e-5 {
		t.Fatalf("float32 differs from float64 by %g", d)
	}
}

// BadInput checks that wrong shapes, state lengths and empty sequences are
// errors, not panics.
func BadInput(t *testing.T, s Subject) {
	const in, h, B = 3, 4, 2
	st := newSetup(t, s, tensor.Float64, in, h, 7)
	good := st.input(t, "x", B, in)
	s0, err := st.cell.ZeroState(B)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.cell.ZeroState(0); err == nil {
		t.Error("ZeroState(0) gave no error")
	}
	wrongIn := st.input(t, "x_wrong_width", B, in+1)
	if _, _, err := st.cell.Step(wrongIn, s0); err == nil {
		t.Error("Step accepted an input of the wrong width")
	}
	wrongB := st.input(t, "x_wrong_batch", B+1, in)
	if _, _, err := st.cell.Step(wrongB, s0); err == nil {
		t.Error("Step accepted an input whose batch differs from the state's")
	}
	vec := st.input(t, "x_vector", in)
	if _, _, err := st.cell.Step(vec, s0); err == nil {
		t.Error("Step accepted a vector input")
	}
	if _, _, err := st.cell.Step(good, s0[:len(s0)-1]); err == nil {
		t.Error("Step accepted a state with a tensor missing")
	}
	if _, _, err := st.cell.Step(good, append(append(cells.State{}, s0...), s0[0])); err == nil {
		t.Error("Step accepted a state with an extra tensor")
	}
	if _, _, err := st.cell.Step(nil, s0); err == nil {
		t.Error("Step accepted a nil input")
	}
	if _, _, err := cells.Unroll(st.cell, nil, s0); err == nil {
		t.Error("Unroll accepted an empty sequence")
	}
	if _, _, err := cells.UnrollReverse(st.cell, []*gorgonia.Node{}, s0); err == nil {
		t.Error("UnrollReverse accepted an empty sequence")
	}
	// An input from another graph.
	other := newSetup(t, s, tensor.Float64, in, h, 8)
	foreign := other.input(t, "x", B, in)
	if _, _, err := st.cell.Step(foreign, s0); err == nil {
		t.Error("Step accepted an input from another graph")
	}
}

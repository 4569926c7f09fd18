package birnn_test

import (
	"fmt"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/birnn"
)

// unsized is a Cell that does not report its sizes.
type unsized struct{ cells.Cell }

// valueCell is a sized Cell of an uncomparable type: comparing two of them
// as interfaces would panic.
type valueCell struct {
	cells.Cell
	sizes []int
}

func (v valueCell) InputSize() int  { return v.sizes[0] }
func (v valueCell) HiddenSize() int { return v.sizes[1] }
func (v valueCell) NumStates() int  { return v.sizes[2] }

// fixture for the error tests: params of an LSTM pair (I=3, H=4), a GRU
// pair (H=4) and an LSTM of another input size and one of another hidden
// size, all in one graph.
type errFixture struct {
	g                 *graph.Graph
	lf, lb, gf, gb    cells.Cell
	otherIn, otherHid cells.Cell
	xs, ms            []*gorgonia.Node
	ps                *graph.Params
}

func newErrFixture(t *testing.T) *errFixture {
	t.Helper()
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	src := graph.NewSource(1)
	lf, lb := birnn.LayerConfigs(cells.LSTMKind, 3, 4, 0, "")
	gf, gb := birnn.LayerConfigs(cells.GRUKind, 3, 4, 0, "gru.")
	oi := cells.Config{Kind: cells.LSTMKind, InputSize: 5, HiddenSize: 4, Prefix: "oi."}
	oh := cells.Config{Kind: cells.LSTMKind, InputSize: 3, HiddenSize: 2, Prefix: "oh."}
	cfgs := []cells.Config{lf, lb, gf, gb, oi, oh}
	for _, c := range cfgs {
		if err := c.Init(ps, src); err != nil {
			t.Fatal(err)
		}
	}
	g, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	bound := make([]cells.Cell, len(cfgs))
	for i, c := range cfgs {
		if bound[i], err = cells.New(g, c); err != nil {
			t.Fatal(err)
		}
	}
	f := &errFixture{g: g, ps: ps, lf: bound[0], lb: bound[1], gf: bound[2], gb: bound[3], otherIn: bound[4], otherHid: bound[5]}
	for s := 0; s < 3; s++ {
		f.xs = append(f.xs, randInput(t, g, src, fmt.Sprintf("x_%d", s), 2, 3))
		f.ms = append(f.ms, input(t, g, fmt.Sprintf("m_%d", s), []float64{1, 1}, 2))
	}
	return f
}

func TestNewRefuses(t *testing.T) {
	f := newErrFixture(t)
	sameCfg, err := cells.New(f.g, cells.Config{Kind: cells.LSTMKind, InputSize: 3, HiddenSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		fwd, bwd cells.Cell
		merge    birnn.Merge
	}{
		{"nil forward", nil, f.lb, birnn.Concat},
		{"nil backward", f.lf, nil, birnn.Concat},
		{"typed nil", (*cells.LSTM)(nil), f.lb, birnn.Concat},
		{"same cell twice", f.lf, f.lf, birnn.Concat},
		{"same cell twice, sum", f.gf, f.gf, birnn.Sum},
		{"two cells of one config", f.lf, sameCfg, birnn.Concat},
		{"input sizes differ", f.lf, f.otherIn, birnn.Concat},
		{"hidden sizes differ, sum", f.lf, f.otherHid, birnn.Sum},
		{"hidden sizes differ, mul", f.lf, f.otherHid, birnn.Mul},
		{"hidden sizes differ, average", f.lf, f.otherHid, birnn.Average},
		{"unsized forward", unsized{f.lf}, f.lb, birnn.Concat},
		{"unsized backward", f.lf, unsized{f.lb}, birnn.Concat},
		{"unknown merge", f.lf, f.lb, birnn.Merge(9)},
		{"negative merge", f.lf, f.lb, birnn.Merge(-1)},
		{"zero sizes", valueCell{f.lf, []int{0, 4, 2}}, valueCell{f.lb, []int{0, 4, 2}}, birnn.Concat},
	} {
		if e, err := birnn.New(c.fwd, c.bwd, c.merge); err == nil || e != nil {
			t.Errorf("%s: accepted", c.name)
		} else if !errors.Is(err, birnn.ErrConfig) {
			t.Errorf("%s: error %v is not ErrConfig", c.name, err)
		}
	}
	// Allowed: different hidden sizes for Concat, two kinds of cell.
	if _, err := birnn.New(f.lf, f.otherHid, birnn.Concat); err != nil {
		t.Errorf("concat of hidden sizes 4 and 2: %v", err)
	}
	if _, err := birnn.New(f.lf, f.gb, birnn.Sum); err != nil {
		t.Errorf("LSTM forward, GRU backward: %v", err)
	}
	// An uncomparable cell passed twice must not panic: the two are copies,
	// which New cannot tell apart, and accepts.
	v := valueCell{f.lf, []int{3, 4, 2}}
	if _, err := birnn.New(v, v, birnn.Concat); err != nil {
		t.Errorf("two copies of an uncomparable cell: %v", err)
	}
}

func TestEncodeRefuses(t *testing.T) {
	f := newErrFixture(t)
	enc, err := birnn.New(f.lf, f.lb, birnn.Concat)
	if err != nil {
		t.Fatal(err)
	}
	src := graph.NewSource(2)
	other, _ := graph.New(f.ps)
	foreign := randInput(t, other, src, "x", 2, 3)
	wide := randInput(t, f.g, src, "wide", 2, 5)
	batch3 := randInput(t, f.g, src, "b3", 3, 3)
	vec := randInput(t, f.g, src, "vec", 3)
	badMask := input(t, f.g, "m3", []float64{1, 1, 1}, 3)
	mat := randInput(t, f.g, src, "mat", 2, 1)
	with := func(xs []*gorgonia.Node, t int, n *gorgonia.Node) []*gorgonia.Node {
		out := append([]*gorgonia.Node(nil), xs...)
		out[t] = n
		return out
	}
	for _, c := range []struct {
		name     string
		xs, ms   []*gorgonia.Node
		s0f, s0b cells.State
		want     error
	}{
		{"no steps", nil, nil, nil, nil, cells.ErrEmpty},
		{"empty steps", []*gorgonia.Node{}, nil, nil, nil, cells.ErrEmpty},
		{"fewer masks", f.xs, f.ms[:2], nil, nil, birnn.ErrInput},
		{"more masks", f.xs, append(f.ms, f.ms[0]), nil, nil, birnn.ErrInput},
		{"empty masks", f.xs, []*gorgonia.Node{}, nil, nil, birnn.ErrInput},
		{"nil first input", with(f.xs, 0, nil), nil, nil, nil, birnn.ErrInput},
		{"nil later input", with(f.xs, 2, nil), nil, nil, nil, birnn.ErrInput},
		{"wrong input size", with(f.xs, 0, wide), nil, nil, nil, birnn.ErrInput},
		{"wrong later input size", with(f.xs, 1, wide), nil, nil, nil, birnn.ErrInput},
		{"batch size changes", with(f.xs, 1, batch3), nil, nil, nil, birnn.ErrInput},
		{"vector input", with(f.xs, 0, vec), nil, nil, nil, birnn.ErrInput},
		{"input of another graph", with(f.xs, 1, foreign), nil, nil, nil, birnn.ErrInput},
		{"nil mask", f.xs, with(f.ms, 1, nil), nil, nil, birnn.ErrInput},
		{"mask of wrong batch", f.xs, with(f.ms, 1, badMask), nil, nil, birnn.ErrInput},
		{"matrix mask", f.xs, with(f.ms, 0, mat), nil, nil, birnn.ErrInput},
		{"forward state too short", f.xs, nil, cells.State{mat}, nil, cells.ErrState},
		{"backward state of wrong shape", f.xs, nil, nil, cells.State{mat, mat}, nil},
	} {
		outs, ff, bf, err := enc.Encode(c.xs, c.ms, c.s0f, c.s0b)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if outs != nil || ff != nil || bf != nil {
			t.Errorf("%s: results returned with error %v", c.name, err)
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: error %v is not %v", c.name, err, c.want)
		}
	}
	var zero birnn.Encoder
	if _, _, _, err := zero.Encode(f.xs, nil, nil, nil); !errors.Is(err, birnn.ErrConfig) {
		t.Errorf("zero Encoder: %v", err)
	}
	var nilEnc *birnn.Encoder
	if _, _, _, err := nilEnc.Encode(f.xs, nil, nil, nil); !errors.Is(err, birnn.ErrConfig) {
		t.Errorf("nil Encoder: %v", err)
	}
	if nilEnc.OutputSize() != 0 || nilEnc.InputSize() != 0 {
		t.Error("nil Encoder reports sizes")
	}
}

func TestStackRefuses(t *testing.T) {
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	src := graph.NewSource(4)
	for _, c := range birnn.StackConfigs(cells.GRUKind, 3, 4, 2, "enc.") {
		if err := c.Init(ps, src); err != nil {
			t.Fatal(err)
		}
	}
	g, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := birnn.NewStack(nil, cells.GRUKind, 3, 4, 2, "enc."); !errors.Is(err, birnn.ErrConfig) {
		t.Errorf("nil graph: %v", err)
	}
	if _, err := birnn.NewStack(g, cells.GRUKind, 3, 4, 0, "enc."); !errors.Is(err, birnn.ErrConfig) {
		t.Errorf("zero layers: %v", err)
	}
	if _, err := birnn.NewStack(g, cells.GRUKind, 3, 4, 3, "enc."); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("a layer without parameters: %v", err)
	}
	if _, err := birnn.NewStack(g, cells.LSTMKind, 3, 4, 2, "enc."); err == nil {
		t.Error("GRU parameters bound as an LSTM")
	}
	if _, err := birnn.NewStack(g, cells.GRUKind, 3, 4, 2, ""); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("wrong prefix: %v", err)
	}
	if _, err := birnn.NewStack(g, cells.Kind("lstm2"), 3, 4, 2, "enc."); !errors.Is(err, cells.ErrConfig) {
		t.Errorf("unknown kind: %v", err)
	}
	st, err := birnn.NewStack(g, cells.GRUKind, 3, 4, 2, "enc.")
	if err != nil {
		t.Fatal(err)
	}
	if st.Depth() != 2 || st.InputSize() != 3 || st.OutputSize() != 8 {
		t.Errorf("depth %d, input %d, output %d; want 2, 3, 8", st.Depth(), st.InputSize(), st.OutputSize())
	}
	xs := []*gorgonia.Node{randInput(t, g, src, "x_0", 2, 3), randInput(t, g, src, "x_1", 2, 3)}
	if _, _, err := st.Encode(xs, nil, make([]cells.State, 3)); !errors.Is(err, birnn.ErrInput) {
		t.Errorf("3 initial states for 2 layers: %v", err)
	}
	if _, _, err := st.Encode(nil, nil, nil); !errors.Is(err, cells.ErrEmpty) {
		t.Errorf("no steps: %v", err)
	}
	if _, _, err := st.Encode(xs, xs[:1], nil); !errors.Is(err, birnn.ErrInput) {
		t.Errorf("wrong mask count: %v", err)
	}
	// Some initial states nil (zeros), others given.
	h := randInput(t, g, src, "h", 2, 4)
	outs, finals, err := st.Encode(xs, nil, []cells.State{nil, {h}, nil, nil})
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || len(finals) != 4 {
		t.Fatalf("%d outputs, %d finals", len(outs), len(finals))
	}
	var nilStack *birnn.Stacked
	if _, _, err := nilStack.Encode(xs, nil, nil); !errors.Is(err, birnn.ErrConfig) {
		t.Errorf("nil stack: %v", err)
	}
}

func TestMergeNames(t *testing.T) {
	for _, m := range []birnn.Merge{birnn.Concat, birnn.Sum, birnn.Mul, birnn.Average} {
		p, err := birnn.ParseMerge(m.String())
		if err != nil || p != m {
			t.Errorf("ParseMerge(%q) = %v, %v", m.String(), p, err)
		}
	}
	for s, want := range map[string]birnn.Merge{" Concat ": birnn.Concat, "SUM": birnn.Sum, "ave": birnn.Average} {
		if p, err := birnn.ParseMerge(s); err != nil || p != want {
			t.Errorf("ParseMerge(%q) = %v, %v; want %v", s, p, err, want)
		}
	}
	for _, s := range []string{"", "max", "concat2"} {
		if _, err := birnn.ParseMerge(s); !errors.Is(err, birnn.ErrConfig) {
			t.Errorf("ParseMerge(%q): %v", s, err)
		}
	}
	if s := birnn.Merge(7).String(); s != "Merge(7)" {
		t.Errorf("Merge(7).String() = %q", s)
	}
	var zero birnn.Merge
	if zero != birnn.Concat {
		t.Error("the zero Merge is not Concat")
	}
}

func TestLayerConfigs(t *testing.T) {
	f, b := birnn.LayerConfigs(cells.LSTMKind, 6, 5, 1, "enc.")
	if f.ParamName("weight_ih") != "enc.weight_ih_l1" || b.ParamName("weight_ih") != "enc.weight_ih_l1_reverse" {
		t.Errorf("names %q and %q", f.ParamName("weight_ih"), b.ParamName("weight_ih"))
	}
	if f.InputSize != 6 || f.HiddenSize != 5 || b.InputSize != 6 || b.HiddenSize != 5 || f.Reverse || !b.Reverse {
		t.Errorf("configs %+v and %+v", f, b)
	}
	cs := birnn.StackConfigs(cells.GRUKind, 3, 4, 3, "")
	if len(cs) != 6 {
		t.Fatalf("%d configs", len(cs))
	}
	for i, c := range cs {
		in := 3
		if i >= 2 {
			in = 8
		}
		if c.Layer != i/2 || c.Reverse != (i%2 == 1) || c.InputSize != in || c.HiddenSize != 4 || c.Kind != cells.GRUKind {
			t.Errorf("config %d: %+v", i, c)
		}
	}
}

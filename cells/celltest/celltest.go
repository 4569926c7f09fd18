package celltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
)

// Subject describes the cell under test.
type Subject struct {
	// Name labels sub-tests.
	Name string
	// Init creates the cell's parameters for the given sizes in ps.
	Init func(ps *graph.Params, input, hidden int, src graph.Source) error
	// Bind builds the cell into g (whose Params Init has filled). It is
	// called inside graph.Build, so more than once per graph.
	Bind func(g *graph.Graph, input, hidden int) (cells.Cell, error)
	// Reference, if not nil, is the step the cell must compute, in plain
	// Go over the parameters Init created in ps: x is [batch, input] and
	// prev the state tensors [batch, width], row-major; it returns the next
	// state (h first).
	Reference func(ps *graph.Params, input, hidden, batch int, x []float64, prev [][]float64) ([][]float64, error)
}

// ForKind returns the Subject for a single cell of the registered kind k,
// with the kind's Spec.Reference if it has one.
func ForKind(k cells.Kind) Subject {
	cfg := func(in, h int) cells.Config { return cells.Config{Kind: k, InputSize: in, HiddenSize: h} }
	s := Subject{
		Name: string(k),
		Init: func(ps *graph.Params, in, h int, src graph.Source) error { return cfg(in, h).Init(ps, src) },
		Bind: func(g *graph.Graph, in, h int) (cells.Cell, error) { return cells.New(g, cfg(in, h)) },
	}
	if spec, ok := cells.Lookup(k); ok && spec.Reference != nil {
		s.Reference = func(ps *graph.Params, in, h, b int, x []float64, prev [][]float64) ([][]float64, error) {
			c := cfg(in, h)
			p := map[string][]float64{}
			bases := c.Bases()
			for i, spec := range c.Params() {
				t, ok := ps.Get(spec.Name)
				if !ok {
					return nil, errors.Errorf("celltest: parameter %q missing", spec.Name)
				}
				v, err := graph.Float64s(t)
				if err != nil {
					return nil, err
				}
				p[bases[i]] = v
			}
			return spec.Reference(p, in, h, b, x, prev)
		}
	}
	return s
}

// Run runs the whole suite on s.
func Run(t *testing.T, s Subject) {
	t.Helper()
	t.Run("StateShapes", func(t *testing.T) { StateShapes(t, s) })
	t.Run("UnrollEqualsStepLoop", func(t *testing.T) { UnrollEqualsStepLoop(t, s) })
	t.Run("ReverseEqualsReversedUnroll", func(t *testing.T) { ReverseEqualsReversedUnroll(t, s) })
	t.Run("GradientsMatchFiniteDifferences", func(t *testing.T) { GradientsMatchFiniteDifferences(t, s) })
	t.Run("SequenceEqualsStepwise", func(t *testing.T) { SequenceEqualsStepwise(t, s) })
	t.Run("SequenceGradientsMatchFiniteDifferences", func(t *testing.T) { SequenceGradientsMatchFiniteDifferences(t, s) })
	if s.Reference != nil {
		t.Run("MatchesReference", func(t *testing.T) { MatchesReference(t, s) })
	}
	t.Run("EdgeSizes", func(t *testing.T) { EdgeSizes(t, s) })
	t.Run("Float32MatchesFloat64", func(t *testing.T) { Float32MatchesFloat64(t, s) })
	t.Run("BadInput", func(t *testing.T) { BadInput(t, s) })
}

// params returns parameters of dtype dt initialised by s from seed, and
// the source, which goes on to draw the data.
func params(t *testing.T, s Subject, dt tensor.Dtype, in, h int, seed uint64) (*graph.Params, graph.Source) {
	t.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	src := graph.NewSource(seed)
	if err := s.Init(ps, in, h, src); err != nil {
		t.Fatalf("%s: init: %v", s.Name, err)
	}
	return ps, src
}

// widths returns the width of each state tensor of s's cell, read from its
// zero state in a graph that is never compiled.
func widths(t *testing.T, s Subject, ps *graph.Params, in, h int) []int {
	t.Helper()
	g, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Bind(g, in, h)
	if err != nil {
		t.Fatalf("%s: bind: %v", s.Name, err)
	}
	z, err := c.ZeroState(1)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]int, len(z))
	for i, n := range z {
		w[i] = n.Shape()[1]
	}
	return w
}

// data is one check's numbers, drawn before its graph is built so that
// every build of graph.Build gets the same: T steps of a batch of B
// inputs [B, in], an initial state, the weights R of the loss
// Σ_t Σ h_t ⊙ R_t + Σ_k Σ s_k ⊙ R_k, and a mask if masked.
type data struct {
	T, B, in int
	widths   []int
	xs       [][]float64 // T × [B·in]
	s0       [][]float64 // per state tensor, [B·width]
	rOut     [][]float64 // T × [B·H]
	rState   [][]float64 // per state tensor
	mask     []float64   // [T·B] of 0 and 1, or nil
}

func newData(src graph.Source, T, B, in int, widths []int, masked bool) *data {
	norm := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = src.NormFloat64()
		}
		return v
	}
	d := &data{T: T, B: B, in: in, widths: widths}
	for range T {
		d.xs = append(d.xs, norm(B*in))
		d.rOut = append(d.rOut, norm(B*widths[0]))
	}
	for _, w := range widths {
		d.s0 = append(d.s0, norm(B*w))
		d.rState = append(d.rState, norm(B*w))
	}
	if masked {
		d.mask = make([]float64, T*B)
		for i := range d.mask {
			if i < B || src.Float64() < 0.7 { // every sequence has a first token
				d.mask[i] = 1
			}
		}
	}
	return d
}

// input adds an input node holding data to g.
func input(g *graph.Graph, name string, data []float64, shape ...int) (*gorgonia.Node, error) {
	n, err := g.Input(name, shape...)
	if err != nil {
		return nil, err
	}
	return n, graph.Set(n, data)
}

// steps adds the inputs as one node [B, in] per step, and the initial
// state.
func (d *data) steps(g *graph.Graph) ([]*gorgonia.Node, cells.State, error) {
	xs := make([]*gorgonia.Node, d.T)
	for t := range xs {
		var err error
		if xs[t], err = input(g, fmt.Sprintf("x_%d", t), d.xs[t], d.B, d.in); err != nil {
			return nil, nil, err
		}
	}
	s0, err := d.state(g, "s0")
	return xs, s0, err
}

// sequence adds the inputs as one time-major node [T·B, in], the initial
// state and the mask (nil if the data has none), under names of their own:
// a graph may hold the steps too.
func (d *data) sequence(g *graph.Graph) (x *gorgonia.Node, s0 cells.State, mask *gorgonia.Node, err error) {
	if x, err = input(g, "seq_x", concat(d.xs), d.T*d.B, d.in); err != nil {
		return nil, nil, nil, err
	}
	if s0, err = d.state(g, "seq_s0"); err != nil {
		return nil, nil, nil, err
	}
	if d.mask != nil {
		if mask, err = input(g, "seq_mask", d.mask, d.T*d.B); err != nil {
			return nil, nil, nil, err
		}
	}
	return x, s0, mask, nil
}

func (d *data) state(g *graph.Graph, name string) (cells.State, error) {
	s0 := make(cells.State, len(d.s0))
	for k := range s0 {
		var err error
		if s0[k], err = input(g, fmt.Sprintf("%s_%d", name, k), d.s0[k], d.B, d.widths[k]); err != nil {
			return nil, err
		}
	}
	return s0, nil
}

// loss adds Σ_i Σ outs_i ⊙ R_i + Σ_k Σ final_k ⊙ R_k: outs are the outputs,
// one node per step or (sequence) one node for all.
func (d *data) loss(g *graph.Graph, outs []*gorgonia.Node, final cells.State) (*gorgonia.Node, error) {
	rs := d.rOut
	if len(outs) == 1 && d.T > 1 {
		rs = [][]float64{concat(d.rOut)}
	}
	var loss *gorgonia.Node
	add := func(name string, n *gorgonia.Node, r []float64) error {
		rn, err := input(g, name, r, n.Shape()...)
		if err != nil {
			return err
		}
		p, err := gorgonia.HadamardProd(n, rn)
		if err != nil {
			return err
		}
		s, err := gorgonia.Sum(p)
		if err != nil {
			return err
		}
		if loss == nil {
			loss = s
			return nil
		}
		loss, err = gorgonia.Add(loss, s)
		return err
	}
	for i, o := range outs {
		if err := add(fmt.Sprintf("r_out_%d", i), o, rs[i]); err != nil {
			return nil, err
		}
	}
	for k, s := range final {
		if err := add(fmt.Sprintf("r_state_%d", k), s, d.rState[k]); err != nil {
			return nil, err
		}
	}
	return loss, nil
}

func concat(vs [][]float64) []float64 {
	var out []float64
	for _, v := range vs {
		out = append(out, v...)
	}
	return out
}

// build makes a graph over ps with graph.Build: each build binds s's cell
// and fn adds the rest; it returns the graph and what the last build's fn
// returned.
func build[T any](t *testing.T, s Subject, ps *graph.Params, in, h int, fn func(g *graph.Graph, c cells.Cell) (T, error)) (*graph.Graph, T) {
	t.Helper()
	g, v, err := graph.Build(ps, func(g *graph.Graph) (T, error) {
		var zero T
		c, err := s.Bind(g, in, h)
		if err != nil {
			return zero, errors.Wrapf(err, "%s: bind", s.Name)
		}
		return fn(g, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	return g, v
}

// reads adds a gorgonia.Read of each node and returns where the values
// land when the machine runs.
func reads(nodes ...*gorgonia.Node) []gorgonia.Value {
	vs := make([]gorgonia.Value, len(nodes))
	for i, n := range nodes {
		gorgonia.Read(n, &vs[i])
	}
	return vs
}

// run compiles g, runs it once and returns the values read.
func run(t *testing.T, g *graph.Graph, vals []gorgonia.Value) [][]float64 {
	t.Helper()
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
			t.Fatalf("value %d: %v", i, err)
		}
	}
	return out
}

// maxDiff returns the largest |a − b| / max(1, |b|), +Inf for a NaN or a
// length mismatch.
func maxDiff(a, b [][]float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return math.Inf(1)
		}
		for j := range a[i] {
			d := math.Abs(a[i][j]-b[i][j]) / math.Max(1, math.Abs(b[i][j]))
			if math.IsNaN(d) {
				return math.Inf(1)
			}
			m = math.Max(m, d)
		}
	}
	return m
}

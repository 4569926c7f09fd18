package parity

import (
	"fmt"
	"math"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/fixture"
)

// Tolerance is the largest absolute error a float64 comparison may show.
const Tolerance = 1e-9

// ErrUnknownCase is returned for a fixture case this package cannot build.
var ErrUnknownCase = errors.New("parity: unknown case")

// Diff is the largest absolute error found on one compared tensor.
type Diff struct {
	Name   string
	MaxAbs float64
}

// Result is the outcome of one fixture.
type Result struct {
	Name    string
	Case    string
	OutErr  float64 // max abs error over outputs, final states and the loss
	GradErr float64 // max abs error over every gradient
	Diffs   []Diff  // per tensor, in a stable order
}

// Pass reports whether both errors are within tol.
func (r Result) Pass(tol float64) bool { return r.OutErr <= tol && r.GradErr <= tol }

// aliases maps the recurrent fixture cases that are not a cell kind's name
// to a kind (their layers and directions come from the dims). Every other
// recurrent case is a registered kind's name (cells.Kinds).
var aliases = map[string]cells.Kind{
	"bilstm":      cells.LSTMKind,
	"lstm_2layer": cells.LSTMKind,
}

// caseKind returns the cell kind of a recurrent case.
func caseKind(name string) (cells.Kind, bool) {
	if k, ok := aliases[name]; ok {
		return k, true
	}
	_, ok := cells.Lookup(cells.Kind(name))
	return cells.Kind(name), ok
}

// Cases returns the case names Run knows, sorted: seq2seq, every
// registered cell kind and the aliases.
func Cases() []string {
	out := append([]string{"seq2seq"}, treeCaseNames()...)
	out = append(out, transformerCaseNames()...)
	for k := range aliases {
		out = append(out, k)
	}
	for _, k := range cells.Kinds() {
		out = append(out, string(k))
	}
	sort.Strings(out)
	return out
}

// Run builds and checks the model of one fixture. An error means the fixture
// could not be run (unknown case, inconsistent shapes); a mismatch is
// reported in the Result, not as an error.
func Run(f *fixture.File) (Result, error) {
	return RunWith(f, Options{})
}

// Options choose how Run builds a model.
type Options struct {
	// Fused builds the recurrent layers of the recurrent cases with
	// cells.Sequence's fused kernel instead of the step-by-step subgraph.
	Fused bool
}

// RunWith is Run with options.
func RunWith(f *fixture.File, opt Options) (Result, error) {
	if f.Case == "seq2seq" {
		return runSeq2Seq(f)
	}
	if run, ok := transformerCases[f.Case]; ok {
		return run(f, opt.Fused)
	}
	if kind, ok := treeCases[f.Case]; ok {
		return runTree(f, kind, opt.Fused)
	}
	kind, ok := caseKind(f.Case)
	if !ok {
		return Result{}, fmt.Errorf("%w %q (known: %v)", ErrUnknownCase, f.Case, Cases())
	}
	return runRecurrent(f, kind, opt.Fused)
}

type recDims struct{ T, B, I, H, L, D int }

func readDims(f *fixture.File) (recDims, error) {
	var d recDims
	var err error
	for _, p := range []struct {
		name string
		dst  *int
	}{{"T", &d.T}, {"B", &d.B}, {"I", &d.I}, {"H", &d.H}} {
		if *p.dst, err = f.Dim(p.name); err != nil {
			return d, err
		}
	}
	d.L, d.D = 1, 1
	if _, ok := f.Dims["num_layers"]; ok {
		if d.L, err = f.Dim("num_layers"); err != nil {
			return d, err
		}
	}
	if _, ok := f.Dims["num_directions"]; ok {
		if d.D, err = f.Dim("num_directions"); err != nil {
			return d, err
		}
	}
	if d.D > 2 {
		return d, errors.Wrapf(fixture.ErrFormat, "dims: num_directions = %d (1 or 2)", d.D)
	}
	return d, nil
}

// runRecurrent handles every case that is a (stacked, possibly
// bidirectional) recurrent layer of a registered cell kind with loss
// sum(output ⊙ R). The fixture's state tensors are named after the kind's
// states: inputs h0, c0 and outputs h_n, c_n for an LSTM.
func runRecurrent(f *fixture.File, kind cells.Kind, fused bool) (Result, error) {
	d, err := readDims(f)
	if err != nil {
		return Result{}, err
	}
	spec, ok := cells.Lookup(kind)
	if !ok {
		return Result{}, fmt.Errorf("%w: cell kind %q", ErrUnknownCase, kind)
	}
	DH := d.D * d.H

	// Parameters, in PyTorch's order, from the fixture.
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		return Result{}, err
	}
	cfgs := make([][]cells.Config, d.L)
	used := map[string]bool{}
	for l := 0; l < d.L; l++ {
		in := d.I
		if l > 0 {
			in = DH
		}
		for dir := 0; dir < d.D; dir++ {
			c := cells.Config{Kind: kind, InputSize: in, HiddenSize: d.H, Layer: l, Reverse: dir == 1}
			cfgs[l] = append(cfgs[l], c)
			for _, p := range c.Params() {
				t, err := fixture.Want("params", f.Params, p.Name, p.Shape...)
				if err != nil {
					return Result{}, err
				}
				v, err := graph.FromFloat64s(tensor.Float64, t.Data, p.Shape...)
				if err != nil {
					return Result{}, err
				}
				if err := ps.Add(p.Name, v); err != nil {
					return Result{}, err
				}
				used[p.Name] = true
			}
		}
	}
	for name := range f.Params {
		if !used[name] {
			return Result{}, errors.Wrapf(fixture.ErrFormat, "params: %q is not a parameter of a %d-layer %d-direction %s", name, d.L, d.D, kind)
		}
	}

	x, err := fixture.Want("inputs", f.Inputs, "x", d.T, d.B, d.I)
	if err != nil {
		return Result{}, err
	}
	R := f.Loss.R
	if R == nil {
		return Result{}, errors.Wrap(fixture.ErrFormat, "loss: missing R")
	}
	if _, err := fixture.Want("loss", map[string]fixture.Tensor{"R": *R}, "R", d.T, d.B, DH); err != nil {
		return Result{}, err
	}
	initial := make([]fixture.Tensor, len(spec.States)) // h0, c0, …
	for i, st := range spec.States {
		if initial[i], err = fixture.Want("inputs", f.Inputs, st+"0", d.L*d.D, d.B, d.H); err != nil {
			return Result{}, err
		}
	}

	// The model, gradients and reads, built by graph.Build.
	steps := d.T
	if fused {
		steps = 1
	}
	rows := d.T / steps * d.B
	g, m, err := graph.Build(ps, func(g *graph.Graph) (*recurrentModel, error) {
		return buildRecurrent(g, recurrentData{d: d, cfgs: cfgs, fused: fused, steps: steps, rows: rows, x: x.Data, r: R.Data, states: spec.States, initial: initial})
	})
	if err != nil {
		return Result{}, err
	}
	vm, err := graph.NewMachine(g)
	if err != nil {
		return Result{}, err
	}
	defer vm.Close()
	if err := graph.Run(vm); err != nil {
		return Result{}, err
	}

	res := Result{Name: f.Name, Case: f.Case}
	cmp := res.compare
	// A value that cannot be read stays nil and fails the length check.
	get := func(v gorgonia.Value) []float64 { out, _ := graph.ValueFloat64s(v); return out }
	cat := func(vs []gorgonia.Value) []float64 {
		var out []float64
		for _, v := range vs {
			out = append(out, get(v)...)
		}
		return out
	}

	if err := cmp(false, "loss", fixture.Tensor{Shape: []int{1}, Data: []float64{f.Loss.Value}}, get(m.loss)); err != nil {
		return res, err
	}
	wantOut, err := fixture.Want("outputs", f.Outputs, "output", d.T, d.B, DH)
	if err != nil {
		return res, err
	}
	if err := cmp(false, "output", wantOut, cat(m.out)); err != nil {
		return res, err
	}
	for i, st := range spec.States {
		want, err := fixture.Want("outputs", f.Outputs, st+"_n", d.L*d.D, d.B, d.H)
		if err != nil {
			return res, err
		}
		var got []float64
		for k := range m.final {
			got = append(got, get(m.final[k][i])...)
		}
		if err := cmp(false, st+"_n", want, got); err != nil {
			return res, err
		}
	}
	for i, name := range m.params {
		want, err := fixture.Want("grads.params", f.Grads.Params, name, m.shapes[i]...)
		if err != nil {
			return res, err
		}
		if err := cmp(true, "d"+name, want, get(m.grads[i])); err != nil {
			return res, err
		}
	}
	nParams := len(m.params)
	gx, err := fixture.Want("grads", f.Grads.Other, "x", d.T, d.B, d.I)
	if err != nil {
		return res, err
	}
	if err := cmp(true, "dx", gx, cat(m.grads[nParams:nParams+steps])); err != nil {
		return res, err
	}
	ns := len(spec.States)
	rest := m.grads[nParams+steps:]
	for i, st := range spec.States {
		want, err := fixture.Want("grads", f.Grads.Other, st+"0", d.L*d.D, d.B, d.H)
		if err != nil {
			return res, err
		}
		var got []float64
		for k := 0; k < d.L*d.D; k++ {
			got = append(got, get(rest[k*ns+i])...)
		}
		if err := cmp(true, "d"+st+"0", want, got); err != nil {
			return res, err
		}
	}
	return res, nil
}

// recurrentData is what buildRecurrent builds a recurrent case's graph from.
type recurrentData struct {
	d       recDims
	cfgs    [][]cells.Config // per layer, per direction
	fused   bool             // through cells.Sequence's fused kernel
	steps   int              // input nodes: T, or 1 when fused
	rows    int              // rows of each input node
	x, r    []float64        // the input [T, B, I] and the loss weights [T, B, D·H]
	states  []string         // the kind's state names, h first
	initial []fixture.Tensor // per state tensor, [L·D, B, H]
}

// recurrentModel is a recurrent case's graph: where the values it reads
// land when it runs, and the parameters' names and shapes in the order of
// the gradients.
type recurrentModel struct {
	loss   gorgonia.Value
	out    []gorgonia.Value   // per input node
	final  [][]gorgonia.Value // per layer and direction, per state tensor
	grads  []gorgonia.Value   // parameters, then inputs, then initial states
	params []string
	shapes [][]int
}

// buildRecurrent builds the model of a recurrent case into g: layer by
// layer, each direction unrolled (or run fused) over the layer's input,
// the loss Σ_t Σ output_t ⊙ R_t and its gradients with respect to every
// parameter, input and initial state.
func buildRecurrent(g *graph.Graph, rd recurrentData) (*recurrentModel, error) {
	d := rd.d
	DH := d.D * d.H
	// Inputs: one node per time step (one for the whole sequence,
	// time-major, when fused), one per initial state tensor.
	xs := make([]*gorgonia.Node, rd.steps)
	var err error
	for t := range xs {
		if xs[t], err = input(g, fmt.Sprintf("x_%d", t), rd.x[t*rd.rows*d.I:(t+1)*rd.rows*d.I], rd.rows, d.I); err != nil {
			return nil, err
		}
	}
	bh := d.B * d.H
	s0 := make([]cells.State, d.L*d.D)
	for k := range s0 {
		for i, st := range rd.initial {
			n, err := input(g, fmt.Sprintf("%s0_%d", rd.states[i], k), st.Data[k*bh:(k+1)*bh], d.B, d.H)
			if err != nil {
				return nil, err
			}
			s0[k] = append(s0[k], n)
		}
	}

	layerIn := xs
	finals := make([]cells.State, d.L*d.D)
	for l := 0; l < d.L; l++ {
		outs := make([][]*gorgonia.Node, d.D)
		for dir := 0; dir < d.D; dir++ {
			cell, err := cells.New(g, rd.cfgs[l][dir])
			if err != nil {
				return nil, err
			}
			unroll := cells.Unroll
			if dir == 1 {
				unroll = cells.UnrollReverse
			}
			k := l*d.D + dir
			if rd.fused {
				var y *gorgonia.Node
				y, finals[k], err = cells.Sequence(cell, layerIn[0], d.B, s0[k], cells.SeqOptions{Reverse: dir == 1})
				outs[dir] = []*gorgonia.Node{y}
			} else {
				outs[dir], finals[k], err = unroll(cell, layerIn, s0[k])
			}
			if err != nil {
				return nil, errors.Wrapf(err, "layer %d direction %d", l, dir)
			}
		}
		layerIn = outs[0]
		if d.D == 2 {
			layerIn = make([]*gorgonia.Node, rd.steps)
			for t := range layerIn {
				if layerIn[t], err = graph.ConcatCols(outs[0][t], outs[1][t]); err != nil {
					return nil, errors.Wrapf(err, "concat at step %d", t)
				}
			}
		}
	}

	// loss = Σ_t Σ output_t ⊙ R_t
	var loss *gorgonia.Node
	for t, out := range layerIn {
		r, err := input(g, fmt.Sprintf("R_%d", t), rd.r[t*rd.rows*DH:(t+1)*rd.rows*DH], rd.rows, DH)
		if err != nil {
			return nil, err
		}
		p, err := gorgonia.HadamardProd(out, r)
		if err != nil {
			return nil, err
		}
		s, err := gorgonia.Sum(p)
		if err != nil {
			return nil, err
		}
		if loss == nil {
			loss = s
		} else if loss, err = gorgonia.Add(loss, s); err != nil {
			return nil, err
		}
	}

	// Gradients with respect to every parameter, input and initial state.
	m := &recurrentModel{}
	wrt := g.Learnables()
	for _, n := range wrt {
		m.params, m.shapes = append(m.params, n.Name()), append(m.shapes, n.Shape().Clone())
	}
	wrt = append(wrt, xs...)
	for _, s := range s0 {
		wrt = append(wrt, s...)
	}
	grads, err := gorgonia.Grad(loss, wrt...)
	if err != nil {
		return nil, errors.Wrap(err, "parity: symbolic gradient")
	}

	// Read what we compare.
	gorgonia.Read(loss, &m.loss)
	m.out = readAll(layerIn)
	m.final = make([][]gorgonia.Value, len(finals))
	for k, s := range finals {
		m.final[k] = readAll(s)
	}
	m.grads = readAll(grads)
	return m, nil
}

// compare records the largest absolute error between a fixture tensor and
// the model's values, as an output (or state) error or a gradient error.
func (r *Result) compare(isGrad bool, name string, want fixture.Tensor, got []float64) error {
	if want.Size() != len(got) {
		return errors.Wrapf(fixture.ErrFormat, "%s: %d values, model gives %d", name, want.Size(), len(got))
	}
	e := maxAbs(want.Data, got)
	r.Diffs = append(r.Diffs, Diff{Name: name, MaxAbs: e})
	if isGrad {
		r.GradErr = math.Max(r.GradErr, e)
	} else {
		r.OutErr = math.Max(r.OutErr, e)
	}
	return nil
}

func input(g *graph.Graph, name string, data []float64, shape ...int) (*gorgonia.Node, error) {
	n, err := g.Input(name, shape...)
	if err != nil {
		return nil, err
	}
	return n, graph.Set(n, data)
}

// readAll adds a Read of each node and returns where the values will land.
// The slice is filled when the machine runs.
func readAll(ns []*gorgonia.Node) []gorgonia.Value {
	vs := make([]gorgonia.Value, len(ns))
	for i, n := range ns {
		gorgonia.Read(n, &vs[i])
	}
	return vs
}

func maxAbs(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		e := math.Abs(a[i] - b[i])
		if math.IsNaN(e) {
			return math.Inf(1)
		}
		m = math.Max(m, e)
	}
	return m
}

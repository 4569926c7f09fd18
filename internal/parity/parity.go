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

// recurrent maps the recurrent fixture cases to a cell kind.
var recurrent = map[string]cells.Kind{
	"rnn_tanh":      cells.RNNTanh,
	"rnn_relu":      cells.RNNReLU,
	"lstm":          cells.LSTMKind,
	"gru":           cells.GRUKind,
	"peephole_lstm": cells.PeepholeKind,
	"bilstm":        cells.LSTMKind,
	"lstm_2layer":   cells.LSTMKind,
}

// Cases returns the case names Run knows, sorted.
func Cases() []string {
	out := append([]string{"seq2seq"}, treeCaseNames()...)
	for k := range recurrent {
		out = append(out, k)
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
	if kind, ok := treeCases[f.Case]; ok {
		return runTree(f, kind, opt.Fused)
	}
	kind, ok := recurrent[f.Case]
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
// bidirectional) recurrent layer with loss sum(output ⊙ R).
func runRecurrent(f *fixture.File, kind cells.Kind, fused bool) (Result, error) {
	d, err := readDims(f)
	if err != nil {
		return Result{}, err
	}
	lstmLike := kind == cells.LSTMKind || kind == cells.PeepholeKind
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

	g, err := graph.New(ps)
	if err != nil {
		return Result{}, err
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
	h0, err := fixture.Want("inputs", f.Inputs, "h0", d.L*d.D, d.B, d.H)
	if err != nil {
		return Result{}, err
	}
	var c0 fixture.Tensor
	if lstmLike {
		if c0, err = fixture.Want("inputs", f.Inputs, "c0", d.L*d.D, d.B, d.H); err != nil {
			return Result{}, err
		}
	}

	// Inputs: one node per time step (one for the whole sequence, time-major,
	// when fused), one per initial state tensor.
	steps := d.T
	if fused {
		steps = 1
	}
	rows := d.T / steps * d.B
	xs := make([]*gorgonia.Node, steps)
	for t := range xs {
		if xs[t], err = input(g, fmt.Sprintf("x_%d", t), x.Data[t*rows*d.I:(t+1)*rows*d.I], rows, d.I); err != nil {
			return Result{}, err
		}
	}
	bh := d.B * d.H
	s0 := make([]cells.State, d.L*d.D)
	for k := range s0 {
		h, err := input(g, fmt.Sprintf("h0_%d", k), h0.Data[k*bh:(k+1)*bh], d.B, d.H)
		if err != nil {
			return Result{}, err
		}
		s0[k] = cells.State{h}
		if lstmLike {
			c, err := input(g, fmt.Sprintf("c0_%d", k), c0.Data[k*bh:(k+1)*bh], d.B, d.H)
			if err != nil {
				return Result{}, err
			}
			s0[k] = append(s0[k], c)
		}
	}

	// The model: layer by layer, each direction unrolled over the layer's input.
	layerIn := xs
	finals := make([]cells.State, d.L*d.D)
	for l := 0; l < d.L; l++ {
		outs := make([][]*gorgonia.Node, d.D)
		for dir := 0; dir < d.D; dir++ {
			cell, err := cells.New(g, cfgs[l][dir])
			if err != nil {
				return Result{}, err
			}
			unroll := cells.Unroll
			if dir == 1 {
				unroll = cells.UnrollReverse
			}
			k := l*d.D + dir
			if fused {
				var y *gorgonia.Node
				y, finals[k], err = cells.Sequence(cell, layerIn[0], d.B, s0[k], cells.SeqOptions{Reverse: dir == 1})
				outs[dir] = []*gorgonia.Node{y}
			} else {
				outs[dir], finals[k], err = unroll(cell, layerIn, s0[k])
			}
			if err != nil {
				return Result{}, errors.Wrapf(err, "layer %d direction %d", l, dir)
			}
		}
		layerIn = outs[0]
		if d.D == 2 {
			layerIn = make([]*gorgonia.Node, steps)
			for t := range layerIn {
				if layerIn[t], err = graph.ConcatCols(outs[0][t], outs[1][t]); err != nil {
					return Result{}, errors.Wrapf(err, "concat at step %d", t)
				}
			}
		}
	}

	// loss = Σ_t Σ output_t ⊙ R_t
	var loss *gorgonia.Node
	for t, out := range layerIn {
		r, err := input(g, fmt.Sprintf("R_%d", t), R.Data[t*rows*DH:(t+1)*rows*DH], rows, DH)
		if err != nil {
			return Result{}, err
		}
		p, err := gorgonia.HadamardProd(out, r)
		if err != nil {
			return Result{}, err
		}
		s, err := gorgonia.Sum(p)
		if err != nil {
			return Result{}, err
		}
		if loss == nil {
			loss = s
		} else if loss, err = gorgonia.Add(loss, s); err != nil {
			return Result{}, err
		}
	}

	// Gradients with respect to every parameter, input and initial state.
	wrt := g.Learnables()
	nParams := len(wrt)
	wrt = append(wrt, xs...)
	for _, s := range s0 {
		wrt = append(wrt, s...)
	}
	grads, err := gorgonia.Grad(loss, wrt...)
	if err != nil {
		return Result{}, errors.Wrap(err, "parity: symbolic gradient")
	}

	// Read what we compare.
	var lossV gorgonia.Value
	gorgonia.Read(loss, &lossV)
	outV := readAll(layerIn)
	finalV := make([][]gorgonia.Value, len(finals))
	for k, s := range finals {
		finalV[k] = readAll(s)
	}
	gradV := readAll(grads)

	m, err := graph.NewMachine(g)
	if err != nil {
		return Result{}, err
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
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

	lossGot := get(lossV)
	if err := cmp(false, "loss", fixture.Tensor{Shape: []int{1}, Data: []float64{f.Loss.Value}}, lossGot); err != nil {
		return res, err
	}
	wantOut, err := fixture.Want("outputs", f.Outputs, "output", d.T, d.B, DH)
	if err != nil {
		return res, err
	}
	if err := cmp(false, "output", wantOut, cat(outV)); err != nil {
		return res, err
	}
	states := []string{"h_n", "c_n"}
	for i := 0; i < len(finals[0]); i++ {
		want, err := fixture.Want("outputs", f.Outputs, states[i], d.L*d.D, d.B, d.H)
		if err != nil {
			return res, err
		}
		var got []float64
		for k := range finals {
			got = append(got, get(finalV[k][i])...)
		}
		if err := cmp(false, states[i], want, got); err != nil {
			return res, err
		}
	}
	for i, n := range wrt[:nParams] {
		want, err := fixture.Want("grads.params", f.Grads.Params, n.Name(), n.Shape()...)
		if err != nil {
			return res, err
		}
		if err := cmp(true, "d"+n.Name(), want, get(gradV[i])); err != nil {
			return res, err
		}
	}
	gx, err := fixture.Want("grads", f.Grads.Other, "x", d.T, d.B, d.I)
	if err != nil {
		return res, err
	}
	if err := cmp(true, "dx", gx, cat(gradV[nParams:nParams+steps])); err != nil {
		return res, err
	}
	ns := len(s0[0])
	rest := gradV[nParams+steps:]
	for i := 0; i < ns; i++ {
		name := []string{"h0", "c0"}[i]
		want, err := fixture.Want("grads", f.Grads.Other, name, d.L*d.D, d.B, d.H)
		if err != nil {
			return res, err
		}
		var got []float64
		for k := range s0 {
			got = append(got, get(rest[k*ns+i])...)
		}
		if err := cmp(true, "d"+name, want, got); err != nil {
			return res, err
		}
	}
	return res, nil
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

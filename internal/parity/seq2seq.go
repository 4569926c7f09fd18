package parity

import (
	"math"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/fixture"
	"github.com/rnnkit/rnnkit/models/seq2seq"
)

// runSeq2Seq checks the "seq2seq" case: a shared embedding, an LSTM encoder
// from zeros, an LSTM decoder from the encoder's final (h, c) under teacher
// forcing, a linear output layer and the mean cross-entropy.
func runSeq2Seq(f *fixture.File) (Result, error) {
	var d struct{ Ts, Tt, B, V, E, H int }
	for _, p := range []struct {
		name string
		dst  *int
	}{{"Ts", &d.Ts}, {"Tt", &d.Tt}, {"B", &d.B}, {"V", &d.V}, {"E", &d.E}, {"H", &d.H}} {
		v, err := f.Dim(p.name)
		if err != nil {
			return Result{}, err
		}
		*p.dst = v
	}
	cfg := seq2seq.Config{Vocab: d.V, Embed: d.E, Hidden: d.H, Cell: cells.LSTMKind}
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		return Result{}, err
	}
	if err := cfg.Init(ps, graph.NewSource(0)); err != nil {
		return Result{}, err
	}
	if err := loadParams(ps, f); err != nil {
		return Result{}, err
	}
	src, err := tokens(f, "src", d.Ts, d.B, d.V)
	if err != nil {
		return Result{}, err
	}
	decIn, err := tokens(f, "dec_in", d.Tt, d.B, d.V)
	if err != nil {
		return Result{}, err
	}
	labels, err := tokens(f, "labels", d.Tt, d.B, d.V)
	if err != nil {
		return Result{}, err
	}
	full := func(n, l int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = l
		}
		return out
	}
	batch := seq2seq.Batch{Src: src, SrcLen: full(d.B, d.Ts), TgtIn: decIn, TgtOut: labels, TgtLen: full(d.B, d.Tt)}

	// The model, its gradients and reads, built by graph.Build.
	type built struct {
		m                                           *seq2seq.TrainGraph
		params                                      []*gorgonia.Node
		nLogits                                     int
		lossV                                       gorgonia.Value
		encV, decV, logitV, encFinV, decFinV, gradV []gorgonia.Value
	}
	g, b, err := graph.Build(ps, func(g *graph.Graph) (*built, error) {
		m, err := seq2seq.BuildTrainGraph(g, cfg, d.B, d.Ts, d.Tt)
		if err != nil {
			return nil, err
		}
		params := g.Learnables()
		grads, err := gorgonia.Grad(m.Loss, params...)
		if err != nil {
			return nil, errors.Wrap(err, "parity: symbolic gradient")
		}
		// Gradients with respect to intermediate nodes are their Deriv
		// nodes, which gorgonia.Grad has built on the way.
		logits := m.Logits
		if m.LogitMatrix != nil {
			logits = []*gorgonia.Node{m.LogitMatrix}
		}
		for _, n := range append(append(gorgonia.Nodes{}, logits...), m.EncFinal...) {
			if n.Deriv() == nil {
				return nil, errors.Errorf("parity: no gradient node for %s", n.Name())
			}
			grads = append(grads, n.Deriv())
		}
		b := &built{m: m, params: params, nLogits: len(logits)}
		gorgonia.Read(m.Loss, &b.lossV)
		b.encV, b.decV, b.logitV = readAll(m.EncOut), readAll(m.DecOut), readAll(m.Logits)
		b.encFinV, b.decFinV = readAll(m.EncFinal), readAll(m.DecFinal)
		b.gradV = readAll(grads)
		return b, nil
	})
	if err != nil {
		return Result{}, err
	}
	if err := b.m.Set(batch); err != nil {
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
	params, gradV, lossV := b.params, b.gradV, b.lossV
	encV, decV, logitV, encFinV, decFinV := b.encV, b.decV, b.logitV, b.encFinV, b.decFinV

	res := Result{Name: f.Name, Case: f.Case}
	cmp := func(isGrad bool, name string, want fixture.Tensor, vs []gorgonia.Value) error {
		var got []float64
		for _, v := range vs {
			x, err := graph.ValueFloat64s(v)
			if err != nil {
				return errors.Wrapf(err, "reading %s", name)
			}
			got = append(got, x...)
		}
		return res.compare(isGrad, name, want, got)
	}
	outputs := []struct {
		name  string
		vals  []gorgonia.Value
		shape []int
	}{
		{"enc_out", encV, []int{d.Ts, d.B, d.H}}, {"h_enc", encFinV[:1], []int{1, d.B, d.H}}, {"c_enc", encFinV[1:], []int{1, d.B, d.H}},
		{"dec_out", decV, []int{d.Tt, d.B, d.H}}, {"h_dec", decFinV[:1], []int{1, d.B, d.H}}, {"c_dec", decFinV[1:], []int{1, d.B, d.H}},
		{"logits", logitV, []int{d.Tt, d.B, d.V}},
	}
	if err := cmp(false, "loss", fixture.Tensor{Shape: []int{1}, Data: []float64{f.Loss.Value}}, []gorgonia.Value{lossV}); err != nil {
		return res, err
	}
	for _, o := range outputs {
		want, err := fixture.Want("outputs", f.Outputs, o.name, o.shape...)
		if err != nil {
			return res, err
		}
		if err := cmp(false, o.name, want, o.vals); err != nil {
			return res, err
		}
	}
	for i, n := range params {
		want, err := fixture.Want("grads.params", f.Grads.Params, n.Name(), n.Shape()...)
		if err != nil {
			return res, err
		}
		if err := cmp(true, "d"+n.Name(), want, gradV[i:i+1]); err != nil {
			return res, err
		}
	}
	rest, nl := gradV[len(params):], b.nLogits
	extra := []struct {
		name  string
		vals  []gorgonia.Value
		shape []int
	}{{"logits", rest[:nl], []int{d.Tt, d.B, d.V}}, {"h_enc", rest[nl : nl+1], []int{1, d.B, d.H}}, {"c_enc", rest[nl+1:], []int{1, d.B, d.H}}}
	for _, o := range extra {
		want, err := fixture.Want("grads", f.Grads.Other, o.name, o.shape...)
		if err != nil {
			return res, err
		}
		if err := cmp(true, "d"+o.name, want, o.vals); err != nil {
			return res, err
		}
	}
	return res, nil
}

// loadParams copies every fixture parameter into ps, which must hold
// exactly the same names and shapes.
func loadParams(ps *graph.Params, f *fixture.File) error {
	names := ps.Names()
	for _, name := range names {
		t, _ := ps.Get(name)
		want, err := fixture.Want("params", f.Params, name, t.Shape()...)
		if err != nil {
			return err
		}
		if err := graph.SetFloat64s(t, want.Data); err != nil {
			return err
		}
	}
	if len(f.Params) != len(names) {
		var extra []string
		for k := range f.Params {
			if _, ok := ps.Get(k); !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		return errors.Wrapf(fixture.ErrFormat, "params: %v are not parameters of the model", extra)
	}
	return nil
}

// tokens reads an integer [T, B] input as batch-major ids.
func tokens(f *fixture.File, name string, T, B, V int) ([][]int, error) {
	t, err := fixture.Want("inputs", f.Inputs, name, T, B)
	if err != nil {
		return nil, err
	}
	out := make([][]int, B)
	for b := range out {
		out[b] = make([]int, T)
		for s := 0; s < T; s++ {
			v := t.Data[s*B+b]
			if v != math.Trunc(v) || v < 0 || v >= float64(V) {
				return nil, errors.Wrapf(fixture.ErrFormat, "inputs.%s[%d][%d] = %v is not a token id in [0, %d)", name, s, b, v, V)
			}
			out[b][s] = int(v)
		}
	}
	return out, nil
}

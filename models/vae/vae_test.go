package vae

import (
	"errors"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

func params(t *testing.T, c Config, dt tensor.Dtype, seed uint64) *graph.Params {
	t.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Init(ps, graph.NewSource(seed)); err != nil {
		t.Fatal(err)
	}
	return ps
}

// normals returns B rows of Z standard normal values.
func normals(B, Z int, seed uint64) [][]float64 {
	src := graph.NewSource(seed)
	out := make([][]float64, B)
	for b := range out {
		out[b] = make([]float64, Z)
		for j := range out[b] {
			out[b][j] = src.NormFloat64()
		}
	}
	return out
}

// Finite differences through every parameter, the reparameterised path
// (μ, log σ², z) and the KL, with and without z at the decoder's inputs,
// with free bits, for an LSTM (two state tensors from z), a GRU and a tanh
// RNN, and for the model without a latent.
func TestGradients(t *testing.T) {
	sents := [][]int{{4, 5, 6}, {7, 4}, {5}}
	dropped := [][]int{{4, 3, 6}, {7, 4}, {3}}
	for _, c := range []struct {
		cfg Config
		opt Options
	}{
		{Config{Vocab: 8, Embed: 3, Hidden: 4, Latent: 2, Cell: cells.GRUKind}, Options{}},
		{Config{Vocab: 8, Embed: 3, Hidden: 3, Latent: 3, Cell: cells.LSTMKind, ZInput: true}, Options{}},
		{Config{Vocab: 8, Embed: 2, Hidden: 3, Latent: 3, Cell: cells.RNNTanh, ZInput: true}, Options{FreeBits: 0.05}},
		{Config{Vocab: 8, Embed: 2, Hidden: 3, Cell: cells.GRUKind}, Options{}},
	} {
		ps := params(t, c.cfg, tensor.Float64, 3)
		gr, p, err := graph.Build(ps, func(g *graph.Graph) (*gradcheck.Prepared, error) {
			m, err := BuildTrainGraph(g, c.cfg, 4, 3, c.opt)
			if err != nil {
				return nil, err
			}
			if err := m.Set(sents, Inputs{Eps: normals(4, c.cfg.Latent, 5), Beta: 0.7, DecoderInput: dropped}); err != nil {
				return nil, err
			}
			return gradcheck.Prepare(g, m.Loss, g.Learnables())
		})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := p.Check(gr, 1e-6)
		if err != nil {
			t.Fatal(err)
		}
		if rep.MaxErr > 1e-7 || rep.Checked == 0 {
			t.Errorf("%+v %+v: max error %g at %s (%d checked)", c.cfg, c.opt, rep.MaxErr, rep.Worst, rep.Checked)
		}
	}
}

// run builds the graph of cfg for B sentences of at most T words, sets
// sents and in, runs it, and returns the values of the loss, CE, KL and μ
// (KL and μ nil without a latent) and the gradient of the loss by
// parameter name.
func run(t *testing.T, ps *graph.Params, cfg Config, B, T int, o Options, sents [][]int, in Inputs) (loss float64, ce, kl, mu []float64, grads map[string][]float64) {
	t.Helper()
	type out struct {
		m     *TrainGraph
		vals  []gorgonia.Value
		gvals []gorgonia.Value
		names []string
	}
	gr, o2, err := graph.Build(ps, func(g *graph.Graph) (*out, error) {
		m, err := BuildTrainGraph(g, cfg, B, T, o)
		if err != nil {
			return nil, err
		}
		x := &out{m: m, vals: make([]gorgonia.Value, 4)}
		learn := g.Learnables()
		gs, err := gorgonia.Grad(m.Loss, learn...)
		if err != nil {
			return nil, err
		}
		x.gvals = make([]gorgonia.Value, len(gs))
		for i, n := range gs {
			gorgonia.Read(n, &x.gvals[i])
			x.names = append(x.names, learn[i].Name())
		}
		for i, n := range []*gorgonia.Node{m.Loss, m.CE, m.KL, m.Mu} {
			if n != nil {
				gorgonia.Read(n, &x.vals[i])
			}
		}
		return x, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := o2.m.Set(sents, in); err != nil {
		t.Fatal(err)
	}
	vm, err := graph.NewMachine(gr)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := graph.Run(vm); err != nil {
		t.Fatal(err)
	}
	get := func(v gorgonia.Value) []float64 {
		if v == nil {
			return nil
		}
		f, err := graph.ValueFloat64s(v)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	grads = map[string][]float64{}
	for i, v := range o2.gvals {
		grads[o2.names[i]] = get(v)
	}
	return get(o2.vals[0])[0], get(o2.vals[1]), get(o2.vals[2]), get(o2.vals[3]), grads
}

// A padded batch computes for each sentence what the sentence computes
// alone: its cross-entropy at every position, its KL and μ; and the
// batch's gradient is the mean of the sentences' gradients.
func TestPaddedBatchEqualsEachAlone(t *testing.T) {
	cfg := Config{Vocab: 9, Embed: 3, Hidden: 4, Latent: 2, Cell: cells.LSTMKind, ZInput: true}
	ps := params(t, cfg, tensor.Float64, 7)
	sents := [][]int{{4, 5, 6, 8}, {7}, {5, 8}}
	const B, T = 5, 6
	e := normals(B, cfg.Latent, 11)
	_, ce, kl, mu, grads := run(t, ps, cfg, B, T, Options{}, sents, Inputs{Eps: e, Beta: 1})
	Z := cfg.Latent
	sum := map[string][]float64{}
	for b, s := range sents {
		_, ce1, kl1, mu1, g1 := run(t, ps, cfg, 1, len(s), Options{}, [][]int{s}, Inputs{Eps: e[b : b+1], Beta: 1})
		for j := 0; j <= len(s); j++ { // the batch's CE is weighted 1/3, the sentence's 1
			if got, want := ce[j*B+b]*3, ce1[j]; math.Abs(got-want) > 1e-12 {
				t.Errorf("sentence %d, position %d: CE %v in the batch, %v alone", b, j, got, want)
			}
		}
		for j := range Z {
			if d := math.Abs(kl[b*Z+j] - kl1[j]); d > 1e-12 {
				t.Errorf("sentence %d: KL[%d] %v in the batch, %v alone", b, j, kl[b*Z+j], kl1[j])
			}
			if d := math.Abs(mu[b*Z+j] - mu1[j]); d > 1e-12 {
				t.Errorf("sentence %d: μ[%d] %v in the batch, %v alone", b, j, mu[b*Z+j], mu1[j])
			}
		}
		for n, g := range g1 {
			if sum[n] == nil {
				sum[n] = make([]float64, len(g))
			}
			for i, v := range g {
				sum[n][i] += v / 3
			}
		}
	}
	for j := len(sents) * 1; j < (T+1)*B; j++ { // padding rows weigh nothing
		if b := j % B; b >= len(sents) && ce[j] != 0 {
			t.Errorf("padding row %d has CE %v", j, ce[j])
		}
	}
	for n, g := range grads {
		for i := range g {
			if math.Abs(g[i]-sum[n][i]) > 1e-12 {
				t.Fatalf("%s[%d]: batch gradient %v, mean of the sentences' %v", n, i, g[i], sum[n][i])
			}
		}
	}
}

// Bad input is an error wrapping ErrInput or ErrConfig, never a panic.
func TestRefuses(t *testing.T) {
	c := Config{Vocab: 8, Embed: 2, Hidden: 3, Latent: 2, Cell: cells.GRUKind}
	ps := params(t, c, tensor.Float64, 1)
	m, err := NewTrainGraph(ps, c, 2, 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, x := range map[string]struct {
		sents [][]int
		in    Inputs
	}{
		"too many sentences": {[][]int{{4}, {4}, {4}}, Inputs{Beta: 1}},
		"too long":           {[][]int{{4, 4, 4, 4}}, Inputs{Beta: 1}},
		"no sentence":        {[][]int{{}, nil}, Inputs{Beta: 1}},
		"NaN β":              {[][]int{{4}}, Inputs{Beta: math.NaN()}},
		"ε rows":             {[][]int{{4}}, Inputs{Beta: 1, Eps: [][]float64{{0, 0}}}},
		"ε width":            {[][]int{{4}}, Inputs{Beta: 1, Eps: [][]float64{{0}, {0}}}},
		"decoder input":      {[][]int{{4, 5}}, Inputs{Beta: 1, DecoderInput: [][]int{{4}}}},
	} {
		if err := m.Set(x.sents, x.in); !errors.Is(err, ErrInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := m.Set([][]int{{4, 99}}, Inputs{Beta: 1}); err == nil {
		t.Error("id 99 of 8 accepted")
	}
	for _, bad := range []Config{
		{Vocab: 8, Embed: 2, Hidden: 3, Latent: -1, Cell: cells.GRUKind},
		{Vocab: 8, Embed: 2, Hidden: 3, Cell: cells.GRUKind, ZInput: true},
		{Vocab: 8, Embed: 2, Hidden: 3, Cell: "tree"},
	} {
		if err := bad.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := NewTrainGraph(ps, c, 2, 3, Options{FreeBits: -1}); !errors.Is(err, ErrConfig) {
		t.Errorf("negative free bits: %v", err)
	}
	if _, _, err := Encode(ps, c, [][]int{{}}); !errors.Is(err, ErrInput) {
		t.Errorf("an empty sentence encoded: %v", err)
	}
}

package mlm

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
	"github.com/rnnkit/rnnkit/models/transformer"
)

func tinyConfig(act transformer.Activation, normFirst, tied bool) Config {
	return Config{Vocab: 12, Layers: 2, MaxLen: 16, Tied: tied,
		Layer: transformer.LayerConfig{Embed: 4, Heads: 2, FF: 6, Activation: act, NormFirst: normFirst}}
}

// newParams makes every parameter random (norms and biases too), in
// float64.
func newParams(t *testing.T, cfg Config, seed uint64) *graph.Params {
	t.Helper()
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	specs := cfg.Params()
	for i := range specs {
		specs[i].Init = graph.Uniform{Low: -0.8, High: 0.8}
	}
	if err := transformer.Init(ps, specs, graph.NewSource(seed)); err != nil {
		t.Fatal(err)
	}
	return ps
}

// batch is what Graph.Set takes.
type batch struct {
	inputs, lengths, labels []int
	selected                []bool
}

// run builds the graph of b's shape, sets b, runs it forward and
// backward, and returns the loss, the hidden rows, the logits and the
// gradient of every parameter (in the Params' order).
func run(t *testing.T, ps *graph.Params, cfg Config, fused bool, B, T, P int, b batch) (loss float64, hidden, logits []float64, grads [][]float64) {
	t.Helper()
	g, vals, err := graph.Build(ps, func(g *graph.Graph) ([]gorgonia.Value, error) {
		n, err := transformer.NewNet(g, nil, fused)
		if err != nil {
			return nil, err
		}
		m, err := Build(n, cfg, B, T, P)
		if err != nil {
			return nil, err
		}
		if err := m.Set(b.inputs, b.lengths, b.labels, b.selected); err != nil {
			return nil, err
		}
		wrt := g.Learnables()
		gs, err := gorgonia.Grad(m.Loss, wrt...)
		if err != nil {
			return nil, err
		}
		vals := make([]gorgonia.Value, 3+len(gs))
		gorgonia.Read(m.Loss, &vals[0])
		gorgonia.Read(m.Hidden, &vals[1])
		gorgonia.Read(m.Logits, &vals[2])
		for i, n := range gs {
			gorgonia.Read(n, &vals[3+i])
		}
		return vals, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := graph.NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	if err := graph.Run(vm); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(vals))
	for i, v := range vals {
		if out[i], err = graph.ValueFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
	return out[0][0], out[1], out[2], out[3:]
}

func maxDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
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

// twoSentences: lengths 5 and 3 padded to 5; selected positions 1 and 4
// of the first, 0 of the second.
func twoSentences() batch {
	return batch{
		inputs:   []int{5, 4, 7, 8, 4, 9, 10, 4, 0, 0},
		lengths:  []int{5, 3},
		labels:   []int{5, 6, 7, 8, 11, 9, 10, 6, 0, 0},
		selected: []bool{false, true, false, false, true, true, false, false, false, false},
	}
}

// The model against finite differences (float64): post- and pre-norm,
// ReLU and GELU, op by op and fused, tied and untied, with padding and a
// spare slot; with dropout (its masks fixed while differencing).
func TestGradcheck(t *testing.T) {
	for _, c := range []struct {
		act       transformer.Activation
		normFirst bool
		fused     bool
		tied      bool
		dropout   float64
	}{
		{transformer.ReLU, false, false, false, 0},
		{transformer.GELU, true, false, true, 0},
		{transformer.ReLU, false, true, true, 0},
		{transformer.GELU, true, true, false, 0.3},
	} {
		t.Run(fmt.Sprintf("%s_prenorm%v_fused%v_tied%v_drop%v", c.act, c.normFirst, c.fused, c.tied, c.dropout), func(t *testing.T) {
			if testing.Short() && !c.fused {
				t.Skip("short")
			}
			cfg := tinyConfig(c.act, c.normFirst, c.tied)
			cfg.Layer.Dropout = c.dropout
			ps := newParams(t, cfg, 9)
			b := twoSentences()
			g, p, err := graph.Build(ps, func(g *graph.Graph) (*gradcheck.Prepared, error) {
				drop, err := graph.OptionalDropout(c.dropout, 5)
				if err != nil {
					return nil, err
				}
				n, err := transformer.NewNet(g, drop, c.fused)
				if err != nil {
					return nil, err
				}
				m, err := Build(n, cfg, 2, 5, 4)
				if err != nil {
					return nil, err
				}
				if err := m.Set(b.inputs, b.lengths, b.labels, b.selected); err != nil {
					return nil, err
				}
				return gradcheck.Prepare(g, m.Loss, g.Learnables())
			})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := p.Check(g, 1e-6)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d elements, max error %.3g at %s", rep.Checked, rep.MaxErr, rep.Worst)
			if rep.Checked < 200 || rep.MaxErr > 1e-6 {
				t.Errorf("max error %.3g at %s (%d checked)", rep.MaxErr, rep.Worst, rep.Checked)
			}
		})
	}
}

// The loss reads the labels of the selected positions only: changing an
// unselected position's label (padding included) changes neither the
// loss nor any gradient; changing a selected one's does.
func TestLossOnlyOnSelected(t *testing.T) {
	cfg := tinyConfig(transformer.GELU, true, true)
	ps := newParams(t, cfg, 3)
	b := twoSentences()
	l0, _, _, g0 := run(t, ps, cfg, true, 2, 5, 4, b)
	for _, i := range []int{0, 2, 3, 6, 7, 9} {
		c := twoSentences()
		c.labels[i] = (c.labels[i] + 3) % cfg.Vocab
		l1, _, _, g1 := run(t, ps, cfg, true, 2, 5, 4, c)
		if l1 != l0 {
			t.Errorf("label at unselected %d changed: loss %v → %v", i, l0, l1)
		}
		for k := range g0 {
			if d := maxDiff(g0[k], g1[k]); d != 0 {
				t.Errorf("label at unselected %d changed: gradient %d moved by %g", i, k, d)
			}
		}
	}
	for _, i := range []int{1, 4, 5} {
		c := twoSentences()
		c.labels[i] = (c.labels[i] + 3) % cfg.Vocab
		if l1, _, _, _ := run(t, ps, cfg, true, 2, 5, 4, c); l1 == l0 {
			t.Errorf("label at selected %d changed, loss stayed %v", i, l0)
		}
	}
	// The loss is the mean over the selected positions of −log p(label).
	_, _, logits, _ := run(t, ps, cfg, true, 2, 5, 4, b)
	want := 0.0
	for k, i := range []int{1, 4, 5} {
		row := logits[k*cfg.Vocab : (k+1)*cfg.Vocab]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, v)
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(v - mx)
		}
		want += (mx + math.Log(s) - row[b.labels[i]]) / 3
	}
	if math.Abs(l0-want) > 1e-12 {
		t.Errorf("loss %v, mean cross-entropy of the selected %v", l0, want)
	}
}

// A padded batch computes what each sentence computes alone: the hidden
// rows of the real positions, the selected rows' logits, the loss of
// each.
func TestPaddedBatchEqualsAlone(t *testing.T) {
	for _, fused := range []bool{false, true} {
		for _, normFirst := range []bool{false, true} {
			cfg := tinyConfig(transformer.ReLU, normFirst, !normFirst)
			ps := newParams(t, cfg, 5)
			b := twoSentences()
			_, hidden, logits, _ := run(t, ps, cfg, fused, 2, 5, 4, b)
			E, V := cfg.Layer.Embed, cfg.Vocab
			slot := 0
			for s, l := range b.lengths {
				alone := batch{inputs: b.inputs[s*5 : s*5+l], lengths: []int{l}, labels: b.labels[s*5 : s*5+l], selected: b.selected[s*5 : s*5+l]}
				_, h1, lg1, _ := run(t, ps, cfg, fused, 1, l, 2, alone)
				if d := maxDiff(hidden[s*5*E:(s*5+l)*E], h1); d > 1e-12 {
					t.Errorf("fused %v, pre-norm %v: sentence %d's hidden rows differ from alone by %g", fused, normFirst, s, d)
				}
				k := 0
				for _, sel := range alone.selected {
					if sel {
						if d := maxDiff(logits[slot*V:(slot+1)*V], lg1[k*V:(k+1)*V]); d > 1e-12 {
							t.Errorf("fused %v, pre-norm %v: sentence %d slot %d logits differ by %g", fused, normFirst, s, k, d)
						}
						k++
						slot++
					}
				}
			}
		}
	}
}

func TestBuildErrors(t *testing.T) {
	cfg := tinyConfig(transformer.ReLU, false, false)
	ps := newParams(t, cfg, 1)
	build := func(cfg Config, B, T, P int, set func(*Graph) error) error {
		_, _, err := graph.Build(ps, func(g *graph.Graph) (*Graph, error) {
			n, err := transformer.NewNet(g, nil, true)
			if err != nil {
				return nil, err
			}
			m, err := Build(n, cfg, B, T, P)
			if err == nil && set != nil {
				err = set(m)
			}
			return m, err
		})
		return err
	}
	bad := cfg
	bad.Layer.Heads = 3
	if err := build(bad, 1, 3, 1, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("3 heads over E=4: %v", err)
	}
	bad = cfg
	bad.Layers = 0
	if err := build(bad, 1, 3, 1, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("0 layers: %v", err)
	}
	if err := build(cfg, 1, 17, 1, nil); !errors.Is(err, transformer.ErrTooLong) {
		t.Errorf("17 positions, table of 16: %v", err)
	}
	if err := build(cfg, 1, 3, 0, nil); !errors.Is(err, ErrShape) {
		t.Errorf("0 slots: %v", err)
	}
	for name, set := range map[string]func(*Graph) error{
		"two selected, one slot": func(g *Graph) error {
			return g.Set([]int{5, 6, 7}, []int{3}, []int{5, 6, 7}, []bool{true, true, false})
		},
		"a selected padding position": func(g *Graph) error {
			return g.Set([]int{5, 6, 7}, []int{2}, []int{5, 6, 7}, []bool{false, false, true})
		},
		"length 4 of 3": func(g *Graph) error {
			return g.Set([]int{5, 6, 7}, []int{4}, []int{5, 6, 7}, []bool{false, false, false})
		},
		"a label outside the vocabulary": func(g *Graph) error {
			return g.Set([]int{5, 6, 7}, []int{3}, []int{5, 12, 7}, []bool{false, true, false})
		},
		"two inputs": func(g *Graph) error {
			return g.Set([]int{5, 6}, []int{3}, []int{5, 6, 7}, []bool{false, true, false})
		},
	} {
		if err := build(cfg, 1, 3, 1, set); !errors.Is(err, ErrShape) {
			t.Errorf("%s: %v, want ErrShape", name, err)
		}
	}
	if err := build(cfg, 1, 3, 1, func(g *Graph) error {
		return g.Set([]int{5, 12, 7}, []int{3}, []int{5, 6, 7}, []bool{false, true, false})
	}); err == nil {
		t.Error("an input id outside the vocabulary: no error")
	}
}

// Config.Params: the names of a PyTorch module with embedding, encoder
// and fc; fc.weight only untied, encoder.norm only pre-norm.
func TestParamNames(t *testing.T) {
	has := func(specs []transformer.ParamSpec, name string) bool {
		for _, s := range specs {
			if s.Name == name {
				return true
			}
		}
		return false
	}
	post := tinyConfig(transformer.ReLU, false, false).Params()
	pre := tinyConfig(transformer.ReLU, true, true).Params()
	for _, c := range []struct {
		specs []transformer.ParamSpec
		name  string
		want  bool
	}{
		{post, "embedding.weight", true}, {post, "encoder.layers.1.self_attn.in_proj_weight", true},
		{post, "encoder.layers.0.linear2.bias", true}, {post, "fc.weight", true}, {post, "fc.bias", true},
		{post, "encoder.norm.weight", false}, {pre, "encoder.norm.weight", true}, {pre, "fc.weight", false},
		{pre, "fc.bias", true},
	} {
		if has(c.specs, c.name) != c.want {
			t.Errorf("%s present: %v, want %v", c.name, !c.want, c.want)
		}
	}
}

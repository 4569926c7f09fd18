package transformer

import (
	"errors"
	"fmt"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

func smallConfig(act Activation, normFirst bool, dropout float64) Config {
	return Config{Vocab: 6, EncoderLayers: 1, DecoderLayers: 2, MaxLen: 16,
		Layer: LayerConfig{Embed: 4, Heads: 2, FF: 6, Activation: act, NormFirst: normFirst, Dropout: dropout}}
}

func newParams(t *testing.T, cfg Config, seed uint64) *graph.Params {
	t.Helper()
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	src := graph.NewSource(seed)
	specs := cfg.Params()
	for i := range specs { // every parameter random, biases and norms too
		specs[i].Init = graph.Uniform{Low: -0.8, High: 0.8}
	}
	if err := Init(ps, specs, src); err != nil {
		t.Fatal(err)
	}
	return ps
}

// The whole Seq2Seq model (padding on both sides) against finite
// differences, op by op and fused, post- and pre-norm, ReLU and GELU, with
// and without dropout (its masks fixed while differencing).
func TestSeq2SeqGradcheck(t *testing.T) {
	for _, c := range []struct {
		act       Activation
		normFirst bool
		fused     bool
		dropout   float64
	}{{ReLU, false, false, 0}, {GELU, true, false, 0}, {ReLU, false, true, 0}, {GELU, true, true, 0.3}} {
		t.Run(fmt.Sprintf("%s_prenorm%v_fused%v_drop%v", c.act, c.normFirst, c.fused, c.dropout), func(t *testing.T) {
			if testing.Short() && !c.fused {
				t.Skip("short")
			}
			cfg := smallConfig(c.act, c.normFirst, c.dropout)
			ps := newParams(t, cfg, 9)
			B, Ts, Tt := 2, 3, 3
			g, p, err := graph.Build(ps, func(g *graph.Graph) (*gradcheck.Prepared, error) {
				drop, err := graph.OptionalDropout(c.dropout, 5)
				if err != nil {
					return nil, err
				}
				n, err := NewNet(g, drop, c.fused)
				if err != nil {
					return nil, err
				}
				s, err := BuildSeq2Seq(n, cfg, B, Ts, Tt)
				if err != nil {
					return nil, err
				}
				if err := s.Set([]int{1, 2, 3, 4, 5, 0}, []int{3, 2}, []int{0, 1, 2, 0, 3, 4}, []int{1, 2, 5, 3, 4, 5}, []int{3, 2}); err != nil {
					return nil, err
				}
				return gradcheck.Prepare(g, s.Loss, g.Learnables())
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

func TestErrors(t *testing.T) {
	bad := smallConfig(ReLU, false, 0)
	bad.Layer.Heads = 3
	if err := bad.Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("E=4 with 3 heads: %v", err)
	}
	bad = smallConfig("tanh", false, 0)
	if err := bad.Validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("activation tanh: %v", err)
	}
	if _, err := KeepMask(2, 3, 3, false, make([]float64, 8), nil); !errors.Is(err, ErrMask) {
		t.Errorf("attention mask of 8 values for [3 3]: %v", err)
	}
	if _, err := KeepMask(2, 3, 3, false, nil, make([]float64, 5)); !errors.Is(err, ErrMask) {
		t.Errorf("padding mask of 5 values for [2 3]: %v", err)
	}
	if _, err := KeepMask(1, 1, 2, false, []float64{0, 0.5}, nil); !errors.Is(err, ErrMask) {
		t.Errorf("a float mask of 0.5: %v", err)
	}
	if _, err := KeepMask(1, 2, 3, true, nil, nil); !errors.Is(err, ErrMask) {
		t.Errorf("causal over 2×3: %v", err)
	}
	if _, err := PaddingMask([]int{3, 0}, 3); !errors.Is(err, ErrMask) {
		t.Errorf("length 0: %v", err)
	}
	if _, err := Positions(1, 17, 4, 0, 16); !errors.Is(err, ErrTooLong) {
		t.Errorf("17 positions in a table of 16: %v", err)
	}
	cfg := smallConfig(ReLU, false, 0)
	ps := newParams(t, cfg, 1)
	_, _, err := graph.Build(ps, func(g *graph.Graph) (*Seq2SeqGraph, error) {
		n, _ := NewNet(g, nil, false)
		return BuildSeq2Seq(n, cfg, 1, 17, 2)
	})
	if !errors.Is(err, ErrTooLong) {
		t.Errorf("a source of 17 with MaxLen 16: %v", err)
	}
	_, _, err = graph.Build(ps, func(g *graph.Graph) (*gorgonia.Node, error) {
		n, _ := NewNet(g, nil, false)
		x, err := g.Input("x", 4, 4)
		if err != nil {
			return nil, err
		}
		keep, err := g.Input("keep", 4, 3)
		if err != nil {
			return nil, err
		}
		return n.EncoderLayer(x, keep, "transformer.encoder.layers.0", cfg.Layer, 2)
	})
	if !errors.Is(err, ErrMask) {
		t.Errorf("a [4 3] mask for 2 sequences of 2: %v", err)
	}
	_, _, err = graph.Build(ps, func(g *graph.Graph) (*gorgonia.Node, error) {
		n, _ := NewNet(g, nil, true)
		x, err := g.Input("x", 4, 4)
		if err != nil {
			return nil, err
		}
		return n.Attention(x, x, nil, "transformer.encoder.layers.0.self_attn", 2, 3)
	})
	if !errors.Is(err, ErrConfig) {
		t.Errorf("3 heads over E=4: %v", err)
	}
}

// The positional table as the tutorial computes it: row 0 is sin 0, cos 0.
func TestPositions(t *testing.T) {
	pe, err := Positions(2, 3, 4, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	want0 := []float64{0, 1, 0, 1}
	for j, w := range want0 {
		if pe[j] != w || pe[12+j] != w {
			t.Errorf("position 0 column %d: %v, %v; want %v", j, pe[j], pe[12+j], w)
		}
	}
	row := make([]float64, 4)
	PositionalRow(row, 2)
	for j := range row {
		if row[j] != pe[8+j] {
			t.Errorf("PositionalRow(2) %v, Positions row 2 %v", row, pe[8:12])
		}
	}
}

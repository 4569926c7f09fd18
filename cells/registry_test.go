package cells_test

import (
	"errors"
	"fmt"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
)

// The built-in kinds come first, in their order, each with what the
// framework reads from its Spec.
func TestBuiltinKinds(t *testing.T) {
	builtin := []cells.Kind{cells.RNNTanh, cells.RNNReLU, cells.LSTMKind, cells.PeepholeKind, cells.GRUKind}
	ks := cells.Kinds()
	if len(ks) < len(builtin) || fmt.Sprint(ks[:len(builtin)]) != fmt.Sprint(builtin) {
		t.Fatalf("Kinds() = %v, want %v first", ks, builtin)
	}
	for i, want := range []struct {
		gates, states, params int
	}{{1, 1, 4}, {1, 1, 4}, {4, 2, 4}, {4, 2, 7}, {3, 1, 4}} {
		k := builtin[i]
		s, ok := cells.Lookup(k)
		if !ok || s.Doc == "" || s.New == nil || s.Fused == nil || s.Reference == nil {
			t.Fatalf("%s: spec %+v", k, s)
		}
		c := cells.Config{Kind: k, InputSize: 2, HiddenSize: 3}
		if c.Gates() != want.gates || c.NumStates() != want.states || len(c.Params()) != want.params {
			t.Errorf("%s: %d gates, %d states, %d parameters", k, c.Gates(), c.NumStates(), len(c.Params()))
		}
	}
	if _, ok := cells.Lookup("no_such_cell"); ok {
		t.Error("Lookup found an unregistered kind")
	}
	if err := (cells.Config{Kind: "no_such_cell", InputSize: 1, HiddenSize: 1}).Validate(); !errors.Is(err, cells.ErrConfig) {
		t.Errorf("an unregistered kind validates: %v", err)
	}
}

// Register refuses a malformed Spec with ErrSpec and registers nothing.
func TestRegisterRefusesBadSpecs(t *testing.T) {
	newCell := func(a cells.Affine) (cells.Cell, error) { return &cells.RNN{Affine: a}, nil }
	good := cells.Spec{Kind: "bad_test", Doc: "a line", Gates: 1, States: []string{"h"}, New: newCell}
	vec := func(_, h int) []int { return []int{h} }
	for name, mod := range map[string]func(s *cells.Spec){
		"no kind":             func(s *cells.Spec) { s.Kind = "" },
		"a kind with a comma": func(s *cells.Spec) { s.Kind = "a,b" },
		"a taken kind":        func(s *cells.Spec) { s.Kind = cells.LSTMKind },
		"no doc":              func(s *cells.Spec) { s.Doc = "" },
		"a doc of two lines":  func(s *cells.Spec) { s.Doc = "one\ntwo" },
		"no gates":            func(s *cells.Spec) { s.Gates = 0 },
		"no states":           func(s *cells.Spec) { s.States = nil },
		"c before h":          func(s *cells.Spec) { s.States = []string{"c", "h"} },
		"a state twice":       func(s *cells.Spec) { s.States = []string{"h", "h"} },
		"no New":              func(s *cells.Spec) { s.New = nil },
		"an extra without a shape": func(s *cells.Spec) {
			s.Extra = []cells.ParamDef{{Base: "p"}}
		},
		"an extra named as a weight": func(s *cells.Spec) {
			s.Extra = []cells.ParamDef{{Base: "weight_hh", Shape: vec}}
		},
		"an extra twice": func(s *cells.Spec) {
			s.Extra = []cells.ParamDef{{Base: "p", Shape: vec}, {Base: "p", Shape: vec}}
		},
	} {
		s := good
		mod(&s)
		if err := cells.Register(s); !errors.Is(err, cells.ErrSpec) {
			t.Errorf("%s: Register gave %v, want ErrSpec", name, err)
		}
	}
	if _, ok := cells.Lookup("bad_test"); ok {
		t.Error("a refused Spec was registered")
	}
}

// shiftedLSTM is a cell type of one's own that embeds the LSTM and changes
// its Step (its output is h + 1). Its Config says lstm, but the LSTM's
// fused kernel does not compute it.
type shiftedLSTM struct{ *cells.LSTM }

func (s shiftedLSTM) Step(x *gorgonia.Node, prev cells.State) (*gorgonia.Node, cells.State, error) {
	h, next, err := s.LSTM.Step(x, prev)
	if err != nil {
		return nil, nil, err
	}
	one := s.Graph().Scalar(1)
	h1, err := gorgonia.Add(h, one)
	if err != nil {
		return nil, nil, err
	}
	return h1, cells.State{h1, next[1]}, nil
}

// Sequence never runs a kernel for a cell it does not compute: a type that
// embeds the LSTM and changes Step runs its own Step, step by step (before
// the registry, every type embedding the cells' common part ran the fused
// kernel of its map entry — a tanh RNN where the map had none).
func TestSequenceRunsAnEmbeddingCellStepByStep(t *testing.T) {
	const T, B, I, H = 3, 2, 3, 4
	cfg := cells.Config{Kind: cells.LSTMKind, InputSize: I, HiddenSize: H}
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	src := graph.NewSource(5)
	if err := cfg.Init(ps, src); err != nil {
		t.Fatal(err)
	}
	xd := make([]float64, T*B*I)
	for i := range xd {
		xd[i] = src.NormFloat64()
	}
	outputs := func(seq bool) []float64 {
		t.Helper()
		g, v, err := graph.Build(ps, func(g *graph.Graph) (*gorgonia.Value, error) {
			c, err := cells.New(g, cfg)
			if err != nil {
				return nil, err
			}
			cell := shiftedLSTM{c.(*cells.LSTM)}
			x, err := g.Input("x", T*B, I)
			if err != nil {
				return nil, err
			}
			if err := graph.Set(x, xd); err != nil {
				return nil, err
			}
			var y *gorgonia.Node
			if seq {
				y, _, err = cells.Sequence(cell, x, B, nil, cells.SeqOptions{})
			} else {
				xs := make([]*gorgonia.Node, T)
				for k := range xs {
					if xs[k], err = graph.Rows(x, k*B, (k+1)*B); err != nil {
						return nil, err
					}
				}
				var outs []*gorgonia.Node
				if outs, _, err = cells.Unroll(cell, xs, nil); err == nil {
					y, err = graph.ConcatRows(outs...)
				}
			}
			if err != nil {
				return nil, err
			}
			if n := fusedNodes(g); n != 0 {
				return nil, fmt.Errorf("%d fused nodes for a cell the kernel does not compute", n)
			}
			v := new(gorgonia.Value)
			gorgonia.Read(y, v)
			return v, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		m, err := graph.NewMachine(g)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if err := graph.Run(m); err != nil {
			t.Fatal(err)
		}
		out, err := graph.ValueFloat64s(*v)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	seq, loop := outputs(true), outputs(false)
	if fmt.Sprint(seq) != fmt.Sprint(loop) {
		t.Fatalf("Sequence gives %v, the cell's own steps %v", seq, loop)
	}
}

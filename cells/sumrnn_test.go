package cells_test

// A new cell kind, defined and registered in this one file: the "sum RNN",
// an Elman cell whose new state adds to the old one, which a learned
// per-unit factor keeps:
//
//	h_t = k ⊙ h_{t−1} + tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)
//
// Parameters: PyTorch's four with one gate block (weight_ih_l{k} [H, I],
// weight_hh_l{k} [H, H], bias_ih_l{k}, bias_hh_l{k} [H]) and keep_l{k} [H].
// It has no fused kernel, so cells.Sequence runs its step-by-step
// subgraph. Its plain-Go Reference lets the conformance suite check the
// graph against independent code. The tests below run it through the
// suite, through Sequence, and through one training step.

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/cells/celltest"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/optim"
)

// sumRNN is the cell: the bound parameters and the step subgraph.
type sumRNN struct {
	cells.Affine
	keep *gorgonia.Node // [H]
}

// Step implements cells.Cell.
func (c *sumRNN) Step(x *gorgonia.Node, prev cells.State) (*gorgonia.Node, cells.State, error) {
	if _, err := c.Check(x, prev); err != nil {
		return nil, nil, err
	}
	pre, err := c.Proj(x, prev[0])
	if err != nil {
		return nil, nil, c.Wrap(err)
	}
	cand, err := gorgonia.Tanh(pre)
	if err != nil {
		return nil, nil, c.Wrap(err)
	}
	kept, err := graph.MulRow(prev[0], c.keep)
	if err != nil {
		return nil, nil, c.Wrap(err)
	}
	h, err := gorgonia.Add(kept, cand)
	if err != nil {
		return nil, nil, c.Wrap(err)
	}
	return h, cells.State{h}, nil
}

// sumRNNReference is the step in plain Go (cells.ReferenceStep).
func sumRNNReference(p map[string][]float64, I, H, B int, x []float64, prev [][]float64) ([][]float64, error) {
	if len(prev) != 1 || len(x) != B*I || len(prev[0]) != B*H {
		return nil, fmt.Errorf("sum_rnn reference: x has %d values, %d state tensors", len(x), len(prev))
	}
	h := make([]float64, B*H)
	for b := 0; b < B; b++ {
		for j := 0; j < H; j++ {
			a := p["bias_ih"][j] + p["bias_hh"][j]
			for i := 0; i < I; i++ {
				a += p["weight_ih"][j*I+i] * x[b*I+i]
			}
			for i := 0; i < H; i++ {
				a += p["weight_hh"][j*H+i] * prev[0][b*H+i]
			}
			h[b*H+j] = p["keep"][j]*prev[0][b*H+j] + math.Tanh(a)
		}
	}
	return [][]float64{h}, nil
}

const sumRNNKind cells.Kind = "sum_rnn"

// The one registration. Every test of this package that ranges over
// cells.Kinds() — the conformance suite, Sequence's — runs sum_rnn too.
var errSumRNN = cells.Register(cells.Spec{
	Kind:   sumRNNKind,
	Doc:    "Elman RNN that adds to a kept state: h' = k ⊙ h + tanh(W_ih x + b_ih + W_hh h + b_hh)",
	Gates:  1,
	States: []string{"h"},
	Extra:  []cells.ParamDef{{Base: "keep", Shape: func(_, hidden int) []int { return []int{hidden} }}},
	New: func(a cells.Affine) (cells.Cell, error) {
		return &sumRNN{Affine: a, keep: a.Param("keep")}, nil
	},
	Reference: sumRNNReference,
})

func TestSumRNNRegistered(t *testing.T) {
	if errSumRNN != nil {
		t.Fatal(errSumRNN)
	}
	s, ok := cells.Lookup(sumRNNKind)
	if !ok || s.Fused != nil {
		t.Fatalf("Lookup(%q) = %v, %v: want a kind without a fused kernel", sumRNNKind, ok, s.Fused != nil)
	}
	if ks := cells.Kinds(); ks[len(ks)-1] != sumRNNKind {
		t.Fatalf("Kinds() = %v, want %s last", ks, sumRNNKind)
	}
	if !strings.HasSuffix(cells.KindList(), "or "+string(sumRNNKind)) || !strings.Contains(cells.KindHelp(), s.Doc) {
		t.Fatalf("the help texts leave %s out: %q", sumRNNKind, cells.KindList())
	}
	var names []string
	for _, p := range (cells.Config{Kind: sumRNNKind, InputSize: 3, HiddenSize: 2, Layer: 1, Reverse: true}).Params() {
		names = append(names, fmt.Sprint(p.Name, p.Shape))
	}
	want := "[weight_ih_l1_reverse[2 3] weight_hh_l1_reverse[2 2] bias_ih_l1_reverse[2] bias_hh_l1_reverse[2] keep_l1_reverse[2]]"
	if got := fmt.Sprint(names); got != want {
		t.Fatalf("parameters %s, want %s", got, want)
	}
	if err := cells.Register(cells.Spec{Kind: sumRNNKind, Doc: "again", Gates: 1, States: []string{"h"},
		New: func(a cells.Affine) (cells.Cell, error) { return &sumRNN{Affine: a}, nil }}); err == nil {
		t.Fatal("a kind was registered twice")
	}
}

// The conformance suite, Sequence included: its step-by-step subgraph
// against itself, finite differences, the plain-Go reference.
func TestSumRNNConformance(t *testing.T) {
	celltest.Run(t, celltest.ForKind(sumRNNKind))
}

// fusedNodes counts the fused recurrence nodes of g.
func fusedNodes(g *graph.Graph) int {
	n := 0
	for _, node := range g.ExprGraph().AllNodes() {
		if op := node.Op(); op != nil && strings.HasPrefix(op.String(), "Recurrent[") {
			n++
		}
	}
	return n
}

// Sequence runs a kind without a fused kernel step by step — never another
// kind's kernel — while it builds a fused node for a kind with one.
func TestSumRNNSequenceRunsStepByStep(t *testing.T) {
	const T, B, I, H = 3, 2, 4, 5
	for _, c := range []struct {
		kind  cells.Kind
		fused int
	}{{sumRNNKind, 0}, {cells.RNNTanh, 1}} {
		cfg := cells.Config{Kind: c.kind, InputSize: I, HiddenSize: H}
		ps, err := graph.NewParams(tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Init(ps, graph.NewSource(4)); err != nil {
			t.Fatal(err)
		}
		g, err := graph.New(ps) // built, never compiled
		if err != nil {
			t.Fatal(err)
		}
		cell, err := cells.New(g, cfg)
		if err != nil {
			t.Fatal(err)
		}
		x, err := g.Input("x", T*B, I)
		if err != nil {
			t.Fatal(err)
		}
		y, _, err := cells.Sequence(cell, x, B, nil, cells.SeqOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := fusedNodes(g); got != c.fused {
			t.Errorf("%s: Sequence built %d fused nodes, want %d", c.kind, got, c.fused)
		}
		if !y.Shape().Eq(tensor.Shape{T * B, H}) {
			t.Errorf("%s: output %v", c.kind, y.Shape())
		}
	}
}

// One training step of a sum-RNN layer: the gradient of a squared error
// through Sequence, then SGD from training/optim. Every parameter moves by
// exactly −lr·gradient, and the loss goes down.
func TestSumRNNTrainingStep(t *testing.T) {
	const T, B, I, H, lr = 5, 3, 4, 6, 0.005
	cfg := cells.Config{Kind: sumRNNKind, InputSize: I, HiddenSize: H}
	ps, err := graph.NewParams(tensor.Float64)
	if err != nil {
		t.Fatal(err)
	}
	src := graph.NewSource(8)
	if err := cfg.Init(ps, src); err != nil {
		t.Fatal(err)
	}
	xd, target := make([]float64, T*B*I), make([]float64, T*B*H)
	for i := range xd {
		xd[i] = src.NormFloat64()
	}
	for i := range target {
		target[i] = 0.5 * src.NormFloat64()
	}
	type model struct{ loss gorgonia.Value }
	g, m, err := graph.Build(ps, func(g *graph.Graph) (*model, error) {
		cell, err := cells.New(g, cfg)
		if err != nil {
			return nil, err
		}
		x, err := g.Input("x", T*B, I)
		if err != nil {
			return nil, err
		}
		y, err := g.Input("target", T*B, H)
		if err != nil {
			return nil, err
		}
		if err := graph.Set(x, xd); err != nil {
			return nil, err
		}
		if err := graph.Set(y, target); err != nil {
			return nil, err
		}
		out, _, err := cells.Sequence(cell, x, B, nil, cells.SeqOptions{})
		if err != nil {
			return nil, err
		}
		diff, err := gorgonia.Sub(out, y)
		if err != nil {
			return nil, err
		}
		sq, err := gorgonia.Square(diff)
		if err != nil {
			return nil, err
		}
		loss, err := gorgonia.Sum(sq)
		if err != nil {
			return nil, err
		}
		if _, err := gorgonia.Grad(loss, g.Learnables()...); err != nil {
			return nil, err
		}
		md := &model{}
		gorgonia.Read(loss, &md.loss)
		return md, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	nodes := g.Learnables()
	if len(nodes) != 5 {
		t.Fatalf("%d learnables, want 5 (four affine parameters and keep)", len(nodes))
	}
	vm, err := graph.NewMachine(g, gorgonia.BindDualValues(nodes...))
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	lossOf := func() float64 {
		t.Helper()
		vm.Reset()
		if err := graph.Run(vm); err != nil {
			t.Fatal(err)
		}
		v, err := graph.ValueFloat64s(m.loss)
		if err != nil {
			t.Fatal(err)
		}
		return v[0]
	}
	before := lossOf()
	grads, err := optim.GradsFrom(nodes)
	if err != nil {
		t.Fatal(err)
	}
	old := map[string][]float64{}
	for _, name := range ps.Names() {
		p, _ := ps.Get(name)
		v, err := graph.Float64s(p)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = append([]float64(nil), v...)
	}
	sgd, err := optim.NewSGD(lr)
	if err != nil {
		t.Fatal(err)
	}
	if err := sgd.Step(ps, grads); err != nil {
		t.Fatal(err)
	}
	if err := optim.ZeroGrads(nodes); err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, name := range ps.Names() {
		p, _ := ps.Get(name)
		now, _ := graph.Float64s(p)
		gv, err := graph.Float64s(grads[name])
		if err != nil {
			t.Fatalf("%s: no gradient: %v", name, err)
		}
		for i, v := range now {
			if want := math.FMA(-lr, gv[i], old[name][i]); v != want {
				t.Fatalf("%s[%d] = %v after the step, want %v − %v·%v = %v", name, i, v, old[name][i], lr, gv[i], want)
			}
			if v != old[name][i] {
				moved++
			}
		}
	}
	after := lossOf()
	t.Logf("loss %.6f → %.6f, %d parameter elements moved", before, after, moved)
	if moved == 0 || !(after < before) {
		t.Fatalf("loss %.6f → %.6f with %d elements moved: the step did not descend", before, after, moved)
	}
}

package gradcheck

import (
	"fmt"
	"hash"
	"strings"
	"testing"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

func newGraph(t *testing.T, dt tensor.Dtype) (*graph.Graph, *gorgonia.Node) {
	t.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.New(ps)
	if err != nil {
		t.Fatal(err)
	}
	x, err := g.Input("x", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := graph.Set(x, []float64{0.1, -0.2, 0.3, 1.5, -2, 0.7}); err != nil {
		t.Fatal(err)
	}
	return g, x
}

func TestCorrectGradientPasses(t *testing.T) {
	g, x := newGraph(t, tensor.Float64)
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Tanh(gorgonia.Must(gorgonia.Square(x))))))
	rep, err := Check(g, loss, []*gorgonia.Node{x}, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 6 || rep.MaxErr > 1e-8 {
		t.Fatalf("checked %d, max error %g at %s", rep.Checked, rep.MaxErr, rep.Worst)
	}
	// The perturbation is undone.
	v, _ := graph.Float64s(x.Value().(tensor.Tensor))
	if v[3] != 1.5 {
		t.Fatalf("x not restored: %v", v)
	}
}

// wrongSquare computes x² but claims its derivative is 3x.
type wrongSquare struct{}

func (wrongSquare) Arity() int { return 1 }
func (wrongSquare) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}
func (wrongSquare) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (wrongSquare) Do(v ...gorgonia.Value) (gorgonia.Value, error) {
	x := v[0].(*tensor.Dense)
	return tensor.Mul(x, x)
}
func (wrongSquare) ReturnsPtr() bool          { return false }
func (wrongSquare) CallsExtern() bool         { return false }
func (wrongSquare) OverwritesInput() int      { return -1 }
func (wrongSquare) WriteHash(h hash.Hash)     { fmt.Fprint(h, "wrongSquare") }
func (wrongSquare) Hashcode() uint32          { return 7 }
func (wrongSquare) String() string            { return "wrongSquare" }
func (wrongSquare) DiffWRT(inputs int) []bool { return []bool{true} }
func (wrongSquare) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	three := gorgonia.NewConstant(3.0)
	d, err := gorgonia.HadamardProd(grad, gorgonia.Must(gorgonia.Mul(in[0], three)))
	return gorgonia.Nodes{d}, err
}

func TestWrongGradientIsCaught(t *testing.T) {
	g, x := newGraph(t, tensor.Float64)
	loss := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.ApplyOp(wrongSquare{}, x))))
	rep, err := Check(g, loss, []*gorgonia.Node{x}, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MaxErr < 0.1 || !strings.Contains(rep.Worst, "x[") {
		t.Fatalf("wrong derivative not caught: max error %g at %q", rep.MaxErr, rep.Worst)
	}
}

func TestBadArguments(t *testing.T) {
	g, x := newGraph(t, tensor.Float32)
	loss := gorgonia.Must(gorgonia.Sum(x))
	if _, err := Check(g, loss, []*gorgonia.Node{x}, 1e-6); err == nil {
		t.Error("float32 graph accepted")
	}
	g, x = newGraph(t, tensor.Float64)
	loss = gorgonia.Must(gorgonia.Sum(x))
	if _, err := Check(g, loss, []*gorgonia.Node{x}, 0); err == nil {
		t.Error("eps 0 accepted")
	}
}

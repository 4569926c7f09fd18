package transformer

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/attention"
	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/gradcheck"
)

func randData(src graph.Source, n int, scale float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = scale * src.NormFloat64()
	}
	return out
}

func inputNode(t *testing.T, g *graph.Graph, name string, data []float64, shape ...int) *gorgonia.Node {
	t.Helper()
	n, err := g.Input(name, shape...)
	if err != nil {
		t.Fatal(err)
	}
	if err := graph.Set(n, data); err != nil {
		t.Fatal(err)
	}
	return n
}

// attnCase is an attention over B sequences with a keep mask that leaves
// one query row with no key, and a dropout mask.
type attnCase struct {
	B, H, Tq, Tk, E int
	q, k, v, keep   []float64
	drop, r         []float64
}

func newAttnCase(seed uint64, B, H, Tq, Tk, E int, withDrop bool) attnCase {
	src := graph.NewSource(seed)
	c := attnCase{B: B, H: H, Tq: Tq, Tk: Tk, E: E}
	c.q = randData(src, B*Tq*E, 1)
	c.k = randData(src, B*Tk*E, 1)
	c.v = randData(src, B*Tk*E, 1)
	c.r = randData(src, B*Tq*E, 1)
	c.keep = make([]float64, B*Tq*Tk)
	for i := range c.keep {
		if src.Float64() < 0.7 {
			c.keep[i] = 1
		}
	}
	for j := 0; j < Tk; j++ { // the last query row of sequence 0 sees nothing
		c.keep[(Tq-1)*Tk+j] = 0
	}
	if withDrop {
		c.drop = make([]float64, B*H*Tq*Tk)
		for i := range c.drop {
			if src.Float64() >= 0.25 {
				c.drop[i] = 1 / 0.75
			}
		}
	}
	return c
}

// build builds Σ out ⊙ R with the fused op, or with the definition (per
// sequence and head, the dropout mask's block multiplied in).
func (c attnCase) build(t *testing.T, g *graph.Graph, fused bool) (loss, out *gorgonia.Node, wrt []*gorgonia.Node) {
	t.Helper()
	q := inputNode(t, g, "q", c.q, c.B*c.Tq, c.E)
	k := inputNode(t, g, "k", c.k, c.B*c.Tk, c.E)
	v := inputNode(t, g, "v", c.v, c.B*c.Tk, c.E)
	keep := inputNode(t, g, "keep", c.keep, c.B*c.Tq, c.Tk)
	var drop *gorgonia.Node
	if c.drop != nil {
		drop = inputNode(t, g, "drop", c.drop, c.B*c.H*c.Tq, c.Tk)
	}
	var err error
	if fused {
		out, err = AttentionOp(q, k, v, keep, drop, c.B, c.H)
	} else {
		out, err = attnReference(g, q, k, v, keep, drop, c.B, c.H)
	}
	if err != nil {
		t.Fatal(err)
	}
	r := inputNode(t, g, "R", c.r, c.B*c.Tq, c.E)
	p, err := gorgonia.HadamardProd(out, r)
	if err != nil {
		t.Fatal(err)
	}
	if loss, err = graph.Sum(p); err != nil {
		t.Fatal(err)
	}
	return loss, out, []*gorgonia.Node{q, k, v}
}

// attnReference is attention op by op, as Net.attentionDef builds it, with
// the dropout mask's block of each head multiplied into the weights.
func attnReference(g *graph.Graph, q, k, v, keep, drop *gorgonia.Node, B, H int) (*gorgonia.Node, error) {
	E := q.Shape()[1]
	d := E / H
	Tq, Tk := q.Shape()[0]/B, k.Shape()[0]/B
	scale := g.Scalar(1 / math.Sqrt(float64(d)))
	var seqs []*gorgonia.Node
	for b := 0; b < B; b++ {
		var hs []*gorgonia.Node
		for h := 0; h < H; h++ {
			part := func(x *gorgonia.Node, T int) (*gorgonia.Node, error) {
				r, err := graph.Rows(x, b*T, (b+1)*T)
				if err != nil {
					return nil, err
				}
				return graph.Cols(r, h*d, (h+1)*d)
			}
			qh, err := part(q, Tq)
			if err != nil {
				return nil, err
			}
			kh, err := part(k, Tk)
			if err != nil {
				return nil, err
			}
			vh, err := part(v, Tk)
			if err != nil {
				return nil, err
			}
			mb, err := graph.Rows(keep, b*Tq, (b+1)*Tq)
			if err != nil {
				return nil, err
			}
			s, err := graph.MatMul(qh, kh, false, true)
			if err != nil {
				return nil, err
			}
			if s, err = gorgonia.Mul(s, scale); err != nil {
				return nil, err
			}
			p, err := attention.SoftmaxRows(s, mb)
			if err != nil {
				return nil, err
			}
			if drop != nil {
				dm, err := graph.Rows(drop, (b*H+h)*Tq, (b*H+h+1)*Tq)
				if err != nil {
					return nil, err
				}
				if p, err = gorgonia.HadamardProd(p, dm); err != nil {
					return nil, err
				}
			}
			o, err := graph.MatMul(p, vh, false, false)
			if err != nil {
				return nil, err
			}
			hs = append(hs, o)
		}
		o, err := graph.ConcatCols(hs...)
		if err != nil {
			return nil, err
		}
		seqs = append(seqs, o)
	}
	return graph.ConcatRows(seqs...)
}

// runValues builds with build inside graph.Build, runs once, and returns
// the values of the loss, the output and the gradient of every wrt node.
func runValues(t *testing.T, dt tensor.Dtype, build func(g *graph.Graph) (loss, out *gorgonia.Node, wrt []*gorgonia.Node)) [][]float64 {
	t.Helper()
	ps, err := graph.NewParams(dt)
	if err != nil {
		t.Fatal(err)
	}
	return runValuesOn(t, ps, build)
}

func runValuesOn(t *testing.T, ps *graph.Params, build func(g *graph.Graph) (loss, out *gorgonia.Node, wrt []*gorgonia.Node)) [][]float64 {
	t.Helper()
	g, vals, err := graph.Build(ps, func(g *graph.Graph) ([]gorgonia.Value, error) {
		loss, out, wrt := build(g)
		grads, err := gorgonia.Grad(loss, wrt...)
		if err != nil {
			return nil, err
		}
		vals := make([]gorgonia.Value, 2+len(grads))
		gorgonia.Read(loss, &vals[0])
		gorgonia.Read(out, &vals[1])
		for i, n := range grads {
			gorgonia.Read(n, &vals[2+i])
		}
		return vals, nil
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
	out := make([][]float64, len(vals))
	for i, v := range vals {
		if out[i], err = graph.ValueFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
	return out
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

func TestAttentionOpMatchesDefinition(t *testing.T) {
	for _, c := range []struct {
		B, H, Tq, Tk, E int
		drop            bool
	}{{2, 2, 3, 4, 8, false}, {3, 4, 5, 5, 12, true}, {1, 1, 1, 2, 3, false}, {2, 3, 4, 1, 6, true}} {
		t.Run(fmt.Sprintf("B%d_H%d_%dx%d_E%d_drop%v", c.B, c.H, c.Tq, c.Tk, c.E, c.drop), func(t *testing.T) {
			ac := newAttnCase(uint64(c.B*100+c.H), c.B, c.H, c.Tq, c.Tk, c.E, c.drop)
			var fused, def [][]float64
			for _, f := range []bool{true, false} {
				v := runValues(t, tensor.Float64, func(g *graph.Graph) (*gorgonia.Node, *gorgonia.Node, []*gorgonia.Node) {
					return ac.build(t, g, f)
				})
				if f {
					fused = v
				} else {
					def = v
				}
			}
			for i, name := range []string{"loss", "out", "dq", "dk", "dv"} {
				e := maxDiff(fused[i], def[i])
				t.Logf("%s: %.3g", name, e)
				if e > 1e-12 {
					t.Errorf("%s: fused and definition differ by %.3g", name, e)
				}
			}
		})
	}
}

func TestAttentionOpGradcheck(t *testing.T) {
	ac := newAttnCase(7, 2, 2, 3, 4, 6, true)
	ps, _ := graph.NewParams(tensor.Float64)
	g, p, err := graph.Build(ps, func(g *graph.Graph) (*gradcheck.Prepared, error) {
		loss, _, wrt := ac.build(t, g, true)
		return gradcheck.Prepare(g, loss, wrt)
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Check(g, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d elements, max error %.3g at %s", rep.Checked, rep.MaxErr, rep.Worst)
	if rep.Checked == 0 || rep.MaxErr > 1e-7 {
		t.Errorf("max error %.3g at %s", rep.MaxErr, rep.Worst)
	}
}

func TestLayerNormOpMatchesDefinitionAndGradcheck(t *testing.T) {
	src := graph.NewSource(3)
	N, E := 5, 7
	x := randData(src, N*E, 2)
	for j := 0; j < E; j++ {
		x[j] = 3 // a constant row: variance 0, only ε keeps it finite
	}
	r := randData(src, N*E, 1)
	ps, _ := graph.NewParams(tensor.Float64)
	if err := Init(ps, normParams("ln", E), src); err != nil {
		t.Fatal(err)
	}
	ps.SetFloat64s("ln.weight", randData(src, E, 1))
	ps.SetFloat64s("ln.bias", randData(src, E, 1))
	build := func(g *graph.Graph, fused bool) (loss, out *gorgonia.Node, wrt []*gorgonia.Node) {
		xn := inputNode(t, g, "x", x, N, E)
		n, err := NewNet(g, nil, fused)
		if err != nil {
			t.Fatal(err)
		}
		if out, err = n.LayerNorm(xn, "ln", DefaultEps); err != nil {
			t.Fatal(err)
		}
		p, err := gorgonia.HadamardProd(out, inputNode(t, g, "R", r, N, E))
		if err != nil {
			t.Fatal(err)
		}
		if loss, err = graph.Sum(p); err != nil {
			t.Fatal(err)
		}
		return loss, out, append(g.Learnables(), xn)
	}
	var vals [2][][]float64
	for i, f := range []bool{true, false} {
		vals[i] = runValuesOn(t, ps, func(g *graph.Graph) (*gorgonia.Node, *gorgonia.Node, []*gorgonia.Node) { return build(g, f) })
	}
	for i := range vals[0] {
		e := maxDiff(vals[0][i], vals[1][i])
		t.Logf("value %d: %.3g", i, e)
		if e > 1e-12 {
			t.Errorf("value %d (loss, out, dγ, dβ, dx): fused and definition differ by %.3g", i, e)
		}
	}
	for _, fused := range []bool{true, false} {
		g, p, err := graph.Build(ps, func(g *graph.Graph) (*gradcheck.Prepared, error) {
			loss, _, wrt := build(g, fused)
			return gradcheck.Prepare(g, loss, wrt)
		})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := p.Check(g, 1e-6)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("fused=%v: %d elements, max error %.3g at %s", fused, rep.Checked, rep.MaxErr, rep.Worst)
		if rep.Checked == 0 || rep.MaxErr > 1e-6 {
			t.Errorf("fused=%v: max error %.3g at %s", fused, rep.MaxErr, rep.Worst)
		}
	}
}

// Float32 runs the same kernels: close to float64.
func TestFusedFloat32(t *testing.T) {
	ac := newAttnCase(11, 2, 2, 3, 4, 8, true)
	v64 := runValues(t, tensor.Float64, func(g *graph.Graph) (*gorgonia.Node, *gorgonia.Node, []*gorgonia.Node) { return ac.build(t, g, true) })
	v32 := runValues(t, tensor.Float32, func(g *graph.Graph) (*gorgonia.Node, *gorgonia.Node, []*gorgonia.Node) { return ac.build(t, g, true) })
	for i := range v64 {
		if e := maxDiff(v64[i], v32[i]); e > 1e-4 {
			t.Errorf("value %d: float32 differs from float64 by %.3g", i, e)
		}
	}
}

// The branch-free float32 ReLU gradient is the definition's d·[x > 0] on
// every kind of value.
func TestReLUGradFloat32(t *testing.T) {
	nan := float32(math.NaN())
	negNaN := math.Float32frombits(math.Float32bits(nan) | 0x80000000)
	xs := []float32{1, -1, 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		nan, negNaN, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32, 0.5, -2e-30}
	d := make([]float32, len(xs))
	for i := range d {
		d[i] = float32(i) - 3.5
	}
	d[2] = nan
	out := make([]float32, len(xs))
	reluGrad(xs, d, out)
	for i, v := range xs {
		want := float32(0)
		if v > 0 {
			want = d[i]
		}
		if math.Float32bits(out[i]) != math.Float32bits(want) {
			t.Errorf("x = %v, dy = %v: %v, want %v", v, d[i], out[i], want)
		}
	}
}

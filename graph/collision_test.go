package graph

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Pairs of expressions whose 32-bit Gorgonia hashes collide, found by
// search against released Gorgonia v0.9.18 (2×2 float64 matrices):
//   - Add(a5187, y) and Add(a31119, y): same op, type and shape, so
//     ExprGraph.AddNode returns the first for the second (a merge);
//   - Add(p38721, y) and Sub(q13082, y): different ops, so both stay in the
//     graph, and the compiler's common subexpression elimination reads the
//     first's register for the second.
var (
	mergePair = [2]string{"a5187", "a31119"}
	csePair   = [2]string{"p38721", "q13082"}
)

// pairGraph builds ops[0](names[0], y) and ops[1](names[1], y) on 2×2
// inputs filled with distinct values, and reads both.
type pairGraph struct {
	outs [2]*gorgonia.Node
	vals [2]gorgonia.Value
}

func buildPair(g *Graph, names [2]string, sub bool) (*pairGraph, error) {
	y, err := g.Input("y", 2, 2)
	if err != nil {
		return nil, err
	}
	if err := Set(y, []float64{1, 2, 3, 4}); err != nil {
		return nil, err
	}
	p := &pairGraph{}
	for i, name := range names {
		x, err := g.Input(name, 2, 2)
		if err != nil {
			return nil, err
		}
		if err := Set(x, []float64{10 * float64(i+1), 0, 0, 0}); err != nil {
			return nil, err
		}
		op := gorgonia.Add
		if sub && i == 1 {
			op = gorgonia.Sub
		}
		if p.outs[i], err = op(x, y); err != nil {
			return nil, err
		}
		gorgonia.Read(p.outs[i], &p.vals[i])
	}
	return p, nil
}

// TestCollisionsAreReal: with released Gorgonia v0.9.18, the first pair is
// merged by AddNode when built with New alone, and the second is a graph
// NewMachine refuses (ErrHashCollision). The test fails if Gorgonia ever
// fixes either, which would make Build's extra work unnecessary.
func TestCollisionsAreReal(t *testing.T) {
	ps, _ := NewParams(tensor.Float64)
	g, _ := New(ps)
	p, err := buildPair(g, mergePair, false)
	if err != nil {
		t.Fatal(err)
	}
	if p.outs[0] != p.outs[1] {
		t.Fatalf("Add(%s, y) and Add(%s, y) were not merged: Gorgonia has changed (hashes %#x, %#x)", mergePair[0], mergePair[1], p.outs[0].Hashcode(), p.outs[1].Hashcode())
	}
	g, _ = New(ps)
	p, err = buildPair(g, csePair, true)
	if err != nil {
		t.Fatal(err)
	}
	if p.outs[0] == p.outs[1] || p.outs[0].Hashcode() != p.outs[1].Hashcode() {
		t.Fatalf("Add(%s, y) and Sub(%s, y) do not collide (hashes %#x, %#x)", csePair[0], csePair[1], p.outs[0].Hashcode(), p.outs[1].Hashcode())
	}
	if m, err := NewMachine(g); !errors.Is(err, ErrHashCollision) || m != nil {
		t.Fatalf("NewMachine on a graph with a colliding pair: machine %v, error %v; want ErrHashCollision", m, err)
	}
}

// TestBuildAvoidsCollisions: built with Build, both colliding pairs compile
// and compute what they say, and the leaves keep their own names.
func TestBuildAvoidsCollisions(t *testing.T) {
	for _, c := range []struct {
		names [2]string
		sub   bool
	}{{mergePair, false}, {csePair, true}, {[2]string{"a5187", "a5188"}, false}} {
		_, extra0 := BuildStats()
		ps, _ := NewParams(tensor.Float64)
		g, p, err := Build(ps, func(g *Graph) (*pairGraph, error) { return buildPair(g, c.names, c.sub) })
		if err != nil {
			t.Fatalf("%v: %v", c.names, err)
		}
		_, extra := BuildStats()
		t.Logf("%v: %d extra builds", c.names, extra-extra0)
		m, err := NewMachine(g)
		if err != nil {
			t.Fatalf("%v: %v", c.names, err)
		}
		if err := Run(m); err != nil {
			t.Fatal(err)
		}
		m.Close()
		want := [2][]float64{{11, 2, 3, 4}, {21, 2, 3, 4}}
		if c.sub {
			want[1] = []float64{19, -2, -3, -4}
		}
		for i := range want {
			got, err := ValueFloat64s(p.vals[i])
			if err != nil {
				t.Fatal(err)
			}
			for j := range got {
				if got[j] != want[i][j] {
					t.Fatalf("%v: output %d = %v, want %v", c.names, i, got, want[i])
				}
			}
		}
		for _, name := range c.names {
			if n := g.inputs[name]; n.Name() != name {
				t.Fatalf("input %q is named %q in the built graph", name, n.Name())
			}
		}
	}
}

// rnnGrad is a tanh RNN of T steps over 2×3 inputs, h_t = tanh(x_t W +
// h_{t−1} U), with loss Σ h_T and its gradient with respect to W and U,
// all leaves named with prefix and given fixed values.
type rnnGrad struct {
	nodes int // the forward graph's nodes (the rest are gorgonia.Grad's)
	gradV [2]gorgonia.Value
}

func buildRNNGrad(g *Graph, prefix string, T int) (*rnnGrad, error) {
	fill := func(name string, seed, r, c int) (*gorgonia.Node, error) {
		n, err := g.Input(prefix+name, r, c)
		if err != nil {
			return nil, err
		}
		v := make([]float64, r*c)
		for i := range v {
			v[i] = math.Sin(float64(seed)*1.618+float64(i)*2.718) / 2
		}
		return n, Set(n, v)
	}
	w, err := fill("W", 1, 3, 3)
	if err != nil {
		return nil, err
	}
	u, err := fill("U", 2, 3, 3)
	if err != nil {
		return nil, err
	}
	h, err := fill("h0", 3, 2, 3)
	if err != nil {
		return nil, err
	}
	for t := 0; t < T; t++ {
		x, err := fill(fmt.Sprintf("x%d", t), 4+t, 2, 3)
		if err != nil {
			return nil, err
		}
		a, err := gorgonia.Mul(x, w)
		if err != nil {
			return nil, err
		}
		b, err := gorgonia.Mul(h, u)
		if err != nil {
			return nil, err
		}
		s, err := gorgonia.Add(a, b)
		if err != nil {
			return nil, err
		}
		if h, err = gorgonia.Tanh(s); err != nil {
			return nil, err
		}
	}
	loss, err := gorgonia.Sum(h)
	if err != nil {
		return nil, err
	}
	r := &rnnGrad{nodes: len(g.eg.AllNodes())}
	grads, err := gorgonia.Grad(loss, w, u)
	if err != nil {
		return nil, err
	}
	for i, d := range grads {
		gorgonia.Read(d, &r.gradV[i])
	}
	return r, nil
}

func (r *rnnGrad) run(t *testing.T, g *Graph) [2][]float64 {
	t.Helper()
	m, err := NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := Run(m); err != nil {
		t.Fatal(err)
	}
	var out [2][]float64
	for i, v := range r.gradV {
		if out[i], err = ValueFloat64s(v); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestBuildFindsMergeInGradient: leaves named "r2996_…" make released
// Gorgonia merge two different nodes that gorgonia.Grad creates for a
// 60-step RNN (found by search: the graph built with New has two nodes
// fewer than the same graph under other names, and its forward part is
// intact), and the gradient computed from that graph is wrong. Build finds
// the merge, builds again, and gets the gradient the same RNN gets under
// names with no collision.
func TestBuildFindsMergeInGradient(t *testing.T) {
	const T = 60
	ps, _ := NewParams(tensor.Float64)
	plain := func(prefix string) (*Graph, *rnnGrad) {
		g, _ := New(ps)
		r, err := buildRNNGrad(g, prefix, T)
		if err != nil {
			t.Fatal(err)
		}
		return g, r
	}
	gBad, rBad := plain("r2996_")
	gRef, rRef := plain("r0_")
	if rBad.nodes != rRef.nodes || len(gBad.eg.AllNodes()) != len(gRef.eg.AllNodes())-2 {
		t.Fatalf("premise: forward nodes %d and %d, all nodes %d and %d; want equal forward parts and two gradient nodes merged under r2996_",
			rBad.nodes, rRef.nodes, len(gBad.eg.AllNodes()), len(gRef.eg.AllNodes()))
	}
	want := rRef.run(t, gRef)
	wrong := rBad.run(t, gBad)
	if sameFloats(wrong[0], want[0]) && sameFloats(wrong[1], want[1]) {
		t.Fatalf("premise: the merged graph's gradient %v equals the right one", wrong)
	}

	_, extra0 := BuildStats()
	g, r, err := Build(ps, func(g *Graph) (*rnnGrad, error) { return buildRNNGrad(g, "r2996_", T) })
	if err != nil {
		t.Fatal(err)
	}
	if _, extra := BuildStats(); extra == extra0 {
		t.Fatal("Build did not build again after the merge")
	}
	if n := len(g.eg.AllNodes()); n != len(gRef.eg.AllNodes()) {
		t.Fatalf("Build's graph has %d nodes, want %d", n, len(gRef.eg.AllNodes()))
	}
	got := r.run(t, g)
	for i := range got {
		if !sameFloats(got[i], want[i]) {
			t.Fatalf("gradient %d from Build = %v, want %v", i, got[i], want[i])
		}
	}
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

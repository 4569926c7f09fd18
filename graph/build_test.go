package graph

import (
	"errors"
	"testing"

	"gorgonia.org/tensor"
)

// TestBuildRepeatsAndRefuses: Build calls build twice for a graph without
// collisions, returns the last call's graph and value, passes build's
// error through, and gives up with ErrHashCollision on a build function
// that builds something else each time.
func TestBuildRepeatsAndRefuses(t *testing.T) {
	ps, _ := NewParams(tensor.Float64)
	calls := 0
	var last *Graph
	g, v, err := Build(ps, func(g *Graph) (int, error) {
		calls++
		last = g
		_, err := g.Input("x", 2, 2)
		return calls, err
	})
	if err != nil || calls != 2 || g != last || v != 2 {
		t.Fatalf("Build: graph is last %v, value %d, %d calls, error %v; want the last of 2 calls", g == last, v, calls, err)
	}
	if n := g.inputs["x"]; n.Name() != "x" {
		t.Fatalf("input named %q, want x", n.Name())
	}
	boom := errors.New("boom")
	if _, _, err := Build(ps, func(g *Graph) (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("build's error: got %v", err)
	}
	calls = 0
	_, _, err = Build(ps, func(g *Graph) (int, error) {
		calls++
		for i := 0; i < calls; i++ {
			if _, err := g.Input(g.UniqueName("x"), 2, 2); err != nil {
				return 0, err
			}
		}
		return 0, nil
	})
	if !errors.Is(err, ErrHashCollision) || calls != MaxBuilds {
		t.Fatalf("a build function that is not repeatable: %d calls, error %v; want %d and ErrHashCollision", calls, err, MaxBuilds)
	}
	if _, _, err := Build[int](nil, nil); err == nil {
		t.Fatal("Build(nil, nil) did not fail")
	}
	if _, _, err := Build[int](ps, nil); err == nil {
		t.Fatal("Build with a nil function did not fail")
	}
}

// BenchmarkBuild and BenchmarkBuildOnce: what Build costs beside a single
// build with New, for the gradient graph of a 35-step tanh RNN written op
// by op (about 500 nodes).
func BenchmarkBuild(b *testing.B) {
	ps, _ := NewParams(tensor.Float64)
	for i := 0; i < b.N; i++ {
		if _, _, err := Build(ps, func(g *Graph) (*rnnGrad, error) { return buildRNNGrad(g, "r0_", 35) }); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildOnce(b *testing.B) {
	ps, _ := NewParams(tensor.Float64)
	for i := 0; i < b.N; i++ {
		g, _ := New(ps)
		if _, err := buildRNNGrad(g, "r0_", 35); err != nil {
			b.Fatal(err)
		}
	}
}

package graph

import (
	"errors"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestHashCollisionFound: the check NewMachine runs where Gorgonia is not
// patched finds the colliding pair Add(a5187, y), Add(a31119, y) (kept as
// two nodes by the patched AddNode), and nothing in a graph without one.
func TestHashCollisionFound(t *testing.T) {
	build := func(names ...string) *gorgonia.ExprGraph {
		g := gorgonia.NewGraph()
		y := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 2), gorgonia.WithName("y"))
		for _, name := range names {
			x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 2), gorgonia.WithName(name))
			gorgonia.Must(gorgonia.Add(x, y))
		}
		return g
	}
	a, b := hashCollision(build("a5187", "a31119"))
	if a == nil || b == nil || a == b || a.Hashcode() != b.Hashcode() {
		t.Fatalf("colliding pair not found: %v, %v", a, b)
	}
	if a, b := hashCollision(build("a5187", "a5188", "a31120")); a != nil {
		t.Fatalf("found a collision in a graph without one: %v (%#x), %v (%#x)", a, a.Hashcode(), b, b.Hashcode())
	}
}

// TestNewMachineRefusesCollisionUnpatched: where Gorgonia is taken to be
// unpatched, NewMachine refuses a graph holding the colliding pair with
// ErrHashCollision, and still compiles one without.
func TestNewMachineRefusesCollisionUnpatched(t *testing.T) {
	saved := linkedPatched
	linkedPatched = func() bool { return false }
	defer func() { linkedPatched = saved }()
	for _, c := range []struct {
		names   []string
		collide bool
	}{{[]string{"a5187", "a31119"}, true}, {[]string{"a5187", "a5188"}, false}} {
		ps, err := NewParams(tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		g, err := New(ps)
		if err != nil {
			t.Fatal(err)
		}
		y, _ := g.Input("y", 2, 2)
		for _, name := range c.names {
			x, err := g.Input(name, 2, 2)
			if err != nil {
				t.Fatal(err)
			}
			gorgonia.Must(gorgonia.Add(x, y))
		}
		m, err := NewMachine(g)
		if c.collide {
			if !errors.Is(err, ErrHashCollision) || m != nil {
				t.Fatalf("%v: machine %v, error %v; want ErrHashCollision", c.names, m, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", c.names, err)
		}
		m.Close()
	}
}

package graph

import (
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

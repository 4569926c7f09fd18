package graph

import (
	"sync"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var (
	patchedOnce sync.Once
	patched     bool
	// linkedPatched is what NewMachine asks (tests stand in an unpatched
	// Gorgonia).
	linkedPatched = GorgoniaPatched
)

// GorgoniaPatched reports whether the Gorgonia linked into this program
// tells apart two different nodes whose 32-bit hashes collide. Gorgonia
// v0.9.18 as released does not: by chance, about one large graph in a
// thousand gets two of its nodes merged, and computes something else.
// rnnkit's go.mod replaces it with third_party/gorgonia, which has the fix
// (see its PATCHES.md); a module that imports rnnkit needs the same replace
// directive, since Go applies only the main module's. The probe builds two
// sums known to collide, once per process.
func GorgoniaPatched() bool {
	patchedOnce.Do(func() {
		g := gorgonia.NewGraph()
		mk := func(name string) *gorgonia.Node {
			return gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 2), gorgonia.WithName(name))
		}
		a, b, y := mk("a5187"), mk("a31119"), mk("y")
		sa, errA := gorgonia.Add(a, y)
		sb, errB := gorgonia.Add(b, y)
		patched = errA == nil && errB == nil && sa != sb
	})
	return patched
}

package gemm

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestPathSelection checks the names, SetPath's errors and what a value of
// EnvPath selects.
func TestPathSelection(t *testing.T) {
	saved := path
	defer func() { path = saved }()
	names := Paths()
	if len(names) == 0 || names[0] != "generic" {
		t.Fatalf("Paths() = %v, want the generic path first", names)
	}
	if best := pathNames[bestPath()]; !slices.Contains(names, best) {
		t.Errorf("bestPath is %q, not one of Paths() = %v", best, names)
	}
	for _, name := range names {
		prev, err := SetPath(name)
		if err != nil {
			t.Fatalf("SetPath(%q): %v", name, err)
		}
		if prev == "" || Path() != name {
			t.Errorf("SetPath(%q) = %q; Path() = %q", name, prev, Path())
		}
		if got := initialPath(strings.ToUpper(name)); pathNames[got] != name {
			t.Errorf("%s=%s selects %q", EnvPath, strings.ToUpper(name), pathNames[got])
		}
	}
	before := Path()
	for _, bad := range []string{"avx1024", "sse"} {
		if _, err := SetPath(bad); err == nil || !strings.Contains(err.Error(), "unknown kernel path") {
			t.Errorf("SetPath(%q) = %v, want an unknown-path error", bad, err)
		}
	}
	for _, name := range pathNames {
		if slices.Contains(names, name) {
			continue
		}
		_, err := SetPath(name)
		if err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("SetPath(%q) on a CPU without it = %v, want a not-supported error", name, err)
		}
	}
	if Path() != before {
		t.Errorf("failed SetPath calls changed the path from %q to %q", before, Path())
	}
	if got := initialPath(""); got != bestPath() {
		t.Errorf("an empty %s selects %q, want %q", EnvPath, pathNames[got], pathNames[bestPath()])
	}
	if got := initialPath("bogus"); got != bestPath() {
		t.Errorf("%s=bogus selects %q, want the fallback %q", EnvPath, pathNames[got], pathNames[bestPath()])
	}
}

// randomFull returns n values with full mantissas in [-1, 1).
func randomFull(rnd *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 2*rnd.Float64() - 1
	}
	return x
}

// pathShapes are the shapes TestPathsAgree compares: edges of every
// register block, several kc blocks, the small-product loops, and sizes
// that run in parallel.
var pathShapes = []shape{
	{m: 37, n: 71, k: 300, beta: 0},
	{transA: true, m: 50, n: 33, k: 515, beta: 1},
	{transB: true, m: 12, n: 32, k: 256, beta: 0.5},
	{transA: true, transB: true, m: 25, n: 65, k: 257, beta: -2},
	{transB: true, m: 130, n: 260, k: 128, beta: 0},
	{m: 2, n: 40, k: 40, beta: 1},
	{transB: true, m: 200, n: 300, k: 200, beta: 0},
}

// TestPathsAgree compares every pair of kernel paths this CPU supports on
// full-mantissa data. The assembly paths sum each element of C in the same
// order with the same FMAs and kc, so with alpha = 1 their results must be
// bit-identical; the generic path rounds its products separately, so it
// is held to the rounding-error bound of the float32 GEMM tests.
func TestPathsAgree(t *testing.T) {
	saved := path
	defer func() { path = saved }()
	var paths []kernelPath
	for p := range kernelPath(len(pathNames)) {
		if hasPath(p) {
			paths = append(paths, p)
		}
	}
	if len(paths) < 2 {
		t.Skipf("only the %s path runs here: nothing to compare", pathNames[paths[0]])
	}
	rnd := rand.New(rand.NewPCG(41, 42))
	for _, s := range pathShapes {
		s.alpha = 1
		ar, ac := stored(s.transA, s.m, s.k)
		br, bc := stored(s.transB, s.k, s.n)
		a64, b64, c64 := randomFull(rnd, ar*ac), randomFull(rnd, br*bc), randomFull(rnd, s.m*s.n)
		got32 := make([][]float32, len(paths))
		got64 := make([][]float64, len(paths))
		for i, p := range paths {
			path = p
			got32[i] = to32(c64)
			Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, to32(a64), ac, to32(b64), bc, float32(s.beta), got32[i], s.n)
			got64[i] = slices.Clone(c64)
			Dgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a64, ac, b64, bc, s.beta, got64[i], s.n)
		}
		for i := 1; i < len(paths); i++ {
			for j := range i {
				if paths[j] == pathGeneric {
					tol := 1e-5 * math.Sqrt(float64(s.k)+1) * float64(s.k)
					for e := range got32[i] {
						if d := math.Abs(float64(got32[i][e] - got32[j][e])); d > tol {
							t.Fatalf("%v: float32 %s and %s differ by %g at %d (tolerance %g)",
								s, pathNames[paths[i]], pathNames[paths[j]], d, e, tol)
						}
						if d := math.Abs(got64[i][e] - got64[j][e]); d > 1e-12*float64(s.k) {
							t.Fatalf("%v: float64 %s and %s differ by %g at %d", s, pathNames[paths[i]], pathNames[paths[j]], d, e)
						}
					}
					continue
				}
				if e := sameBits32(got32[i], got32[j]); e >= 0 {
					t.Errorf("%v: float32 %s gives %v at %d, %s %v", s, pathNames[paths[i]], got32[i][e], e, pathNames[paths[j]], got32[j][e])
				}
				if e := sameBits64(got64[i], got64[j]); e >= 0 {
					t.Errorf("%v: float64 %s gives %v at %d, %s %v", s, pathNames[paths[i]], got64[i][e], e, pathNames[paths[j]], got64[j][e])
				}
			}
		}
	}
}

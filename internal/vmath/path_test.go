package vmath

import (
	"slices"
	"testing"
)

// TestInitialPath checks what each value of EnvPath selects on CPUs that
// can run no assembly, the AVX2 kernels, or both assembly paths.
func TestInitialPath(t *testing.T) {
	none := [len(pathNames)]bool{true, false, false}
	avx2 := [len(pathNames)]bool{true, true, false}
	all := [len(pathNames)]bool{true, true, true}
	best := pathAVX2
	if autoAVX512 {
		best = pathAVX512
	}
	for _, c := range []struct {
		env  string
		can  [len(pathNames)]bool
		want kernelPath
	}{
		{"", all, best}, {"", avx2, pathAVX2}, {"", none, pathGeneric}, {"  ", all, best},
		{"generic", all, pathGeneric}, {" Generic ", avx2, pathGeneric}, {"generic", none, pathGeneric},
		{"avx2", all, pathAVX2}, {"AVX2", avx2, pathAVX2}, {"avx2", none, pathGeneric},
		{"avx512", all, pathAVX512}, {"AVX512 ", all, pathAVX512}, {"avx512", avx2, pathAVX2}, {"avx512", none, pathGeneric},
		{"bogus", all, best}, {"bogus", avx2, pathAVX2}, {"bogus", none, pathGeneric},
	} {
		if got := initialPath(c.env, c.can); got != c.want {
			t.Errorf("initialPath(%q, %v) = %s, want %s", c.env, c.can, pathNames[got], pathNames[c.want])
		}
	}
}

// TestSetPath checks SetPath, Path and Paths on this CPU: every path Paths
// lists can be selected and is then the one Path names (and the kernels'
// switches agree), the others fail without changing anything.
func TestSetPath(t *testing.T) {
	saved := Path()
	defer func() {
		if _, err := SetPath(saved); err != nil {
			t.Fatal(err)
		}
	}()
	ps := Paths()
	if len(ps) == 0 || ps[0] != "generic" {
		t.Fatalf("Paths() = %v, want generic first", ps)
	}
	for p, name := range pathNames {
		prev := Path()
		got, err := SetPath(name)
		if !canRun[p] {
			if err == nil || Path() != prev || slices.Contains(ps, name) {
				t.Errorf("SetPath(%q) on a CPU that cannot run it: err %v, path %s (was %s), Paths %v", name, err, Path(), prev, ps)
			}
			continue
		}
		if err != nil || got != prev || Path() != name || !slices.Contains(ps, name) {
			t.Errorf("SetPath(%q) = %q, %v; Path() = %q (was %q), Paths %v", name, got, err, Path(), prev, ps)
		}
		if useAsm != (p >= int(pathAVX2)) || use512 != (p == int(pathAVX512)) {
			t.Errorf("path %s: useAsm %v, use512 %v", name, useAsm, use512)
		}
	}
	if _, err := SetPath("avx1024"); err == nil {
		t.Error("SetPath(avx1024) did not fail")
	}
}

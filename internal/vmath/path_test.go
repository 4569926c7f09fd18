package vmath

import "testing"

// TestInitialAsm checks what each value of EnvPath selects, with and
// without a CPU that runs the assembly.
func TestInitialAsm(t *testing.T) {
	for _, c := range []struct {
		env       string
		has, want bool
	}{
		{"", true, true}, {"", false, false},
		{"generic", true, false}, {" Generic ", true, false}, {"generic", false, false},
		{"avx2", true, true}, {"AVX2", true, true}, {"avx2", false, false},
		{"avx512", true, true}, {"avx512", false, false}, {"bogus", true, true},
	} {
		if got := initialAsm(c.env, c.has); got != c.want {
			t.Errorf("initialAsm(%q, %v) = %v, want %v", c.env, c.has, got, c.want)
		}
	}
	saved := useAsm
	defer func() { useAsm = saved }()
	useAsm = false
	if Path() != "generic" {
		t.Errorf("Path() = %q with the portable code", Path())
	}
	useAsm = true
	if Path() != "avx2" {
		t.Errorf("Path() = %q with the assembly", Path())
	}
}

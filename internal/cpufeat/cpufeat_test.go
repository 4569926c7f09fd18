package cpufeat

import (
	"os"
	"strings"
	"testing"
)

// On Linux the kernel's view of the CPU must agree with the detection: a
// detection that says no where the CPU has the features would quietly skip
// every assembly test, so that fails here. Linux lists avx, avx2 and fma in
// /proc/cpuinfo only where it also saves the YMM state, the condition
// XGETBV checks, and the avx512 flags only where it saves the ZMM state.
func TestAgreesWithProcCPUInfo(t *testing.T) {
	if !detects {
		if AVX2FMA || AVX512 {
			t.Fatal("AVX2FMA or AVX512 is true in a build that does not detect CPU features")
		}
		t.Skip("this build (purego, or not amd64) detects no CPU feature: the portable kernels run")
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no /proc/cpuinfo to check the detection against: %v", err)
	}
	has := map[string]bool{}
	found := false
	for _, line := range strings.Split(string(b), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(key) == "flags" {
			for _, f := range strings.Fields(value) {
				has[f] = true
			}
			found = true
			break
		}
	}
	if !found {
		t.Skip("/proc/cpuinfo has no flags line to check the detection against")
	}
	for _, f := range []struct {
		name  string
		got   bool
		flags []string
	}{
		{"AVX2FMA", AVX2FMA, []string{"avx", "avx2", "fma"}},
		{"AVX512", AVX512, []string{"avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl"}},
	} {
		want := true
		for _, fl := range f.flags {
			want = want && has[fl]
		}
		if f.got != want {
			var listed []string
			for _, fl := range f.flags {
				if has[fl] {
					listed = append(listed, fl)
				}
			}
			t.Errorf("%s is %v, but of the flags it needs (%s) /proc/cpuinfo lists [%s]", f.name, f.got,
				strings.Join(f.flags, ", "), strings.Join(listed, ", "))
		}
	}
}

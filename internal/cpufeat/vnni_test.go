package cpufeat

import (
	"os"
	"strings"
	"testing"
)

// AVX512VNNI must agree with the flags Linux lists: avx512f and
// avx512_vnni (Linux lists them only where it saves the ZMM state).
func TestVNNIAgreesWithProcCPUInfo(t *testing.T) {
	if !detects {
		if AVX512VNNI {
			t.Fatal("AVX512VNNI is true in a build that does not detect CPU features")
		}
		t.Skip("this build detects no CPU feature")
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no /proc/cpuinfo to check the detection against: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(key) != "flags" {
			continue
		}
		has := map[string]bool{}
		for _, f := range strings.Fields(value) {
			has[f] = true
		}
		want := has["avx512f"] && has["avx512_vnni"]
		if AVX512VNNI != want {
			t.Errorf("AVX512VNNI is %v, /proc/cpuinfo lists avx512f %v, avx512_vnni %v", AVX512VNNI, has["avx512f"], has["avx512_vnni"])
		}
		return
	}
	t.Skip("/proc/cpuinfo has no flags line")
}

package cpufeat

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// On Linux the kernel's view of the CPU must agree with the detection.
func TestAgreesWithProcCPUInfo(t *testing.T) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil || runtime.GOARCH != "amd64" {
		t.Skip("needs /proc/cpuinfo on amd64")
	}
	var flags []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "flags") {
			flags = strings.Fields(line)
			break
		}
	}
	has := map[string]bool{}
	for _, f := range flags {
		has[f] = true
	}
	want := has["avx2"] && has["fma"]
	if AVX2FMA && !want {
		t.Errorf("AVX2FMA is true, /proc/cpuinfo lists avx2=%v fma=%v", has["avx2"], has["fma"])
	}
	if !AVX2FMA && want && !testing.Short() {
		t.Logf("AVX2FMA is false although /proc/cpuinfo lists avx2 and fma (purego build, or the OS does not save YMM)")
	}
}

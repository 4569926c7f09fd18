package vmath

import (
	"fmt"
	"os"
	"strings"
)

// kernelPath names one set of kernels.
type kernelPath int

const (
	// pathGeneric is the portable pure-Go code.
	pathGeneric kernelPath = iota
	// pathAVX2 is the AVX2/FMA assembly.
	pathAVX2
	// pathAVX512 is the AVX-512 assembly of Sigmoid32, Tanh32, Exp32 and
	// the backward rows (LSTMBack32, GRUBack32, PeepholeBack32), with the
	// AVX2 kernels for the other functions.
	pathAVX512
)

// pathNames are the names Path, Paths, SetPath and EnvPath use.
var pathNames = [...]string{"generic", "avx2", "avx512"}

// EnvPath is the environment variable that forces the code path at
// start-up: "generic" (the portable code), "avx2" (the AVX2/FMA assembly,
// where the CPU has AVX2 and FMA) or "avx512" (the AVX-512 kernels of
// Sigmoid32, Tanh32, Exp32 and the backward rows, where the CPU and the
// operating system support AVX-512 F, DQ, BW and VL; the other functions
// keep their AVX2 kernels). Unset or empty, the default path is used: the fastest one
// the CPU can run (see autoAVX512). A value naming an unknown path, or one
// this CPU or build cannot run, is reported on standard error and the
// default is used.
//
// It is read once, at start-up, where go test's result cache does not see
// it: run go test with -count=1 when changing it.
const EnvPath = "RNNKIT_VMATH"

// autoAVX512 is whether the AVX-512 path is the default where the CPU can
// run it. On a Zen 5 EPYC (512-bit datapaths) its kernels took 0.48–0.55
// times the AVX2 kernels' CPU time for Sigmoid32, Tanh32 and Exp32 and
// 0.66 times for LSTMBack32 (medians of six alternating runs of their
// benchmarks, 2026-12-02; docs/performance.md).
const autoAVX512 = true

// defaultPath returns the path used when EnvPath is unset: the last one
// can reports runnable, skipping AVX-512 unless autoAVX512.
func defaultPath(can [len(pathNames)]bool) kernelPath {
	best := pathGeneric
	for p := range kernelPath(len(pathNames)) {
		if can[p] && (p != pathAVX512 || autoAVX512) {
			best = p
		}
	}
	return best
}

// initialPath returns the path used when EnvPath holds env and can[p]
// says whether this CPU and build can run path p.
func initialPath(env string, can [len(pathNames)]bool) kernelPath {
	def := defaultPath(can)
	if strings.TrimSpace(env) == "" {
		return def
	}
	p, err := parsePath(env, can)
	if err != nil {
		fmt.Fprintf(os.Stderr, "rnnkit: %s: %v; using %s\n", EnvPath, err, pathNames[def])
		return def
	}
	return p
}

// parsePath returns the path called name, or an error naming the paths
// there are, or saying that this CPU or build cannot run it.
func parsePath(name string, can [len(pathNames)]bool) (kernelPath, error) {
	for i, n := range pathNames {
		if n == strings.ToLower(strings.TrimSpace(name)) {
			if !can[i] {
				return 0, fmt.Errorf("path %q is not supported by this CPU or build (supported: %s)",
					name, strings.Join(paths(can), ", "))
			}
			return kernelPath(i), nil
		}
	}
	return 0, fmt.Errorf("unknown path %q (known: %s)", name, strings.Join(pathNames[:], ", "))
}

// paths returns the names of the paths can marks runnable, slowest first.
func paths(can [len(pathNames)]bool) []string {
	var names []string
	for p, ok := range can {
		if ok {
			names = append(names, pathNames[p])
		}
	}
	return names
}

// useAsm reports whether the assembly kernels are used (the avx2 or avx512
// path) and use512 whether Sigmoid32, Tanh32, Exp32 and the backward rows
// use their AVX-512 kernels (the avx512 path; only with useAsm). They are set
// at start-up from CPU feature detection (canRun) and EnvPath; tests and
// SetPath change them.
var useAsm, use512 bool

func init() { setPath(initialPath(os.Getenv(EnvPath), canRun)) }

// setPath switches the kernels to path p (which must be runnable).
func setPath(p kernelPath) {
	useAsm = p >= pathAVX2
	use512 = p == pathAVX512
}

// currentPath returns the path in use.
func currentPath() kernelPath {
	switch {
	case use512 && useAsm:
		return pathAVX512
	case useAsm:
		return pathAVX2
	}
	return pathGeneric
}

// Path returns the name of the code path in use: "generic", "avx2" or
// "avx512".
func Path() string { return pathNames[currentPath()] }

// Paths returns the names of the code paths this CPU and build can run,
// slowest first (always "generic").
func Paths() []string { return paths(canRun) }

// SetPath selects the code path called name for later calls and returns
// the name of the one it replaces; it fails, changing nothing, when the
// path is unknown or this CPU or build cannot run it. It is meant for
// tests, benchmarks and comparisons (every path of a caller's float32
// kernels can be run in one process): it must not be called while another
// goroutine calls this package's functions.
func SetPath(name string) (previous string, err error) {
	p, err := parsePath(name, canRun)
	if err != nil {
		return "", err
	}
	previous = Path()
	setPath(p)
	return previous, nil
}

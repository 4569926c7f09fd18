package gemm

import (
	"fmt"
	"os"
	"strings"
)

// kernelPath names one set of micro-kernels, packing routines and
// small-product loops.
type kernelPath int

const (
	// pathGeneric is the portable pure-Go code.
	pathGeneric kernelPath = iota
	// pathAVX2 is the AVX2/FMA assembly (6×16 float32, 6×8 float64).
	pathAVX2
	// pathAVX512 is the AVX-512 assembly (12×32 float32, 12×16 float64).
	pathAVX512
)

// pathNames are the names Path, Paths, SetPath and EnvPath use.
var pathNames = [...]string{"generic", "avx2", "avx512"}

// EnvPath is the environment variable that forces a kernel path at start-up:
// "generic", "avx2" or "avx512". Unset or empty, the fastest path the CPU
// supports is used (AVX-512 where the CPU and OS have it). A value naming
// an unknown path, or one this CPU or build cannot run, is reported on
// standard error and the fastest supported path is used instead.
//
// It is read once, at start-up, where go test's result cache does not see
// it: run go test with -count=1 when changing it.
const EnvPath = "RNNKIT_GEMM"

// path is the kernel path in use. Tests and SetPath change it.
var path = initialPath(os.Getenv(EnvPath))

// initialPath returns the path that the value env of EnvPath selects.
func initialPath(env string) kernelPath {
	best := bestPath()
	if env == "" {
		return best
	}
	p, err := parsePath(env)
	if err != nil {
		fmt.Fprintf(os.Stderr, "rnnkit: %s: %v; using %s\n", EnvPath, err, pathNames[best])
		return best
	}
	return p
}

// autoAVX512 is whether the AVX-512 path is chosen without being asked
// for (by EnvPath or SetPath). Its kernels were written on a machine
// without AVX-512 and checked there in an interpreter of their disassembly
// (scripts/emulate_gemm_kernels.py, TestKernelsInterpreted) and with Go
// models of their packing and blocking (TestAVX512DriverEmulated). On
// 2026-12-02 they ran on a 2-core AMD EPYC with AVX-512 (Zen 5): this
// package's tests pass there, TestPathsAgree finding them bit-identical
// to the AVX2 path, and BenchmarkPaths gives 1.5–1.9× the AVX2 path's
// GFLOP per CPU-second on every LSTM shape (docs/performance.md), so the
// AVX-512 path is the default where the CPU has it.
const autoAVX512 = true

// bestPath returns the fastest path this CPU and build support that is
// chosen by default.
func bestPath() kernelPath {
	best := pathGeneric
	for p := range kernelPath(len(pathNames)) {
		if hasPath(p) && (p != pathAVX512 || autoAVX512) {
			best = p
		}
	}
	return best
}

// parsePath returns the path called name, or an error naming the
// paths there are when there is none, or the reason this CPU or build
// cannot run it.
func parsePath(name string) (kernelPath, error) {
	for i, n := range pathNames {
		if n == strings.ToLower(strings.TrimSpace(name)) {
			if !hasPath(kernelPath(i)) {
				return 0, fmt.Errorf("kernel path %q is not supported by this CPU or build (supported: %s)",
					name, strings.Join(Paths(), ", "))
			}
			return kernelPath(i), nil
		}
	}
	return 0, fmt.Errorf("unknown kernel path %q (known: %s)", name, strings.Join(pathNames[:], ", "))
}

// Path returns the name of the kernel path that Sgemm, Dgemm, PackB32 and
// PackB64 use now: "generic", "avx2" or "avx512".
func Path() string { return pathNames[path] }

// Paths returns the names of the kernel paths this CPU and build can run,
// slowest first.
func Paths() []string {
	var names []string
	for p := range kernelPath(len(pathNames)) {
		if hasPath(p) {
			names = append(names, pathNames[p])
		}
	}
	return names
}

// SetPath selects the kernel path called name for later calls and returns
// the name of the one it replaces; it fails, changing nothing, when the
// path is unknown or this CPU or build cannot run it. It is meant for
// tests, benchmarks and comparisons: it must not be called while a product
// or a packing runs. A PackedB32 or PackedB64 keeps the path it was packed
// with.
func SetPath(name string) (previous string, err error) {
	p, err := parsePath(name)
	if err != nil {
		return "", err
	}
	previous = pathNames[path]
	path = p
	return previous, nil
}

package qgemm

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/pkg/errors"
)

// Path is one implementation of the kernel.
type Path int

// The paths, slowest first.
const (
	Generic Path = iota // portable Go
	AVX2                // VPMADDUBSW + VPMADDWD on YMM registers
	VNNI                // AVX-512 VNNI VPDPBUSD on ZMM registers
)

// Paths lists every path, slowest first.
var Paths = []Path{Generic, AVX2, VNNI}

// String returns the path's name, as RNNKIT_QGEMM spells it.
func (p Path) String() string {
	switch p {
	case Generic:
		return "generic"
	case AVX2:
		return "avx2"
	case VNNI:
		return "vnni"
	}
	return "path(" + strconv.Itoa(int(p)) + ")"
}

// ParsePath reads a path's name (generic, avx2 or vnni).
func ParsePath(s string) (Path, error) {
	for _, p := range Paths {
		if strings.EqualFold(s, p.String()) {
			return p, nil
		}
	}
	return 0, errors.Wrapf(ErrPath, "qgemm: unknown path %q (want generic, avx2 or vnni)", s)
}

// Available reports whether this CPU (and build) can run path p.
func Available(p Path) bool {
	switch p {
	case Generic:
		return true
	case AVX2:
		return hasAVX2
	case VNNI:
		return hasVNNI
	}
	return false
}

// autoVNNI lets [Best] choose the VNNI kernel. Its encoding was first
// checked by disassembly only, as no machine this project was built on had
// the instructions; on 2026-12-02 it ran on a CPU with AVX-512 VNNI (a
// 2-core AMD EPYC, Zen 5), where the tests compare it bit for bit with the
// other paths and BenchmarkGemm measures it at about 4× the AVX2 kernel
// (docs/compression.md), so it is chosen where the CPU has it.
const autoVNNI = true

// Best returns the fastest path this CPU runs (see autoVNNI).
func Best() Path {
	for i := len(Paths) - 1; i > 0; i-- {
		if Paths[i] == VNNI && !autoVNNI {
			continue
		}
		if Available(Paths[i]) {
			return Paths[i]
		}
	}
	return Generic
}

// EnvVar is the environment variable that forces a path.
const EnvVar = "RNNKIT_QGEMM"

var (
	current atomic.Int32
	envErr  error // set when EnvVar names a path that cannot run
)

func init() {
	p := Best()
	if s := os.Getenv(EnvVar); s != "" {
		q, err := ParsePath(s)
		switch {
		case err != nil:
			envErr = errors.Wrapf(err, "%s=%s", EnvVar, s)
		case !Available(q):
			envErr = errors.Wrapf(ErrPath, "qgemm: %s=%s, but this CPU or build cannot run the %v kernel", EnvVar, s, q)
		default:
			p = q
		}
	}
	current.Store(int32(p))
}

// Active returns the path Gemm runs and, when RNNKIT_QGEMM named a path
// that cannot run (until [Use] picks another), the error Gemm returns.
func Active() (Path, error) { return active() }

func active() (Path, error) {
	if envErr != nil {
		return 0, envErr
	}
	return Path(current.Load()), nil
}

// Use makes Gemm run path p (for tests and benchmarks; it also clears an
// RNNKIT_QGEMM error) and returns the function that restores the previous
// choice.
func Use(p Path) (restore func(), err error) {
	if !Available(p) {
		return nil, errors.Wrapf(ErrPath, "qgemm: this CPU or build cannot run the %v kernel", p)
	}
	prev, prevErr := Path(current.Load()), envErr
	current.Store(int32(p))
	envErr = nil
	return func() { current.Store(int32(prev)); envErr = prevErr }, nil
}

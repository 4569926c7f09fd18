package vmath

import (
	"fmt"
	"os"
	"strings"
)

// EnvPath is the environment variable that forces the code path at
// start-up: "generic" (the portable code) or "avx2" (the assembly, where
// the CPU has AVX2 and FMA). Unset or empty, the assembly is used where it
// can run. A value naming an unknown path, or one this CPU or build cannot
// run ("avx512": this package has no AVX-512 kernels), is reported on
// standard error and the default is used.
//
// It is read once, at start-up, where go test's result cache does not see
// it: run go test with -count=1 when changing it.
const EnvPath = "RNNKIT_VMATH"

// initialAsm returns whether the assembly is used when EnvPath holds env
// and the CPU can run the assembly (has).
func initialAsm(env string, has bool) bool {
	switch strings.ToLower(strings.TrimSpace(env)) {
	case "":
		return has
	case "generic":
		return false
	case "avx2":
		if has {
			return true
		}
		fmt.Fprintf(os.Stderr, "rnnkit: %s=%s: this CPU or build cannot run the AVX2 kernels; using generic\n", EnvPath, env)
		return false
	}
	def := "generic"
	if has {
		def = "avx2"
	}
	fmt.Fprintf(os.Stderr, "rnnkit: %s=%s: unknown or unsupported path (known: generic, avx2); using %s\n", EnvPath, env, def)
	return has
}

// Path returns the name of the code path in use: "avx2" or "generic".
func Path() string {
	if useAsm {
		return "avx2"
	}
	return "generic"
}

//go:build !amd64 || purego

package gemm

// hasPath reports whether this build can run kernel path p: only the
// portable one, off amd64 or with the purego build tag.
func hasPath(p kernelPath) bool { return p == pathGeneric }

// sgemmImpl returns the float32 micro-kernel, its blocking and helpers.
func sgemmImpl() impl[float32] {
	return portableImpl(portable32)
}

// dgemmImpl returns the float64 micro-kernel, its blocking and helpers.
func dgemmImpl() impl[float64] {
	return portableImpl(portable64)
}

// asmBuilt reports whether this build contains the assembly kernels.
const asmBuilt = false

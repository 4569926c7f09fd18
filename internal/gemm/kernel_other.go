//go:build !amd64 || purego

package gemm

// useAsm reports whether an assembly micro-kernel is used. There is none on
// this architecture (or with the purego build tag), so it is always false.
var useAsm bool

// sgemmImpl returns the float32 micro-kernel, its blocking and helpers.
func sgemmImpl() impl[float32] {
	return portableImpl(portable32)
}

// dgemmImpl returns the float64 micro-kernel, its blocking and helpers.
func dgemmImpl() impl[float64] {
	return portableImpl(portable64)
}

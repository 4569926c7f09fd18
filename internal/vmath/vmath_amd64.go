//go:build amd64 && !purego

package vmath

// useAsm reports whether the AVX2/FMA assembly kernels are used. It is set
// at start-up from CPU feature detection; tests clear it to exercise the
// portable code.
var useAsm = hasAVX2FMA()

// cpuid executes the CPUID instruction with the given EAX and ECX inputs.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads extended control register 0 (XCR0).
func xgetbv() (eax, edx uint32)

// hasAVX2FMA reports whether the CPU and operating system support AVX2 and
// FMA3, i.e. whether the assembly kernels can run.
func hasAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	_, _, ecx1, _ := cpuid(1, 0)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	// The OS must save the XMM (bit 1) and YMM (bit 2) state.
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx2 = 1 << 5
	return ebx7&avx2 != 0
}

// sigmoidAVX2, tanhAVX2 and expAVX2 apply their function to the n
// elements at src and store the results at dst; n must be a positive
// multiple of 8. dst may equal src.
//
//go:noescape
func sigmoidAVX2(dst, src *float32, n int)

//go:noescape
func tanhAVX2(dst, src *float32, n int)

//go:noescape
func expAVX2(dst, src *float32, n int)

// sigmoidAsm runs sigmoidAVX2 on the longest prefix of src whose length is
// a multiple of 8 and returns that length (len(dst) == len(src)).
func sigmoidAsm(dst, src []float32) int {
	n := len(src) &^ 7
	if n > 0 {
		_ = dst[n-1]
		sigmoidAVX2(&dst[0], &src[0], n)
	}
	return n
}

// tanhAsm is sigmoidAsm for tanhAVX2.
func tanhAsm(dst, src []float32) int {
	n := len(src) &^ 7
	if n > 0 {
		_ = dst[n-1]
		tanhAVX2(&dst[0], &src[0], n)
	}
	return n
}

// expAsm is sigmoidAsm for expAVX2.
func expAsm(dst, src []float32) int {
	n := len(src) &^ 7
	if n > 0 {
		_ = dst[n-1]
		expAVX2(&dst[0], &src[0], n)
	}
	return n
}

//go:build amd64 && !purego

package cpufeat

// AVX2FMA reports whether the CPU and the operating system support AVX2
// and FMA3 (the YMM state saved by the OS): the amd64 kernels can run.
var AVX2FMA = hasAVX2FMA()

// AVX512 reports whether the CPU and the operating system support the
// AVX-512 subsets the AVX-512 kernels use (F, DQ, BW and VL) on top of
// AVX2FMA, with the opmask and ZMM state saved by the OS.
var AVX512 = AVX2FMA && hasAVX512()

// detects is true where AVX2FMA comes from CPUID and XGETBV at start-up
// (false off amd64 and with the purego build tag, where it is fixed).
const detects = true

// cpuid executes the CPUID instruction with the given EAX and ECX inputs.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads extended control register 0 (XCR0).
func xgetbv() (eax, edx uint32)

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

// hasAVX512 reports AVX-512 F, DQ, BW and VL with the opmask (XCR0 bit 5)
// and the upper ZMM states (bits 6 and 7) saved by the OS. It assumes
// hasAVX2FMA (CPUID leaf 7 exists, OSXSAVE is set).
func hasAVX512() bool {
	if xcr0, _ := xgetbv(); xcr0&0xe6 != 0xe6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const (
		f  = 1 << 16
		dq = 1 << 17
		bw = 1 << 30
		vl = 1 << 31
	)
	return ebx7&(f|dq|bw|vl) == f|dq|bw|vl
}

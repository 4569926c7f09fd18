//go:build amd64 && !purego

package cpufeat

// AVX512VNNI reports whether the CPU and the operating system support
// AVX-512 Foundation with the VNNI extension (VPDPBUSD on ZMM registers):
// CPUID leaf 7 EBX bit 16 (AVX512F) and ECX bit 11 (AVX512_VNNI), and
// XCR0 saving the XMM, YMM, opmask and both halves of the ZMM state
// (bits 1, 2, 5, 6, 7). internal/qgemm's VNNI kernel runs where it is true.
var AVX512VNNI = hasAVX512VNNI()

func hasAVX512VNNI() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	const osxsave = 1 << 27
	if _, _, ecx1, _ := cpuid(1, 0); ecx1&osxsave == 0 {
		return false
	}
	const state = 1<<1 | 1<<2 | 1<<5 | 1<<6 | 1<<7
	if xcr0, _ := xgetbv(); xcr0&state != state {
		return false
	}
	_, ebx7, ecx7, _ := cpuid(7, 0)
	const avx512f, vnni = 1 << 16, 1 << 11
	return ebx7&avx512f != 0 && ecx7&vnni != 0
}

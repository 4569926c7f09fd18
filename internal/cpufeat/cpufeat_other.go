//go:build !amd64 || purego

package cpufeat

// AVX2FMA is false off amd64 and with the purego build tag: the portable
// kernels run.
const AVX2FMA = false

// AVX512 is false off amd64 and with the purego build tag.
const AVX512 = false

// detects is false: this build does not look at the CPU.
const detects = false

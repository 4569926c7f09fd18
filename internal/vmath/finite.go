package vmath

import "math"

// finiteBlock is how many elements FirstNonFinite32 and FirstNonFinite64
// scan without a branch before they look at what they found (a multiple
// of 8).
const finiteBlock = 1024

// FirstNonFinite32 returns the index of the first NaN or infinity in xs,
// or −1 when every element is finite. It reads the exponent bits (all ones
// for NaN and ±Inf) of a block of elements at a time without a branch, a
// few times faster than testing each value with math.IsNaN and math.IsInf.
// With AVX2 it tests eight elements per instruction.
func FirstNonFinite32(xs []float32) int {
	const exp, one, top = 0x7f800000, 0x00800000, 0x80000000
	for start := 0; start < len(xs); start += finiteBlock {
		end := min(start+finiteBlock, len(xs))
		if useAsm && end-start == finiteBlock && !nonFinite32Asm(xs[start:end]) {
			continue
		}
		var acc uint32
		for _, x := range xs[start:end] {
			acc |= math.Float32bits(x)&exp + one // reaches the top bit only when the exponent is all ones
		}
		if acc&top == 0 {
			continue
		}
		for i := start; i < end; i++ {
			if math.Float32bits(xs[i])&exp == exp {
				return i
			}
		}
	}
	return -1
}

// FirstNonFinite64 is FirstNonFinite32 for float64.
func FirstNonFinite64(xs []float64) int {
	const exp, one, top = 0x7ff0000000000000, 0x0010000000000000, 0x8000000000000000
	for start := 0; start < len(xs); start += finiteBlock {
		end := min(start+finiteBlock, len(xs))
		var acc uint64
		for _, x := range xs[start:end] {
			acc |= math.Float64bits(x)&exp + one
		}
		if acc&top == 0 {
			continue
		}
		for i := start; i < end; i++ {
			if math.Float64bits(xs[i])&exp == exp {
				return i
			}
		}
	}
	return -1
}

package torch

import (
	"encoding/binary"
	"math"
)

// decoder returns the function that reads element i of a little-endian
// storage of a floating-point dtype as a float64.
func decoder(dtype string) func(b []byte, i int64) float64 {
	switch dtype {
	case "float64":
		return func(b []byte, i int64) float64 {
			return math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case "float16":
		return func(b []byte, i int64) float64 {
			return float64(halfToFloat32(binary.LittleEndian.Uint16(b[2*i:])))
		}
	case "bfloat16":
		return func(b []byte, i int64) float64 {
			return float64(bfloat16ToFloat32(binary.LittleEndian.Uint16(b[2*i:])))
		}
	}
	return func(b []byte, i int64) float64 {
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
	}
}

// halfToFloat32 converts an IEEE 754 binary16 value exactly, as PyTorch
// does (c10::detail::fp16_ieee_to_fp32_value): subnormals become normal
// float32 values, infinities stay infinite, and a NaN keeps its sign and
// payload and comes back quiet.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // infinity or NaN
		bits := sign | 0x7f800000 | mant<<13
		if mant != 0 {
			bits |= 0x00400000 // quiet
		}
		return math.Float32frombits(bits)
	case 0: // zero or subnormal: mant × 2⁻²⁴, exact in float32
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// bfloat16ToFloat32 converts a bfloat16 value exactly: its bits are the
// upper half of a float32's (c10::detail::f32_from_bits).
func bfloat16ToFloat32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// Package qgemm multiplies quantized matrices: int8 weights with a float32
// scale per output row by activations quantized per row at run time, with
// int32 accumulation and a float32 result. It is the kernel of rnnkit's
// post-training dynamic quantization (package quantize), the scheme of
// PyTorch's quantize_dynamic.
//
// # The arithmetic
//
// A weight matrix W [N, K] (PyTorch's layout: one row per output) is kept
// as int8 values q_w[n][k] ∈ [−127, 127] and a scale s_w[n] per row, with
// W[n][k] ≈ s_w[n]·q_w[n][k] (symmetric: s_w[n] = max_k |W[n][k]| / 127).
//
// An activation matrix X [M, K] is quantized row by row when it arrives:
// each row gets a scale s_x[m] and a zero point z_x[m] such that
// X[m][k] ≈ s_x[m]·(q_x[m][k] − z_x[m]) with q_x ∈ [0, 127], the range
// widened to include 0 so that zero is exact (asymmetric, unsigned).
// The product is then
//
//	Y[m][n] = s_x[m]·s_w[n]·(Σ_k q_x[m][k]·q_w[n][k] − z_x[m]·Σ_k q_w[n][k]) + b[n]
//
// where the sum over k is exact int32 arithmetic (no overflow for
// K ≤ [MaxK]) and the row sums Σ_k q_w[n][k] are computed once.
//
// # Why 7-bit activations
//
// The kernels multiply unsigned by signed bytes, the operand types of the
// x86 instructions: AVX-512 VNNI's VPDPBUSD (u8×s8 groups of four summed
// into int32) and AVX2's VPMADDUBSW (u8×s8 pairs summed into int16, with
// saturation) followed by VPMADDWD. A pair of full-range products can
// reach 2·255·127 = 64,770, past int16, so VPMADDUBSW would saturate; with
// activations restricted to [0, 127] a pair is at most 2·127·128 = 32,512
// and never saturates. This is what PyTorch's fbgemm backend does too
// (reduce_range). Every path uses the same 7-bit quantization, so the
// int32 sums — and, as the float32 dequantization is shared Go code, the
// results — are the same bits on every path.
//
// # Paths
//
// [VNNI] (AVX-512 VNNI, ZMM registers), [AVX2] and the portable [Generic]
// Go code. The fastest one the CPU supports (internal/cpufeat) is chosen at
// start-up; the environment variable RNNKIT_QGEMM=vnni|avx2|generic forces
// one (an unavailable one makes [Gemm] fail rather than run another), and
// [Use] switches paths from tests and benchmarks.
//
// # Layout
//
// The kernels read the weights packed in blocks of 16 rows: for each group
// of four consecutive k, the 16 rows' four bytes side by side (64 bytes),
// so one 32-bit lane holds one row's four weights; K is padded to a
// multiple of 4 and N to a multiple of 16 with zeros. Activation rows are
// padded with zeros to a multiple of 4 elements and the row count to a
// multiple of 4. Each kernel call computes a 4×16 tile of int32 sums.
package qgemm

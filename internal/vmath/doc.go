// Package vmath provides vectorised single-precision activation functions
// (e^x, the logistic sigmoid and tanh) for the fused recurrent kernels.
//
// Each function maps a source slice element-wise into a destination slice
// of the same length; the two may be the same slice (in-place use), but
// must not otherwise overlap. LSTMBack32 is the element-wise part of an
// LSTM's backward step, 8 (AVX2) or 16 (AVX-512) units at a time, rounded
// exactly as its portable code; GRUBack32 and PeepholeBack32 are the same
// for a GRU's and a peephole LSTM's backward step (the gates of a row as
// one slice of 3 or 4 blocks, as the fused kernels store them).
// GRUForward32 and PeepholeForward32 are the forward rows of the GRU and
// the peephole LSTM: Sigmoid32 and Tanh32 on the same blocks the scalar
// rows passed them, between element-wise passes (bias and projection sums,
// peephole terms, the z·h blend, c = f·c + i·g, h = o·tanh c) that run 8
// units at a time in AVX2 assembly on the avx2 and avx512 paths without
// fused multiply-adds, so each path gives the scalar rows' bits on that
// path (the activations' own bits differ between paths, as above). Max32 and ExpShiftSum32 are the two passes
// of a softmax row (its maximum; e^(x − m) with the sum in float64), which
// the cross-entropy ops of package graph use; they have AVX-512 kernels and
// run as portable code (ExpShiftSum32 with Exp32's kernel) on other paths.
//
// # Algorithms
//
// Exp32 reduces x = n·ln2 + r with |r| ≤ ln2/2 (ln 2 split into a short
// high part and a low correction, Cody–Waite style), evaluates e^r with the
// degree-7 Taylor polynomial and scales by 2ⁿ in two exponent steps,
// 2^⌊n/2⌋ · 2^(n−⌊n/2⌋), so that neither factor leaves the normal range.
// Sigmoid32 computes 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0 with
// e = e^−|x|, so the exponential never overflows. Tanh32 uses the [7/6]
// Padé approximant x(135135+17325x²+378x⁴+x⁶)/(135135+62370x²+3150x⁴+28x⁶)
// for |x| < 0.625 and (1−e)/(1+e) with e = e^−2|x| (and the sign of x)
// elsewhere; this gives exactly ±1 for |x| ≳ 9.01.
//
// # Accuracy
//
// Compared with the correctly rounded float32 result (float64 math.Exp and
// math.Tanh rounded to float32), Exp32 is within 2 ulp, Sigmoid32 within
// 3 ulp and Tanh32 within 4 ulp over the whole float32 range; an exhaustive
// check of all inputs with 2⁻³⁰ ≤ |x| ≤ 104 found at most 1, 2 and 3 ulp
// on the portable and AVX2 code (the AVX-512 kernels give the AVX2 bits). Subnormal results are flushed to +0: Exp32(x) and
// Sigmoid32(x) are 0 for x below −87.33654 (the smallest float32 x with
// e^x ≥ 2⁻¹²⁶), so the bounds hold where the true result is at least
// 2⁻¹²⁶. Edge values are exact: Exp32 gives +Inf where e^x overflows,
// Sigmoid32 gives exactly 1 for large positive x (from about 17) and 0 for
// large negative x, 0.5 at ±0, Tanh32 gives ±1 for |x| ≳ 9.01 and ±0 at
// ±0, and Exp32(0) = 1. ±Inf map to the limits (e^−∞ = 0, e^+∞ = +Inf,
// σ(+∞) = 1, σ(−∞) = 0, tanh(±∞) = ±1) and NaN inputs give NaN.
//
// # Implementation
//
// There are three code paths. On amd64 CPUs with AVX2 and FMA (the avx2
// path), the longest prefix whose length is a multiple of 8 is processed by
// Go assembly, 16 elements (two YMM registers) per iteration, with
// branch-free selects (VBLENDVPS on sign bits or comparison masks,
// and-masks for the underflow flush); the remaining 0–7 elements go through
// the portable code. Where the CPU and the operating system also support
// AVX-512 (F, DQ, BW and VL, with the opmask and ZMM state saved; the
// avx512 path), Sigmoid32, Tanh32, Exp32 and the backward rows
// (LSTMBack32, GRUBack32, PeepholeBack32) run the same kernels with
// 16-lane ZMM registers (32 elements per iteration for the activations, 16
// for the rows), and the last 1–15 elements under an opmask instead of the
// portable code: every lane performs the AVX2 kernel's operations in the
// same order (opmask selects in place of VBLENDVPS and the and-masks), so
// each element has the bits the AVX2 vector kernel gives it, tails
// included (on the avx2 path a tail element of an activation may differ
// from that in the last bit or two; the backward rows use no fused
// multiply-add and give the portable code's bits on every path). The
// other functions keep their AVX2 kernels on the avx512 path.
// Elsewhere, or when built with the purego build tag, a portable pure-Go
// implementation of the same algorithms and accuracy is used (the results
// may differ from the assembly's in the last bit or two, as the assembly
// uses fused multiply-adds). CPU features are detected at run time, so a
// binary built for baseline amd64 still uses the fast path where available;
// the default is the fastest path the CPU can run (avx512, then avx2).
// The RNNKIT_VMATH environment variable (EnvPath) forces a path
// ("generic", "avx2" or "avx512") at start-up, SetPath switches paths in
// tests and benchmarks, and Path and Paths say which one runs and which
// can.
package vmath

// Package vmath provides vectorised single-precision activation functions
// (e^x, the logistic sigmoid and tanh) for the fused recurrent kernels.
//
// Each function maps a source slice element-wise into a destination slice
// of the same length; the two may be the same slice (in-place use), but
// must not otherwise overlap. LSTMBack32 is the element-wise part of an
// LSTM's backward step, eight units at a time, rounded exactly as its
// portable code.
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
// on both code paths. Subnormal results are flushed to +0: Exp32(x) and
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
// On amd64 CPUs with AVX2 and FMA, the longest prefix whose length is a
// multiple of 8 is processed by Go assembly, 16 elements (two YMM
// registers) per iteration, with branch-free selects (VBLENDVPS on sign
// bits or comparison masks, and-masks for the underflow flush); the
// remaining 0–7 elements go through the portable code.
// Elsewhere, or when built with the purego build tag, a portable pure-Go
// implementation of the same algorithms and accuracy is used (the results
// may differ from the assembly's in the last bit or two, as the assembly
// uses fused multiply-adds). CPU features are detected at run time, so a
// binary built for baseline amd64 still uses the fast path where available.
// The RNNKIT_VMATH environment variable (EnvPath) forces the portable path
// ("generic") for comparisons; Path says which one runs.
package vmath

// Package gemm provides fast pure-Go general matrix multiplication for
// float32 and float64 in row-major layout, with the same semantics as the
// BLAS routines SGEMM and DGEMM (and gonum's blas32/blas64 Gemm).
//
// The implementation follows the Goto/BLIS scheme: operands are copied
// ("packed") into cache-sized contiguous panels, and a register-blocked
// micro-kernel computes small tiles of C from them. On amd64 CPUs with AVX2
// and FMA the micro-kernels are written in Go assembly (6x16 for float32,
// 6x8 for float64), and with AVX-512 (F, DQ, BW, VL) in wider ones (12x32
// and 12x16); elsewhere, or when built with the purego build tag, a
// portable pure-Go micro-kernel is used. CPU features are detected at run
// time, so a binary built for baseline amd64 still uses the fast kernels
// where available. No cgo is involved. With beta = 0 C is never read: the
// micro-kernels write the first k block's tiles (0 + alpha·A·B, the bits a
// cleared C would give) instead of C being cleared first.
//
// The kernel path ("generic", "avx2" or "avx512") can be forced with the
// RNNKIT_GEMM environment variable (EnvPath) or, in tests and benchmarks,
// with SetPath; Path and Paths say which one runs and which can. The two
// assembly paths cut k at the same places and sum every element in the
// same order with the same FMAs, so with alpha = 1 they give bit-identical
// results.
//
// Large products are split across up to runtime.GOMAXPROCS goroutines;
// small ones run on the calling goroutine, and tiny ones (or products with
// fewer than three rows or four columns) use simple dot-product or axpy
// loops (AVX2 where available) that avoid packing.
// Packing buffers are recycled through a sync.Pool, so steady-state calls
// do not allocate.
//
// When the same B operand is multiplied many times with different A and C
// (the recurrent weights of an RNN at every time step), PackB32 and PackB64
// pack it once into a PackedB32 or PackedB64, and SgemmPacked and
// DgemmPacked multiply with it without packing it again. Their results are
// bit-identical to those of Sgemm and Dgemm for the same arguments.
//
// # Preconditions
//
// Like gonum's blas/gonum package after argument checking, the functions
// here assume valid input and do not validate it themselves; the caller
// must ensure that m, n, k >= 0 and, with op(A) of shape m×k and op(B) of
// shape k×n:
//
//   - lda >= max(1, columns of A as stored): k if !transA, m if transA;
//   - ldb >= max(1, columns of B as stored): n if !transB, k if transB;
//   - ldc >= max(1, n);
//   - len(a) >= (rows-1)*lda + cols for A as stored (when rows, cols > 0),
//     and likewise for b and c.
//
// C must not overlap A or B. Invalid input may panic with an index out of
// range error or produce wrong results.
package gemm

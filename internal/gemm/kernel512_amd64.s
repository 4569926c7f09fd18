//go:build amd64 && !purego

#include "textflag.h"

// The AVX-512 micro-kernels, 12×32 for float32 and 12×16 for float64: the
// AVX2 kernels' scheme (kernel_amd64.s) with twice the rows and twice the
// vector width.
//
// Register use in both:
//
//	SI       packed A sliver, advanced by one column (12 elements) per step
//	DI       packed B sliver, advanced by one row (two ZMM vectors) per step
//	DX       C tile, advanced by one row per stored row
//	R8       ldc in bytes
//	BX, CX   loop counters (k/4 unrolled steps, k%4 single steps)
//	Z0-Z23   accumulators: row r of the tile is Z(2r) (left half) and
//	         Z(2r+1) (right half)
//	Z24-Z25  current row of B (C's row during the store phase)
//	Z26-Z31  broadcast elements of A; Z26 holds alpha during the store phase
//
// Each element of C is summed in the order the AVX2 kernels use (one FMA
// per k step, then C += alpha*acc with one FMA), so with the same kc the
// two paths give bit-identical full tiles.

// SSTEP512 performs one rank-1 update of the 12 rows of accumulators:
// acc[r] += A[r, q] * B[q, :] for r = 0..11. The elements of A are
// broadcast into Z26-Z31 in turn, so that six loads are in flight.
#define SSTEP512 \
	VMOVUPS      (DI), Z24;       \
	VMOVUPS      64(DI), Z25;     \
	VBROADCASTSS 0(SI), Z26;     \
	VFMADD231PS  Z24, Z26, Z0;    \
	VFMADD231PS  Z25, Z26, Z1;    \
	VBROADCASTSS 4(SI), Z27;     \
	VFMADD231PS  Z24, Z27, Z2;    \
	VFMADD231PS  Z25, Z27, Z3;    \
	VBROADCASTSS 8(SI), Z28;     \
	VFMADD231PS  Z24, Z28, Z4;    \
	VFMADD231PS  Z25, Z28, Z5;    \
	VBROADCASTSS 12(SI), Z29;     \
	VFMADD231PS  Z24, Z29, Z6;    \
	VFMADD231PS  Z25, Z29, Z7;    \
	VBROADCASTSS 16(SI), Z30;     \
	VFMADD231PS  Z24, Z30, Z8;    \
	VFMADD231PS  Z25, Z30, Z9;    \
	VBROADCASTSS 20(SI), Z31;     \
	VFMADD231PS  Z24, Z31, Z10;    \
	VFMADD231PS  Z25, Z31, Z11;    \
	VBROADCASTSS 24(SI), Z26;     \
	VFMADD231PS  Z24, Z26, Z12;    \
	VFMADD231PS  Z25, Z26, Z13;    \
	VBROADCASTSS 28(SI), Z27;     \
	VFMADD231PS  Z24, Z27, Z14;    \
	VFMADD231PS  Z25, Z27, Z15;    \
	VBROADCASTSS 32(SI), Z28;     \
	VFMADD231PS  Z24, Z28, Z16;    \
	VFMADD231PS  Z25, Z28, Z17;    \
	VBROADCASTSS 36(SI), Z29;     \
	VFMADD231PS  Z24, Z29, Z18;    \
	VFMADD231PS  Z25, Z29, Z19;    \
	VBROADCASTSS 40(SI), Z30;     \
	VFMADD231PS  Z24, Z30, Z20;    \
	VFMADD231PS  Z25, Z30, Z21;    \
	VBROADCASTSS 44(SI), Z31;     \
	VFMADD231PS  Z24, Z31, Z22;    \
	VFMADD231PS  Z25, Z31, Z23;    \
	ADDQ         $48, SI;         \
	ADDQ         $128, DI

// SSTORE512 updates one row of C: C[r, :] += alpha * (lo, hi), with alpha
// broadcast in Z26, then advances DX to the next row.
#define SSTORE512(lo, hi) \
	VMOVUPS     (DX), Z24;     \
	VMOVUPS     64(DX), Z25;   \
	VFMADD231PS lo, Z26, Z24;  \
	VFMADD231PS hi, Z26, Z25;  \
	VMOVUPS     Z24, (DX);     \
	VMOVUPS     Z25, 64(DX);   \
	ADDQ        R8, DX

// SZERO512 writes one row of C: C[r, :] = 0 + alpha * (lo, hi), with alpha
// broadcast in Z26 (the first k block of a product with beta = 0: C is
// neither cleared nor read, and each element gets the bits SSTORE512 gives
// over a cleared C), then advances DX to the next row.
#define SZERO512(lo, hi) \
	VPXORD      Z24, Z24, Z24; \
	VPXORD      Z25, Z25, Z25; \
	VFMADD231PS lo, Z26, Z24;  \
	VFMADD231PS hi, Z26, Z25;  \
	VMOVUPS     Z24, (DX);     \
	VMOVUPS     Z25, 64(DX);   \
	ADDQ        R8, DX

// func sgemmKernel12x32(k int, a, b, c *float32, ldc int, alpha float32, zero bool)
TEXT ·sgemmKernel12x32(SB), NOSPLIT, $0-45
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8                // ldc in bytes
	// Prefetch the C tile, read only in the store phase, so that its
	// cache misses overlap the k loop.
	MOVQ DX, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

	MOVQ  CX, BX
	SHRQ  $2, BX               // BX = k / 4
	ANDQ  $3, CX               // CX = k % 4
	TESTQ BX, BX
	JZ    stail512

sloop4_512:
	// Prefetch A a few steps ahead; B slivers are reused from L1.
	PREFETCHT0 384(SI)
	SSTEP512
	SSTEP512
	SSTEP512
	SSTEP512
	DECQ BX
	JNZ  sloop4_512

stail512:
	TESTQ CX, CX
	JZ    sstore512

sloop1_512:
	SSTEP512
	DECQ CX
	JNZ  sloop1_512

sstore512:
	VBROADCASTSS alpha+40(FP), Z26
	CMPB zero+44(FP), $0
	JNE  sstore512zero
	SSTORE512(Z0, Z1)
	SSTORE512(Z2, Z3)
	SSTORE512(Z4, Z5)
	SSTORE512(Z6, Z7)
	SSTORE512(Z8, Z9)
	SSTORE512(Z10, Z11)
	SSTORE512(Z12, Z13)
	SSTORE512(Z14, Z15)
	SSTORE512(Z16, Z17)
	SSTORE512(Z18, Z19)
	SSTORE512(Z20, Z21)
	SSTORE512(Z22, Z23)
	VZEROUPPER
	RET

sstore512zero:
	SZERO512(Z0, Z1)
	SZERO512(Z2, Z3)
	SZERO512(Z4, Z5)
	SZERO512(Z6, Z7)
	SZERO512(Z8, Z9)
	SZERO512(Z10, Z11)
	SZERO512(Z12, Z13)
	SZERO512(Z14, Z15)
	SZERO512(Z16, Z17)
	SZERO512(Z18, Z19)
	SZERO512(Z20, Z21)
	SZERO512(Z22, Z23)
	VZEROUPPER
	RET

// DSTEP512 performs one rank-1 update of the 12 rows of accumulators:
// acc[r] += A[r, q] * B[q, :] for r = 0..11. The elements of A are
// broadcast into Z26-Z31 in turn, so that six loads are in flight.
#define DSTEP512 \
	VMOVUPD      (DI), Z24;       \
	VMOVUPD      64(DI), Z25;     \
	VBROADCASTSD 0(SI), Z26;     \
	VFMADD231PD  Z24, Z26, Z0;    \
	VFMADD231PD  Z25, Z26, Z1;    \
	VBROADCASTSD 8(SI), Z27;     \
	VFMADD231PD  Z24, Z27, Z2;    \
	VFMADD231PD  Z25, Z27, Z3;    \
	VBROADCASTSD 16(SI), Z28;     \
	VFMADD231PD  Z24, Z28, Z4;    \
	VFMADD231PD  Z25, Z28, Z5;    \
	VBROADCASTSD 24(SI), Z29;     \
	VFMADD231PD  Z24, Z29, Z6;    \
	VFMADD231PD  Z25, Z29, Z7;    \
	VBROADCASTSD 32(SI), Z30;     \
	VFMADD231PD  Z24, Z30, Z8;    \
	VFMADD231PD  Z25, Z30, Z9;    \
	VBROADCASTSD 40(SI), Z31;     \
	VFMADD231PD  Z24, Z31, Z10;    \
	VFMADD231PD  Z25, Z31, Z11;    \
	VBROADCASTSD 48(SI), Z26;     \
	VFMADD231PD  Z24, Z26, Z12;    \
	VFMADD231PD  Z25, Z26, Z13;    \
	VBROADCASTSD 56(SI), Z27;     \
	VFMADD231PD  Z24, Z27, Z14;    \
	VFMADD231PD  Z25, Z27, Z15;    \
	VBROADCASTSD 64(SI), Z28;     \
	VFMADD231PD  Z24, Z28, Z16;    \
	VFMADD231PD  Z25, Z28, Z17;    \
	VBROADCASTSD 72(SI), Z29;     \
	VFMADD231PD  Z24, Z29, Z18;    \
	VFMADD231PD  Z25, Z29, Z19;    \
	VBROADCASTSD 80(SI), Z30;     \
	VFMADD231PD  Z24, Z30, Z20;    \
	VFMADD231PD  Z25, Z30, Z21;    \
	VBROADCASTSD 88(SI), Z31;     \
	VFMADD231PD  Z24, Z31, Z22;    \
	VFMADD231PD  Z25, Z31, Z23;    \
	ADDQ         $96, SI;         \
	ADDQ         $128, DI

// DSTORE512 updates one row of C: C[r, :] += alpha * (lo, hi), with alpha
// broadcast in Z26, then advances DX to the next row.
#define DSTORE512(lo, hi) \
	VMOVUPD     (DX), Z24;     \
	VMOVUPD     64(DX), Z25;   \
	VFMADD231PD lo, Z26, Z24;  \
	VFMADD231PD hi, Z26, Z25;  \
	VMOVUPD     Z24, (DX);     \
	VMOVUPD     Z25, 64(DX);   \
	ADDQ        R8, DX

// DZERO512 writes one row of C: C[r, :] = 0 + alpha * (lo, hi), with alpha
// broadcast in Z26 (the first k block of a product with beta = 0: C is
// neither cleared nor read, and each element gets the bits DSTORE512 gives
// over a cleared C), then advances DX to the next row.
#define DZERO512(lo, hi) \
	VPXORD      Z24, Z24, Z24; \
	VPXORD      Z25, Z25, Z25; \
	VFMADD231PD lo, Z26, Z24;  \
	VFMADD231PD hi, Z26, Z25;  \
	VMOVUPD     Z24, (DX);     \
	VMOVUPD     Z25, 64(DX);   \
	ADDQ        R8, DX

// func dgemmKernel12x16(k int, a, b, c *float64, ldc int, alpha float64, zero bool)
TEXT ·dgemmKernel12x16(SB), NOSPLIT, $0-49
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8                // ldc in bytes
	// Prefetch the C tile, read only in the store phase, so that its
	// cache misses overlap the k loop.
	MOVQ DX, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 124(R9)

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

	MOVQ  CX, BX
	SHRQ  $2, BX               // BX = k / 4
	ANDQ  $3, CX               // CX = k % 4
	TESTQ BX, BX
	JZ    dtail512

dloop4_512:
	// Prefetch A a few steps ahead; B slivers are reused from L1.
	PREFETCHT0 768(SI)
	DSTEP512
	DSTEP512
	DSTEP512
	DSTEP512
	DECQ BX
	JNZ  dloop4_512

dtail512:
	TESTQ CX, CX
	JZ    dstore512

dloop1_512:
	DSTEP512
	DECQ CX
	JNZ  dloop1_512

dstore512:
	VBROADCASTSD alpha+40(FP), Z26
	CMPB zero+48(FP), $0
	JNE  dstore512zero
	DSTORE512(Z0, Z1)
	DSTORE512(Z2, Z3)
	DSTORE512(Z4, Z5)
	DSTORE512(Z6, Z7)
	DSTORE512(Z8, Z9)
	DSTORE512(Z10, Z11)
	DSTORE512(Z12, Z13)
	DSTORE512(Z14, Z15)
	DSTORE512(Z16, Z17)
	DSTORE512(Z18, Z19)
	DSTORE512(Z20, Z21)
	DSTORE512(Z22, Z23)
	VZEROUPPER
	RET

dstore512zero:
	DZERO512(Z0, Z1)
	DZERO512(Z2, Z3)
	DZERO512(Z4, Z5)
	DZERO512(Z6, Z7)
	DZERO512(Z8, Z9)
	DZERO512(Z10, Z11)
	DZERO512(Z12, Z13)
	DZERO512(Z14, Z15)
	DZERO512(Z16, Z17)
	DZERO512(Z18, Z19)
	DZERO512(Z20, Z21)
	DZERO512(Z22, Z23)
	VZEROUPPER
	RET

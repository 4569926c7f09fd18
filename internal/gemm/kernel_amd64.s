//go:build amd64 && !purego

#include "textflag.h"

// Register use in both micro-kernels:
//
//	SI      packed A sliver, advanced by one column (6 elements) per step
//	DI      packed B sliver, advanced by one row (two YMM vectors) per step
//	DX      C tile, advanced by one row per stored row
//	R8      ldc in bytes
//	BX, CX  loop counters (k/4 unrolled steps, k%4 single steps)
//	Y0-Y11  accumulators: row r of the tile is Y(2r) (left half) and
//	        Y(2r+1) (right half)
//	Y12-Y13 current row of B
//	Y14-Y15 broadcast elements of A (alternating, to overlap latencies);
//	        Y15 holds alpha during the store phase

// SSTEP performs one rank-1 update of the 6×16 float32 accumulators:
// acc[r] += A[r, q] * B[q, :] for r = 0..5.
#define SSTEP \
	VMOVUPS      (DI), Y12;       \
	VMOVUPS      32(DI), Y13;     \
	VBROADCASTSS (SI), Y14;       \
	VFMADD231PS  Y12, Y14, Y0;    \
	VFMADD231PS  Y13, Y14, Y1;    \
	VBROADCASTSS 4(SI), Y15;      \
	VFMADD231PS  Y12, Y15, Y2;    \
	VFMADD231PS  Y13, Y15, Y3;    \
	VBROADCASTSS 8(SI), Y14;      \
	VFMADD231PS  Y12, Y14, Y4;    \
	VFMADD231PS  Y13, Y14, Y5;    \
	VBROADCASTSS 12(SI), Y15;     \
	VFMADD231PS  Y12, Y15, Y6;    \
	VFMADD231PS  Y13, Y15, Y7;    \
	VBROADCASTSS 16(SI), Y14;     \
	VFMADD231PS  Y12, Y14, Y8;    \
	VFMADD231PS  Y13, Y14, Y9;    \
	VBROADCASTSS 20(SI), Y15;     \
	VFMADD231PS  Y12, Y15, Y10;   \
	VFMADD231PS  Y13, Y15, Y11;   \
	ADDQ         $24, SI;         \
	ADDQ         $64, DI

// SSTORE updates one row of C: C[r, 0:16] += alpha * (lo, hi), with alpha
// broadcast in Y15, then advances DX to the next row.
#define SSTORE(lo, hi) \
	VMOVUPS     (DX), Y12;     \
	VMOVUPS     32(DX), Y13;   \
	VFMADD231PS lo, Y15, Y12;  \
	VFMADD231PS hi, Y15, Y13;  \
	VMOVUPS     Y12, (DX);     \
	VMOVUPS     Y13, 32(DX);   \
	ADDQ        R8, DX

// SZERO writes one row of C: C[r, 0:16] = 0 + alpha * (lo, hi), with alpha
// broadcast in Y15 (the first k block of a product with beta = 0: C is
// neither cleared nor read, and each element gets the bits SSTORE gives
// over a cleared C), then advances DX to the next row.
#define SZERO(lo, hi) \
	VXORPS      Y12, Y12, Y12; \
	VXORPS      Y13, Y13, Y13; \
	VFMADD231PS lo, Y15, Y12;  \
	VFMADD231PS hi, Y15, Y13;  \
	VMOVUPS     Y12, (DX);     \
	VMOVUPS     Y13, 32(DX);   \
	ADDQ        R8, DX

// func sgemmKernel6x16(k int, a, b, c *float32, ldc int, alpha float32, zero bool)
TEXT ·sgemmKernel6x16(SB), NOSPLIT, $0-45
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
	PREFETCHT0 60(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ  CX, BX
	SHRQ  $2, BX               // BX = k / 4
	ANDQ  $3, CX               // CX = k % 4
	TESTQ BX, BX
	JZ    stail

sloop4:
	// Prefetch A a few steps ahead; B slivers are reused from L1.
	PREFETCHT0 384(SI)
	SSTEP
	SSTEP
	SSTEP
	SSTEP
	DECQ BX
	JNZ  sloop4

stail:
	TESTQ CX, CX
	JZ    sstore

sloop1:
	SSTEP
	DECQ CX
	JNZ  sloop1

sstore:
	VBROADCASTSS alpha+40(FP), Y15
	CMPB zero+44(FP), $0
	JNE  sstorezero
	SSTORE(Y0, Y1)
	SSTORE(Y2, Y3)
	SSTORE(Y4, Y5)
	SSTORE(Y6, Y7)
	SSTORE(Y8, Y9)
	SSTORE(Y10, Y11)
	VZEROUPPER
	RET

sstorezero:
	SZERO(Y0, Y1)
	SZERO(Y2, Y3)
	SZERO(Y4, Y5)
	SZERO(Y6, Y7)
	SZERO(Y8, Y9)
	SZERO(Y10, Y11)
	VZEROUPPER
	RET

// DSTEP performs one rank-1 update of the 6×8 float64 accumulators:
// acc[r] += A[r, q] * B[q, :] for r = 0..5.
#define DSTEP \
	VMOVUPD      (DI), Y12;       \
	VMOVUPD      32(DI), Y13;     \
	VBROADCASTSD (SI), Y14;       \
	VFMADD231PD  Y12, Y14, Y0;    \
	VFMADD231PD  Y13, Y14, Y1;    \
	VBROADCASTSD 8(SI), Y15;      \
	VFMADD231PD  Y12, Y15, Y2;    \
	VFMADD231PD  Y13, Y15, Y3;    \
	VBROADCASTSD 16(SI), Y14;     \
	VFMADD231PD  Y12, Y14, Y4;    \
	VFMADD231PD  Y13, Y14, Y5;    \
	VBROADCASTSD 24(SI), Y15;     \
	VFMADD231PD  Y12, Y15, Y6;    \
	VFMADD231PD  Y13, Y15, Y7;    \
	VBROADCASTSD 32(SI), Y14;     \
	VFMADD231PD  Y12, Y14, Y8;    \
	VFMADD231PD  Y13, Y14, Y9;    \
	VBROADCASTSD 40(SI), Y15;     \
	VFMADD231PD  Y12, Y15, Y10;   \
	VFMADD231PD  Y13, Y15, Y11;   \
	ADDQ         $48, SI;         \
	ADDQ         $64, DI

// DSTORE updates one row of C: C[r, 0:8] += alpha * (lo, hi), with alpha
// broadcast in Y15, then advances DX to the next row.
#define DSTORE(lo, hi) \
	VMOVUPD     (DX), Y12;     \
	VMOVUPD     32(DX), Y13;   \
	VFMADD231PD lo, Y15, Y12;  \
	VFMADD231PD hi, Y15, Y13;  \
	VMOVUPD     Y12, (DX);     \
	VMOVUPD     Y13, 32(DX);   \
	ADDQ        R8, DX

// DZERO writes one row of C: C[r, 0:8] = 0 + alpha * (lo, hi), with alpha
// broadcast in Y15 (the first k block of a product with beta = 0: C is
// neither cleared nor read, and each element gets the bits DSTORE gives
// over a cleared C), then advances DX to the next row.
#define DZERO(lo, hi) \
	VXORPD      Y12, Y12, Y12; \
	VXORPD      Y13, Y13, Y13; \
	VFMADD231PD lo, Y15, Y12;  \
	VFMADD231PD hi, Y15, Y13;  \
	VMOVUPD     Y12, (DX);     \
	VMOVUPD     Y13, 32(DX);   \
	ADDQ        R8, DX

// func dgemmKernel6x8(k int, a, b, c *float64, ldc int, alpha float64, zero bool)
TEXT ·dgemmKernel6x8(SB), NOSPLIT, $0-49
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
	PREFETCHT0 60(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)
	ADDQ R8, R9
	PREFETCHT0 (R9)
	PREFETCHT0 60(R9)

	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11

	MOVQ  CX, BX
	SHRQ  $2, BX               // BX = k / 4
	ANDQ  $3, CX               // CX = k % 4
	TESTQ BX, BX
	JZ    dtail

dloop4:
	PREFETCHT0 384(SI)
	DSTEP
	DSTEP
	DSTEP
	DSTEP
	DECQ BX
	JNZ  dloop4

dtail:
	TESTQ CX, CX
	JZ    dstore

dloop1:
	DSTEP
	DECQ CX
	JNZ  dloop1

dstore:
	VBROADCASTSD alpha+40(FP), Y15
	CMPB zero+48(FP), $0
	JNE  dstorezero
	DSTORE(Y0, Y1)
	DSTORE(Y2, Y3)
	DSTORE(Y4, Y5)
	DSTORE(Y6, Y7)
	DSTORE(Y8, Y9)
	DSTORE(Y10, Y11)
	VZEROUPPER
	RET

dstorezero:
	DZERO(Y0, Y1)
	DZERO(Y2, Y3)
	DZERO(Y4, Y5)
	DZERO(Y6, Y7)
	DZERO(Y8, Y9)
	DZERO(Y10, Y11)
	VZEROUPPER
	RET



// func sdotRowsAVX2(alpha float32, x *float32, k int, b *float32, ldb int, y *float32, n int)
//
// For j < n sets y[j] += alpha * sum_{q<k} x[q]*b[j*ldb + q]: one dot
// product per row of b, each with two 8-wide accumulators.
TEXT ·sdotRowsAVX2(SB), NOSPLIT, $0-56
	VMOVSS alpha+0(FP), X5
	MOVQ   x+8(FP), R8
	MOVQ   k+16(FP), R9
	MOVQ   b+24(FP), DI         // DI = current row of b
	MOVQ   ldb+32(FP), R10
	SHLQ   $2, R10              // R10 = ldb in bytes
	MOVQ   y+40(FP), DX
	MOVQ   n+48(FP), R11
	TESTQ  R11, R11
	JZ     dotdone

dotrow:
	MOVQ   R8, SI
	MOVQ   DI, BX
	MOVQ   R9, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	CMPQ   CX, $16
	JLT    dot8

dot16:
	VMOVUPS     (SI), Y2
	VMOVUPS     32(SI), Y3
	VFMADD231PS (BX), Y2, Y0
	VFMADD231PS 32(BX), Y3, Y1
	ADDQ        $64, SI
	ADDQ        $64, BX
	SUBQ        $16, CX
	CMPQ        CX, $16
	JGE         dot16

dot8:
	CMPQ        CX, $8
	JLT         dotsum
	VMOVUPS     (SI), Y2
	VFMADD231PS (BX), Y2, Y0
	ADDQ        $32, SI
	ADDQ        $32, BX
	SUBQ        $8, CX

dotsum:
	// Horizontal sum of Y0+Y1 into X0[0].
	VADDPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	TESTQ        CX, CX
	JZ           dotstore

dot1:
	VMOVSS      (SI), X1
	VFMADD231SS (BX), X1, X0
	ADDQ        $4, SI
	ADDQ        $4, BX
	DECQ        CX
	JNZ         dot1

dotstore:
	VMOVSS      (DX), X1
	VFMADD231SS X0, X5, X1      // y[j] += alpha*sum
	VMOVSS      X1, (DX)
	ADDQ        $4, DX
	ADDQ        R10, DI
	DECQ        R11
	JNZ         dotrow

dotdone:
	VZEROUPPER
	RET

// func saxpyAVX2(s float32, x, y *float32, n int)
//
// Sets y[i] += s*x[i] for i < n.
TEXT ·saxpyAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS s+0(FP), Y0
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DI
	MOVQ         n+24(FP), CX
	CMPQ         CX, $16
	JLT          axpy8

axpy16:
	VMOVUPS     (SI), Y1
	VMOVUPS     32(SI), Y2
	VFMADD213PS (DI), Y0, Y1   // Y1 = s*x + y
	VFMADD213PS 32(DI), Y0, Y2
	VMOVUPS     Y1, (DI)
	VMOVUPS     Y2, 32(DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	CMPQ        CX, $16
	JGE         axpy16

axpy8:
	CMPQ        CX, $8
	JLT         axpytail
	VMOVUPS     (SI), Y1
	VFMADD213PS (DI), Y0, Y1
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX

axpytail:
	TESTQ CX, CX
	JZ    axpydone

axpy1:
	VMOVSS      (SI), X1
	VFMADD213SS (DI), X0, X1
	VMOVSS      X1, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JNZ         axpy1

axpydone:
	VZEROUPPER
	RET

// func ddotRowsAVX2(alpha float64, x *float64, k int, b *float64, ldb int, y *float64, n int)
//
// For j < n sets y[j] += alpha * sum_{q<k} x[q]*b[j*ldb + q]: one dot
// product per row of b, each with two 4-wide accumulators.
TEXT ·ddotRowsAVX2(SB), NOSPLIT, $0-56
	VMOVSD alpha+0(FP), X5
	MOVQ   x+8(FP), R8
	MOVQ   k+16(FP), R9
	MOVQ   b+24(FP), DI         // DI = current row of b
	MOVQ   ldb+32(FP), R10
	SHLQ   $3, R10              // R10 = ldb in bytes
	MOVQ   y+40(FP), DX
	MOVQ   n+48(FP), R11
	TESTQ  R11, R11
	JZ     ddotdone

ddotrow:
	MOVQ   R8, SI
	MOVQ   DI, BX
	MOVQ   R9, CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	CMPQ   CX, $8
	JLT    ddot4

ddot8:
	VMOVUPD     (SI), Y2
	VMOVUPD     32(SI), Y3
	VFMADD231PD (BX), Y2, Y0
	VFMADD231PD 32(BX), Y3, Y1
	ADDQ        $64, SI
	ADDQ        $64, BX
	SUBQ        $8, CX
	CMPQ        CX, $8
	JGE         ddot8

ddot4:
	CMPQ        CX, $4
	JLT         ddotsum
	VMOVUPD     (SI), Y2
	VFMADD231PD (BX), Y2, Y0
	ADDQ        $32, SI
	ADDQ        $32, BX
	SUBQ        $4, CX

ddotsum:
	// Horizontal sum of Y0+Y1 into X0[0].
	VADDPD       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VHADDPD      X0, X0, X0
	TESTQ        CX, CX
	JZ           ddotstore

ddot1:
	VMOVSD      (SI), X1
	VFMADD231SD (BX), X1, X0
	ADDQ        $8, SI
	ADDQ        $8, BX
	DECQ        CX
	JNZ         ddot1

ddotstore:
	VMOVSD      (DX), X1
	VFMADD231SD X0, X5, X1      // y[j] += alpha*sum
	VMOVSD      X1, (DX)
	ADDQ        $8, DX
	ADDQ        R10, DI
	DECQ        R11
	JNZ         ddotrow

ddotdone:
	VZEROUPPER
	RET

// func daxpyAVX2(s float64, x, y *float64, n int)
//
// Sets y[i] += s*x[i] for i < n.
TEXT ·daxpyAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSD s+0(FP), Y0
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DI
	MOVQ         n+24(FP), CX
	CMPQ         CX, $8
	JLT          daxpy4

daxpy8:
	VMOVUPD     (SI), Y1
	VMOVUPD     32(SI), Y2
	VFMADD213PD (DI), Y0, Y1   // Y1 = s*x + y
	VFMADD213PD 32(DI), Y0, Y2
	VMOVUPD     Y1, (DI)
	VMOVUPD     Y2, 32(DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $8, CX
	CMPQ        CX, $8
	JGE         daxpy8

daxpy4:
	CMPQ        CX, $4
	JLT         daxpytail
	VMOVUPD     (SI), Y1
	VFMADD213PD (DI), Y0, Y1
	VMOVUPD     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $4, CX

daxpytail:
	TESTQ CX, CX
	JZ    daxpydone

daxpy1:
	VMOVSD      (SI), X1
	VFMADD213SD (DI), X0, X1
	VMOVSD      X1, (DI)
	ADDQ        $8, SI
	ADDQ        $8, DI
	DECQ        CX
	JNZ         daxpy1

daxpydone:
	VZEROUPPER
	RET

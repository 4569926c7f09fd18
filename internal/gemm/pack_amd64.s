//go:build amd64 && !purego

#include "textflag.h"

// TRANSPOSE8 transposes the 8×8 float32 matrix held row-wise in Y0-Y7 into
// Y8-Y15 (Y8 = column 0, ..., Y15 = column 7). Y0-Y7 are clobbered.
// Rows are named a..h and aN is element N of row a. The unpacks interleave
// row pairs (a0 b0 a1 b1 | a4 b4 a5 b5), the shuffles gather four rows
// (a0 b0 c0 d0 | a4 b4 c4 d4) and the lane permutes join the two halves
// (a0 ... h0).
#define TRANSPOSE8 \
	VUNPCKLPS  Y1, Y0, Y8;         \
	VUNPCKHPS  Y1, Y0, Y9;         \
	VUNPCKLPS  Y3, Y2, Y10;        \
	VUNPCKHPS  Y3, Y2, Y11;        \
	VUNPCKLPS  Y5, Y4, Y12;        \
	VUNPCKHPS  Y5, Y4, Y13;        \
	VUNPCKLPS  Y7, Y6, Y14;        \
	VUNPCKHPS  Y7, Y6, Y15;        \
	VSHUFPS    $0x44, Y10, Y8, Y0; \
	VSHUFPS    $0xEE, Y10, Y8, Y1; \
	VSHUFPS    $0x44, Y11, Y9, Y2; \
	VSHUFPS    $0xEE, Y11, Y9, Y3; \
	VSHUFPS    $0x44, Y14, Y12, Y4; \
	VSHUFPS    $0xEE, Y14, Y12, Y5; \
	VSHUFPS    $0x44, Y15, Y13, Y6; \
	VSHUFPS    $0xEE, Y15, Y13, Y7; \
	VPERM2F128 $0x20, Y4, Y0, Y8;  \
	VPERM2F128 $0x20, Y5, Y1, Y9;  \
	VPERM2F128 $0x20, Y6, Y2, Y10; \
	VPERM2F128 $0x20, Y7, Y3, Y11; \
	VPERM2F128 $0x31, Y4, Y0, Y12; \
	VPERM2F128 $0x31, Y5, Y1, Y13; \
	VPERM2F128 $0x31, Y6, Y2, Y14; \
	VPERM2F128 $0x31, Y7, Y3, Y15

// func transpose8(src *float32, ld int, dst *float32, ldd int, n int)
//
// For b < n and i, j < 8 it sets dst[(8b+j)*ldd + i] = src[i*ld + 8b + j]:
// it transposes n consecutive 8×8 blocks of 8 source lines (stride ld) into
// 8n destination rows (stride ldd).
TEXT ·transpose8(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ ld+8(FP), AX
	SHLQ $2, AX                 // AX = ld in bytes
	MOVQ dst+16(FP), DI
	MOVQ ldd+24(FP), DX
	SHLQ $2, DX                 // DX = ldd in bytes
	MOVQ n+32(FP), CX
	LEAQ (AX)(AX*2), BX         // BX = 3 source lines
	LEAQ (DX)(DX*2), R10        // R10 = 3 destination rows
	TESTQ CX, CX
	JZ   t8done

t8loop:
	LEAQ    (SI)(AX*4), R9      // R9 = source line 4
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(AX*1), Y1
	VMOVUPS (SI)(AX*2), Y2
	VMOVUPS (SI)(BX*1), Y3
	VMOVUPS (R9), Y4
	VMOVUPS (R9)(AX*1), Y5
	VMOVUPS (R9)(AX*2), Y6
	VMOVUPS (R9)(BX*1), Y7
	TRANSPOSE8
	LEAQ    (DI)(DX*4), R11     // R11 = destination row 4
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(DX*1)
	VMOVUPS Y10, (DI)(DX*2)
	VMOVUPS Y11, (DI)(R10*1)
	VMOVUPS Y12, (R11)
	VMOVUPS Y13, (R11)(DX*1)
	VMOVUPS Y14, (R11)(DX*2)
	VMOVUPS Y15, (R11)(R10*1)
	ADDQ    $32, SI             // next 8 source columns
	LEAQ    (DI)(DX*8), DI      // next 8 destination rows
	DECQ    CX
	JNZ     t8loop

t8done:
	VZEROUPPER
	RET

// STORE6 stores the first 6 floats of Y (with X its low half) at off(DI),
// clobbering X0.
#define STORE6(Y, X, off) \
	VMOVUPS      X, off(DI);      \
	VEXTRACTF128 $1, Y, X0;       \
	VMOVQ        X0, off+16(DI)

// func transpose6(src *float32, ld int, dst *float32, n int)
//
// For b < n, i < 6 and j < 8 it sets dst[(8b+j)*6 + i] = src[i*ld + 8b + j]:
// it packs 8n columns of 6 source lines (stride ld) into 8n contiguous
// rows of 6, the layout of a packed 6-row sliver of A.
TEXT ·transpose6(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ ld+8(FP), AX
	SHLQ $2, AX                 // AX = ld in bytes
	MOVQ dst+16(FP), DI
	MOVQ n+24(FP), CX
	LEAQ (AX)(AX*2), BX         // BX = 3 source lines
	TESTQ CX, CX
	JZ   t6done

t6loop:
	LEAQ    (SI)(AX*4), R9      // R9 = source line 4
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(AX*1), Y1
	VMOVUPS (SI)(AX*2), Y2
	VMOVUPS (SI)(BX*1), Y3
	VMOVUPS (R9), Y4
	VMOVUPS (R9)(AX*1), Y5
	VXORPS  Y6, Y6, Y6          // rows 6 and 7 are not stored
	VXORPS  Y7, Y7, Y7
	TRANSPOSE8
	STORE6(Y8, X8, 0)
	STORE6(Y9, X9, 24)
	STORE6(Y10, X10, 48)
	STORE6(Y11, X11, 72)
	STORE6(Y12, X12, 96)
	STORE6(Y13, X13, 120)
	STORE6(Y14, X14, 144)
	STORE6(Y15, X15, 168)
	ADDQ    $32, SI             // next 8 source columns
	ADDQ    $192, DI            // next 8 destination rows of 6
	DECQ    CX
	JNZ     t6loop

t6done:
	VZEROUPPER
	RET

// func copy6(src *float32, ld int, dst *float32, kb, nsl int)
//
// For q < kb, s < nsl and r < 6 it sets
// dst[s*kb*6 + q*6 + r] = src[q*ld + s*6 + r]: it splits kb source rows of
// 6*nsl contiguous elements into nsl packed 6-row slivers of A.
TEXT ·copy6(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ ld+8(FP), AX
	SHLQ $2, AX                 // AX = ld in bytes
	MOVQ dst+16(FP), DI
	MOVQ kb+24(FP), CX
	MOVQ nsl+32(FP), R8
	IMUL3Q $24, CX, R9          // R9 = sliver size in bytes
	TESTQ CX, CX
	JZ   c6done
	TESTQ R8, R8
	JZ   c6done

c6row:
	MOVQ SI, R10                // R10 = source chunk
	MOVQ DI, R11                // R11 = destination row in sliver s
	MOVQ R8, BX
	PREFETCHT0 (SI)(AX*4)       // a few source rows ahead

c6chunk:
	VMOVUPS (R10), X0
	VMOVQ   16(R10), X1
	VMOVUPS X0, (R11)
	VMOVQ   X1, 16(R11)
	ADDQ    $24, R10
	ADDQ    R9, R11
	DECQ    BX
	JNZ     c6chunk

	ADDQ AX, SI                 // next source row
	ADDQ $24, DI                // next row within each sliver
	DECQ CX
	JNZ  c6row

c6done:
	RET

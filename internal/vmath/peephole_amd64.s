//go:build amd64 && !purego

#include "textflag.h"

// func peepholeBackAVX2(p *[10]*float32, m, n int)
//
// PeepholeBack32's row on its first m elements, m a positive multiple of
// 8, of slices of n elements. p holds the pointers g, tc, cp, y, dh, dc, pi, pf, po, dg, in that order; dc is
// read and then written; g and dg hold four blocks of n values (i, f, g,
// o), at byte offsets 0, 4n (DX), 8n (DX*2) and 12n (BX). Only AVX
// multiplies, adds and subtracts (no FMA), each in the association order
// of the portable code, so the results are bit-identical to it.
TEXT ·peepholeBackAVX2(SB), NOSPLIT, $0-24
	MOVQ         p+0(FP), AX
	MOVQ         m+8(FP), CX
	MOVQ         n+16(FP), DX
	SHLQ         $2, DX              // 4n: the bytes of one gate block
	LEAQ         (DX)(DX*2), BX      // 12n
	MOVQ         0(AX), SI           // g
	MOVQ         8(AX), R8           // tc
	MOVQ         16(AX), R9          // cp
	MOVQ         24(AX), R10         // y
	MOVQ         32(AX), R11         // dh
	MOVQ         40(AX), R12         // dc
	MOVQ         48(AX), R13         // pi
	MOVQ         56(AX), R14         // pf
	MOVQ         64(AX), R15         // po
	MOVQ         72(AX), DI          // dg
	VBROADCASTSS peepone<>(SB), Y15  // 1

peeploop:
	VMOVUPS (SI), Y0            // i
	VMOVUPS (SI)(DX*1), Y1      // f
	VMOVUPS (SI)(DX*2), Y2      // g (c in the scalar code)
	VMOVUPS (SI)(BX*1), Y3      // o
	VMOVUPS (R8), Y4            // tanh(c_t)
	VMOVUPS (R11), Y7
	VADDPS  (R10), Y7, Y7       // dht = dh + y

	VMULPS  Y4, Y7, Y5          // do = ((dht·t)·o)·(1 − o)
	VMULPS  Y3, Y5, Y5
	VSUBPS  Y3, Y15, Y6
	VMULPS  Y6, Y5, Y5
	VMOVUPS Y5, (DI)(BX*1)

	VMULPS  Y4, Y4, Y9          // t·t
	VSUBPS  Y9, Y15, Y9         // 1 − t·t
	VMULPS  Y3, Y7, Y10         // dht·o
	VMULPS  Y9, Y10, Y10        // (dht·o)·(1 − t·t)
	VMOVUPS (R12), Y8
	VADDPS  Y10, Y8, Y8         // dc + …
	VMULPS  (R15), Y5, Y11      // do·p_o
	VADDPS  Y11, Y8, Y8         // dct = (dc + …) + do·p_o

	VMULPS  Y2, Y8, Y12         // di = ((dct·g)·i)·(1 − i)
	VMULPS  Y0, Y12, Y12
	VSUBPS  Y0, Y15, Y13
	VMULPS  Y13, Y12, Y12
	VMOVUPS Y12, (DI)

	VMULPS  (R9), Y8, Y13       // df = ((dct·cp)·f)·(1 − f)
	VMULPS  Y1, Y13, Y13
	VSUBPS  Y1, Y15, Y14
	VMULPS  Y14, Y13, Y13
	VMOVUPS Y13, (DI)(DX*1)

	VMULPS  Y0, Y8, Y14         // dgg = (dct·i)·(1 − g·g)
	VMULPS  Y2, Y2, Y6
	VSUBPS  Y6, Y15, Y6
	VMULPS  Y6, Y14, Y14
	VMOVUPS Y14, (DI)(DX*2)

	VMULPS  Y1, Y8, Y6          // dct·f
	VMULPS  (R13), Y12, Y12     // di·p_i
	VMULPS  (R14), Y13, Y13     // df·p_f
	VADDPS  Y13, Y12, Y12       // di·p_i + df·p_f
	VADDPS  Y12, Y6, Y6         // dc ← dct·f + (…)
	VMOVUPS Y6, (R12)

	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R13
	ADDQ $32, R14
	ADDQ $32, R15
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ  peeploop

	VZEROUPPER
	RET

DATA peepone<>+0(SB)/4, $0x3f800000
GLOBL peepone<>(SB), RODATA|NOPTR, $4

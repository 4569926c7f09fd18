//go:build amd64 && !purego

#include "textflag.h"

// The element-wise passes of PeepholeForward32 (peepfwd.go) on the first
// m elements of a row of n, m a positive multiple of 8. gates holds four
// blocks of n values (i, f, g, o): i and f at byte offsets 0 and 4n (DX)
// from SI, g and o at 0 and 4n from R11 = SI + 8n. Only AVX adds and
// multiplies (no FMA), each in the association order of the portable
// code, so the results are bit-identical to it.

// func peepPreAVX2(gates, bias, cp, pi, pf *float32, m, n int)
TEXT ·peepPreAVX2(SB), NOSPLIT, $0-56
	MOVQ gates+0(FP), SI
	MOVQ bias+8(FP), DI
	MOVQ cp+16(FP), R8
	MOVQ pi+24(FP), R9
	MOVQ pf+32(FP), R10
	MOVQ m+40(FP), CX
	MOVQ n+48(FP), DX
	SHLQ $2, DX                 // 4n: the bytes of one gate block
	LEAQ (SI)(DX*2), R11        // g and o
	LEAQ (DI)(DX*2), R12        // their biases

ppreloop:
	VMOVUPS (R8), Y2            // c_{t−1}
	VMOVUPS (SI), Y0
	VADDPS  (DI), Y0, Y0        // i + b_i
	VMULPS  (R9), Y2, Y1        // p_i·c_{t−1}
	VADDPS  Y1, Y0, Y0
	VMOVUPS Y0, (SI)
	VMOVUPS (SI)(DX*1), Y3
	VADDPS  (DI)(DX*1), Y3, Y3  // f + b_f
	VMULPS  (R10), Y2, Y4       // p_f·c_{t−1}
	VADDPS  Y4, Y3, Y3
	VMOVUPS Y3, (SI)(DX*1)
	VMOVUPS (R11), Y5
	VADDPS  (R12), Y5, Y5       // g + b_g
	VMOVUPS Y5, (R11)
	VMOVUPS (R11)(DX*1), Y6
	VADDPS  (R12)(DX*1), Y6, Y6 // o + b_o
	VMOVUPS Y6, (R11)(DX*1)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, R8
	ADDQ    $32, R9
	ADDQ    $32, R10
	ADDQ    $32, R11
	ADDQ    $32, R12
	SUBQ    $8, CX
	JNZ     ppreloop
	VZEROUPPER
	RET

// func peepMidAVX2(gates, cp, po, c *float32, m, n int)
TEXT ·peepMidAVX2(SB), NOSPLIT, $0-48
	MOVQ gates+0(FP), SI
	MOVQ cp+8(FP), DI
	MOVQ po+16(FP), R8
	MOVQ c+24(FP), R9
	MOVQ m+32(FP), CX
	MOVQ n+40(FP), DX
	SHLQ $2, DX
	LEAQ (SI)(DX*2), R11

pmidloop:
	VMOVUPS (SI)(DX*1), Y0
	VMULPS  (DI), Y0, Y0        // f·c_{t−1}
	VMOVUPS (SI), Y1
	VMULPS  (R11), Y1, Y1       // i·g
	VADDPS  Y1, Y0, Y0          // c
	VMOVUPS Y0, (R9)
	VMULPS  (R8), Y0, Y2        // p_o·c
	VADDPS  (R11)(DX*1), Y2, Y2 // o + p_o·c
	VMOVUPS Y2, (R11)(DX*1)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, R8
	ADDQ    $32, R9
	ADDQ    $32, R11
	SUBQ    $8, CX
	JNZ     pmidloop
	VZEROUPPER
	RET

// func peepOutAVX2(gates, tc, h *float32, m, n int)
TEXT ·peepOutAVX2(SB), NOSPLIT, $0-40
	MOVQ gates+0(FP), SI
	MOVQ tc+8(FP), DI
	MOVQ h+16(FP), R8
	MOVQ m+24(FP), CX
	MOVQ n+32(FP), DX
	SHLQ $2, DX
	LEAQ (SI)(DX*2), R11

poutloop:
	VMOVUPS (R11)(DX*1), Y0
	VMULPS  (DI), Y0, Y0        // o·tanh c
	VMOVUPS Y0, (R8)
	ADDQ    $32, DI
	ADDQ    $32, R8
	ADDQ    $32, R11
	SUBQ    $8, CX
	JNZ     poutloop
	VZEROUPPER
	RET

//go:build amd64 && !purego

#include "textflag.h"

// func adagradAVX2(param, grad, sum *float32, n int, c *[3]float32, decay int)
//
// Adagrad's update of n float32 elements (n a positive multiple of 8),
// eight at a time; c holds wd, −lr and eps. Per element, each operation
// rounded once, as PyTorch's AVX2 kernels compute it:
//
//	g ← fma(p, wd, g)        only when decay ≠ 0 (grad.add(param, alpha=wd))
//	s ← fma(g, g, s)         (state_sum.addcmul_(grad, grad, value=1))
//	p ← p + (−lr·g) / (√s + eps)
//
// The gradient in memory is not changed. Operands are in the Go
// assembler's (reversed Intel) order.
TEXT ·adagradAVX2(SB), NOSPLIT, $0-48
	MOVQ         param+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         sum+16(FP), DX
	MOVQ         n+24(FP), CX
	MOVQ         c+32(FP), AX
	MOVQ         decay+40(FP), BX
	VBROADCASTSS 0(AX), Y13          // wd
	VBROADCASTSS 4(AX), Y14          // −lr
	VBROADCASTSS 8(AX), Y15          // eps

adaloop:
	VMOVUPS (DI), Y0                 // p
	VMOVUPS (SI), Y1                 // g
	VMOVUPS (DX), Y2                 // s
	CMPQ    BX, $0
	JEQ     adanodecay
	VFMADD231PS Y13, Y0, Y1          // g = p·wd + g

adanodecay:
	VFMADD231PS Y1, Y1, Y2           // s = g·g + s
	VMOVUPS     Y2, (DX)
	VSQRTPS     Y2, Y3
	VADDPS      Y15, Y3, Y3          // std = √s + eps
	VMULPS      Y14, Y1, Y4          // −lr·g
	VDIVPS      Y3, Y4, Y4           // (−lr·g) / std
	VADDPS      Y4, Y0, Y0           // p + …
	VMOVUPS     Y0, (DI)
	ADDQ        $32, DI
	ADDQ        $32, SI
	ADDQ        $32, DX
	SUBQ        $8, CX
	JNZ         adaloop
	VZEROUPPER
	RET

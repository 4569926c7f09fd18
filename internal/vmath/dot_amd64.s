//go:build amd64 && !purego

#include "textflag.h"

// Dot product and the two axpy kernels of dot.go in AVX2/FMA. Each takes
// n > 0 and handles any length: four YMM registers (32 floats) per loop
// iteration, then blocks of 8, then single elements. Operand order is the
// Go assembler's: VFMADD231PS m, a, d sets d += a·m.

// func dotAVX2(x, y *float32, n int) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $32
	JLT    dot8

dot32:
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JGE         dot32

dot8:
	CMPQ        CX, $8
	JLT         dotsum
	VMOVUPS     (SI), Y4
	VFMADD231PS (DI), Y4, Y1
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         dot8

dotsum:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VPERMILPS    $0x4E, X0, X1
	VADDPS       X1, X0, X0
	VPERMILPS    $0xB1, X0, X1
	VADDSS       X1, X0, X0

dot1:
	TESTQ       CX, CX
	JEQ         dotdone
	VMOVSS      (SI), X1
	VFMADD231SS (DI), X1, X0
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         dot1

dotdone:
	VZEROUPPER
	VMOVSS X0, ret+24(FP)
	RET

// func axpyAVX2(a float32, x, y *float32, n int)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS a+0(FP), Y15
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DI
	MOVQ         n+24(FP), CX
	CMPQ         CX, $32
	JLT          axpy8

axpy32:
	VMOVUPS     (DI), Y0
	VMOVUPS     32(DI), Y1
	VMOVUPS     64(DI), Y2
	VMOVUPS     96(DI), Y3
	VFMADD231PS (SI), Y15, Y0
	VFMADD231PS 32(SI), Y15, Y1
	VFMADD231PS 64(SI), Y15, Y2
	VFMADD231PS 96(SI), Y15, Y3
	VMOVUPS     Y0, (DI)
	VMOVUPS     Y1, 32(DI)
	VMOVUPS     Y2, 64(DI)
	VMOVUPS     Y3, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JGE         axpy32

axpy8:
	CMPQ        CX, $8
	JLT         axpy1
	VMOVUPS     (DI), Y0
	VFMADD231PS (SI), Y15, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         axpy8

axpy1:
	TESTQ       CX, CX
	JEQ         axpydone
	VMOVSS      (DI), X0
	VFMADD231SS (SI), X15, X0
	VMOVSS      X0, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         axpy1

axpydone:
	VZEROUPPER
	RET

// func crossAxpyAVX2(a float32, x, y, ex, dy *float32, n int)
//
// ex += a·y and dy += a·x, y loaded before dy is stored (dy may be y).
TEXT ·crossAxpyAVX2(SB), NOSPLIT, $0-48
	VBROADCASTSS a+0(FP), Y15
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DI
	MOVQ         ex+24(FP), R8
	MOVQ         dy+32(FP), R9
	MOVQ         n+40(FP), CX
	CMPQ         CX, $16
	JLT          cross8

cross16:
	VMOVUPS     (DI), Y0
	VMOVUPS     32(DI), Y1
	VMOVUPS     (R8), Y2
	VMOVUPS     32(R8), Y3
	VFMADD231PS Y0, Y15, Y2
	VFMADD231PS Y1, Y15, Y3
	VMOVUPS     (R9), Y4
	VMOVUPS     32(R9), Y5
	VFMADD231PS (SI), Y15, Y4
	VFMADD231PS 32(SI), Y15, Y5
	VMOVUPS     Y2, (R8)
	VMOVUPS     Y3, 32(R8)
	VMOVUPS     Y4, (R9)
	VMOVUPS     Y5, 32(R9)
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, R8
	ADDQ        $64, R9
	SUBQ        $16, CX
	CMPQ        CX, $16
	JGE         cross16

cross8:
	CMPQ        CX, $8
	JLT         cross1
	VMOVUPS     (DI), Y0
	VMOVUPS     (R8), Y2
	VFMADD231PS Y0, Y15, Y2
	VMOVUPS     (R9), Y4
	VFMADD231PS (SI), Y15, Y4
	VMOVUPS     Y2, (R8)
	VMOVUPS     Y4, (R9)
	ADDQ        $32, SI
	ADDQ        $32, DI
	ADDQ        $32, R8
	ADDQ        $32, R9
	SUBQ        $8, CX

cross1:
	TESTQ       CX, CX
	JEQ         crossdone
	VMOVSS      (DI), X0
	VMOVSS      (R8), X2
	VFMADD231SS X0, X15, X2
	VMOVSS      (R9), X4
	VFMADD231SS (SI), X15, X4
	VMOVSS      X2, (R8)
	VMOVSS      X4, (R9)
	ADDQ        $4, SI
	ADDQ        $4, DI
	ADDQ        $4, R8
	ADDQ        $4, R9
	DECQ        CX
	JMP         cross1

crossdone:
	VZEROUPPER
	RET

// func prefetchT0(x *float32, n int)
//
// One PREFETCHT0 per 64-byte line from x to the last element.
TEXT ·prefetchT0(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	LEAQ -4(SI)(CX*4), DI
	ANDQ $-64, DI

prefetch:
	PREFETCHT0 (SI)
	ADDQ       $64, SI
	CMPQ       SI, DI
	JLS        prefetch
	PREFETCHT0 (DI)
	RET

//go:build amd64 && !purego

#include "textflag.h"

// func lstmBackAVX2(p *[13]*float32, n int)
//
// LSTMBack32's row on n elements, n a positive multiple of 8. p holds the
// pointers gi, gf, gg, og, tc, cp, y, dh, dc, di, df, dgg, do, in that
// order; dc is read and then written. Only AVX multiplies, adds and
// subtracts (no FMA), each in the association order of the portable code,
// so the results are bit-identical to it.
TEXT ·lstmBackAVX2(SB), NOSPLIT, $0-16
	MOVQ         p+0(FP), AX
	MOVQ         n+8(FP), CX
	MOVQ         0(AX), SI           // gi
	MOVQ         8(AX), DI           // gf
	MOVQ         16(AX), R8          // gg
	MOVQ         24(AX), R9          // og
	MOVQ         32(AX), R10         // tc
	MOVQ         40(AX), R11         // cp
	MOVQ         48(AX), R12         // y
	MOVQ         56(AX), R13         // dh
	MOVQ         64(AX), R14         // dc
	MOVQ         72(AX), R15         // di
	MOVQ         80(AX), BX          // df
	MOVQ         88(AX), DX          // dgg
	MOVQ         96(AX), AX          // do
	VBROADCASTSS lstmone<>(SB), Y15  // 1

lstmloop:
	VMOVUPS (SI), Y0        // i
	VMOVUPS (DI), Y1        // f
	VMOVUPS (R8), Y2        // g (c in the scalar code)
	VMOVUPS (R9), Y3        // o
	VMOVUPS (R10), Y4       // tanh(c_t)
	VMOVUPS (R13), Y7
	VADDPS  (R12), Y7, Y7   // dht = dh + y
	VMULPS  Y4, Y4, Y9      // t·t
	VSUBPS  Y9, Y15, Y9     // 1 − t·t
	VMULPS  Y3, Y7, Y10     // dht·o
	VMULPS  Y9, Y10, Y10    // (dht·o)·(1 − t·t)
	VMOVUPS (R14), Y8
	VADDPS  Y10, Y8, Y8     // dct = dc + …
	VMULPS  Y1, Y8, Y11     // dct·f
	VMOVUPS Y11, (R14)      // dc ← ∂c_{t−1}

	VMULPS  Y2, Y8, Y12     // di = ((dct·g)·i)·(1 − i)
	VMULPS  Y0, Y12, Y12
	VSUBPS  Y0, Y15, Y13
	VMULPS  Y13, Y12, Y12
	VMOVUPS Y12, (R15)

	VMULPS  (R11), Y8, Y12  // df = ((dct·cp)·f)·(1 − f)
	VMULPS  Y1, Y12, Y12
	VSUBPS  Y1, Y15, Y13
	VMULPS  Y13, Y12, Y12
	VMOVUPS Y12, (BX)

	VMULPS  Y0, Y8, Y12     // dg = (dct·i)·(1 − g·g)
	VMULPS  Y2, Y2, Y13
	VSUBPS  Y13, Y15, Y13
	VMULPS  Y13, Y12, Y12
	VMOVUPS Y12, (DX)

	VMULPS  Y4, Y7, Y12     // do = ((dht·t)·o)·(1 − o)
	VMULPS  Y3, Y12, Y12
	VSUBPS  Y3, Y15, Y13
	VMULPS  Y13, Y12, Y12
	VMOVUPS Y12, (AX)

	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R13
	ADDQ $32, R14
	ADDQ $32, R15
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $32, AX
	SUBQ $8, CX
	JNZ  lstmloop

	VZEROUPPER
	RET

DATA lstmone<>+0(SB)/4, $0x3f800000
GLOBL lstmone<>(SB), RODATA|NOPTR, $4

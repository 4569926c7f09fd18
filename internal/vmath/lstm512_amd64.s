//go:build amd64 && !purego

#include "textflag.h"

// func lstmBackAVX512(p *[13]*float32, n int)
//
// LSTMBack32's row on n ≥ 1 elements: lstmBackAVX2 (lstm_amd64.s) with
// 16-lane ZMM vectors, the last n mod 16 elements under the opmask K1. p
// holds the pointers gi, gf, gg, og, tc, cp, y, dh, dc, di, df, dgg, do,
// in that order; dc is read and then written. The same multiplies, adds
// and subtracts (no FMA) in the same order as the AVX2 kernel and the
// portable code, so the results are bit-identical to both.
//
// LSTMROW512 is one 16-element step; LD and ST are its loads and stores,
// defined as plain moves for the loop and as masked moves for the tail.
#define LSTMROW512 \
	LD(0(SI), Z0);               \
	LD(0(DI), Z1);               \
	LD(0(R8), Z2);               \
	LD(0(R9), Z3);               \
	LD(0(R10), Z4);              \
	LD(0(R13), Z7);              \
	LD(0(R12), Z5);              \
	VADDPS  Z5, Z7, Z7;          \
	VMULPS  Z4, Z4, Z9;          \
	VSUBPS  Z9, Z15, Z9;         \
	VMULPS  Z3, Z7, Z10;         \
	VMULPS  Z9, Z10, Z10;        \
	LD(0(R14), Z8);              \
	VADDPS  Z10, Z8, Z8;         \
	VMULPS  Z1, Z8, Z11;         \
	ST(Z11, 0(R14));             \
	VMULPS  Z2, Z8, Z12;         \
	VMULPS  Z0, Z12, Z12;        \
	VSUBPS  Z0, Z15, Z13;        \
	VMULPS  Z13, Z12, Z12;       \
	ST(Z12, 0(R15));             \
	LD(0(R11), Z6);              \
	VMULPS  Z6, Z8, Z12;         \
	VMULPS  Z1, Z12, Z12;        \
	VSUBPS  Z1, Z15, Z13;        \
	VMULPS  Z13, Z12, Z12;       \
	ST(Z12, 0(BX));              \
	VMULPS  Z0, Z8, Z12;         \
	VMULPS  Z2, Z2, Z13;         \
	VSUBPS  Z13, Z15, Z13;       \
	VMULPS  Z13, Z12, Z12;       \
	ST(Z12, 0(DX));              \
	VMULPS  Z4, Z7, Z12;         \
	VMULPS  Z3, Z12, Z12;        \
	VSUBPS  Z3, Z15, Z13;        \
	VMULPS  Z13, Z12, Z12;       \
	ST(Z12, 0(AX))

TEXT ·lstmBackAVX512(SB), NOSPLIT, $0-16
	MOVQ         n+8(FP), CX
	// K1 = the low n mod 16 bits, CX = n / 16 (whole steps).
	MOVQ         CX, DX
	ANDL         $15, CX
	MOVL         $1, AX
	SHLL         CX, AX
	DECL         AX
	KMOVW        AX, K1
	MOVQ         DX, CX
	SHRQ         $4, CX
	MOVQ         p+0(FP), AX
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
	VBROADCASTSS lstmone512<>(SB), Z15  // 1
	TESTQ        CX, CX
	JZ           lstmtail

#define LD(m, r) VMOVUPS m, r
#define ST(r, m) VMOVUPS r, m

lstmloop:
	LSTMROW512
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $64, R12
	ADDQ $64, R13
	ADDQ $64, R14
	ADDQ $64, R15
	ADDQ $64, BX
	ADDQ $64, DX
	ADDQ $64, AX
	DECQ CX
	JNZ  lstmloop

#undef LD
#undef ST
#define LD(m, r) VMOVUPS.Z m, K1, r
#define ST(r, m) VMOVUPS r, K1, m

lstmtail:
	KORTESTW K1, K1
	JZ       lstmdone
	LSTMROW512

lstmdone:
	VZEROUPPER
	RET

DATA lstmone512<>+0(SB)/4, $0x3f800000
GLOBL lstmone512<>(SB), RODATA|NOPTR, $4

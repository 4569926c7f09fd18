//go:build amd64 && !purego

#include "textflag.h"

// func gruBackAVX512(p *[8]*float32, n int)
//
// GRUBack32's row on n ≥ 1 elements: gruBackAVX2 (gru_amd64.s) with
// 16-lane ZMM vectors, the last n mod 16 elements under the opmask K1. p
// holds the pointers g, hn, hp, y, dh, dg, dgh, dt, in that order; g, dg
// and dgh hold three blocks of n values, at byte offsets 0, 4n (DX) and
// 8n (DX*2). The same multiplies, adds and subtracts (no FMA) in the same
// order as the AVX2 kernel and the portable code, so the results are
// bit-identical to both.
//
// GRUROW512 is one 16-element step; LD and ST are its loads and stores,
// defined as plain moves for the loop and as masked moves for the tail.
#define GRUROW512 \
	LD(0(SI), Z0);               \
	LD(0(SI)(DX*1), Z1);         \
	LD(0(SI)(DX*2), Z2);         \
	LD(0(R10), Z3);              \
	LD(0(R9), Z10);              \
	VADDPS  Z10, Z3, Z3;         \
	VSUBPS  Z1, Z15, Z4;         \
	VMULPS  Z2, Z2, Z5;          \
	VSUBPS  Z5, Z15, Z5;         \
	VMULPS  Z4, Z3, Z6;          \
	VMULPS  Z5, Z6, Z6;          \
	ST(Z6, 0(R11)(DX*2));        \
	VMULPS  Z0, Z6, Z7;          \
	ST(Z7, 0(R12)(DX*2));        \
	LD(0(R8), Z7);               \
	VSUBPS  Z2, Z7, Z7;          \
	VMULPS  Z7, Z3, Z7;          \
	VMULPS  Z1, Z7, Z7;          \
	VMULPS  Z4, Z7, Z7;          \
	ST(Z7, 0(R11)(DX*1));        \
	ST(Z7, 0(R12)(DX*1));        \
	LD(0(DI), Z11);              \
	VMULPS  Z11, Z6, Z8;         \
	VMULPS  Z0, Z8, Z8;          \
	VSUBPS  Z0, Z15, Z9;         \
	VMULPS  Z9, Z8, Z8;          \
	ST(Z8, 0(R11));              \
	ST(Z8, 0(R12));              \
	VMULPS  Z1, Z3, Z9;          \
	ST(Z9, 0(R13))

TEXT ·gruBackAVX512(SB), NOSPLIT, $0-16
	MOVQ         n+8(FP), CX
	MOVQ         CX, DX
	SHLQ         $2, DX              // 4n: the bytes of one gate block
	// K1 = the low n mod 16 bits, BX = n / 16 (whole steps).
	MOVQ         CX, BX
	ANDL         $15, CX
	MOVL         $1, AX
	SHLL         CX, AX
	DECL         AX
	KMOVW        AX, K1
	SHRQ         $4, BX
	MOVQ         p+0(FP), AX
	MOVQ         0(AX), SI           // g
	MOVQ         8(AX), DI           // hn
	MOVQ         16(AX), R8          // hp
	MOVQ         24(AX), R9          // y
	MOVQ         32(AX), R10         // dh
	MOVQ         40(AX), R11         // dg
	MOVQ         48(AX), R12         // dgh
	MOVQ         56(AX), R13         // dt
	VBROADCASTSS gruone512<>(SB), Z15  // 1
	TESTQ        BX, BX
	JZ           grutail

#define LD(m, r) VMOVUPS m, r
#define ST(r, m) VMOVUPS r, m

gruloop:
	GRUROW512
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $64, R12
	ADDQ $64, R13
	DECQ BX
	JNZ  gruloop

#undef LD
#undef ST
#define LD(m, r) VMOVUPS.Z m, K1, r
#define ST(r, m) VMOVUPS r, K1, m

grutail:
	KORTESTW K1, K1
	JZ       grudone
	GRUROW512

grudone:
	VZEROUPPER
	RET

#undef LD
#undef ST

DATA gruone512<>+0(SB)/4, $0x3f800000
GLOBL gruone512<>(SB), RODATA|NOPTR, $4

//go:build amd64 && !purego

#include "textflag.h"

// func peepholeBackAVX512(p *[10]*float32, n int)
//
// PeepholeBack32's row on n ≥ 1 elements: peepholeBackAVX2
// (peephole_amd64.s) with 16-lane ZMM vectors, the last n mod 16 elements
// under the opmask K1. p holds the pointers g, tc, cp, y, dh, dc, pi, pf,
// po, dg, in that order; g and dg hold four blocks of n values, at byte
// offsets 0, 4n (DX), 8n (DX*2) and 12n (BX). The same multiplies, adds
// and subtracts (no FMA) in the same order as the AVX2 kernel and the
// portable code, so the results are bit-identical to both.
//
// PEEPROW512 is one 16-element step; LD and ST are its loads and stores,
// defined as plain moves for the loop and as masked moves for the tail.
#define PEEPROW512 \
	LD(0(SI), Z0);               \
	LD(0(SI)(DX*1), Z1);         \
	LD(0(SI)(DX*2), Z2);         \
	LD(0(SI)(BX*1), Z3);         \
	LD(0(R8), Z4);               \
	LD(0(R11), Z7);              \
	LD(0(R10), Z16);             \
	VADDPS  Z16, Z7, Z7;         \
	VMULPS  Z4, Z7, Z5;          \
	VMULPS  Z3, Z5, Z5;          \
	VSUBPS  Z3, Z15, Z6;         \
	VMULPS  Z6, Z5, Z5;          \
	ST(Z5, 0(DI)(BX*1));         \
	VMULPS  Z4, Z4, Z9;          \
	VSUBPS  Z9, Z15, Z9;         \
	VMULPS  Z3, Z7, Z10;         \
	VMULPS  Z9, Z10, Z10;        \
	LD(0(R12), Z8);              \
	VADDPS  Z10, Z8, Z8;         \
	LD(0(R15), Z17);             \
	VMULPS  Z17, Z5, Z11;        \
	VADDPS  Z11, Z8, Z8;         \
	VMULPS  Z2, Z8, Z12;         \
	VMULPS  Z0, Z12, Z12;        \
	VSUBPS  Z0, Z15, Z13;        \
	VMULPS  Z13, Z12, Z12;       \
	ST(Z12, 0(DI));              \
	LD(0(R9), Z18);              \
	VMULPS  Z18, Z8, Z13;        \
	VMULPS  Z1, Z13, Z13;        \
	VSUBPS  Z1, Z15, Z14;        \
	VMULPS  Z14, Z13, Z13;       \
	ST(Z13, 0(DI)(DX*1));        \
	VMULPS  Z0, Z8, Z14;         \
	VMULPS  Z2, Z2, Z6;          \
	VSUBPS  Z6, Z15, Z6;         \
	VMULPS  Z6, Z14, Z14;        \
	ST(Z14, 0(DI)(DX*2));        \
	VMULPS  Z1, Z8, Z6;          \
	LD(0(R13), Z19);             \
	VMULPS  Z19, Z12, Z12;       \
	LD(0(R14), Z20);             \
	VMULPS  Z20, Z13, Z13;       \
	VADDPS  Z13, Z12, Z12;       \
	VADDPS  Z12, Z6, Z6;         \
	ST(Z6, 0(R12))

TEXT ·peepholeBackAVX512(SB), NOSPLIT, $0-16
	MOVQ         n+8(FP), CX
	MOVQ         CX, DX
	SHLQ         $2, DX              // 4n: the bytes of one gate block
	LEAQ         (DX)(DX*2), BX      // 12n
	// K1 = the low n mod 16 bits, CX = n / 16 (whole steps).
	MOVQ         CX, DI
	ANDL         $15, CX
	MOVL         $1, AX
	SHLL         CX, AX
	DECL         AX
	KMOVW        AX, K1
	MOVQ         DI, CX
	SHRQ         $4, CX
	MOVQ         p+0(FP), AX
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
	VBROADCASTSS peepone512<>(SB), Z15  // 1
	TESTQ        CX, CX
	JZ           peeptail

#define LD(m, r) VMOVUPS m, r
#define ST(r, m) VMOVUPS r, m

peeploop:
	PEEPROW512
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $64, R12
	ADDQ $64, R13
	ADDQ $64, R14
	ADDQ $64, R15
	ADDQ $64, DI
	DECQ CX
	JNZ  peeploop

#undef LD
#undef ST
#define LD(m, r) VMOVUPS.Z m, K1, r
#define ST(r, m) VMOVUPS r, K1, m

peeptail:
	KORTESTW K1, K1
	JZ       peepdone
	PEEPROW512

peepdone:
	VZEROUPPER
	RET

#undef LD
#undef ST

DATA peepone512<>+0(SB)/4, $0x3f800000
GLOBL peepone512<>(SB), RODATA|NOPTR, $4

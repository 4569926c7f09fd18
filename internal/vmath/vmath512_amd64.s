//go:build amd64 && !purego

#include "textflag.h"

// Vectorised e^x, sigmoid and tanh with AVX-512 (F and DQ): the AVX2
// kernels of vmath_amd64.s with 16-lane ZMM vectors, 32 elements (two ZMM
// lanes) per loop iteration, then one 16-element block, then the last 1–15
// elements under an opmask (K1) instead of the portable code.
//
// Every lane performs the AVX2 kernel's operations in the same order with
// the same roundings (the same FMAs, VRNDSCALEPS $0 for VROUNDPS $0,
// opmask selects for VBLENDVPS and for the and-mask of the underflow
// flush), so each element's result has the same bits as the AVX2 kernel's.
//
// Each kernel takes (dst, src *float32, n int) with n ≥ 1: DI = dst, SI =
// src, CX = elements left. Lanes load all their input before storing, so
// dst may equal src. Masked loads do not fault on the elements they leave
// out, and the lanes they zero compute harmless values that are not
// stored.
//
// Operand order is the Go assembler's (reversed Intel order). Notes:
//   - VMINPS returns its first Go operand when either input is NaN, so the
//     clamp takes x first and keeps NaN.
//   - VBLENDMPS a, b, K, dst sets dst = K ? a : b, lane by lane.
//   - VPMOVD2M x, K sets K to the sign bits of x.
//   - OP.BCST c, … reads the 4-byte constant c and broadcasts it.

// Constant table: one 4-byte value each, broadcast by the instructions.
#define LOG2E c512<>+0(SB)
#define LN2HI c512<>+4(SB)
#define LN2LO c512<>+8(SB)
#define C7 c512<>+12(SB)
#define C6 c512<>+16(SB)
#define C5 c512<>+20(SB)
#define C4 c512<>+24(SB)
#define C3 c512<>+28(SB)
#define C2 c512<>+32(SB)
#define ONE c512<>+36(SB)
#define BIAS c512<>+40(SB)
#define EXPHI c512<>+44(SB)
#define EXPMIN c512<>+48(SB)
#define SIGN c512<>+52(SB)
#define ABS c512<>+56(SB)
#define MTWO c512<>+60(SB)
#define P378 c512<>+64(SB)
#define P17325 c512<>+68(SB)
#define P135135 c512<>+72(SB)
#define Q28 c512<>+76(SB)
#define Q3150 c512<>+80(SB)
#define Q62370 c512<>+84(SB)
#define SMALL c512<>+88(SB)

// EXPCORE512 sets x = e^x for x ≤ 89 (or NaN), using the temporaries t, u
// and p and the opmask k: EXPCORE of vmath_amd64.s, lane for lane. The
// final scaling multiply is zero-masked with !(x < EXPMIN), as the AVX2
// kernel and-s its result with that comparison's mask.
#define EXPCORE512(x, t, u, p, k) \
	VMULPS.BCST       LOG2E, x, t;   \
	VRNDSCALEPS       $0, t, t;      \
	VMOVAPS           x, u;          \
	VFNMADD231PS.BCST LN2HI, t, u;   \
	VFNMADD231PS.BCST LN2LO, t, u;   \
	VBROADCASTSS      C7, p;         \
	VFMADD213PS.BCST  C6, u, p;      \
	VFMADD213PS.BCST  C5, u, p;      \
	VFMADD213PS.BCST  C4, u, p;      \
	VFMADD213PS.BCST  C3, u, p;      \
	VFMADD213PS.BCST  C2, u, p;      \
	VFMADD213PS       Z15, u, p;     \
	VFMADD213PS       Z15, u, p;     \
	VCVTPS2DQ         t, t;          \
	VPSRAD            $1, t, u;      \
	VPSUBD            u, t, t;       \
	VPADDD.BCST       BIAS, u, u;    \
	VPSLLD            $23, u, u;     \
	VPADDD.BCST       BIAS, t, t;    \
	VPSLLD            $23, t, t;     \
	VMULPS            u, p, p;       \
	VCMPPS.BCST       $0x05, EXPMIN, x, k; \
	VMULPS.Z          t, p, k, x

// EXP512 sets x = e^x with the upper clamp bound 89 in Z14.
#define EXP512(x, t, u, p) \
	VMINPS x, Z14, x; \
	EXPCORE512(x, t, u, p, K2)

// SIGMOID512 sets x = 1/(1+e^-x) = num/(1+e) with e = e^-|x| and num = 1
// for a clear sign bit of x, e for a set one.
#define SIGMOID512(x, y, t, u, p) \
	VPORD.BCST SIGN, x, y;        \
	EXPCORE512(y, t, u, p, K2);   \
	VADDPS     Z15, y, t;         \
	VPMOVD2M   x, K3;             \
	VBLENDMPS  y, Z15, K3, u;     \
	VDIVPS     t, u, x

// TANH512 sets x = tanh x. With a = |x|:
//
//	num/den = a(135135+17325a²+378a⁴+a⁶)/(135135+62370a²+3150a⁴+28a⁶)
//	          for a < 0.625, (1−e)/(1+e) with e = e^−2a otherwise,
//
// and the sign of x is or-ed into num/den.
#define TANH512(x, a, e, t, u, p, q) \
	VPANDD.BCST       ABS, x, a;          \
	VMULPS.BCST       MTWO, a, e;         \
	EXPCORE512(e, t, u, p, K2);           \
	VSUBPS            e, Z15, t;          \
	VADDPS            Z15, e, e;          \
	VMULPS            a, a, u;            \
	VADDPS.BCST       P378, u, p;         \
	VFMADD213PS.BCST  P17325, u, p;       \
	VFMADD213PS.BCST  P135135, u, p;      \
	VMULPS            a, p, p;            \
	VBROADCASTSS      Q28, q;             \
	VFMADD213PS.BCST  Q3150, u, q;        \
	VFMADD213PS.BCST  Q62370, u, q;       \
	VFMADD213PS.BCST  P135135, u, q;      \
	VCMPPS.BCST       $0x11, SMALL, a, K3; \
	VBLENDMPS         p, t, K3, t;        \
	VBLENDMPS         q, e, K3, e;        \
	VDIVPS            e, t, t;            \
	VPANDD.BCST       SIGN, x, x;         \
	VPORD             x, t, x

// TAILMASK sets K1 to the low CX bits (1 ≤ CX ≤ 15), using AX.
#define TAILMASK \
	MOVL  $1, AX;  \
	SHLL  CX, AX;  \
	DECL  AX;      \
	KMOVW AX, K1

// func expAVX512(dst, src *float32, n int)
TEXT ·expAVX512(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS ONE, Z15
	VBROADCASTSS EXPHI, Z14
	CMPQ         CX, $32
	JB           exp16

exploop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z4
	EXP512(Z0, Z1, Z2, Z3)
	EXP512(Z4, Z5, Z6, Z7)
	VMOVUPS Z0, (DI)
	VMOVUPS Z4, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     exploop

exp16:
	CMPQ    CX, $16
	JB      exptail
	VMOVUPS (SI), Z0
	EXP512(Z0, Z1, Z2, Z3)
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX

exptail:
	TESTQ     CX, CX
	JZ        expdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	EXP512(Z0, Z1, Z2, Z3)
	VMOVUPS   Z0, K1, (DI)

expdone:
	VZEROUPPER
	RET

// func sigmoidAVX512(dst, src *float32, n int)
TEXT ·sigmoidAVX512(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS ONE, Z15
	CMPQ         CX, $32
	JB           sig16

sigloop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z5
	SIGMOID512(Z0, Z1, Z2, Z3, Z4)
	SIGMOID512(Z5, Z6, Z7, Z8, Z9)
	VMOVUPS Z0, (DI)
	VMOVUPS Z5, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     sigloop

sig16:
	CMPQ    CX, $16
	JB      sigtail
	VMOVUPS (SI), Z0
	SIGMOID512(Z0, Z1, Z2, Z3, Z4)
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX

sigtail:
	TESTQ     CX, CX
	JZ        sigdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	SIGMOID512(Z0, Z1, Z2, Z3, Z4)
	VMOVUPS   Z0, K1, (DI)

sigdone:
	VZEROUPPER
	RET

// func tanhAVX512(dst, src *float32, n int)
TEXT ·tanhAVX512(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS ONE, Z15
	CMPQ         CX, $32
	JB           tanh16

tanhloop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z7
	TANH512(Z0, Z1, Z2, Z3, Z4, Z5, Z6)
	TANH512(Z7, Z8, Z9, Z10, Z11, Z12, Z13)
	VMOVUPS Z0, (DI)
	VMOVUPS Z7, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JAE     tanhloop

tanh16:
	CMPQ    CX, $16
	JB      tanhtail
	VMOVUPS (SI), Z0
	TANH512(Z0, Z1, Z2, Z3, Z4, Z5, Z6)
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX

tanhtail:
	TESTQ     CX, CX
	JZ        tanhdone
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	TANH512(Z0, Z1, Z2, Z3, Z4, Z5, Z6)
	VMOVUPS   Z0, K1, (DI)

tanhdone:
	VZEROUPPER
	RET

// The two passes of a softmax row: the row's maximum, then e^(x − m) with
// its sum (EXPCORE512 lane for lane: the same bits as Exp32 of x − m).

// func maxAVX512(x *float32, n int, out *[16]float32)
//
// out[l] = the largest of x[0] and the elements of lane l, NaNs skipped
// unless x[0] is one, as a scalar "if v > m" loop: VMAXPS returns its
// second source (Intel order; the first Go operand) when either is NaN,
// and the running maximum is that operand, the new elements the other.
TEXT ·maxAVX512(SB), NOSPLIT, $0-24
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	MOVQ         out+16(FP), DI
	VBROADCASTSS (SI), Z0
	VMOVAPS      Z0, Z1
	VMOVAPS      Z0, Z2
	VMOVAPS      Z0, Z3
	CMPQ         CX, $64
	JB           max16

maxloop:
	VMOVUPS (SI), Z4
	VMOVUPS 64(SI), Z5
	VMOVUPS 128(SI), Z6
	VMOVUPS 192(SI), Z7
	VMAXPS  Z0, Z4, Z0
	VMAXPS  Z1, Z5, Z1
	VMAXPS  Z2, Z6, Z2
	VMAXPS  Z3, Z7, Z3
	ADDQ    $256, SI
	SUBQ    $64, CX
	CMPQ    CX, $64
	JAE     maxloop

max16:
	CMPQ    CX, $16
	JB      maxtail
	VMOVUPS (SI), Z4
	VMAXPS  Z0, Z4, Z0
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     max16

maxtail:
	TESTQ   CX, CX
	JZ      maxdone
	MOVL    $1, AX
	SHLL    CX, AX
	DECL    AX
	KMOVW   AX, K1
	VMOVUPS.Z (SI), K1, Z4
	VMAXPS  Z1, Z4, K1, Z1

maxdone:
	VMAXPS  Z0, Z1, Z0
	VMAXPS  Z2, Z3, Z2
	VMAXPS  Z0, Z2, Z0
	VMOVUPS Z0, (DI)
	VZEROUPPER
	RET

// func expShiftSumAVX512(dst, src *float32, n int, m float32, out *[16]float64)
//
// dst[i] = e^(src[i] − m); out holds 16 float64 partial sums of dst (two
// ZMM accumulators of 8 float64 each, lanes converted exactly).
TEXT ·expShiftSumAVX512(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS m+24(FP), Z13
	MOVQ         out+32(FP), DX
	VBROADCASTSS ONE, Z15
	VPXORQ       Z16, Z16, Z16
	VPXORQ       Z17, Z17, Z17

esloop:
	CMPQ         CX, $16
	JB           estail
	VMOVUPS      (SI), Z0
	VSUBPS       Z13, Z0, Z0
	EXPCORE512(Z0, Z1, Z2, Z3, K2)
	VMOVUPS      Z0, (DI)
	VCVTPS2PD    Y0, Z4
	VEXTRACTF32X8 $1, Z0, Y5
	VCVTPS2PD    Y5, Z5
	VADDPD       Z4, Z16, Z16
	VADDPD       Z5, Z17, Z17
	ADDQ         $64, SI
	ADDQ         $64, DI
	SUBQ         $16, CX
	JMP          esloop

estail:
	TESTQ        CX, CX
	JZ           esdone
	MOVL         $1, AX
	SHLL         CX, AX
	DECL         AX
	KMOVW        AX, K1
	VMOVUPS.Z    (SI), K1, Z0
	VSUBPS       Z13, Z0, Z0
	EXPCORE512(Z0, Z1, Z2, Z3, K2)
	VMOVAPS.Z    Z0, K1, Z0
	VMOVUPS      Z0, K1, (DI)
	VCVTPS2PD    Y0, Z4
	VEXTRACTF32X8 $1, Z0, Y5
	VCVTPS2PD    Y5, Z5
	VADDPD       Z4, Z16, Z16
	VADDPD       Z5, Z17, Z17

esdone:
	VMOVUPD      Z16, (DX)
	VMOVUPD      Z17, 64(DX)
	VZEROUPPER
	RET

// The constant table (see the #defines above; the values of the AVX2
// table in vmath_amd64.s).
DATA c512<>+0(SB)/4, $0x3fb8aa3b
DATA c512<>+4(SB)/4, $0x3f318000
DATA c512<>+8(SB)/4, $0xb95e8083
DATA c512<>+12(SB)/4, $0x39500d01
DATA c512<>+16(SB)/4, $0x3ab60b61
DATA c512<>+20(SB)/4, $0x3c088889
DATA c512<>+24(SB)/4, $0x3d2aaaab
DATA c512<>+28(SB)/4, $0x3e2aaaab
DATA c512<>+32(SB)/4, $0x3f000000
DATA c512<>+36(SB)/4, $0x3f800000
DATA c512<>+40(SB)/4, $0x0000007f
DATA c512<>+44(SB)/4, $0x42b20000
DATA c512<>+48(SB)/4, $0xc2aeac4f
DATA c512<>+52(SB)/4, $0x80000000
DATA c512<>+56(SB)/4, $0x7fffffff
DATA c512<>+60(SB)/4, $0xc0000000
DATA c512<>+64(SB)/4, $0x43bd0000
DATA c512<>+68(SB)/4, $0x46875a00
DATA c512<>+72(SB)/4, $0x4803f7c0
DATA c512<>+76(SB)/4, $0x41e00000
DATA c512<>+80(SB)/4, $0x4544e000
DATA c512<>+84(SB)/4, $0x4773a200
DATA c512<>+88(SB)/4, $0x3f200000
GLOBL c512<>(SB), RODATA|NOPTR, $92

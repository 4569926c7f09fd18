//go:build amd64 && !purego

#include "textflag.h"

// Vectorised e^x, sigmoid and tanh with AVX2 and FMA, 16 elements (two YMM
// lanes) per loop iteration plus one 8-element block. The algorithms are
// those of the portable code in vmath.go; see the package documentation.
//
// Each kernel takes (dst, src *float32, n int) with n a positive multiple
// of 8: DI = dst, SI = src, CX = elements left. Lanes load all their input
// before storing, so dst may equal src.
//
// Operand order is the Go assembler's (reversed Intel order). Notes:
//   - VMINPS returns its first Go operand when either input is NaN, so the
//     clamp takes x first and keeps NaN.
//   - VBLENDVPS mask, a, b, dst sets dst = (sign bit of mask) ? a : b.

// Constant table: each entry is one value broadcast to 32 bytes.
#define LOG2E consts<>+0(SB)
#define LN2HI consts<>+32(SB)
#define LN2LO consts<>+64(SB)
#define C7 consts<>+96(SB)
#define C6 consts<>+128(SB)
#define C5 consts<>+160(SB)
#define C4 consts<>+192(SB)
#define C3 consts<>+224(SB)
#define C2 consts<>+256(SB)
#define ONE consts<>+288(SB)
#define BIAS consts<>+320(SB)
#define EXPHI consts<>+352(SB)
#define EXPMIN consts<>+384(SB)
#define SIGN consts<>+416(SB)
#define ABS consts<>+448(SB)
#define MTWO consts<>+480(SB)
#define P378 consts<>+512(SB)
#define P17325 consts<>+544(SB)
#define P135135 consts<>+576(SB)
#define Q28 consts<>+608(SB)
#define Q3150 consts<>+640(SB)
#define Q62370 consts<>+672(SB)
#define SMALL consts<>+704(SB)

// EXPCORE sets x = e^x for x ≤ 89 (or NaN), using the temporaries t, u
// and p (constants come from memory):
//
//	n = round(x·log2e) (t), r = x − n·ln2hi − n·ln2lo (u),
//	p = Taylor polynomial of degree 7 at r (Horner, FMA),
//	x = p · 2^(n>>1) · 2^(n − n>>1), and-ed with the mask !(x < EXPMIN)
//
// The mask flushes subnormal results (and whatever the scaling computed for
// very negative or -Inf x) to +0 and keeps NaN.
#define EXPCORE(x, t, u, p) \
	VMULPS       LOG2E, x, t;   \
	VROUNDPS     $0, t, t;      \
	VMOVAPS      x, u;          \
	VFNMADD231PS LN2HI, t, u;   \
	VFNMADD231PS LN2LO, t, u;   \
	VMOVUPS      C7, p;         \
	VFMADD213PS  C6, u, p;      \
	VFMADD213PS  C5, u, p;      \
	VFMADD213PS  C4, u, p;      \
	VFMADD213PS  C3, u, p;      \
	VFMADD213PS  C2, u, p;      \
	VFMADD213PS  ONE, u, p;     \
	VFMADD213PS  ONE, u, p;     \
	VCVTPS2DQ    t, t;          \
	VPSRAD       $1, t, u;      \
	VPSUBD       u, t, t;       \
	VPADDD       BIAS, u, u;    \
	VPSLLD       $23, u, u;     \
	VPADDD       BIAS, t, t;    \
	VPSLLD       $23, t, t;     \
	VMULPS       u, p, p;       \
	VCMPPS       $0x05, EXPMIN, x, u; \
	VMULPS       t, p, p;       \
	VANDPS       u, p, x

// EXP sets x = e^x with the upper clamp bound 89 in Y14.
#define EXP(x, t, u, p) \
	VMINPS x, Y14, x;  \
	EXPCORE(x, t, u, p)

// SIGMOID sets x = 1/(1+e^-x) = num/(1+e) with e = e^-|x| and num = 1 for
// a clear sign bit of x, e for a set one; Y15 holds 1.
#define SIGMOID(x, y, t, u, p) \
	VORPS     SIGN, x, y;     \
	EXPCORE(y, t, u, p);      \
	VADDPS    Y15, y, t;      \
	VBLENDVPS x, y, Y15, u;   \
	VDIVPS    t, u, x

// TANH sets x = tanh x. With a = |x|:
//
//	num/den = a(135135+17325a²+378a⁴+a⁶)/(135135+62370a²+3150a⁴+28a⁶)
//	          for a < 0.625, (1−e)/(1+e) with e = e^−2a otherwise,
//
// and the sign of x is or-ed into num/den.
#define TANH(x, a, e, t, u, p, q) \
	VANDPS       ABS, x, a;          \
	VMULPS       MTWO, a, e;         \
	EXPCORE(e, t, u, p);             \
	VMOVUPS      ONE, t;             \
	VSUBPS       e, t, t;            \
	VADDPS       ONE, e, e;          \
	VMULPS       a, a, u;            \
	VADDPS       P378, u, p;         \
	VFMADD213PS  P17325, u, p;       \
	VFMADD213PS  P135135, u, p;      \
	VMULPS       a, p, p;            \
	VMOVUPS      Q28, q;             \
	VFMADD213PS  Q3150, u, q;        \
	VFMADD213PS  Q62370, u, q;       \
	VFMADD213PS  P135135, u, q;      \
	VCMPPS       $0x11, SMALL, a, a; \
	VBLENDVPS    a, p, t, t;         \
	VBLENDVPS    a, q, e, e;         \
	VDIVPS       e, t, t;            \
	VANDPS       SIGN, x, x;         \
	VORPS        x, t, x

// func expAVX2(dst, src *float32, n int)
TEXT ·expAVX2(SB), NOSPLIT, $0-24
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    n+16(FP), CX
	VMOVUPS EXPHI, Y14
	CMPQ    CX, $16
	JB      exptail

exploop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y4
	EXP(Y0, Y1, Y2, Y3)
	EXP(Y4, Y5, Y6, Y7)
	VMOVUPS Y0, (DI)
	VMOVUPS Y4, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     exploop

exptail:
	TESTQ   CX, CX
	JZ      expdone
	VMOVUPS (SI), Y0
	EXP(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (DI)

expdone:
	VZEROUPPER
	RET

// func sigmoidAVX2(dst, src *float32, n int)
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    n+16(FP), CX
	VMOVUPS ONE, Y15
	CMPQ    CX, $16
	JB      sigtail

sigloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y5
	SIGMOID(Y0, Y1, Y2, Y3, Y4)
	SIGMOID(Y5, Y6, Y7, Y8, Y9)
	VMOVUPS Y0, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     sigloop

sigtail:
	TESTQ   CX, CX
	JZ      sigdone
	VMOVUPS (SI), Y0
	SIGMOID(Y0, Y1, Y2, Y3, Y4)
	VMOVUPS Y0, (DI)

sigdone:
	VZEROUPPER
	RET

// func tanhAVX2(dst, src *float32, n int)
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    n+16(FP), CX
	CMPQ    CX, $16
	JB      tanhtail

tanhloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y7
	TANH(Y0, Y1, Y2, Y3, Y4, Y5, Y6)
	TANH(Y7, Y8, Y9, Y10, Y11, Y12, Y13)
	VMOVUPS Y0, (DI)
	VMOVUPS Y7, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     tanhloop

tanhtail:
	TESTQ   CX, CX
	JZ      tanhdone
	VMOVUPS (SI), Y0
	TANH(Y0, Y1, Y2, Y3, Y4, Y5, Y6)
	VMOVUPS Y0, (DI)

tanhdone:
	VZEROUPPER
	RET

// The constant table (see the #defines above).
DATA consts<>+0(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA consts<>+8(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA consts<>+16(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA consts<>+24(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA consts<>+32(SB)/8, $0x3f3180003f318000
DATA consts<>+40(SB)/8, $0x3f3180003f318000
DATA consts<>+48(SB)/8, $0x3f3180003f318000
DATA consts<>+56(SB)/8, $0x3f3180003f318000
DATA consts<>+64(SB)/8, $0xb95e8083b95e8083
DATA consts<>+72(SB)/8, $0xb95e8083b95e8083
DATA consts<>+80(SB)/8, $0xb95e8083b95e8083
DATA consts<>+88(SB)/8, $0xb95e8083b95e8083
DATA consts<>+96(SB)/8, $0x39500d0139500d01
DATA consts<>+104(SB)/8, $0x39500d0139500d01
DATA consts<>+112(SB)/8, $0x39500d0139500d01
DATA consts<>+120(SB)/8, $0x39500d0139500d01
DATA consts<>+128(SB)/8, $0x3ab60b613ab60b61
DATA consts<>+136(SB)/8, $0x3ab60b613ab60b61
DATA consts<>+144(SB)/8, $0x3ab60b613ab60b61
DATA consts<>+152(SB)/8, $0x3ab60b613ab60b61
DATA consts<>+160(SB)/8, $0x3c0888893c088889
DATA consts<>+168(SB)/8, $0x3c0888893c088889
DATA consts<>+176(SB)/8, $0x3c0888893c088889
DATA consts<>+184(SB)/8, $0x3c0888893c088889
DATA consts<>+192(SB)/8, $0x3d2aaaab3d2aaaab
DATA consts<>+200(SB)/8, $0x3d2aaaab3d2aaaab
DATA consts<>+208(SB)/8, $0x3d2aaaab3d2aaaab
DATA consts<>+216(SB)/8, $0x3d2aaaab3d2aaaab
DATA consts<>+224(SB)/8, $0x3e2aaaab3e2aaaab
DATA consts<>+232(SB)/8, $0x3e2aaaab3e2aaaab
DATA consts<>+240(SB)/8, $0x3e2aaaab3e2aaaab
DATA consts<>+248(SB)/8, $0x3e2aaaab3e2aaaab
DATA consts<>+256(SB)/8, $0x3f0000003f000000
DATA consts<>+264(SB)/8, $0x3f0000003f000000
DATA consts<>+272(SB)/8, $0x3f0000003f000000
DATA consts<>+280(SB)/8, $0x3f0000003f000000
DATA consts<>+288(SB)/8, $0x3f8000003f800000
DATA consts<>+296(SB)/8, $0x3f8000003f800000
DATA consts<>+304(SB)/8, $0x3f8000003f800000
DATA consts<>+312(SB)/8, $0x3f8000003f800000
DATA consts<>+320(SB)/8, $0x0000007f0000007f
DATA consts<>+328(SB)/8, $0x0000007f0000007f
DATA consts<>+336(SB)/8, $0x0000007f0000007f
DATA consts<>+344(SB)/8, $0x0000007f0000007f
DATA consts<>+352(SB)/8, $0x42b2000042b20000
DATA consts<>+360(SB)/8, $0x42b2000042b20000
DATA consts<>+368(SB)/8, $0x42b2000042b20000
DATA consts<>+376(SB)/8, $0x42b2000042b20000
DATA consts<>+384(SB)/8, $0xc2aeac4fc2aeac4f
DATA consts<>+392(SB)/8, $0xc2aeac4fc2aeac4f
DATA consts<>+400(SB)/8, $0xc2aeac4fc2aeac4f
DATA consts<>+408(SB)/8, $0xc2aeac4fc2aeac4f
DATA consts<>+416(SB)/8, $0x8000000080000000
DATA consts<>+424(SB)/8, $0x8000000080000000
DATA consts<>+432(SB)/8, $0x8000000080000000
DATA consts<>+440(SB)/8, $0x8000000080000000
DATA consts<>+448(SB)/8, $0x7fffffff7fffffff
DATA consts<>+456(SB)/8, $0x7fffffff7fffffff
DATA consts<>+464(SB)/8, $0x7fffffff7fffffff
DATA consts<>+472(SB)/8, $0x7fffffff7fffffff
DATA consts<>+480(SB)/8, $0xc0000000c0000000
DATA consts<>+488(SB)/8, $0xc0000000c0000000
DATA consts<>+496(SB)/8, $0xc0000000c0000000
DATA consts<>+504(SB)/8, $0xc0000000c0000000
DATA consts<>+512(SB)/8, $0x43bd000043bd0000
DATA consts<>+520(SB)/8, $0x43bd000043bd0000
DATA consts<>+528(SB)/8, $0x43bd000043bd0000
DATA consts<>+536(SB)/8, $0x43bd000043bd0000
DATA consts<>+544(SB)/8, $0x46875a0046875a00
DATA consts<>+552(SB)/8, $0x46875a0046875a00
DATA consts<>+560(SB)/8, $0x46875a0046875a00
DATA consts<>+568(SB)/8, $0x46875a0046875a00
DATA consts<>+576(SB)/8, $0x4803f7c04803f7c0
DATA consts<>+584(SB)/8, $0x4803f7c04803f7c0
DATA consts<>+592(SB)/8, $0x4803f7c04803f7c0
DATA consts<>+600(SB)/8, $0x4803f7c04803f7c0
DATA consts<>+608(SB)/8, $0x41e0000041e00000
DATA consts<>+616(SB)/8, $0x41e0000041e00000
DATA consts<>+624(SB)/8, $0x41e0000041e00000
DATA consts<>+632(SB)/8, $0x41e0000041e00000
DATA consts<>+640(SB)/8, $0x4544e0004544e000
DATA consts<>+648(SB)/8, $0x4544e0004544e000
DATA consts<>+656(SB)/8, $0x4544e0004544e000
DATA consts<>+664(SB)/8, $0x4544e0004544e000
DATA consts<>+672(SB)/8, $0x4773a2004773a200
DATA consts<>+680(SB)/8, $0x4773a2004773a200
DATA consts<>+688(SB)/8, $0x4773a2004773a200
DATA consts<>+696(SB)/8, $0x4773a2004773a200
DATA consts<>+704(SB)/8, $0x3f2000003f200000
DATA consts<>+712(SB)/8, $0x3f2000003f200000
DATA consts<>+720(SB)/8, $0x3f2000003f200000
DATA consts<>+728(SB)/8, $0x3f2000003f200000
GLOBL consts<>(SB), RODATA|NOPTR, $736

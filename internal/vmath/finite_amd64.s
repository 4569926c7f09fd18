//go:build amd64 && !purego

#include "textflag.h"

DATA finexp32<>+0(SB)/4, $0x7f800000
GLOBL finexp32<>(SB), RODATA|NOPTR, $4

// func nonFinite32AVX2(x *float32, n int) bool
//
// Reports whether any of the n float32 values at x (n a positive multiple
// of 8) has an exponent of all ones (NaN or ±Inf): the exponent bits of
// eight values at a time compared with all ones, the results ORed together.
TEXT ·nonFinite32AVX2(SB), NOSPLIT, $0-17
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VPBROADCASTD finexp32<>(SB), Y15
	VPXOR        Y0, Y0, Y0

finloop:
	VPAND    (SI), Y15, Y1
	VPCMPEQD Y15, Y1, Y1
	VPOR     Y1, Y0, Y0
	ADDQ     $32, SI
	SUBQ     $8, CX
	JNZ      finloop
	VPTEST   Y0, Y0
	SETNE    ret+16(FP)
	VZEROUPPER
	RET

//go:build amd64 && !purego

#include "textflag.h"

// The element-wise passes of GRUForward32 (grufwd.go) on the first m
// elements of a row of n, m a positive multiple of 8. g holds three
// blocks of n values (r, z, n) at byte offsets 0, 4n (DX) and 8n (DX*2).
// Only AVX adds, subtracts and multiplies (no FMA), each in the
// association order of the portable code, so the results are
// bit-identical to it.

// func gruPreAVX2(gates, bias, gh, bhh, hn *float32, m, n int)
TEXT ·gruPreAVX2(SB), NOSPLIT, $0-56
	MOVQ gates+0(FP), SI
	MOVQ bias+8(FP), DI
	MOVQ gh+16(FP), R8
	MOVQ bhh+24(FP), R9
	MOVQ hn+32(FP), R10
	MOVQ m+40(FP), CX
	MOVQ n+48(FP), DX
	SHLQ $2, DX                 // 4n: the bytes of one gate block

preloop:
	VMOVUPS (SI), Y0
	VADDPS  (DI), Y0, Y0        // g_r + b_ir
	VMOVUPS (R8), Y1
	VADDPS  (R9), Y1, Y1        // gh_r + b_hr
	VADDPS  Y1, Y0, Y0
	VMOVUPS Y0, (SI)
	VMOVUPS (SI)(DX*1), Y2
	VADDPS  (DI)(DX*1), Y2, Y2  // g_z + b_iz
	VMOVUPS (R8)(DX*1), Y3
	VADDPS  (R9)(DX*1), Y3, Y3  // gh_z + b_hz
	VADDPS  Y3, Y2, Y2
	VMOVUPS Y2, (SI)(DX*1)
	VMOVUPS (SI)(DX*2), Y4
	VADDPS  (DI)(DX*2), Y4, Y4  // g_n + b_in
	VMOVUPS Y4, (SI)(DX*2)
	VMOVUPS (R8)(DX*2), Y5
	VADDPS  (R9)(DX*2), Y5, Y5  // hn = gh_n + b_hn
	VMOVUPS Y5, (R10)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, R8
	ADDQ    $32, R9
	ADDQ    $32, R10
	SUBQ    $8, CX
	JNZ     preloop
	VZEROUPPER
	RET

// func gruMidAVX2(gates, hn *float32, m, n int)
TEXT ·gruMidAVX2(SB), NOSPLIT, $0-32
	MOVQ gates+0(FP), SI
	MOVQ hn+8(FP), DI
	MOVQ m+16(FP), CX
	MOVQ n+24(FP), DX
	SHLQ $2, DX

midloop:
	VMOVUPS (SI), Y0
	VMULPS  (DI), Y0, Y0        // r·hn
	VADDPS  (SI)(DX*2), Y0, Y0  // g_n + r·hn
	VMOVUPS Y0, (SI)(DX*2)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     midloop
	VZEROUPPER
	RET

// func gruOutAVX2(gates, hp, h *float32, m, n int)
TEXT ·gruOutAVX2(SB), NOSPLIT, $0-40
	MOVQ         gates+0(FP), SI
	MOVQ         hp+8(FP), DI
	MOVQ         h+16(FP), R8
	MOVQ         m+24(FP), CX
	MOVQ         n+32(FP), DX
	SHLQ         $2, DX
	VBROADCASTSS grufwdone<>(SB), Y15 // 1

outloop:
	VMOVUPS (SI)(DX*1), Y0      // z
	VSUBPS  Y0, Y15, Y1         // 1 − z
	VMULPS  (SI)(DX*2), Y1, Y1  // (1 − z)·n
	VMULPS  (DI), Y0, Y2        // z·hp
	VADDPS  Y2, Y1, Y1
	VMOVUPS Y1, (R8)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, R8
	SUBQ    $8, CX
	JNZ     outloop
	VZEROUPPER
	RET

DATA grufwdone<>+0(SB)/4, $0x3f800000
GLOBL grufwdone<>(SB), RODATA|NOPTR, $4

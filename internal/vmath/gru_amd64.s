//go:build amd64 && !purego

#include "textflag.h"

// func gruBackAVX2(p *[8]*float32, m, n int)
//
// GRUBack32's row on its first m elements, m a positive multiple of 8, of
// slices of n elements. p holds the pointers g, hn, hp, y, dh, dg, dgh,
// dt, in that order; g, dg and dgh hold three blocks of n values (r, z,
// n), reached at byte offsets 0, 4n (DX) and 8n (DX*2). Only AVX multiplies, adds and subtracts (no
// FMA), each in the association order of the portable code, so the
// results are bit-identical to it.
TEXT ·gruBackAVX2(SB), NOSPLIT, $0-24
	MOVQ         p+0(FP), AX
	MOVQ         m+8(FP), CX
	MOVQ         n+16(FP), DX
	SHLQ         $2, DX              // 4n: the bytes of one gate block
	MOVQ         0(AX), SI           // g
	MOVQ         8(AX), DI           // hn
	MOVQ         16(AX), R8          // hp
	MOVQ         24(AX), R9          // y
	MOVQ         32(AX), R10         // dh
	MOVQ         40(AX), R11         // dg
	MOVQ         48(AX), R12         // dgh
	MOVQ         56(AX), R13         // dt
	VBROADCASTSS gruone<>(SB), Y15   // 1

gruloop:
	VMOVUPS (SI), Y0            // r
	VMOVUPS (SI)(DX*1), Y1      // z
	VMOVUPS (SI)(DX*2), Y2      // n
	VMOVUPS (R10), Y3
	VADDPS  (R9), Y3, Y3        // dht = dh + y
	VSUBPS  Y1, Y15, Y4         // 1 − z
	VMULPS  Y2, Y2, Y5          // n·n
	VSUBPS  Y5, Y15, Y5         // 1 − n·n
	VMULPS  Y4, Y3, Y6          // dht·(1 − z)
	VMULPS  Y5, Y6, Y6          // dn = (dht·(1 − z))·(1 − n·n)
	VMOVUPS Y6, (R11)(DX*2)
	VMULPS  Y0, Y6, Y7          // dn·r
	VMOVUPS Y7, (R12)(DX*2)

	VMOVUPS (R8), Y7
	VSUBPS  Y2, Y7, Y7          // hp − n
	VMULPS  Y7, Y3, Y7          // dht·(hp − n)
	VMULPS  Y1, Y7, Y7          // ·z
	VMULPS  Y4, Y7, Y7          // dz = …·(1 − z)
	VMOVUPS Y7, (R11)(DX*1)
	VMOVUPS Y7, (R12)(DX*1)

	VMULPS  (DI), Y6, Y8        // dn·hn
	VMULPS  Y0, Y8, Y8          // ·r
	VSUBPS  Y0, Y15, Y9         // 1 − r
	VMULPS  Y9, Y8, Y8          // dr = …·(1 − r)
	VMOVUPS Y8, (R11)
	VMOVUPS Y8, (R12)

	VMULPS  Y1, Y3, Y9          // dt = dht·z
	VMOVUPS Y9, (R13)

	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R12
	ADDQ $32, R13
	SUBQ $8, CX
	JNZ  gruloop

	VZEROUPPER
	RET

DATA gruone<>+0(SB)/4, $0x3f800000
GLOBL gruone<>(SB), RODATA|NOPTR, $4

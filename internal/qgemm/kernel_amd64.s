//go:build amd64 && !purego

#include "textflag.h"

// func kernelAVX2(a *uint8, lda uintptr, b *int8, kq uintptr, c *int32)
//
// Y0..Y7 hold the 4×16 int32 sums (row r: Y(2r) columns 0-7, Y(2r+1)
// columns 8-15). For each group of four k: the two 32-byte halves of the
// packed block, each row's four activation bytes broadcast to every lane,
// VPMADDUBSW (u8×s8 pairs → s16, never saturating with 7-bit activations),
// VPMADDWD by ones (pairs → s32), VPADDD into the sums.
TEXT ·kernelAVX2(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), DX
	MOVQ b+16(FP), DI
	MOVQ kq+24(FP), CX
	MOVQ c+32(FP), R8
	LEAQ (SI)(DX*2), R9
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	MOVL $0x00010001, AX
	MOVD AX, X15
	VPBROADCASTD X15, Y15
	TESTQ CX, CX
	JZ avx2done

avx2loop:
	VMOVDQU (DI), Y8
	VMOVDQU 32(DI), Y9

	VPBROADCASTD (SI), Y10
	VPMADDUBSW Y8, Y10, Y11
	VPMADDUBSW Y9, Y10, Y12
	VPMADDWD Y15, Y11, Y11
	VPMADDWD Y15, Y12, Y12
	VPADDD Y11, Y0, Y0
	VPADDD Y12, Y1, Y1

	VPBROADCASTD (SI)(DX*1), Y13
	VPMADDUBSW Y8, Y13, Y14
	VPMADDUBSW Y9, Y13, Y10
	VPMADDWD Y15, Y14, Y14
	VPMADDWD Y15, Y10, Y10
	VPADDD Y14, Y2, Y2
	VPADDD Y10, Y3, Y3

	VPBROADCASTD (R9), Y10
	VPMADDUBSW Y8, Y10, Y11
	VPMADDUBSW Y9, Y10, Y12
	VPMADDWD Y15, Y11, Y11
	VPMADDWD Y15, Y12, Y12
	VPADDD Y11, Y4, Y4
	VPADDD Y12, Y5, Y5

	VPBROADCASTD (R9)(DX*1), Y13
	VPMADDUBSW Y8, Y13, Y14
	VPMADDUBSW Y9, Y13, Y10
	VPMADDWD Y15, Y14, Y14
	VPMADDWD Y15, Y10, Y10
	VPADDD Y14, Y6, Y6
	VPADDD Y10, Y7, Y7

	ADDQ $4, SI
	ADDQ $4, R9
	ADDQ $64, DI
	DECQ CX
	JNZ avx2loop

avx2done:
	VMOVDQU Y0, (R8)
	VMOVDQU Y1, 32(R8)
	VMOVDQU Y2, 64(R8)
	VMOVDQU Y3, 96(R8)
	VMOVDQU Y4, 128(R8)
	VMOVDQU Y5, 160(R8)
	VMOVDQU Y6, 192(R8)
	VMOVDQU Y7, 224(R8)
	VZEROUPPER
	RET

// func kernelVNNI(a *uint8, lda uintptr, b *int8, kq uintptr, c *int32)
//
// Z0..Z3 hold the 4 rows × 16 int32 sums. For each group of four k: the
// packed block's 64 bytes (16 lanes of four signed weights), each row's
// four activation bytes broadcast, VPDPBUSD (u8×s8 groups of four summed
// into the s32 lanes, no saturation).
TEXT ·kernelVNNI(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), DX
	MOVQ b+16(FP), DI
	MOVQ kq+24(FP), CX
	MOVQ c+32(FP), R8
	LEAQ (SI)(DX*2), R9
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	TESTQ CX, CX
	JZ vnnidone

vnniloop:
	VMOVDQU32 (DI), Z8
	VPBROADCASTD (SI), Z10
	VPBROADCASTD (SI)(DX*1), Z11
	VPBROADCASTD (R9), Z12
	VPBROADCASTD (R9)(DX*1), Z13
	VPDPBUSD Z8, Z10, Z0
	VPDPBUSD Z8, Z11, Z1
	VPDPBUSD Z8, Z12, Z2
	VPDPBUSD Z8, Z13, Z3
	ADDQ $4, SI
	ADDQ $4, R9
	ADDQ $64, DI
	DECQ CX
	JNZ vnniloop

vnnidone:
	VMOVDQU32 Z0, (R8)
	VMOVDQU32 Z1, 64(R8)
	VMOVDQU32 Z2, 128(R8)
	VMOVDQU32 Z3, 192(R8)
	VZEROUPPER
	RET

// func kernelAVX2Store(a *uint8, lda uintptr, b *int8, kq uintptr, dst *float32, ldd uintptr, sum *int32, scale *float32, bias *float32, rs *float32, rz *int32)
//
// kernelAVX2's loop, then the dequantization of the full 4×16 tile
// straight into dst (rows ldd bytes apart), as store does it:
// float32(acc − rz[r]·sum[c]) · (rs[r]·scale[c]) + bias[c], each
// operation rounded on its own (no fused multiply-add), so the bits are
// store's.
TEXT ·kernelAVX2Store(SB), NOSPLIT, $0-88
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), DX
	MOVQ b+16(FP), DI
	MOVQ kq+24(FP), CX
	LEAQ (SI)(DX*2), R9
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	MOVL $0x00010001, AX
	MOVD AX, X15
	VPBROADCASTD X15, Y15
	TESTQ CX, CX
	JZ sdone

sloop:
	VMOVDQU (DI), Y8
	VMOVDQU 32(DI), Y9

	VPBROADCASTD (SI), Y10
	VPMADDUBSW Y8, Y10, Y11
	VPMADDUBSW Y9, Y10, Y12
	VPMADDWD Y15, Y11, Y11
	VPMADDWD Y15, Y12, Y12
	VPADDD Y11, Y0, Y0
	VPADDD Y12, Y1, Y1

	VPBROADCASTD (SI)(DX*1), Y13
	VPMADDUBSW Y8, Y13, Y14
	VPMADDUBSW Y9, Y13, Y10
	VPMADDWD Y15, Y14, Y14
	VPMADDWD Y15, Y10, Y10
	VPADDD Y14, Y2, Y2
	VPADDD Y10, Y3, Y3

	VPBROADCASTD (R9), Y10
	VPMADDUBSW Y8, Y10, Y11
	VPMADDUBSW Y9, Y10, Y12
	VPMADDWD Y15, Y11, Y11
	VPMADDWD Y15, Y12, Y12
	VPADDD Y11, Y4, Y4
	VPADDD Y12, Y5, Y5

	VPBROADCASTD (R9)(DX*1), Y13
	VPMADDUBSW Y8, Y13, Y14
	VPMADDUBSW Y9, Y13, Y10
	VPMADDWD Y15, Y14, Y14
	VPMADDWD Y15, Y10, Y10
	VPADDD Y14, Y6, Y6
	VPADDD Y10, Y7, Y7

	ADDQ $4, SI
	ADDQ $4, R9
	ADDQ $64, DI
	DECQ CX
	JNZ sloop

sdone:
	MOVQ dst+32(FP), R8
	MOVQ ldd+40(FP), DX
	MOVQ sum+48(FP), AX
	MOVQ scale+56(FP), BX
	MOVQ bias+64(FP), CX
	MOVQ rs+72(FP), SI
	MOVQ rz+80(FP), DI
	VMOVDQU (AX), Y12
	VMOVDQU 32(AX), Y13
	VMOVUPS (BX), Y14
	VMOVUPS 32(BX), Y15

#define DEQUANT(lo, hi, off) \
	VPBROADCASTD off(DI), Y8; \
	VPMULLD Y12, Y8, Y9; \
	VPMULLD Y13, Y8, Y10; \
	VPSUBD Y9, lo, lo; \
	VPSUBD Y10, hi, hi; \
	VCVTDQ2PS lo, lo; \
	VCVTDQ2PS hi, hi; \
	VBROADCASTSS off(SI), Y8; \
	VMULPS Y14, Y8, Y9; \
	VMULPS Y15, Y8, Y10; \
	VMULPS Y9, lo, lo; \
	VMULPS Y10, hi, hi; \
	VADDPS (CX), lo, lo; \
	VADDPS 32(CX), hi, hi; \
	VMOVUPS lo, (R8); \
	VMOVUPS hi, 32(R8); \
	ADDQ DX, R8

	DEQUANT(Y0, Y1, 0)
	DEQUANT(Y2, Y3, 4)
	DEQUANT(Y4, Y5, 8)
	DEQUANT(Y6, Y7, 12)
	VZEROUPPER
	RET

// func kernelAVX2Row(a *uint8, b *int8, kq uintptr, c *int32)
//
// kernelAVX2 for one activation row: the 16 int32 sums of a row of a
// partial tile, so a batch of one does not pay for four rows.
TEXT ·kernelAVX2Row(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ kq+16(FP), CX
	MOVQ c+24(FP), R8
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	MOVL $0x00010001, AX
	MOVD AX, X15
	VPBROADCASTD X15, Y15
	TESTQ CX, CX
	JZ rdone

rloop:
	VPBROADCASTD (SI), Y10
	VPMADDUBSW (DI), Y10, Y11
	VPMADDUBSW 32(DI), Y10, Y12
	VPMADDWD Y15, Y11, Y11
	VPMADDWD Y15, Y12, Y12
	VPADDD Y11, Y0, Y0
	VPADDD Y12, Y1, Y1
	ADDQ $4, SI
	ADDQ $64, DI
	DECQ CX
	JNZ rloop

rdone:
	VMOVDQU Y0, (R8)
	VMOVDQU Y1, 32(R8)
	VZEROUPPER
	RET

// func kernelVNNIWide(a *uint8, lda uintptr, b *int8, bstride uintptr, kq uintptr, dst *float32, ldd uintptr, sum *int32, scale *float32, bias *float32, rs *float32, rz *int32)
//
// Four rows × 64 columns: four packed NR-blocks (bstride bytes apart)
// at once, so the 16 ZMM sums (Z0..Z15; row r, block q in Z(4r+q)) keep
// 16 independent VPDPBUSD chains in flight where kernelVNNI's four leave
// the unit waiting on their latency. Then the dequantization of the 4×64
// tile straight into dst (rows ldd bytes apart), each operation rounded
// on its own, bit for bit as store does it.
TEXT ·kernelVNNIWide(SB), NOSPLIT, $0-96
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), DX
	MOVQ b+16(FP), DI
	MOVQ bstride+24(FP), BX
	MOVQ kq+32(FP), CX
	LEAQ (SI)(DX*2), R9
	LEAQ (DI)(BX*2), R10
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	TESTQ CX, CX
	JZ wdone

wloop:
	VMOVDQU32 (DI), Z16
	VMOVDQU32 (DI)(BX*1), Z17
	VMOVDQU32 (R10), Z18
	VMOVDQU32 (R10)(BX*1), Z19
	VPBROADCASTD (SI), Z20
	VPBROADCASTD (SI)(DX*1), Z21
	VPBROADCASTD (R9), Z22
	VPBROADCASTD (R9)(DX*1), Z23
	VPDPBUSD Z16, Z20, Z0
	VPDPBUSD Z17, Z20, Z1
	VPDPBUSD Z18, Z20, Z2
	VPDPBUSD Z19, Z20, Z3
	VPDPBUSD Z16, Z21, Z4
	VPDPBUSD Z17, Z21, Z5
	VPDPBUSD Z18, Z21, Z6
	VPDPBUSD Z19, Z21, Z7
	VPDPBUSD Z16, Z22, Z8
	VPDPBUSD Z17, Z22, Z9
	VPDPBUSD Z18, Z22, Z10
	VPDPBUSD Z19, Z22, Z11
	VPDPBUSD Z16, Z23, Z12
	VPDPBUSD Z17, Z23, Z13
	VPDPBUSD Z18, Z23, Z14
	VPDPBUSD Z19, Z23, Z15
	ADDQ $4, SI
	ADDQ $4, R9
	ADDQ $64, DI
	ADDQ $64, R10
	DECQ CX
	JNZ wloop

wdone:
	MOVQ dst+40(FP), R8
	MOVQ ldd+48(FP), DX
	MOVQ sum+56(FP), AX
	MOVQ scale+64(FP), BX
	MOVQ bias+72(FP), CX
	MOVQ rs+80(FP), SI
	MOVQ rz+88(FP), DI
	VMOVDQU32 (AX), Z24
	VMOVDQU32 64(AX), Z25
	VMOVDQU32 128(AX), Z26
	VMOVDQU32 192(AX), Z27
	VMOVUPS (BX), Z28
	VMOVUPS 64(BX), Z29
	VMOVUPS 128(BX), Z30
	VMOVUPS 192(BX), Z31

#define WCOL(acc, sm, sc, off) \
	VPMULLD sm, Z20, Z16; \
	VPSUBD Z16, acc, acc; \
	VCVTDQ2PS acc, acc; \
	VMULPS sc, Z21, Z17; \
	VMULPS Z17, acc, acc; \
	VADDPS off(CX), acc, acc; \
	VMOVUPS acc, off(R8)

#define WROW(a0, a1, a2, a3, roff) \
	VPBROADCASTD roff(DI), Z20; \
	VBROADCASTSS roff(SI), Z21; \
	WCOL(a0, Z24, Z28, 0); \
	WCOL(a1, Z25, Z29, 64); \
	WCOL(a2, Z26, Z30, 128); \
	WCOL(a3, Z27, Z31, 192); \
	ADDQ DX, R8

	WROW(Z0, Z1, Z2, Z3, 0)
	WROW(Z4, Z5, Z6, Z7, 4)
	WROW(Z8, Z9, Z10, Z11, 8)
	WROW(Z12, Z13, Z14, Z15, 12)
	VZEROUPPER
	RET

//go:build amd64 && !purego

package qgemm

import "github.com/rnnkit/rnnkit/internal/cpufeat"

var (
	hasAVX2 = cpufeat.AVX2FMA
	hasVNNI = cpufeat.AVX512VNNI
)

// kernelAVX2 computes the MR×NR int32 sums Σ_g a[r][4g..4g+3]·b[g][c][0..3]
// over kq groups of four k into c (row-major, NR per row): a points at
// row 0 of MR activation rows lda bytes apart, b at a packed block.
//
//go:noescape
func kernelAVX2(a *uint8, lda uintptr, b *int8, kq uintptr, c *int32)

// kernelVNNI is kernelAVX2 with VPDPBUSD on ZMM registers.
//
//go:noescape
func kernelVNNI(a *uint8, lda uintptr, b *int8, kq uintptr, c *int32)

// kernelAVX2Store is kernelAVX2 followed by the dequantization of the
// full tile into dst (rows ldd bytes apart), bit for bit as store does it.
//
//go:noescape
func kernelAVX2Store(a *uint8, lda uintptr, b *int8, kq uintptr, dst *float32, ldd uintptr, sum *int32, scale *float32, bias *float32, rs *float32, rz *int32)

// kernelAVX2Row is kernelAVX2 for one activation row (NR sums into c).
//
//go:noescape
func kernelAVX2Row(a *uint8, b *int8, kq uintptr, c *int32)

// kernelVNNIWide computes four rows × four packed blocks (NR columns
// each, bstride bytes apart) with VPDPBUSD and dequantizes the 4×4·NR
// tile into dst (rows ldd bytes apart), bit for bit as store does it.
//
//go:noescape
func kernelVNNIWide(a *uint8, lda uintptr, b *int8, bstride uintptr, kq uintptr, dst *float32, ldd uintptr, sum *int32, scale *float32, bias *float32, rs *float32, rz *int32)

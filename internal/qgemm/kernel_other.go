//go:build !amd64 || purego

package qgemm

const hasAVX2, hasVNNI = false, false

func kernelAVX2(a *uint8, lda uintptr, b *int8, kq uintptr, c *int32) { panic("qgemm: no AVX2 kernel") }
func kernelVNNI(a *uint8, lda uintptr, b *int8, kq uintptr, c *int32) { panic("qgemm: no VNNI kernel") }

func kernelAVX2Store(a *uint8, lda uintptr, b *int8, kq uintptr, dst *float32, ldd uintptr, sum *int32, scale *float32, bias *float32, rs *float32, rz *int32) {
	panic("qgemm: no AVX2 kernel")
}

func kernelAVX2Row(a *uint8, b *int8, kq uintptr, c *int32) { panic("qgemm: no AVX2 kernel") }

func kernelVNNIWide(a *uint8, lda uintptr, b *int8, bstride uintptr, kq uintptr, dst *float32, ldd uintptr, sum *int32, scale *float32, bias *float32, rs *float32, rz *int32) {
	panic("qgemm: no VNNI kernel")
}

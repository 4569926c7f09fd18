//go:build amd64 && !purego

package gemm

// transpose8 sets dst[(8b+j)*ldd + i] = src[i*ld + 8b + j] for b < n and
// i, j < 8.
//
//go:noescape
func transpose8(src *float32, ld int, dst *float32, ldd int, n int)

// transpose6 sets dst[(8b+j)*6 + i] = src[i*ld + 8b + j] for b < n, i < 6
// and j < 8.
//
//go:noescape
func transpose6(src *float32, ld int, dst *float32, n int)

// packStrided32 is packStrided for float32 using the AVX2 transposes for
// full slivers of B 16 or 32 wide and of A 6 or 12 rows high.
func packStrided32(d, src []float32, ld, start, kb, cnt, w int) {
	kb8 := kb &^ 7
	if kb8 == 0 || cnt != w || (w != 16 && w != 32 && w != 6 && w != 12) {
		packStrided(d, src, ld, start, kb, cnt, w)
		return
	}
	d = d[:kb*w]
	// Bounds: the last source line must hold kb elements.
	_ = src[start+(cnt-1)*ld+kb-1]
	switch w {
	case 16, 32:
		for c := 0; c < w; c += 8 {
			transpose8(&src[start+c*ld], ld, &d[c], w, kb8/8)
		}
	case 12:
		// Lines 4-11, then lines 0-7: the second call writes lines 4-7
		// again with the same values.
		transpose8(&src[start+4*ld], ld, &d[4], 12, kb8/8)
		transpose8(&src[start], ld, &d[0], 12, kb8/8)
	default:
		transpose6(&src[start], ld, &d[0], kb8/8)
	}
	// Remaining columns kb8..kb-1.
	for c := range cnt {
		o := start + c*ld
		for q := kb8; q < kb; q++ {
			d[q*w+c] = src[o+q]
		}
	}
}

// copy6 sets dst[s*kb*6 + q*6 + r] = src[q*ld + s*6 + r] for q < kb,
// s < nsl and r < 6.
//
//go:noescape
func copy6(src *float32, ld int, dst *float32, kb, nsl int)

// packRows32 is packRows for float32 using copy6 for 6-row slivers of A.
func packRows32(dst, src []float32, ld, start, kb, cnt, w int) {
	nsl := cnt / 6
	if w != 6 || nsl == 0 {
		packRows(dst, src, ld, start, kb, cnt, w)
		return
	}
	// Bounds: the last row read must hold 6*nsl elements, and dst must
	// hold nsl slivers.
	_ = src[start+(kb-1)*ld+6*nsl-1]
	_ = dst[nsl*kb*6-1]
	copy6(&src[start], ld, &dst[0], kb, nsl)
	if full := 6 * nsl; full < cnt {
		packRows(dst[full*kb:], src, ld, start+full, kb, cnt-full, w)
	}
}

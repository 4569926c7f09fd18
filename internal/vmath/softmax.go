package vmath

// Max32 returns the largest element of x, which must not be empty (Max32
// panics otherwise). NaNs are skipped unless x[0] is one, in which case
// the result is NaN: the result of a scalar loop that starts at x[0] and
// takes v where v > m.
func Max32(x []float32) float32 {
	if len(x) == 0 {
		panic("vmath: Max32 of an empty slice")
	}
	if useAsm && use512 && len(x) >= 16 {
		return max512(x)
	}
	return maxGo(x)
}

// ExpShiftSum32 writes e^(x − m) of each element x of src into dst and
// returns the sum of the results accumulated in float64: with m the
// row's maximum, the numerators and the denominator of a softmax in one
// pass. dst and src must have the same length (it panics otherwise) and
// may be the same slice. Each dst element has the bits of Exp32 of the
// float32 difference x − m on every path; the sum's order of additions
// depends on the path (float64 additions of float32 values: the paths
// differ by float64 rounding only).
func ExpShiftSum32(dst, src []float32, m float32) float64 {
	checkLen(dst, src)
	if len(src) == 0 {
		return 0
	}
	if useAsm && use512 {
		return expShiftSum512(dst, src, m)
	}
	for j, v := range src {
		dst[j] = v - m
	}
	Exp32(dst, dst)
	return sum64(dst)
}

// maxGo is the portable Max32 (x not empty), over four chains.
func maxGo(x []float32) float32 {
	m0 := x[0]
	if m0 != m0 {
		return m0
	}
	m1, m2, m3 := m0, m0, m0
	i := 1
	for ; i+4 <= len(x); i += 4 {
		if v := x[i]; v > m0 {
			m0 = v
		}
		if v := x[i+1]; v > m1 {
			m1 = v
		}
		if v := x[i+2]; v > m2 {
			m2 = v
		}
		if v := x[i+3]; v > m3 {
			m3 = v
		}
	}
	for ; i < len(x); i++ {
		if v := x[i]; v > m0 {
			m0 = v
		}
	}
	return maxOf4(m0, m1, m2, m3)
}

// maxOf4 is the largest of four values that are all NaN or none NaN.
func maxOf4(a, b, c, d float32) float32 {
	if b > a {
		a = b
	}
	if d > c {
		c = d
	}
	if c > a {
		a = c
	}
	return a
}

// sum64 returns Σ e in float64 over four chains.
func sum64(e []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(e); i += 4 {
		s0 += float64(e[i])
		s1 += float64(e[i+1])
		s2 += float64(e[i+2])
		s3 += float64(e[i+3])
	}
	for ; i < len(e); i++ {
		s0 += float64(e[i])
	}
	return (s0 + s1) + (s2 + s3)
}

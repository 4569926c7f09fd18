package gemm

// packA packs rows [i0, i0+mb) and columns [p0, p0+kb) of op(A) into dst as
// consecutive slivers of mr rows. Within a sliver, column q of op(A) is
// stored contiguously at q*mr; rows past mb are zero-filled.
func packA[T float](p *problem[T], strided, rows packFunc[T], dst []T, i0, mb, p0, kb, mr int) {
	if p.transA {
		// op(A)[i, q] = a[q*lda + i]: a column of op(A) is contiguous.
		rows(dst, p.a, p.lda, p0*p.lda+i0, kb, mb, mr)
		return
	}
	for ir := 0; ir < mb; ir += mr {
		// op(A)[i, q] = a[i*lda + q]: a row of op(A) is contiguous.
		cnt := min(mr, mb-ir)
		strided(dst[ir*kb:(ir+mr)*kb], p.a, p.lda, (i0+ir)*p.lda+p0, kb, cnt, mr)
	}
}

// packB packs rows [p0, p0+kb) and columns [j0, j0+nb) of op(B) into dst as
// consecutive slivers of nr columns. Within a sliver, row q of op(B) is
// stored contiguously at q*nr; columns past nb are zero-filled.
func packB[T float](p *problem[T], strided packFunc[T], dst []T, p0, kb, j0, nb, nr int) {
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		d := dst[jr*kb : (jr+nr)*kb]
		j := j0 + jr
		if p.transB {
			// op(B)[q, j] = b[j*ldb + q]: a column of op(B) is contiguous.
			strided(d, p.b, p.ldb, j*p.ldb+p0, kb, cols, nr)
		} else {
			// op(B)[q, j] = b[q*ldb + j]: a row of op(B) is contiguous.
			packContig(d, p.b, p.ldb, p0*p.ldb+j, kb, cols, nr)
		}
	}
}

// packContig sets d[q*w + c] = src[start + q*ld + c] for q < kb, c < cnt,
// and zeroes d[q*w + c] for cnt <= c < w.
func packContig[T float](d, src []T, ld, start, kb, cnt, w int) {
	for q := range kb {
		dd := d[q*w : q*w+w]
		o := start + q*ld
		copy(dd[:cnt], src[o:o+cnt])
		if cnt < w {
			clear(dd[cnt:])
		}
	}
}

// packRows packs a kb×cnt block whose rows are contiguous in src (row q
// at src[start+q*ld:]) into slivers of w columns, as packContig does for
// each sliver. It reads each source row once, sequentially, which suits
// blocks with few slivers and widely strided rows.
func packRows[T float](dst, src []T, ld, start, kb, cnt, w int) {
	full := cnt / w * w
	for q := range kb {
		o := start + q*ld
		row := src[o : o+cnt]
		d := dst[q*w:]
		s := 0
		if w == 6 {
			for ; s < full; s += 6 {
				dd := d[s*kb : s*kb+6 : s*kb+6]
				rr := row[s : s+6 : s+6]
				dd[0], dd[1], dd[2], dd[3], dd[4], dd[5] = rr[0], rr[1], rr[2], rr[3], rr[4], rr[5]
			}
		}
		for ; s < full; s += w {
			dd := d[s*kb : s*kb+w]
			for r, v := range row[s : s+w] {
				dd[r] = v
			}
		}
		if s < cnt {
			dd := d[s*kb : s*kb+w]
			n := copy(dd, row[s:])
			clear(dd[n:])
		}
	}
}

// packStrided sets d[q*w + c] = src[start + c*ld + q] for q < kb, c < cnt,
// and zeroes d[q*w + c] for cnt <= c < w. It is a transposing copy, done
// four source lines at a time.
func packStrided[T float](d, src []T, ld, start, kb, cnt, w int) {
	d = d[:kb*w]
	c := 0
	for ; c+4 <= cnt; c += 4 {
		o := start + c*ld
		s0 := src[o : o+kb]
		s1 := src[o+ld : o+ld+kb]
		s2 := src[o+2*ld : o+2*ld+kb]
		s3 := src[o+3*ld : o+3*ld+kb]
		for q, v := range s0 {
			dd := d[q*w+c : q*w+c+4]
			dd[0], dd[1], dd[2], dd[3] = v, s1[q], s2[q], s3[q]
		}
	}
	for ; c < cnt; c++ {
		o := start + c*ld
		for q, v := range src[o : o+kb] {
			d[q*w+c] = v
		}
	}
	for ; c < w; c++ {
		for q := range kb {
			d[q*w+c] = 0
		}
	}
}

package vmath

// Dot32 returns the dot product Σ x[i]·y[i] over i < len(x). y must be at
// least as long as x (Dot32 panics otherwise). With the assembly kernel the
// sum is accumulated in 32 float32 lanes with fused multiply-adds and the
// lanes are added pairwise at the end; the portable code uses four lanes.
// Both orders are fixed, so the same inputs give the same result on every
// call.
func Dot32(x, y []float32) float32 {
	if len(y) < len(x) {
		panic("vmath: Dot32: y is shorter than x")
	}
	if useAsm && len(x) > 0 {
		return dotAsm(x, y)
	}
	return dotGo(x, y[:len(x)])
}

// Axpy32 sets y[i] += a·x[i] for i < len(x). y must be at least as long as
// x (Axpy32 panics otherwise); x and y must not overlap.
func Axpy32(a float32, x, y []float32) {
	if len(y) < len(x) {
		panic("vmath: Axpy32: y is shorter than x")
	}
	if useAsm && len(x) > 0 {
		axpyAsm(a, x, y)
		return
	}
	axpyGo(a, x, y[:len(x)])
}

// CrossAxpy32 sets ex[i] += a·y[i] and dy[i] += a·x[i] for i < len(x), both
// from the values before the call: it is the pair of updates that a
// logistic output unit makes to the input's error (ex, from the output
// weights y) and to the output weights (dy, from the input x). dy may be
// y itself (the in-place update of training); otherwise the four slices
// must not overlap. y, ex and dy must be at least as long as x (CrossAxpy32
// panics otherwise).
func CrossAxpy32(a float32, x, y, ex, dy []float32) {
	n := len(x)
	if len(y) < n || len(ex) < n || len(dy) < n {
		panic("vmath: CrossAxpy32: a slice is shorter than x")
	}
	if useAsm && n > 0 {
		crossAxpyAsm(a, x, y, ex, dy)
		return
	}
	crossAxpyGo(a, x, y[:n], ex[:n], dy[:n])
}

// dotGo is Dot32's portable code: four partial sums, added pairwise.
func dotGo(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpyGo is Axpy32's portable code.
func axpyGo(a float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

// crossAxpyGo is CrossAxpy32's portable code.
func crossAxpyGo(a float32, x, y, ex, dy []float32) {
	n := len(x)
	y, ex, dy = y[:n], ex[:n], dy[:n]
	for i := range n {
		yi := y[i]
		ex[i] += a * yi
		dy[i] += a * x[i]
	}
}

// PrefetchRows32 asks the CPU to bring rows of the row-major matrix m
// (dim columns) into cache, for a kernel about to read them in an order
// the hardware prefetcher cannot guess (word2vec's negative samples). Rows
// outside m are skipped. It changes no value; without the assembly
// kernels it does nothing.
func PrefetchRows32(m []float32, dim int, rows []int32) {
	if !useAsm || dim <= 0 {
		return
	}
	for _, r := range rows {
		if o := int(r) * dim; r >= 0 && o+dim <= len(m) {
			prefetchAsm(m[o : o+dim])
		}
	}
}

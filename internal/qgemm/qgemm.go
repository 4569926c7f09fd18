package qgemm

import (
	"math"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/internal/parallel"
)

const (
	// MR is the number of activation rows one kernel call handles.
	MR = 4
	// NR is the number of weight rows (outputs) one kernel call handles.
	NR = 16
	// MaxK is the longest inner dimension: K·127·128 stays below 2³¹, so
	// the int32 sums cannot overflow.
	MaxK = math.MaxInt32 / (127 * 128)
	// ActMax is the largest quantized activation (7 bits; see the package
	// documentation).
	ActMax = 127
)

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// Weights is an int8 matrix W [N, K] with a float32 scale per row, packed
// for the kernels. It is read-only once made, so one Weights serves any
// number of goroutines.
type Weights struct {
	N, K  int
	Q     []int8    // N×K, row-major: the quantized values
	Scale []float32 // N: W[n][k] ≈ Scale[n]·Q[n·K+k]

	kp     int     // K rounded up to a multiple of 4
	sum    []int32 // N: Σ_k Q[n][k]
	packed []int8  // (N rounded up to NR) × kp, in NR-row blocks
}

// QuantizeWeights quantizes w [n, k] (row-major) symmetrically per row:
// the scale of row r is max_k |w[r][k]| / 127 and each value is rounded
// to the nearest integer (halves away from zero). A row of zeros gets the
// scale 0.
func QuantizeWeights(w []float32, n, k int) (*Weights, error) {
	if n < 1 || k < 1 || k > MaxK || len(w) != n*k {
		return nil, errors.Wrapf(ErrShape, "qgemm: %d weights for a %d×%d matrix (1 ≤ K ≤ %d)", len(w), n, k, MaxK)
	}
	q := make([]int8, n*k)
	scale := make([]float32, n)
	for r := 0; r < n; r++ {
		row := w[r*k : (r+1)*k]
		m := float32(0)
		for c, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, errors.Wrapf(ErrValue, "qgemm: weight [%d, %d] is %v", r, c, v)
			}
			m = max(m, float32(math.Abs(float64(v))))
		}
		if m == 0 {
			continue
		}
		s := m / 127
		scale[r] = s
		for c, v := range row {
			x := math.Round(float64(v / s))
			q[r*k+c] = int8(max(-127, min(127, x)))
		}
	}
	return NewWeights(q, scale, n, k)
}

// NewWeights packs quantized weights q [n, k] (row-major) with per-row
// scales (finite, not negative). It keeps q and scale (no copy).
func NewWeights(q []int8, scale []float32, n, k int) (*Weights, error) {
	if n < 1 || k < 1 || k > MaxK || len(q) != n*k || len(scale) != n {
		return nil, errors.Wrapf(ErrShape, "qgemm: %d values and %d scales for a %d×%d matrix (1 ≤ K ≤ %d)", len(q), len(scale), n, k, MaxK)
	}
	for r, s := range scale {
		if !(s >= 0) || math.IsInf(float64(s), 0) {
			return nil, errors.Wrapf(ErrValue, "qgemm: scale of row %d is %v, want finite and ≥ 0", r, s)
		}
	}
	w := &Weights{N: n, K: k, Q: q, Scale: scale, kp: roundUp(k, 4), sum: make([]int32, n)}
	np := roundUp(n, NR)
	w.packed = make([]int8, np*w.kp)
	for r := 0; r < n; r++ {
		s := int32(0)
		blk := w.packed[r/NR*NR*w.kp:]
		lane := r % NR
		for c := 0; c < k; c++ {
			v := q[r*k+c]
			s += int32(v)
			blk[c/4*NR*4+lane*4+c%4] = v
		}
		w.sum[r] = s
	}
	return w, nil
}

// Dequantize returns the float32 matrix the weights stand for,
// Scale[n]·Q[n][k].
func (w *Weights) Dequantize() []float32 {
	out := make([]float32, w.N*w.K)
	for r := 0; r < w.N; r++ {
		for c := 0; c < w.K; c++ {
			out[r*w.K+c] = w.Scale[r] * float32(w.Q[r*w.K+c])
		}
	}
	return out
}

// Activations is a float32 matrix X [M, K] quantized per row: values in
// [0, ActMax] with a scale and a zero point per row. A zero Activations is
// ready for [Activations.Quantize], which reuses its buffers.
type Activations struct {
	M, K  int
	kp    int
	q     []uint8   // (M rounded up to MR) × kp, zero padding
	Scale []float32 // M: X[m][k] ≈ Scale[m]·(q[m][k] − Zero[m])
	Zero  []int32   // M, in [0, ActMax]
}

// Quantize quantizes x [m, k] (row-major) into a, row by row: the range
// [min(0, min x), max(0, max x)] maps onto [0, ActMax], zero exactly onto
// the zero point, each value rounded to the nearest step (halves up).
func (a *Activations) Quantize(x []float32, m, k int) error {
	if m < 1 || k < 1 || k > MaxK || len(x) != m*k {
		return errors.Wrapf(ErrShape, "qgemm: %d activations for a %d×%d matrix (1 ≤ K ≤ %d)", len(x), m, k, MaxK)
	}
	a.M, a.K, a.kp = m, k, roundUp(k, 4)
	n := roundUp(m, MR) * a.kp
	if cap(a.q) < n {
		a.q = make([]uint8, n)
	}
	a.q = a.q[:n]
	if a.kp != k || m%MR != 0 {
		clear(a.q)
	}
	if cap(a.Scale) < m {
		a.Scale, a.Zero = make([]float32, m), make([]int32, m)
	}
	a.Scale, a.Zero = a.Scale[:m], a.Zero[:m]
	for r := 0; r < m; r++ {
		row := x[r*k : (r+1)*k]
		lo, hi := float32(0), float32(0)
		for _, v := range row {
			lo, hi = min(lo, v), max(hi, v)
		}
		if math.IsNaN(float64(lo)) || math.IsNaN(float64(hi)) || math.IsInf(float64(lo), 0) || math.IsInf(float64(hi), 0) {
			for c, v := range row {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return errors.Wrapf(ErrValue, "qgemm: activation [%d, %d] is %v", r, c, v)
				}
			}
		}
		dst := a.q[r*a.kp : r*a.kp+k]
		if hi == lo {
			a.Scale[r], a.Zero[r] = 0, 0
			clear(dst)
			continue
		}
		s := (hi - lo) / ActMax
		z := float32(math.Round(float64(-lo / s)))
		z = max(0, min(ActMax, z))
		inv := 1 / s
		a.Scale[r], a.Zero[r] = s, int32(z)
		for c, v := range row {
			t := v*inv + z + 0.5
			t = max(0, min(ActMax, t))
			dst[c] = uint8(t)
		}
	}
	return nil
}

// Gemm computes dst [M, N] = X·Wᵀ + bias from the quantized X (a) and W
// (w), dequantized as the package documentation says; bias (length N) may
// be nil. It runs the active path, splitting the output columns over the
// CPUs.
func Gemm(dst []float32, a *Activations, w *Weights, bias []float32) error {
	p, err := active()
	if err != nil {
		return err
	}
	return gemm(p, dst, a, w, bias)
}

func gemm(p Path, dst []float32, a *Activations, w *Weights, bias []float32) error {
	if a.K != w.K || len(dst) != a.M*w.N || (bias != nil && len(bias) != w.N) {
		return errors.Wrapf(ErrShape, "qgemm: X [%d, %d] · Wᵀ [%d, %d] into %d values with %d biases", a.M, a.K, w.K, w.N, len(dst), len(bias))
	}
	if a.M == 0 {
		return nil
	}
	if bias == nil {
		bias = make([]float32, w.N)
	}
	nb := roundUp(w.N, NR) / NR
	mb := roundUp(a.M, MR) / MR
	parallel.For(nb, mb*MR*NR*w.kp, func(lo, hi int) {
		var acc [MR * NR]int32
		for j := lo; j < hi; j++ {
			pw := w.packed[j*NR*w.kp:]
			if p == VNNI && j+wide <= hi && (j+wide)*NR <= w.N {
				// Four blocks at once over the full row tiles, the
				// partial one as below.
				n0 := j * NR
				full := a.M / MR
				for i := 0; i < full; i++ {
					m0 := i * MR
					kernelVNNIWide(&a.q[m0*a.kp], uintptr(a.kp), &pw[0], uintptr(NR*w.kp), uintptr(a.kp/4),
						&dst[m0*w.N+n0], uintptr(4*w.N), &w.sum[n0], &w.Scale[n0], &bias[n0], &a.Scale[m0], &a.Zero[m0])
				}
				for jj := j; jj < j+wide; jj++ {
					for i := full; i < mb; i++ {
						tile(p, &acc, a, w, i, jj, w.packed[jj*NR*w.kp:])
						store(dst, &acc, a, w, bias, i*MR, jj*NR)
					}
				}
				j += wide - 1
				continue
			}
			for i := 0; i < mb; i++ {
				if p == AVX2 && (j+1)*NR <= w.N && (i+1)*MR <= a.M {
					m0, n0 := i*MR, j*NR
					kernelAVX2Store(&a.q[m0*a.kp], uintptr(a.kp), &pw[0], uintptr(a.kp/4), &dst[m0*w.N+n0], uintptr(4*w.N),
						&w.sum[n0], &w.Scale[n0], &bias[n0], &a.Scale[m0], &a.Zero[m0])
					continue
				}
				tile(p, &acc, a, w, i, j, pw)
				store(dst, &acc, a, w, bias, i*MR, j*NR)
			}
		}
	})
	return nil
}

// wide is the number of NR-column blocks kernelVNNIWide handles at once.
const wide = 4

// tile computes the int32 sums of the MR×NR tile (i, j) on path p.
func tile(p Path, acc *[MR * NR]int32, a *Activations, w *Weights, i, j int, pw []int8) {
	switch p {
	case VNNI:
		kernelVNNI(&a.q[i*MR*a.kp], uintptr(a.kp), &pw[0], uintptr(a.kp/4), &acc[0])
	case AVX2:
		if rows := a.M - i*MR; rows < MR {
			// A partial tile: only its real rows.
			for r := 0; r < rows; r++ {
				kernelAVX2Row(&a.q[(i*MR+r)*a.kp], &pw[0], uintptr(a.kp/4), &acc[r*NR])
			}
			return
		}
		kernelAVX2(&a.q[i*MR*a.kp], uintptr(a.kp), &pw[0], uintptr(a.kp/4), &acc[0])
	default:
		tileGo(acc, a, w, i, j)
	}
}

// tileGo is the portable kernel: it reads the row-major values, not the
// packed ones, so the comparison of paths checks the packing too.
func tileGo(acc *[MR * NR]int32, a *Activations, w *Weights, i, j int) {
	for r := 0; r < MR; r++ {
		xr := a.q[(i*MR+r)*a.kp : (i*MR+r)*a.kp+w.K]
		for c := 0; c < NR; c++ {
			n := j*NR + c
			if n >= w.N {
				acc[r*NR+c] = 0
				continue
			}
			wr := w.Q[n*w.K : (n+1)*w.K]
			s := int32(0)
			for k, v := range wr {
				s += int32(xr[k]) * int32(v)
			}
			acc[r*NR+c] = s
		}
	}
}

// store dequantizes a tile into dst, leaving out the padding. Each
// operation is rounded on its own (the conversions forbid fusing into a
// multiply-add), as kernelAVX2Store does it.
func store(dst []float32, acc *[MR * NR]int32, a *Activations, w *Weights, bias []float32, m0, n0 int) {
	nr := min(NR, w.N-n0)
	sc := w.Scale[n0 : n0+nr]
	sm := w.sum[n0 : n0+nr]
	b := bias[n0 : n0+nr]
	for r := 0; r < MR && m0+r < a.M; r++ {
		m := m0 + r
		sx, zx := a.Scale[m], a.Zero[m]
		out := dst[m*w.N+n0 : m*w.N+n0+nr]
		ar := acc[r*NR : r*NR+nr]
		for c := range out {
			out[c] = float32(float32(ar[c]-zx*sm[c])*float32(sx*sc[c])) + b[c]
		}
	}
}

// Int32 returns the exact int32 sums Σ_k q_x[m][k]·q_w[n][k] − z_x[m]·Σ_k q_w[n][k]
// ([M, N]) of path p, for tests that compare paths.
func Int32(p Path, a *Activations, w *Weights) ([]int32, error) {
	if !Available(p) {
		return nil, errors.Wrapf(ErrPath, "qgemm: path %v on this CPU", p)
	}
	if a.K != w.K {
		return nil, errors.Wrapf(ErrShape, "qgemm: X [%d, %d] · Wᵀ [%d, %d]", a.M, a.K, w.K, w.N)
	}
	out := make([]int32, a.M*w.N)
	var acc [MR * NR]int32
	for j := 0; j < roundUp(w.N, NR)/NR; j++ {
		for i := 0; i < roundUp(a.M, MR)/MR; i++ {
			tile(p, &acc, a, w, i, j, w.packed[j*NR*w.kp:])
			for r := 0; r < MR && i*MR+r < a.M; r++ {
				for c := 0; c < NR && j*NR+c < w.N; c++ {
					out[(i*MR+r)*w.N+j*NR+c] = acc[r*NR+c] - a.Zero[i*MR+r]*w.sum[j*NR+c]
				}
			}
		}
	}
	return out, nil
}

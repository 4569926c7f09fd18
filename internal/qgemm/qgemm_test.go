package qgemm

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func randMat(r *rand.Rand, n int, scale float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = (r.Float32()*2 - 1) * scale
	}
	return out
}

// refInt32 is the exact sum written from the definition, on the
// row-major values, independent of the kernels and the packing.
func refInt32(a *Activations, w *Weights) []int32 {
	out := make([]int32, a.M*w.N)
	for m := 0; m < a.M; m++ {
		for n := 0; n < w.N; n++ {
			s := int64(0)
			for k := 0; k < w.K; k++ {
				s += int64(int32(a.q[m*a.kp+k])-a.Zero[m]) * int64(w.Q[n*w.K+k])
			}
			out[m*w.N+n] = int32(s)
		}
	}
	return out
}

// checkPaths compares every available path's int32 sums with the
// definition and with each other, and every path's float32 results bit for
// bit.
func checkPaths(t *testing.T, m, n, k int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	w, err := QuantizeWeights(randMat(r, n*k, 0.5), n, k)
	if err != nil {
		t.Fatal(err)
	}
	x := randMat(r, m*k, 2)
	if m > 1 {
		for c := 0; c < k; c++ { // one row all positive: zero point 0
			x[c] = float32(math.Abs(float64(x[c])))
		}
	}
	var a Activations
	if err := a.Quantize(x, m, k); err != nil {
		t.Fatal(err)
	}
	want := refInt32(&a, w)
	bias := randMat(r, n, 1)
	var first []float32
	var firstPath Path
	for _, p := range Paths {
		if !Available(p) {
			continue
		}
		got, err := Int32(p, &a, w)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v %d×%d×%d: sum [%d, %d] = %d, want %d", p, m, n, k, i/n, i%n, got[i], want[i])
			}
		}
		dst := make([]float32, m*n)
		if err := gemm(p, dst, &a, w, bias); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first, firstPath = dst, p
			continue
		}
		for i := range dst {
			if math.Float32bits(dst[i]) != math.Float32bits(first[i]) {
				t.Fatalf("%d×%d×%d: [%d, %d] is %v on %v, %v on %v", m, n, k, i/n, i%n, dst[i], p, first[i], firstPath)
			}
		}
	}
}

func TestPathsAgree(t *testing.T) {
	for _, s := range [][3]int{{1, 1, 1}, {1, 16, 4}, {3, 5, 7}, {4, 16, 8}, {5, 17, 9}, {32, 1024, 256}, {7, 33, 130}, {13, 100, 3}, {8, 48, 1000},
		// kernelVNNIWide: 4×64 tiles, a partial row tile, blocks left over.
		{6, 80, 40}, {9, 200, 33}, {4, 64, 4}, {64, 512, 128}, {1, 64, 16}} {
		checkPaths(t, s[0], s[1], s[2], uint64(s[0]*1000+s[1]*10+s[2]))
	}
	t.Logf("paths available here: generic, avx2 %v, vnni %v (a path not available is not checked)", Available(AVX2), Available(VNNI))
}

// The extreme values: weights ±127 and -128 and activations 127 everywhere
// — the sums VPMADDUBSW would saturate on with 8-bit activations.
func TestExtremeValues(t *testing.T) {
	const m, n, k = 4, 16, 64
	q := make([]int8, n*k)
	for i := range q {
		q[i] = []int8{127, -128, -127, 127}[i%4]
	}
	w, err := NewWeights(q, make([]float32, n), n, k)
	if err != nil {
		t.Fatal(err)
	}
	var a Activations
	x := make([]float32, m*k)
	for i := range x {
		x[i] = 1
	}
	if err := a.Quantize(x, m, k); err != nil {
		t.Fatal(err)
	}
	if a.Zero[0] != 0 || a.q[0] != ActMax {
		t.Fatalf("a row of ones quantizes to %d with zero point %d, want %d and 0", a.q[0], a.Zero[0], ActMax)
	}
	want := refInt32(&a, w)
	for _, p := range Paths {
		if !Available(p) {
			continue
		}
		got, err := Int32(p, &a, w)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v: sum %d = %d, want %d", p, i, got[i], want[i])
			}
		}
	}
}

// The result is within the quantization error of the float product: with
// weights rounded to within s_w/2 and activations to within s_x/2, an
// output moves by at most Σ_k (|x_k|·s_w/2 + |w_k|·s_x/2 + s_x·s_w/4).
func TestCloseToFloat(t *testing.T) {
	const m, n, k = 9, 37, 150
	r := rand.New(rand.NewPCG(3, 4))
	wf, x := randMat(r, n*k, 0.3), randMat(r, m*k, 1.5)
	w, err := QuantizeWeights(wf, n, k)
	if err != nil {
		t.Fatal(err)
	}
	var a Activations
	if err := a.Quantize(x, m, k); err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, m*n)
	if err := Gemm(dst, &a, w, nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			exact, bound := 0.0, 0.0
			for c := 0; c < k; c++ {
				xv, wv := float64(x[i*k+c]), float64(wf[j*k+c])
				exact += xv * wv
				bound += math.Abs(xv)*float64(w.Scale[j])/2 + math.Abs(wv)*float64(a.Scale[i])/2 + float64(a.Scale[i]*w.Scale[j])/4
			}
			bound += 1e-5 * math.Abs(exact) // float32 dequantization
			if d := math.Abs(float64(dst[i*n+j]) - exact); d > bound {
				t.Errorf("[%d, %d] = %v, the float product is %v: off by %.3g, more than the bound %.3g", i, j, dst[i*n+j], exact, d, bound)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := QuantizeWeights([]float32{1, float32(math.NaN())}, 1, 2); !errors.Is(err, ErrValue) {
		t.Errorf("NaN weight: %v", err)
	}
	if _, err := QuantizeWeights([]float32{1, 2, 3}, 2, 2); !errors.Is(err, ErrShape) {
		t.Errorf("3 weights for 2×2: %v", err)
	}
	if _, err := NewWeights([]int8{1}, []float32{-1}, 1, 1); !errors.Is(err, ErrValue) {
		t.Errorf("negative scale: %v", err)
	}
	var a Activations
	if err := a.Quantize([]float32{float32(math.Inf(1))}, 1, 1); !errors.Is(err, ErrValue) {
		t.Errorf("infinite activation: %v", err)
	}
	w, _ := QuantizeWeights([]float32{1, 2}, 1, 2)
	_ = a.Quantize([]float32{1, 2, 3}, 1, 3)
	if err := Gemm(make([]float32, 1), &a, w, nil); !errors.Is(err, ErrShape) {
		t.Errorf("K 3 against K 2: %v", err)
	}
	if _, err := ParsePath("sse"); !errors.Is(err, ErrPath) {
		t.Errorf("path sse: %v", err)
	}
	if !Available(VNNI) {
		if _, err := Use(VNNI); !errors.Is(err, ErrPath) {
			t.Errorf("Use(VNNI) without VNNI: %v", err)
		}
	}
}

func TestUseSwitchesPaths(t *testing.T) {
	for _, p := range Paths {
		if !Available(p) {
			continue
		}
		restore, err := Use(p)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := Active(); got != p {
			t.Errorf("after Use(%v) the active path is %v", p, got)
		}
		restore()
	}
	if q, err := ParsePath(Best().String()); err != nil || q != Best() {
		t.Errorf("ParsePath(%q) = %v, %v", Best().String(), q, err)
	}
}

// FuzzPaths compares the paths on sizes and values the fuzzer picks.
func FuzzPaths(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint16(1), uint64(1))
	f.Add(uint8(5), uint8(17), uint16(9), uint64(2))
	f.Add(uint8(33), uint8(40), uint16(257), uint64(3))
	f.Add(uint8(10), uint8(130), uint16(20), uint64(4))
	f.Fuzz(func(t *testing.T, m, n uint8, k uint16, seed uint64) {
		if m == 0 || n == 0 || k == 0 || k > 2048 {
			t.Skip()
		}
		checkPaths(t, int(m), int(n), int(k), seed)
	})
}

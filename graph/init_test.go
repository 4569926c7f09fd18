package graph

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"gorgonia.org/tensor"
)

func newDense(dt tensor.Dtype, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
}

func filled(t *testing.T, init Initializer, src Source, dt tensor.Dtype, shape ...int) []float64 {
	t.Helper()
	x := newDense(dt, shape...)
	if err := init.Fill(src, x); err != nil {
		t.Fatalf("%T.Fill: %v", init, err)
	}
	return tensorValues(t, x)
}

func TestSourceDeterminism(t *testing.T) {
	a, b := NewSource(42), NewSource(42)
	for i := 0; i < 100; i++ {
		if x, y := a.Uint64(), b.Uint64(); x != y {
			t.Fatalf("draw %d: equal seeds give %d and %d", i, x, y)
		}
	}
	// The stream is pinned: PCG(seed, 0x9e3779b97f4a7c15). A change of
	// generator changes every initialised model, so catch it.
	s := NewSource(1)
	if x, y := s.Uint64(), s.Uint64(); x != 17168285775449168363 || y != 13451632132566249027 {
		t.Fatalf("NewSource(1) stream starts %d, %d: the generator or its seeding changed", x, y)
	}

	inits := []Initializer{Uniform{-0.5, 0.5}, PyTorchDefault(16), GlorotUniform{}, Orthogonal{}}
	for _, init := range inits {
		for _, dt := range floatDtypes {
			x := filled(t, init, NewSource(7), dt, 8, 4)
			y := filled(t, init, NewSource(7), dt, 8, 4)
			z := filled(t, init, NewSource(8), dt, 8, 4)
			if !reflect.DeepEqual(x, y) {
				t.Errorf("%T %v: same seed gives different tensors", init, dt)
			}
			same := 0
			for i := range x {
				if x[i] == z[i] {
					same++
				}
			}
			if same > 0 {
				t.Errorf("%T %v: seeds 7 and 8 agree at %d of %d elements", init, dt, same, len(x))
			}
		}
	}
	// One source, two tensors: the second continues the stream.
	src := NewSource(3)
	x := filled(t, Uniform{0, 1}, src, tensor.Float64, 5)
	y := filled(t, Uniform{0, 1}, src, tensor.Float64, 5)
	if reflect.DeepEqual(x, y) {
		t.Error("two fills from one source are equal")
	}
	ref := NewSource(3)
	for i := 0; i < 5; i++ {
		ref.Float64()
	}
	if want := ref.Float64(); y[0] != want {
		t.Errorf("second fill starts at %v, want the 6th draw %v", y[0], want)
	}
}

// moments returns the mean and the (population) variance.
func moments(v []float64) (mean, variance float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(v))
}

func TestUniformStatistics(t *testing.T) {
	const n = 100_000
	cases := []struct {
		name     string
		u        Uniform
		low, hi  float64
		mean, sd float64 // of U(low, hi)
	}{
		{"PyTorchDefault(64)", PyTorchDefault(64), -0.125, 0.125, 0, 0.25 / math.Sqrt(12)},
		{"PyTorchDefault(3)", PyTorchDefault(3), -1 / math.Sqrt(3), 1 / math.Sqrt(3), 0, 2 / math.Sqrt(3) / math.Sqrt(12)},
		{"Uniform{2,5}", Uniform{2, 5}, 2, 5, 3.5, 3 / math.Sqrt(12)},
	}
	for _, c := range cases {
		if c.u.Low != c.low || c.u.High != c.hi {
			t.Fatalf("%s: bounds [%v, %v], want [%v, %v]", c.name, c.u.Low, c.u.High, c.low, c.hi)
		}
		for _, dt := range floatDtypes {
			v := filled(t, c.u, NewSource(11), dt, 100, n/100)
			lo, hi := c.low, c.hi
			if dt == tensor.Float32 {
				lo, hi = float64(float32(lo)), float64(float32(hi))
			}
			minV, maxV := math.Inf(1), math.Inf(-1)
			for _, x := range v {
				minV, maxV = math.Min(minV, x), math.Max(maxV, x)
			}
			if minV < lo || maxV > hi {
				t.Fatalf("%s %v: values in [%v, %v], outside [%v, %v]", c.name, dt, minV, maxV, lo, hi)
			}
			width := c.hi - c.low
			if minV > c.low+0.001*width || maxV < c.hi-0.001*width {
				t.Fatalf("%s %v: values in [%v, %v] do not fill [%v, %v]", c.name, dt, minV, maxV, c.low, c.hi)
			}
			mean, variance := moments(v)
			// Standard error of the mean is sd/√n ≈ 0.0032 sd.
			if math.Abs(mean-c.mean) > 0.02*c.sd {
				t.Errorf("%s %v: mean %v, want %v", c.name, dt, mean, c.mean)
			}
			// Relative standard error of the variance is ≈ 0.3%; allow 2%.
			if want := c.sd * c.sd; math.Abs(variance/want-1) > 0.02 {
				t.Errorf("%s %v: variance %v, want %v", c.name, dt, variance, want)
			}
		}
	}
	// For PyTorchDefault the variance is k²/3 with k = 1/√hidden.
	k := 1 / math.Sqrt(50)
	_, variance := moments(filled(t, PyTorchDefault(50), NewSource(5), tensor.Float64, n))
	if math.Abs(variance/(k*k/3)-1) > 0.02 {
		t.Errorf("PyTorchDefault(50): variance %v, want k²/3 = %v", variance, k*k/3)
	}
}

func TestUniformRefuses(t *testing.T) {
	x := newDense(tensor.Float64, 3)
	for _, u := range []Uniform{{1, -1}, {math.NaN(), 1}, {0, math.NaN()}, {math.Inf(-1), 0}, {0, math.Inf(1)},
		PyTorchDefault(0), PyTorchDefault(-4)} {
		if err := u.Fill(NewSource(1), x); err == nil {
			t.Errorf("Uniform%v accepted", u)
		}
	}
	if got := tensorValues(t, x); !reflect.DeepEqual(got, []float64{0, 0, 0}) {
		t.Errorf("refused fills wrote %v", got)
	}
	// A degenerate interval is fine.
	if got := filled(t, Uniform{0.5, 0.5}, NewSource(1), tensor.Float64, 3); !reflect.DeepEqual(got, []float64{0.5, 0.5, 0.5}) {
		t.Errorf("Uniform{0.5,0.5} gave %v", got)
	}
	if err := (Uniform{-1, 1}).Fill(NewSource(1), newDense(tensor.Int, 3)); !errors.Is(err, ErrDtype) {
		t.Errorf("Uniform into an int tensor: %v, want ErrDtype", err)
	}
}

func TestGlorotUniform(t *testing.T) {
	for _, c := range []struct {
		gain     float64
		out, in  int
		wantBoud float64
	}{
		{0, 30, 20, math.Sqrt(6.0 / 50)},
		{1, 30, 20, math.Sqrt(6.0 / 50)},
		{2, 10, 40, 2 * math.Sqrt(6.0/50)},
	} {
		v := filled(t, GlorotUniform{Gain: c.gain}, NewSource(9), tensor.Float64, c.out, c.in)
		maxAbs := 0.0
		for _, x := range v {
			maxAbs = math.Max(maxAbs, math.Abs(x))
		}
		if maxAbs > c.wantBoud {
			t.Errorf("gain %v [%d,%d]: |value| %v beyond the bound %v", c.gain, c.out, c.in, maxAbs, c.wantBoud)
		}
		if maxAbs < 0.98*c.wantBoud {
			t.Errorf("gain %v [%d,%d]: max |value| %v well under the bound %v", c.gain, c.out, c.in, maxAbs, c.wantBoud)
		}
	}
	for _, shape := range [][]int{{6}, {2, 3, 4}} {
		if err := (GlorotUniform{}).Fill(NewSource(1), newDense(tensor.Float64, shape...)); err == nil {
			t.Errorf("GlorotUniform on shape %v accepted", shape)
		}
	}
	if err := (GlorotUniform{}).Fill(nil, newDense(tensor.Float64, 2, 2)); err == nil {
		t.Error("GlorotUniform with a nil source accepted")
	}
}

// gram returns A·Aᵀ (rowsGram) or Aᵀ·A of the r×c row-major matrix a.
func gram(a []float64, r, c int, rowsGram bool) [][]float64 {
	n := c
	if rowsGram {
		n = r
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, n)
		for j := range out[i] {
			s := 0.0
			if rowsGram {
				for k := 0; k < c; k++ {
					s += a[i*c+k] * a[j*c+k]
				}
			} else {
				for k := 0; k < r; k++ {
					s += a[k*c+i] * a[k*c+j]
				}
			}
			out[i][j] = s
		}
	}
	return out
}

func assertScaledIdentity(t *testing.T, what string, m [][]float64, scale, tol float64) {
	t.Helper()
	for i := range m {
		for j := range m[i] {
			want := 0.0
			if i == j {
				want = scale
			}
			if d := math.Abs(m[i][j] - want); d > tol {
				t.Fatalf("%s: [%d][%d] = %v, want %v (diff %.3g)", what, i, j, m[i][j], want, d)
			}
		}
	}
}

func TestOrthogonalGateBlocks(t *testing.T) {
	const h = 32
	v := filled(t, Orthogonal{}, NewSource(2), tensor.Float64, 4*h, h)
	for b := 0; b < 4; b++ {
		block := v[b*h*h : (b+1)*h*h]
		assertScaledIdentity(t, "block Q·Qᵀ", gram(block, h, h, true), 1, 1e-12)
		assertScaledIdentity(t, "block Qᵀ·Q", gram(block, h, h, false), 1, 1e-12)
	}
	// The four gates are drawn independently, not one block repeated.
	if reflect.DeepEqual(v[:h*h], v[h*h:2*h*h]) {
		t.Fatal("gate blocks 0 and 1 are equal")
	}
	// Not the whole matrix as one semi-orthogonal [128, 32]: then the blocks
	// would not be orthogonal individually, and the column Gram would be I, not 4I.
	assertScaledIdentity(t, "whole Aᵀ·A", gram(v, 4*h, h, false), 4, 1e-11)

	// Gain scales: Q·Qᵀ = gain²·I.
	g := filled(t, Orthogonal{Gain: 0.5}, NewSource(2), tensor.Float64, 2*8, 8)
	for b := 0; b < 2; b++ {
		assertScaledIdentity(t, "gain 0.5 block", gram(g[b*64:(b+1)*64], 8, 8, true), 0.25, 1e-12)
	}

	// float32: orthogonal to float32 precision.
	f := filled(t, Orthogonal{}, NewSource(2), tensor.Float32, 3*16, 16)
	for b := 0; b < 3; b++ {
		assertScaledIdentity(t, "float32 block", gram(f[b*256:(b+1)*256], 16, 16, true), 1, 1e-5)
	}
}

func TestOrthogonalNonMultiple(t *testing.T) {
	for _, c := range []struct {
		r, c     int
		rowsGram bool // orthonormal rows (r < c) or columns (r > c)
	}{
		{3, 5, true},
		{2, 7, true},
		{5, 3, false},
		{6, 4, false},
		{10, 4, false},
	} {
		v := filled(t, Orthogonal{}, NewSource(4), tensor.Float64, c.r, c.c)
		assertScaledIdentity(t, "semi-orthogonal", gram(v, c.r, c.c, c.rowsGram), 1, 1e-12)
		for _, x := range v {
			if x == 0 {
				t.Fatalf("[%d,%d]: exact zero element, the matrix was not filled: %v", c.r, c.c, v)
			}
		}
	}
	for _, shape := range [][]int{{6}, {2, 3, 4}} {
		if err := (Orthogonal{}).Fill(NewSource(1), newDense(tensor.Float64, shape...)); err == nil {
			t.Errorf("Orthogonal on shape %v accepted", shape)
		}
	}
	if err := (Orthogonal{}).Fill(NewSource(1), newDense(tensor.Int, 2, 2)); !errors.Is(err, ErrDtype) {
		t.Errorf("Orthogonal into an int tensor: %v, want ErrDtype", err)
	}
}

func TestConstant(t *testing.T) {
	for _, dt := range floatDtypes {
		if got := filled(t, Constant(-0.25), nil, dt, 2, 3); !reflect.DeepEqual(got, []float64{-0.25, -0.25, -0.25, -0.25, -0.25, -0.25}) {
			t.Errorf("%v: Constant(-0.25) gave %v", dt, got)
		}
		x := newDense(dt, 4)
		if err := SetFloat64s(x, []float64{1, 2, 3, 4}); err != nil {
			t.Fatal(err)
		}
		if err := Constant(0).Fill(NewSource(1), x); err != nil {
			t.Fatal(err)
		}
		if got := tensorValues(t, x); !reflect.DeepEqual(got, []float64{0, 0, 0, 0}) {
			t.Errorf("%v: Constant(0) left %v", dt, got)
		}
	}
}

func TestNilSourceIsAnError(t *testing.T) {
	for _, init := range []Initializer{Uniform{-1, 1}, PyTorchDefault(4), GlorotUniform{}} {
		if err := init.Fill(nil, newDense(tensor.Float64, 4, 4)); err == nil {
			t.Errorf("%T with a nil source: no error", init)
		}
	}
}

func TestOrthogonalNilSource(t *testing.T) {
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Orthogonal.Fill(nil, …) panicked: %v", r)
		}
	}()
	if err := (Orthogonal{}).Fill(nil, newDense(tensor.Float64, 4, 4)); err == nil {
		t.Fatal("Orthogonal with a nil source: no error")
	}
}

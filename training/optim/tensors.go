package optim

import (
	"math"
	"slices"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/internal/vmath"
)

// float is the element type of parameters, gradients and state tensors.
type float interface{ float32 | float64 }

// floats returns the elements of a contiguous float32 or float64 tensor of
// element type T, in row-major order, sharing its memory.
func floats[T float](t *tensor.Dense) []T {
	return t.Data().([]T)[:t.Shape().TotalSize()]
}

// sqrt is the correctly rounded square root in T (float32(√x) computed in
// float64 is correctly rounded in float32, as sqrtf is).
func sqrt[T float](x T) T { return T(math.Sqrt(float64(x))) }

// fma returns x·y + z rounded once in T, as a fused multiply-add
// instruction computes it (for float32, x·y is exact in float64 and the sum
// is rounded to float64 and then to float32, which differs from a single
// rounding only when the first rounding lands exactly on a float32 tie).
func fma[T float](x, y, z T) T { return T(math.FMA(float64(x), float64(y), float64(z))) }

// contiguous returns t itself or, for a view that needs an iterator, a
// contiguous copy. It refuses a nil tensor, a scalar (no dimensions) and a
// dtype other than float32 or float64.
func contiguous(t *tensor.Dense) (*tensor.Dense, error) {
	if t == nil {
		return nil, errors.New("nil tensor")
	}
	if t.Shape().Dims() == 0 {
		return nil, errors.New("tensor has no dimensions")
	}
	if err := graph.CheckDtype(t.Dtype()); err != nil {
		return nil, err
	}
	if !t.RequiresIterator() {
		return t, nil
	}
	m, ok := t.Materialize().(*tensor.Dense)
	if !ok {
		return nil, errors.New("cannot materialise a view")
	}
	return m, nil
}

// cloneDense returns a contiguous copy of a float32 or float64 tensor.
func cloneDense(t *tensor.Dense) (*tensor.Dense, error) {
	src, err := contiguous(t)
	if err != nil {
		return nil, err
	}
	shape := src.Shape().Clone()
	switch src.Dtype() {
	case tensor.Float64:
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), floats[float64](src)...))), nil
	default:
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), floats[float32](src)...))), nil
	}
}

// zerosLike returns a new zero tensor of t's shape and dtype.
func zerosLike(t *tensor.Dense) *tensor.Dense {
	return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.Of(t.Dtype()))
}

// firstNonFinite returns the index of the first NaN or infinite element of
// a contiguous float32 or float64 tensor, or -1.
func firstNonFinite(t *tensor.Dense) int {
	switch t.Dtype() {
	case tensor.Float64:
		return vmath.FirstNonFinite64(floats[float64](t))
	default:
		return vmath.FirstNonFinite32(floats[float32](t))
	}
}

// anyNegative reports whether a contiguous tensor holds a negative element.
func anyNegative(t *tensor.Dense) bool {
	switch t.Dtype() {
	case tensor.Float64:
		return anyNegativeIn(floats[float64](t))
	default:
		return anyNegativeIn(floats[float32](t))
	}
}

func anyNegativeIn[T float](xs []T) bool {
	for _, x := range xs {
		if x < 0 {
			return true
		}
	}
	return false
}

// scalar returns v as a float64 tensor of shape [1], the form of every
// scalar in an optimiser's state.
func scalar(v float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{v}))
}

// readScalar reads a float64 tensor of shape [1].
func readScalar(name string, t *tensor.Dense) (float64, error) {
	if t == nil {
		return 0, errors.Wrapf(ErrState, "%q: nil tensor", name)
	}
	if t.Dtype() != tensor.Float64 || !sameShape(t.Shape(), []int{1}) {
		return 0, errors.Wrapf(ErrState, "%q: a scalar must be a float64 tensor of shape [1], got %v %v",
			name, t.Dtype(), t.Shape())
	}
	v, err := graph.Float64s(t)
	if err != nil {
		return 0, errors.Wrapf(ErrState, "%q: %v", name, err)
	}
	if math.IsNaN(v[0]) || math.IsInf(v[0], 0) {
		return 0, errors.Wrapf(ErrState, "%q: non-finite value %v", name, v[0])
	}
	return v[0], nil
}

func sameShape(a, b []int) bool { return slices.Equal(a, b) }

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

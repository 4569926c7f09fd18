package opkit

import (
	"fmt"
	"hash"
	"hash/fnv"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrDtype is returned for a value whose dtype is not float32 or float64
// (graph.ErrDtype is this error).
var ErrDtype = errors.New("graph: unsupported dtype")

// Base holds what every rnnkit op has in common: the buffer its result is
// written into, reused from one run of the machine to the next (the zero
// Base has none: a new tensor every run). Embed it in an op; it supplies
// Gorgonia's ReturnsPtr, CallsExtern and OverwritesInput.
type Base struct{ buf *outBuf }

// WithBuf returns a Base with a buffer of its own: every node gets one.
func WithBuf() Base { return Base{buf: new(outBuf)} }

// Alloc returns the op's allocator.
func (b Base) Alloc() Allocator {
	if b.buf == nil {
		return Fresh
	}
	return b.buf.get
}

// ReturnsPtr implements gorgonia.Op: the ops return values, not pointers.
func (Base) ReturnsPtr() bool { return false }

// CallsExtern implements gorgonia.Op: the ops run on the CPU.
func (Base) CallsExtern() bool { return false }

// OverwritesInput implements gorgonia.Op: no op writes into an input.
func (Base) OverwritesInput() int { return -1 }

// outBuf keeps an op's last result so the next run writes into it instead
// of allocating (and clearing) a new tensor: Gorgonia's tape machine forgets
// its registers on Reset. The result of the previous run is overwritten, so
// read values with gorgonia.Read (which copies) — as rnnkit always does.
type outBuf struct{ t *tensor.Dense }

func (b *outBuf) get(dt tensor.Dtype, zero bool, shape ...int) *tensor.Dense {
	t := b.t
	if t == nil || t.Dtype() != dt || t.IsView() || !SameShape(t.Shape(), shape) {
		b.t = Fresh(dt, zero, shape...)
		return b.t
	}
	if zero {
		switch d := t.Data().(type) {
		case []float64:
			clear(d)
		case []float32:
			clear(d)
		default:
			b.t = Fresh(dt, zero, shape...)
			return b.t
		}
	}
	return t
}

// Allocator returns the output tensor of an op: zeroed when zero is set,
// otherwise with unspecified contents that the op overwrites entirely.
type Allocator func(dt tensor.Dtype, zero bool, shape ...int) *tensor.Dense

// Fresh allocates a new (zeroed) tensor; it is an Allocator.
func Fresh(dt tensor.Dtype, _ bool, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
}

// Hash returns the 32-bit FNV-1a hash of what w writes: an op's Hashcode.
func Hash(w interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	w.WriteHash(h)
	return h.Sum32()
}

// AsShape returns v as a contiguous dense tensor of the given shape. Some of
// Gorgonia's ops hand on values whose shape lost a dimension of size 1
// (a [1, n] gradient arriving as [n], seen with batch size 1); a value of
// the right size is viewed with the shape the graph was built with. op
// names the op in errors.
func AsShape(op fmt.Stringer, v gorgonia.Value, shape []int) (*tensor.Dense, error) {
	x, err := Dense(op, v)
	if err != nil {
		return nil, err
	}
	if SameShape(x.Shape(), shape) {
		return x, nil
	}
	size := 1
	for _, d := range shape {
		size *= d
	}
	if x.Shape().TotalSize() != size {
		return nil, errors.Errorf("graph: %v: value of shape %v, want %v", op, x.Shape(), shape)
	}
	var backing any
	switch d := x.Data().(type) {
	case []float64, []float32:
		backing = d
	case float64:
		backing = []float64{d}
	case float32:
		backing = []float32{d}
	default:
		return nil, errors.Wrapf(ErrDtype, "%v: value of type %T", op, d)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(backing)), nil
}

// Dense returns v as a contiguous dense tensor, materialising a view.
func Dense(op fmt.Stringer, v gorgonia.Value) (*tensor.Dense, error) {
	x, ok := v.(*tensor.Dense)
	if !ok {
		return nil, errors.Errorf("graph: %v: input is %T, want a dense tensor", op, v)
	}
	if x.RequiresIterator() {
		m, ok := x.Materialize().(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("graph: %v: cannot materialise a view", op)
		}
		return m, nil
	}
	return x, nil
}

// Floats returns t's data as []T, where t's dtype is T's (callers check
// it; another dtype gives nil). Unlike tensor.Dense.Data, which boxes a
// new slice header on every call (two allocations), it allocates nothing.
func Floats[T float32 | float64](t *tensor.Dense) []T {
	var z T
	switch any(z).(type) {
	case float32:
		if t.Dtype() != tensor.Float32 {
			return nil
		}
		f := t.Float32s()
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(f))), len(f))
	default:
		if t.Dtype() != tensor.Float64 {
			return nil
		}
		f := t.Float64s()
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(f))), len(f))
	}
}

// Trues returns n true values: the DiffWRT of an op differentiable in
// every input.
func Trues(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

// SameShape reports whether two shapes are equal.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// PackedGradType is the type of a fused op's gradient op that takes the
// forward op's inputs (of the given shapes), two matrices (its output and
// that output's gradient) and returns every input's gradient packed into
// one vector: the layout the recurrent and tree kernels share.
func PackedGradType(inputs [][]int) hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, len(inputs)+3)
	for _, s := range inputs {
		ts = append(ts, gorgonia.TensorType{Dims: len(s), Of: a})
	}
	m := gorgonia.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(append(ts, m, m, gorgonia.TensorType{Dims: 1, Of: a})...)
}

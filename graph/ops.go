package graph

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"
	"sync/atomic"
	"unsafe"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Cols returns the columns [start, end) of the matrix x, as a new node of
// shape [rows, end−start]. Unlike gorgonia.Slice, whose hash keeps only the
// low byte of the bounds (so x[:, 0:256] and x[:, 256:512] are merged into
// one node), its hash holds the full bounds.
func Cols(x *gorgonia.Node, start, end int) (*gorgonia.Node, error) {
	if x == nil {
		return nil, errors.New("graph: Cols of nil node")
	}
	s := x.Shape()
	if len(s) != 2 {
		return nil, errors.Errorf("graph: Cols needs a matrix, %s has shape %v", x.Name(), s)
	}
	if start < 0 || end > s[1] || start >= end {
		return nil, errors.Errorf("graph: Cols [%d, %d) out of range for %s of shape %v", start, end, x.Name(), s)
	}
	n, err := gorgonia.ApplyOp(colsOp{opBase: withBuf(), start: start, end: end, rows: s[0], n: s[1]}, x)
	return n, errors.Wrap(err, "graph: Cols")
}

// Sigmoid returns the element-wise logistic function 1/(1+e^−x), computed
// without overflow at every x and never rounded to exactly 0 or 1 before the
// dtype requires it (Gorgonia's own returns 1 for every x > 19 in float64,
// an error of 5.6e-9).
func Sigmoid(x *gorgonia.Node) (*gorgonia.Node, error) {
	if x == nil {
		return nil, errors.New("graph: Sigmoid of nil node")
	}
	if x.IsScalar() {
		return nil, errors.Errorf("graph: Sigmoid of scalar %s: want a tensor", x.Name())
	}
	n, err := gorgonia.ApplyOp(sigmoidOp{withBuf()}, x)
	return n, errors.Wrap(err, "graph: Sigmoid")
}

// sigmoid64 is the logistic function, stable for every x.
func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// opBase holds what every op here has in common: the buffer its result is
// written into, reused from one run of the machine to the next (nil: a new
// tensor every run).
type opBase struct{ buf *outBuf }

// withBuf returns an opBase with a buffer of its own: every node gets one.
func withBuf() opBase { return opBase{buf: new(outBuf)} }

// alloc returns the op's allocator.
func (b opBase) alloc() allocator {
	if b.buf == nil {
		return fresh
	}
	return b.buf.get
}

// outBuf keeps an op's last result so the next run writes into it instead
// of allocating (and clearing) a new tensor: Gorgonia's tape machine forgets
// its registers on Reset. The result of the previous run is overwritten, so
// read values with gorgonia.Read (which copies) — as rnnkit always does.
type outBuf struct{ t *tensor.Dense }

func (b *outBuf) get(dt tensor.Dtype, zero bool, shape ...int) *tensor.Dense {
	t := b.t
	if t == nil || t.Dtype() != dt || t.IsView() || !sameShape(t.Shape(), shape) {
		b.t = fresh(dt, zero, shape...)
		return b.t
	}
	if zero {
		switch d := t.Data().(type) {
		case []float64:
			clear(d)
		case []float32:
			clear(d)
		default:
			b.t = fresh(dt, zero, shape...)
			return b.t
		}
	}
	return t
}

func (opBase) ReturnsPtr() bool     { return false }
func (opBase) CallsExtern() bool    { return false }
func (opBase) OverwritesInput() int { return -1 }

func hashOf(w interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	w.WriteHash(h)
	return h.Sum32()
}

// colsOp: [rows, n] → [rows, end−start].
type colsOp struct {
	opBase
	start, end, rows, n int
}

func (op colsOp) Arity() int { return 1 }
func (op colsOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}
func (op colsOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 || s[0] != op.rows || s[1] != op.n {
		return nil, errors.Errorf("graph: %v: input shape %v", op, in[0])
	}
	return tensor.Shape{s[0], op.end - op.start}, nil
}
func (op colsOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.do(op.alloc(), vals...)
}

func (op colsOp) do(alloc allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	x, err := asShape(op, vals[0], []int{op.rows, op.n})
	if err != nil {
		return nil, err
	}
	rows, k := op.rows, op.end-op.start
	out := alloc(x.Dtype(), false, rows, k)
	switch src := x.Data().(type) {
	case []float64:
		dst := out.Data().([]float64)
		for r := 0; r < rows; r++ {
			copy(dst[r*k:(r+1)*k], src[r*op.n+op.start:r*op.n+op.end])
		}
	case []float32:
		dst := out.Data().([]float32)
		for r := 0; r < rows; r++ {
			copy(dst[r*k:(r+1)*k], src[r*op.n+op.start:r*op.n+op.end])
		}
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", op)
	}
	return out, nil
}
func (op colsOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.cols(%d,%d,%d,%d)", op.start, op.end, op.rows, op.n)
}
func (op colsOp) Hashcode() uint32          { return hashOf(op) }
func (op colsOp) String() string            { return fmt.Sprintf("Cols[%d:%d of %d]", op.start, op.end, op.n) }
func (op colsOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op colsOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(colsGradOp{opBase: withBuf(), start: op.start, end: op.end, rows: op.rows, n: op.n}, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

// colsGradOp: [rows, end−start] → [rows, n], zero outside [start, end).
type colsGradOp struct {
	opBase
	start, end, rows, n int
}

func (op colsGradOp) Arity() int { return 1 }
func (op colsGradOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}
func (op colsGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok || len(s) != 2 || s[0] != op.rows || s[1] != op.end-op.start {
		return nil, errors.Errorf("graph: %v: input shape %v", op, in[0])
	}
	return tensor.Shape{s[0], op.n}, nil
}
func (op colsGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.do(op.alloc(), vals...)
}

func (op colsGradOp) do(alloc allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	k := op.end - op.start
	if len(vals) != 1 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	g, err := asShape(op, vals[0], []int{op.rows, k})
	if err != nil {
		return nil, err
	}
	rows := op.rows
	out := alloc(g.Dtype(), true, rows, op.n)
	switch src := g.Data().(type) {
	case []float64:
		dst := out.Data().([]float64)
		for r := 0; r < rows; r++ {
			copy(dst[r*op.n+op.start:r*op.n+op.end], src[r*k:(r+1)*k])
		}
	case []float32:
		dst := out.Data().([]float32)
		for r := 0; r < rows; r++ {
			copy(dst[r*op.n+op.start:r*op.n+op.end], src[r*k:(r+1)*k])
		}
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", op)
	}
	return out, nil
}
func (op colsGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.colsgrad(%d,%d,%d,%d)", op.start, op.end, op.rows, op.n)
}
func (op colsGradOp) Hashcode() uint32 { return hashOf(op) }
func (op colsGradOp) String() string {
	return fmt.Sprintf("ColsGrad[%d:%d of %d]", op.start, op.end, op.n)
}
func (op colsGradOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op colsGradOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(colsOp{opBase: withBuf(), start: op.start, end: op.end, rows: op.rows, n: op.n}, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

// sigmoidOp: y = σ(x), element-wise, any shape.
type sigmoidOp struct{ opBase }

func (op sigmoidOp) Arity() int { return 1 }
func (op sigmoidOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}
func (op sigmoidOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, errors.Errorf("graph: %v: input shape %v", op, in[0])
	}
	return s.Clone(), nil
}
func (op sigmoidOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.do(op.alloc(), vals...)
}

func (op sigmoidOp) do(alloc allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	x, err := dense(op, vals[0])
	if err != nil {
		return nil, err
	}
	out := alloc(x.Dtype(), false, x.Shape().Clone()...)
	switch src := x.Data().(type) {
	case []float64:
		dst := out.Data().([]float64)
		for i, v := range src {
			dst[i] = sigmoid64(v)
		}
	case []float32:
		dst := out.Data().([]float32)
		for i, v := range src {
			dst[i] = float32(sigmoid64(float64(v)))
		}
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", op)
	}
	return out, nil
}
func (op sigmoidOp) WriteHash(h hash.Hash)     { fmt.Fprint(h, "rnnkit.sigmoid") }
func (op sigmoidOp) Hashcode() uint32          { return hashOf(op) }
func (op sigmoidOp) String() string            { return "σ" }
func (op sigmoidOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op sigmoidOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(sigmoidGradOp{withBuf()}, output, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

// sigmoidGradOp: (y, dy) → dy·y·(1−y).
type sigmoidGradOp struct{ opBase }

func (op sigmoidGradOp) Arity() int { return 2 }
func (op sigmoidGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a)
}
func (op sigmoidGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, errors.Errorf("graph: %v: input shape %v", op, in[0])
	}
	return s.Clone(), nil
}
func (op sigmoidGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	return op.do(op.alloc(), vals...)
}

func (op sigmoidGradOp) do(alloc allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 2 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	y, err1 := dense(op, vals[0])
	dy, err2 := dense(op, vals[1])
	if err1 != nil || err2 != nil || !sameShape(y.Shape(), dy.Shape()) {
		return nil, errors.Errorf("graph: %v: inputs %v and %v", op, vals[0].Shape(), vals[1].Shape())
	}
	out := alloc(y.Dtype(), false, y.Shape().Clone()...)
	switch ys := y.Data().(type) {
	case []float64:
		ds, dst := dy.Data().([]float64), out.Data().([]float64)
		for i, v := range ys {
			dst[i] = ds[i] * v * (1 - v)
		}
	case []float32:
		ds, dst := dy.Data().([]float32), out.Data().([]float32)
		for i, v := range ys {
			dst[i] = ds[i] * v * (1 - v)
		}
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", op)
	}
	return out, nil
}
func (op sigmoidGradOp) WriteHash(h hash.Hash)     { fmt.Fprint(h, "rnnkit.sigmoidgrad") }
func (op sigmoidGradOp) Hashcode() uint32          { return hashOf(op) }
func (op sigmoidGradOp) String() string            { return "σ'" }
func (op sigmoidGradOp) DiffWRT(inputs int) []bool { return []bool{false, false} }
func (op sigmoidGradOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.New("graph: second derivative of sigmoid is not implemented")
}

// asShape returns v as a contiguous dense tensor of the given shape. Some of
// Gorgonia's ops hand on values whose shape lost a dimension of size 1
// (a [1, n] gradient arriving as [n], seen with batch size 1); a value of
// the right size is viewed with the shape the graph was built with.
func asShape(op fmt.Stringer, v gorgonia.Value, shape []int) (*tensor.Dense, error) {
	x, err := dense(op, v)
	if err != nil {
		return nil, err
	}
	if sameShape(x.Shape(), shape) {
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

// dense returns v as a contiguous dense tensor, materialising a view.
func dense(op fmt.Stringer, v gorgonia.Value) (*tensor.Dense, error) {
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

// allocator returns the output tensor of an op: zeroed when zero is set,
// otherwise with unspecified contents that the op overwrites entirely.
type allocator func(dt tensor.Dtype, zero bool, shape ...int) *tensor.Dense

// fresh allocates a new (zeroed) tensor.
func fresh(dt tensor.Dtype, _ bool, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
}

// serials numbers the side inputs (Targets, IDs) whose ops must hash apart:
// a counter, not a pointer, so that a program builds the same hashes on
// every run and a hash-related failure can be reproduced.
var serials atomic.Uint64

func nextSerial() uint64 { return serials.Add(1) }

// floats returns t's data as []T, where t's dtype is T's (callers check
// it; another dtype gives nil). Unlike tensor.Dense.Data, which boxes a
// new slice header on every call (two allocations), it allocates nothing.
func floats[T float32 | float64](t *tensor.Dense) []T {
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

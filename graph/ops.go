package graph

import (
	"fmt"
	"hash"
	"sync/atomic"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/internal/opkit"
	"github.com/rnnkit/rnnkit/internal/vmath"
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
	n, err := gorgonia.ApplyOp(colsOp{Base: opkit.WithBuf(), start: start, end: end, rows: s[0], n: s[1]}, x)
	return n, errors.Wrap(err, "graph: Cols")
}

// PadCols returns the [rows, n] matrix whose columns [start, start+k) are
// those of x [rows, k] and whose other columns are zero: the adjoint of
// Cols (each is the other's gradient).
func PadCols(x *gorgonia.Node, start, n int) (*gorgonia.Node, error) {
	if x == nil {
		return nil, errors.New("graph: PadCols of nil node")
	}
	s := x.Shape()
	if len(s) != 2 {
		return nil, errors.Errorf("graph: PadCols needs a matrix, %s has shape %v", x.Name(), s)
	}
	if start < 0 || start+s[1] > n {
		return nil, errors.Errorf("graph: PadCols: columns [%d, %d) out of range for width %d", start, start+s[1], n)
	}
	p, err := gorgonia.ApplyOp(colsGradOp{Base: opkit.WithBuf(), start: start, end: start + s[1], rows: s[0], n: n}, x)
	return p, errors.Wrap(err, "graph: PadCols")
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
	n, err := gorgonia.ApplyOp(sigmoidOp{opkit.WithBuf()}, x)
	return n, errors.Wrap(err, "graph: Sigmoid")
}

// colsOp: [rows, n] → [rows, end−start].
type colsOp struct {
	opkit.Base
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
	return op.do(op.Alloc(), vals...)
}

func (op colsOp) do(alloc opkit.Allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	x, err := opkit.AsShape(op, vals[0], []int{op.rows, op.n})
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
func (op colsOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op colsOp) String() string            { return fmt.Sprintf("Cols[%d:%d of %d]", op.start, op.end, op.n) }
func (op colsOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op colsOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(colsGradOp{Base: opkit.WithBuf(), start: op.start, end: op.end, rows: op.rows, n: op.n}, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

// colsGradOp: [rows, end−start] → [rows, n], zero outside [start, end).
type colsGradOp struct {
	opkit.Base
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
	return op.do(op.Alloc(), vals...)
}

func (op colsGradOp) do(alloc opkit.Allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	k := op.end - op.start
	if len(vals) != 1 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	g, err := opkit.AsShape(op, vals[0], []int{op.rows, k})
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
func (op colsGradOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op colsGradOp) String() string {
	return fmt.Sprintf("ColsGrad[%d:%d of %d]", op.start, op.end, op.n)
}
func (op colsGradOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op colsGradOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(colsOp{Base: opkit.WithBuf(), start: op.start, end: op.end, rows: op.rows, n: op.n}, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

// sigmoidOp: y = σ(x), element-wise, any shape.
type sigmoidOp struct{ opkit.Base }

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
	return op.do(op.Alloc(), vals...)
}

func (op sigmoidOp) do(alloc opkit.Allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	x, err := opkit.Dense(op, vals[0])
	if err != nil {
		return nil, err
	}
	out := alloc(x.Dtype(), false, x.Shape().Clone()...)
	switch src := x.Data().(type) {
	case []float64:
		dst := out.Data().([]float64)
		for i, v := range src {
			dst[i] = vmath.Sigmoid64(v)
		}
	case []float32:
		dst := out.Data().([]float32)
		for i, v := range src {
			dst[i] = float32(vmath.Sigmoid64(float64(v)))
		}
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", op)
	}
	return out, nil
}
func (op sigmoidOp) WriteHash(h hash.Hash)     { fmt.Fprint(h, "rnnkit.sigmoid") }
func (op sigmoidOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op sigmoidOp) String() string            { return "σ" }
func (op sigmoidOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op sigmoidOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(sigmoidGradOp{opkit.WithBuf()}, output, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{d}, nil
}

// sigmoidGradOp: (y, dy) → dy·y·(1−y).
type sigmoidGradOp struct{ opkit.Base }

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
	return op.do(op.Alloc(), vals...)
}

func (op sigmoidGradOp) do(alloc opkit.Allocator, vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 2 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	y, err1 := opkit.Dense(op, vals[0])
	dy, err2 := opkit.Dense(op, vals[1])
	if err1 != nil || err2 != nil || !opkit.SameShape(y.Shape(), dy.Shape()) {
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
func (op sigmoidGradOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op sigmoidGradOp) String() string            { return "σ'" }
func (op sigmoidGradOp) DiffWRT(inputs int) []bool { return []bool{false, false} }
func (op sigmoidGradOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return nil, errors.New("graph: second derivative of sigmoid is not implemented")
}

// serials numbers the side inputs (Targets, IDs) whose ops must hash apart:
// a counter, not a pointer, so that a program builds the same hashes on
// every run and a hash-related failure can be reproduced.
var serials atomic.Uint64

func nextSerial() uint64 { return serials.Add(1) }

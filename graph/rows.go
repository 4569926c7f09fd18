package graph

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/internal/opkit"
)

// Rows returns rows [start, end) of the matrix x, a copy; of a vector, its
// elements [start, end). Its gradient puts the upstream gradient back into
// those rows of a zero matrix.
func Rows(x *gorgonia.Node, start, end int) (*gorgonia.Node, error) {
	if x == nil {
		return nil, errors.New("graph: Rows of nil node")
	}
	s := x.Shape()
	op := rowsOp{Base: opkit.WithBuf(), start: start, end: end}
	switch {
	case len(s) == 2:
		op.rows, op.n = s[0], s[1]
	case len(s) == 1 && !x.IsScalar():
		op.rows, op.n, op.vec = s[0], 1, true
	default:
		return nil, errors.Errorf("graph: Rows of %v: want a matrix or a vector", s)
	}
	if start < 0 || end > op.rows || start >= end {
		return nil, errors.Errorf("graph: Rows [%d:%d] of %v", start, end, s)
	}
	n, err := gorgonia.ApplyOp(op, x)
	return n, errors.Wrap(err, "graph: Rows")
}

// rowsOp: [rows, n] → [end−start, n]; with grad set, the adjoint
// [end−start, n] → [rows, n] (zeros outside the rows).
type rowsOp struct {
	opkit.Base
	start, end, rows, n int
	grad                bool
	vec                 bool // a vector [rows] (n = 1)
}

func (op rowsOp) Arity() int { return 1 }
func (op rowsOp) Type() hm.Type {
	d := 2
	if op.vec {
		d = 1
	}
	t := gorgonia.TensorType{Dims: d, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}
func (op rowsOp) shape(rows int) tensor.Shape {
	if op.vec {
		return tensor.Shape{rows}
	}
	return tensor.Shape{rows, op.n}
}
func (op rowsOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	if op.grad {
		return op.shape(op.rows), nil
	}
	return op.shape(op.end - op.start), nil
}

func (op rowsOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	in := op.shape(op.rows)
	if op.grad {
		in = op.shape(op.end - op.start)
	}
	x, err := opkit.AsShape(op, vals[0], in)
	if err != nil {
		return nil, err
	}
	shape, _ := op.InferShape()
	out := op.Alloc()(x.Dtype(), op.grad, shape...)
	lo, hi := op.start*op.n, op.end*op.n
	switch xd := x.Data().(type) {
	case []float32:
		if op.grad {
			copy(out.Data().([]float32)[lo:hi], xd)
		} else {
			copy(out.Data().([]float32), xd[lo:hi])
		}
	case []float64:
		if op.grad {
			copy(out.Data().([]float64)[lo:hi], xd)
		} else {
			copy(out.Data().([]float64), xd[lo:hi])
		}
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", op)
	}
	return out, nil
}

func (op rowsOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.rows(%d,%d,%d,%d,%t,%t)", op.start, op.end, op.rows, op.n, op.grad, op.vec)
}
func (op rowsOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op rowsOp) String() string {
	if op.grad {
		return fmt.Sprintf("RowsGrad[%d:%d into %d]", op.start, op.end, op.rows)
	}
	return fmt.Sprintf("Rows[%d:%d of %d]", op.start, op.end, op.rows)
}
func (op rowsOp) DiffWRT(inputs int) []bool { return []bool{true} }
func (op rowsOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	adj := op
	adj.Base, adj.grad = opkit.WithBuf(), !op.grad
	n, err := gorgonia.ApplyOp(adj, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "graph: %v gradient", op)
	}
	return gorgonia.Nodes{n}, nil
}

// ConcatRows stacks matrices of the same width on top of each other:
// [r₁, n], [r₂, n], … → [r₁+r₂+…, n]. Its gradient cuts the upstream
// gradient back into the parts.
func ConcatRows(xs ...*gorgonia.Node) (*gorgonia.Node, error) {
	if len(xs) == 0 {
		return nil, errors.New("graph: ConcatRows of nothing")
	}
	op := concatRowsOp{Base: opkit.WithBuf()}
	for i, x := range xs {
		if x == nil {
			return nil, errors.Errorf("graph: ConcatRows: input %d is nil", i)
		}
		s := x.Shape()
		if len(s) != 2 {
			return nil, errors.Errorf("graph: ConcatRows: input %d is %v, want a matrix", i, s)
		}
		if i == 0 {
			op.n = s[1]
		} else if s[1] != op.n {
			return nil, errors.Errorf("graph: ConcatRows: input %d is %v, want %d columns", i, s, op.n)
		}
		op.rows = append(op.rows, s[0])
	}
	n, err := gorgonia.ApplyOp(op, xs...)
	return n, errors.Wrap(err, "graph: ConcatRows")
}

// concatRowsOp: [r_i, n]… → [Σ r_i, n].
type concatRowsOp struct {
	opkit.Base
	rows []int
	n    int
}

func (op concatRowsOp) Arity() int { return len(op.rows) }
func (op concatRowsOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	ts := make([]hm.Type, len(op.rows)+1)
	for i := range ts {
		ts[i] = t
	}
	return hm.NewFnType(ts...)
}
func (op concatRowsOp) total() int {
	n := 0
	for _, r := range op.rows {
		n += r
	}
	return n
}
func (op concatRowsOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.total(), op.n}, nil
}
func (op concatRowsOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != len(op.rows) {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	var out *tensor.Dense
	off := 0
	for i, v := range vals {
		x, err := opkit.AsShape(op, v, []int{op.rows[i], op.n})
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = op.Alloc()(x.Dtype(), false, op.total(), op.n)
		}
		switch xd := x.Data().(type) {
		case []float32:
			d, ok := out.Data().([]float32)
			if !ok {
				return nil, errors.Wrapf(ErrDtype, "%v: mixed dtypes", op)
			}
			copy(d[off:], xd)
		case []float64:
			d, ok := out.Data().([]float64)
			if !ok {
				return nil, errors.Wrapf(ErrDtype, "%v: mixed dtypes", op)
			}
			copy(d[off:], xd)
		default:
			return nil, errors.Wrapf(ErrDtype, "%v", op)
		}
		off += op.rows[i] * op.n
	}
	return out, nil
}
func (op concatRowsOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.concatRows(%v,%d)", op.rows, op.n)
}
func (op concatRowsOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op concatRowsOp) String() string            { return fmt.Sprintf("ConcatRows%v", op.rows) }
func (op concatRowsOp) DiffWRT(inputs int) []bool { return opkit.Trues(inputs) }
func (op concatRowsOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return cutGrad(grad, op.rows, Rows)
}

// cutGrad cuts the gradient of a concatenation back into its parts, of the
// given sizes, with cut (Rows or Cols).
func cutGrad(grad *gorgonia.Node, sizes []int, cut func(*gorgonia.Node, int, int) (*gorgonia.Node, error)) (gorgonia.Nodes, error) {
	out := make(gorgonia.Nodes, len(sizes))
	off := 0
	for i, n := range sizes {
		var err error
		if out[i], err = cut(grad, off, off+n); err != nil {
			return nil, err
		}
		off += n
	}
	return out, nil
}

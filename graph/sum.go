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

// Sum returns the sum of every element of the matrix x, a scalar. It is
// gorgonia.Sum for a matrix with a cheaper gradient: one fill of a buffer
// reused from run to run, where Gorgonia's reshapes the upstream gradient
// and repeats it along each axis in two generic passes (4.5% of an LSTM
// training step at S1 whose loss is the sum of its outputs).
func Sum(x *gorgonia.Node) (*gorgonia.Node, error) {
	if x == nil {
		return nil, errors.New("graph: Sum of nil node")
	}
	s := x.Shape()
	if len(s) != 2 {
		return nil, errors.Errorf("graph: Sum of %v: want a matrix", s)
	}
	n, err := gorgonia.ApplyOp(sumOp{Base: opkit.WithBuf(), rows: s[0], cols: s[1]}, x)
	return n, errors.Wrap(err, "graph: Sum")
}

// sumOp: [rows, cols] → scalar; with fill set, its adjoint: scalar →
// [rows, cols] of that scalar.
type sumOp struct {
	opkit.Base
	rows, cols int
	fill       bool
}

func (op sumOp) Arity() int { return 1 }
func (op sumOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := gorgonia.TensorType{Dims: 2, Of: a}
	if op.fill {
		return hm.NewFnType(a, m)
	}
	return hm.NewFnType(m, a)
}
func (op sumOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	if op.fill {
		return tensor.Shape{op.rows, op.cols}, nil
	}
	return tensor.ScalarShape(), nil
}

func (op sumOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 1 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	if op.fill {
		out := op.Alloc()(vals[0].Dtype(), false, op.rows, op.cols)
		switch v := vals[0].Data().(type) {
		case float32:
			fillWith(out.Data().([]float32), v)
		case float64:
			fillWith(out.Data().([]float64), v)
		case []float32: // a scalar held in a tensor
			fillWith(out.Data().([]float32), v[0])
		case []float64:
			fillWith(out.Data().([]float64), v[0])
		default:
			return nil, errors.Wrapf(ErrDtype, "%v: %T", op, v)
		}
		return out, nil
	}
	x, err := opkit.AsShape(op, vals[0], []int{op.rows, op.cols})
	if err != nil {
		return nil, err
	}
	switch d := x.Data().(type) {
	case []float32:
		var s float64 // accumulated in float64, then rounded once
		for _, v := range d {
			s += float64(v)
		}
		return gorgonia.NewF32(float32(s)), nil
	case []float64:
		var s float64
		for _, v := range d {
			s += v
		}
		return gorgonia.NewF64(s), nil
	}
	return nil, errors.Wrapf(ErrDtype, "%v", op)
}

func fillWith[T float32 | float64](d []T, v T) {
	for i := range d {
		d[i] = v
	}
}

func (op sumOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.sum(%d,%d,%t)", op.rows, op.cols, op.fill)
}
func (op sumOp) Hashcode() uint32 { return opkit.Hash(op) }
func (op sumOp) String() string {
	if op.fill {
		return "SumGrad"
	}
	return "Sum"
}
func (op sumOp) DiffWRT(int) []bool { return []bool{!op.fill} }
func (op sumOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if op.fill {
		return nil, errors.Errorf("graph: %v: no second derivative", op)
	}
	adj := op
	adj.Base, adj.fill = opkit.WithBuf(), true
	n, err := gorgonia.ApplyOp(adj, grad)
	if err != nil {
		return nil, errors.Wrapf(err, "graph: %v gradient", op)
	}
	return gorgonia.Nodes{n}, nil
}

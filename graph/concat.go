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

// ConcatCols joins matrices [B, n_i] side by side into [B, Σ n_i], the
// first one leftmost. Use it instead of gorgonia.Concat, whose gradient
// goes through gorgonia.Slice, whose hash keeps one byte of the bounds: with
// two halves 256 wide, the backward half receives the forward half's
// gradient (models/birnn's TestGorgoniaConcatTrap shows it), and a part of
// width 1 goes through a Reshape view (see the in-place trap in
// docs/architecture.md). ConcatCols differentiates through Cols and never
// writes into its inputs.
func ConcatCols(xs ...*gorgonia.Node) (*gorgonia.Node, error) {
	if len(xs) == 0 {
		return nil, errors.New("graph: ConcatCols of nothing")
	}
	op := concatColsOp{widths: make([]int, len(xs))}
	for i, x := range xs {
		if x == nil {
			return nil, errors.Errorf("graph: ConcatCols: input %d is nil", i)
		}
		s := x.Shape()
		if len(s) != 2 || (i > 0 && s[0] != op.rows) {
			return nil, errors.Errorf("graph: ConcatCols needs matrices of equal rows, input %d has shape %v", i, s)
		}
		op.rows = s[0]
		op.widths[i] = s[1]
	}
	n, err := gorgonia.ApplyOp(op, xs...)
	return n, errors.Wrap(err, "graph: ConcatCols")
}

type concatColsOp struct {
	opkit.Base
	rows   int
	widths []int
}

func (op concatColsOp) total() int {
	n := 0
	for _, w := range op.widths {
		n += w
	}
	return n
}

func (op concatColsOp) Arity() int { return len(op.widths) }
func (op concatColsOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	ts := make([]hm.Type, len(op.widths)+1)
	for i := range ts {
		ts[i] = t
	}
	return hm.NewFnType(ts...)
}
func (op concatColsOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.rows, op.total()}, nil
}
func (op concatColsOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != len(op.widths) {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	n := op.total()
	var out *tensor.Dense
	off := 0
	for i, v := range vals {
		x, err := opkit.AsShape(op, v, []int{op.rows, op.widths[i]})
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = tensor.New(tensor.WithShape(op.rows, n), tensor.Of(x.Dtype()))
		}
		if x.Dtype() != out.Dtype() {
			return nil, errors.Wrapf(ErrDtype, "%v: inputs of %v and %v", op, out.Dtype(), x.Dtype())
		}
		w := op.widths[i]
		switch src := x.Data().(type) {
		case []float64:
			dst := out.Data().([]float64)
			for r := 0; r < op.rows; r++ {
				copy(dst[r*n+off:r*n+off+w], src[r*w:(r+1)*w])
			}
		case []float32:
			dst := out.Data().([]float32)
			for r := 0; r < op.rows; r++ {
				copy(dst[r*n+off:r*n+off+w], src[r*w:(r+1)*w])
			}
		default:
			return nil, errors.Wrapf(ErrDtype, "%v", op)
		}
		off += w
	}
	return out, nil
}
func (op concatColsOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.concatcols(%d,%v)", op.rows, op.widths)
}
func (op concatColsOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op concatColsOp) String() string            { return fmt.Sprintf("ConcatCols%v", op.widths) }
func (op concatColsOp) DiffWRT(inputs int) []bool { return opkit.Trues(inputs) }
func (op concatColsOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	return cutGrad(grad, op.widths, Cols)
}

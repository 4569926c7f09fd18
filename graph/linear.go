package graph

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/internal/blas"
	"github.com/rnnkit/rnnkit/internal/opkit"
	"github.com/rnnkit/rnnkit/internal/parallel"
)

// Linear returns x·wᵀ + b for x [m, k], w [n, k] (PyTorch's nn.Linear
// layout, [out, in]) and b [n]: MatMul(x, w, false, true) followed by
// AddRow(·, b) in one op. The output's rows start as copies of b and the
// product is accumulated onto them (beta = 1), so the logits of a large
// vocabulary are written once instead of cleared, written and then read
// and written again by the bias; the values differ from the two-op form
// only by the rounding of where the bias enters the sum. The gradients
// are the two ops' (dx = G·w, dw = Gᵀ·x, db = Σ_rows G).
func Linear(x, w, b *gorgonia.Node) (*gorgonia.Node, error) {
	if x == nil || w == nil || b == nil {
		return nil, errors.New("graph: Linear of nil node")
	}
	sx, sw, sb := x.Shape(), w.Shape(), b.Shape()
	if len(sx) != 2 || len(sw) != 2 || len(sb) != 1 || sx[1] != sw[1] || sb[0] != sw[0] {
		return nil, errors.Errorf("graph: Linear needs x [m, k], w [n, k] and b [n], got %v, %v and %v", sx, sw, sb)
	}
	op := linearOp{Base: opkit.WithBuf(), m: sx[0], k: sx[1], n: sw[0]}
	out, err := gorgonia.ApplyOp(op, x, w, b)
	return out, errors.Wrap(err, "graph: Linear")
}

// linearOp: x [m, k], w [n, k], b [n] → x·wᵀ + b [m, n].
type linearOp struct {
	opkit.Base
	m, k, n int
}

func (op linearOp) Arity() int { return 3 }
func (op linearOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m := gorgonia.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(m, m, gorgonia.TensorType{Dims: 1, Of: a}, m)
}
func (op linearOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.m, op.n}, nil
}
func (op linearOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	if len(vals) != 3 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(vals))
	}
	x, err := opkit.AsShape(op, vals[0], []int{op.m, op.k})
	if err != nil {
		return nil, err
	}
	w, err := opkit.AsShape(op, vals[1], []int{op.n, op.k})
	if err != nil {
		return nil, err
	}
	b, err := opkit.AsShape(op, vals[2], []int{op.n})
	if err != nil {
		return nil, err
	}
	if x.Dtype() != w.Dtype() || x.Dtype() != b.Dtype() {
		return nil, errors.Wrapf(ErrDtype, "%v: %v, %v and %v", op, x.Dtype(), w.Dtype(), b.Dtype())
	}
	out := op.Alloc()(x.Dtype(), false, op.m, op.n)
	switch xd := x.Data().(type) {
	case []float64:
		linearInto(xd, w.Data().([]float64), b.Data().([]float64), out.Data().([]float64), op.m, op.k, op.n)
	case []float32:
		linearInto(xd, w.Data().([]float32), b.Data().([]float32), out.Data().([]float32), op.m, op.k, op.n)
	default:
		return nil, errors.Wrapf(ErrDtype, "%v", op)
	}
	return out, nil
}

// linearInto writes x·wᵀ + b into out: the bias rows first, then the
// product accumulated onto them.
func linearInto[T float32 | float64](x, w, b, out []T, m, k, n int) {
	parallel.For(m, n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			copy(out[r*n:(r+1)*n], b)
		}
	})
	if k > 0 && m > 0 && n > 0 {
		blas.Gemm(false, true, m, n, k, 1, x, k, w, k, 1, out, n)
	}
}

func (op linearOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "rnnkit.linear(%d,%d,%d)", op.m, op.k, op.n)
}
func (op linearOp) Hashcode() uint32          { return opkit.Hash(op) }
func (op linearOp) String() string            { return "Linear" }
func (op linearOp) DiffWRT(inputs int) []bool { return []bool{true, true, true} }

// SymDiff: for Y = X Wᵀ + 1 bᵀ and upstream G: dX = G W, dW = Gᵀ X,
// db = Σ_rows G.
func (op linearOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if len(inputs) != 3 {
		return nil, errors.Errorf("graph: %v: %d inputs", op, len(inputs))
	}
	x, w := inputs[0], inputs[1]
	dx, err := MatMul(grad, w, false, false)
	if err != nil {
		return nil, err
	}
	dw, err := MatMul(grad, x, true, false)
	if err != nil {
		return nil, err
	}
	db, err := gorgonia.Sum(grad, 0)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dx, dw, db}, nil
}
